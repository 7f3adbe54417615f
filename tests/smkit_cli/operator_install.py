"""`smkit` as an operator runs it: installed with `pip install .` (pyproject's
`dependencies`, no extra), outside the kit's folder. Without building a virtual
environment: a subprocess in which importing any module an operator install lacks fails,
as it would there (at exit it prints the modules it refused), and, with
`installed_copy`, the kit's packages apart from the checkout, as site-packages holds them."""

from __future__ import annotations

import json
import shutil
import sys
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
KIT_PACKAGES = ("stacks", "sagemaker_constructs", "smkit_cli")
"""What `pip install .` installs of the kit itself (tool.setuptools.packages.find)."""
REFUSED = "refused imports: "
LOADED = "kit packages from: "

# Runs smkit with a meta path finder first in line that refuses every top-level module
# outside the allowed ones (argv[1], JSON) and the standard library's folders (private
# modules such as _sysconfigdata_* are not in sys.stdlib_module_names); the remaining
# arguments are smkit's.
SCRIPT = """
import atexit, importlib.abc, importlib.machinery, json, os, sys, sysconfig
allowed = set(json.loads(sys.argv[1]))
stdlib = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
stdlib.append(os.path.join(stdlib[1], "lib-dynload"))
refused = set()
class OperatorInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.partition(".")[0]
        if top in allowed or importlib.machinery.PathFinder.find_spec(top, stdlib):
            return None
        refused.add(name)
        raise ModuleNotFoundError(f"No module named {name!r} in an operator install", name=name)
sys.meta_path.insert(0, OperatorInstall())
def report():
    print("REFUSED" + json.dumps(sorted(refused)), file=sys.stderr)
    kit = os.path.dirname(os.path.dirname(sys.modules["stacks"].__file__))
    print("LOADED" + kit, file=sys.stderr)
atexit.register(report)
sys.argv = ["smkit", *sys.argv[2:]]
from smkit_cli.main import main
main()
""".replace("REFUSED", REFUSED).replace("LOADED", LOADED)


@cache
def operator_distributions() -> frozenset[str]:
    """The distributions `pip install .` installs: pyproject's `dependencies` and theirs,
    with environment markers evaluated (extras of the kit left out)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(r) for r in project["dependencies"]]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        try:
            declared = requires(requirement.name) or []
        except PackageNotFoundError:
            continue
        for line in declared:
            dependency = Requirement(line)
            wanted = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if dependency.marker is None or any(dependency.marker.evaluate(e) for e in wanted):
                pending.append(dependency)
    return frozenset(found)


@cache
def operator_modules() -> tuple[str, ...]:
    """Top-level modules importable in an operator install: the standard library, the
    kit's packages and those of `operator_distributions`."""
    distributions = operator_distributions()
    modules = {
        module
        for module, owners in packages_distributions().items()
        if any(canonicalize_name(owner) in distributions for owner in owners)
    }
    return tuple(sorted(modules | set(sys.stdlib_module_names) | set(KIT_PACKAGES)))


def installed_copy(folder: Path) -> Path:
    """The kit's packages as `pip install .` puts them in site-packages (without the
    rest of the checkout), copied into `folder`; put it first on PYTHONPATH."""
    for package in KIT_PACKAGES:
        shutil.copytree(
            ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return folder


def smkit_command(*args: str) -> list[str]:
    """The command line that runs `smkit ARGS` as an operator install would."""
    return [sys.executable, "-c", SCRIPT, json.dumps(operator_modules()), *args]


def refused_imports(stderr: str) -> list[str]:
    """The modules the run tried to import that an operator install lacks."""
    line = next(line for line in stderr.splitlines() if line.startswith(REFUSED))
    refused: list[str] = json.loads(line.removeprefix(REFUSED))
    return refused


def kit_loaded_from(stderr: str) -> Path:
    """The folder the run imported the kit's packages from."""
    line = next(line for line in stderr.splitlines() if line.startswith(LOADED))
    return Path(line.removeprefix(LOADED))
