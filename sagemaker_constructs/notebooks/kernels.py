"""Kernels (conda environments registered with Jupyter) and where their packages come from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..common import Problems

CONDA_FORGE = "https://conda.anaconda.org/conda-forge"
"""Default conda channel. Anaconda's `defaults` channel is avoided: its terms require a
paid licence in larger organisations."""

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
# Package specs and URLs are written into a shell script: no spaces, quotes or shell
# characters, so quoting can never be escaped.
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~*+:/@]{0,199}")
_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/+=@:-]*)?")
_PYTHON = re.compile(r"3\.\d{1,2}")
_UNSAFE_DISPLAY = re.compile(r"['\"`$\\\n]")


@dataclass(frozen=True)
class PackageSources:
    """Conda channels and pip index the kernels are built from."""

    conda_channels: Sequence[str] = (CONDA_FORGE,)
    """Channel URLs, used with `--override-channels`. Default: conda-forge."""
    pip_index_url: str | None = None
    """pip index URL. Default: None (PyPI)."""

    def problems(self) -> list[str]:
        """What is wrong with these sources, one sentence each."""
        found = []
        if not self.conda_channels:
            found.append("conda_channels needs at least one channel URL (got none)")
        found += [
            f"conda channel {url!r} must be an https:// URL without spaces or quotes"
            for url in self.conda_channels
            if not _URL.fullmatch(url)
        ]
        if self.pip_index_url is not None and not _URL.fullmatch(self.pip_index_url):
            found.append(
                f"pip_index_url {self.pip_index_url!r} must be an https:// URL without spaces "
                "or quotes"
            )
        return found


@dataclass(frozen=True)
class Kernel:
    """A Jupyter kernel: a conda environment with `ipykernel` and the given packages,
    built on the notebook's volume and registered as `smkit-<name>`."""

    name: str
    """1-31 lower-case letters, digits, _ and -, starting with a letter."""
    python: str = "3.12"
    """Python version, e.g. 3.12."""
    conda_packages: Sequence[str] = field(default_factory=tuple)
    """Conda match specs (`scikit-learn=1.5`). Default: none."""
    pip_packages: Sequence[str] = field(default_factory=tuple)
    """pip requirement specs (`torch==2.5.1`), installed after the conda ones. Default: none."""
    display_name: str | None = None
    """Name in Jupyter's launcher. Default: `<name> (Python <python>)`."""

    @property
    def label(self) -> str:
        """The name Jupyter shows."""
        return self.display_name or f"{self.name} (Python {self.python})"

    def problems(self) -> list[str]:
        """What is wrong with this kernel, one sentence each."""
        found = []
        if not _NAME.fullmatch(self.name):
            found.append(
                f"kernel name {self.name!r} must be 1-31 lower-case letters, digits, _ and -, "
                "starting with a letter"
            )
        if not _PYTHON.fullmatch(self.python):
            found.append(f"kernel {self.name!r}: python must look like 3.12 (got {self.python!r})")
        found += [
            f"kernel {self.name!r}: package {spec!r} must be one spec without spaces, quotes "
            "or shell characters"
            for spec in [*self.conda_packages, *self.pip_packages]
            if not _PACKAGE.fullmatch(spec)
        ]
        if _UNSAFE_DISPLAY.search(self.label) or not 0 < len(self.label) <= 80:
            found.append(
                f"kernel {self.name!r}: display_name must be 1-80 characters without quotes, "
                f"backslashes, $ or line breaks (got {self.label!r})"
            )
        return found

    def environment_hash(self, sources: PackageSources) -> str:
        """12 hex digits naming the environment folder: a new definition (or new sources)
        builds a new environment; the same one is reused after a restart."""
        definition = {
            "python": self.python,
            "conda": list(self.conda_packages),
            "pip": list(self.pip_packages),
            "channels": list(sources.conda_channels),
            "index": sources.pip_index_url,
        }
        digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode("utf-8"))
        return digest.hexdigest()[:12]


def check_kernels(kernels: Sequence[Kernel], sources: PackageSources, problems: Problems) -> None:
    """Record every problem with a notebook's kernels and their sources."""
    for kernel in kernels:
        for message in kernel.problems():
            problems.add(message)
    names = [k.name for k in kernels]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems.check(not repeated, f"kernel names must be unique (repeated: {repeated})")
    for message in sources.problems():
        problems.add(message)
