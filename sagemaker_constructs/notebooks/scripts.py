"""Render the notebook's lifecycle script from the files in `runtime/`.

The templates are real shell files with `{{NAME}}` placeholders. Values are quoted for
the shell here; files embedded in the script travel in quoted heredocs, so the shell
never expands anything inside them. The templates' comment lines explain them here, in
the repository; the rendered script leaves them out, because every character counts
against the lifecycle script's size limit.
"""

from __future__ import annotations

import ast
import base64
import gzip
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .kernels import Kernel, PackageSources

RUNTIME_DIR = Path(__file__).parent / "runtime"
IDLE_STOP_SCRIPT = RUNTIME_DIR / "idle_stop.py"

HOOK_CONTENT_LIMIT = 16_384
"""Most characters of a lifecycle hook's `Content`. The limit applies *after* base64
encoding: `Content` is the base64 text itself, and the API (botocore's
NotebookInstanceLifecycleHook shape) and CloudFormation's schema both cap that string at
16,384 characters; so the script itself may have at most 12,288 bytes."""

MAX_LENGTHS: Mapping[str, int] = {
    # arn:<partition <= 10>:iam::<account>:role/<name <= 64>; the kit's roles have no path.
    "role_arn": 102,
    # arn:<partition>:kms:<region <= 16>:<account>:key/<36-character id or mrk-id>
    "key_arn": 89,
    "bucket_name": 63,
    "subnet_id": 24,
    "security_group_id": 20,
    "region": 16,
}
"""Longest form of each kind of value known only at deploy time. The size check counts
each such value at its bound, so a script that passes at synth fits at deploy."""

_PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
# A whole-line comment of a template; the shebang and shellcheck directives stay.
_COMMENT_LINE = re.compile(r"^[ \t]*#(?!!|[ \t]*shellcheck).*\n", re.MULTILINE)
# How CDK encodes a deploy-time value inside a string.
_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """`runtime/<template>` with every `{{NAME}}` replaced by `values[NAME]`.

    Raises KeyError naming a placeholder without a value, and ValueError naming a value
    without a placeholder: a template and its caller never drift apart silently.
    The template's comment lines are left out (the values are not touched)."""
    text = _COMMENT_LINE.sub("", (RUNTIME_DIR / template).read_text(encoding="utf-8"))
    used = set(_PLACEHOLDER.findall(text))
    missing = sorted(used - set(values))
    if missing:
        raise KeyError(f"{template}: no value for {missing}")
    unused = sorted(set(values) - used)
    if unused:
        raise ValueError(f"{template}: no placeholder for {unused}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def quote(value: str) -> str:
    """`value` as one shell word. A deploy-time token (`${Token[...]}`) is quoted as it
    stands; what it resolves to (ARNs, names, ids) holds no single quote."""
    return shlex.quote(value)


def heredoc_body(text: str, terminator: str) -> str:
    """`text` for a quoted heredoc ending in `terminator` (no line may equal it)."""
    body = text.rstrip("\n")
    if terminator in body.splitlines():
        raise ValueError(f"the embedded text contains its heredoc terminator {terminator!r}")
    return body


def compact_python(path: Path) -> str:
    """The Python file without comments and docstrings (its syntax tree, written back):
    the same program in fewer characters."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and _has_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def _has_docstring(node: ast.Module | ast.FunctionDef | ast.ClassDef) -> bool:
    first = node.body[0] if node.body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def compressed(text: str) -> str:
    """`text` gzip-compressed and base64-encoded, in 76-character lines.

    The idle-stop script is embedded this way: it is the largest part of the lifecycle
    script, and compression leaves room under the 16,384-character limit for kernels.
    `mtime=0` keeps the output, and so the template, the same on every synth."""
    packed = gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)
    return base64.encodebytes(packed).decode("ascii").rstrip("\n")


def encoded_length(script: str, bounds: Mapping[str, int]) -> int:
    """Characters of `script` once base64-encoded. `bounds` maps each deploy-time token
    in it to the most characters its value can take; a token without a bound is an error
    (the check would otherwise be a guess)."""
    size = len(_TOKEN.sub("", script).encode("utf-8"))
    for token in _TOKEN.findall(script):
        if token not in bounds:
            raise ValueError(f"no length bound for the deploy-time value {token} in the script")
        size += bounds[token]
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True)
class OnStartScript:
    """The rendered on-start script and the size of each part, for error messages."""

    text: str
    """The script."""
    parts: Mapping[str, int]
    """Characters (base64-encoded, deploy-time values at their bound) of each part."""
    encoded_length: int
    """Characters of the hook's `Content` (deploy-time values at their bound)."""

    def size_problem(self, subject: str) -> str | None:
        """Why the script does not fit SageMaker's limit on a lifecycle script (`subject`
        names it, e.g. "on-start lifecycle script of notebook 'x'"); None if it fits."""
        over = self.encoded_length - HOOK_CONTENT_LIMIT
        if over <= 0:
            return None
        parts = ", ".join(f"{name} {length:,}" for name, length in self.parts.items())
        return (
            f"the {subject} is {self.encoded_length:,} characters base64-encoded, {over:,} "
            f"over SageMaker's limit of {HOOK_CONTENT_LIMIT:,} (parts: {parts}); use fewer "
            "kernels or fewer packages per kernel"
        )


@dataclass(frozen=True)
class KernelHost:
    """Where kernels are built: the user they belong to and the volume that keeps them."""

    home: str
    """The user's home (the builder runs as that user)."""
    volume_dir: str
    """The kit's folder on the persistent volume, relative to `home`."""
    conda: tuple[str, ...]
    """conda executables tried in order; a relative path is under `home`."""

    def conda_words(self) -> str:
        """The candidates as shell words (`$HOME/...` for a relative one)."""
        return " ".join(
            quote(path) if path.startswith("/") else f'"$HOME/{path}"' for path in self.conda
        )


NOTEBOOK_HOST = KernelHost(
    home="/home/ec2-user",
    volume_dir="SageMaker/.smkit",
    conda=("anaconda3/condabin/conda", "anaconda3/bin/conda"),
)
"""A notebook instance: ec2-user's Anaconda, the notebook volume mounted at ~/SageMaker."""

STUDIO_HOST = KernelHost(
    home="/home/sagemaker-user",
    volume_dir=".smkit",
    conda=("/opt/conda/bin/conda", "/opt/conda/condabin/conda", "/opt/conda/bin/mamba"),
)
"""A Studio JupyterLab space: SageMaker Distribution's conda, the space's EBS volume
mounted as sagemaker-user's home."""


def build_kernels_script(
    kernels: Sequence[Kernel], sources: PackageSources, *, host: KernelHost = NOTEBOOK_HOST
) -> str:
    """runtime/build_kernels.sh for these kernels, run as the user of `host`."""
    calls = []
    for kernel in kernels:
        conda = " ".join(quote(spec) for spec in kernel.conda_packages)
        pip = " ".join(quote(spec) for spec in kernel.pip_packages)
        arguments = " ".join(
            quote(value)
            for value in (
                kernel.name,
                kernel.label,
                kernel.python,
                kernel.environment_hash(sources),
            )
        )
        calls.append(f"CONDA_PKGS=({conda}); PIP_PKGS=({pip}); build {arguments} || failed=1")
    index = (
        f"export PIP_INDEX_URL={quote(sources.pip_index_url)}"
        if sources.pip_index_url
        else "# pip uses PyPI"
    )
    return render(
        "build_kernels.sh",
        {
            "HOME": quote(host.home),
            "VOLUME_DIR": host.volume_dir,
            "CONDA": host.conda_words(),
            "PIP_INDEX": index,
            "CHANNELS": " ".join(f"-c {quote(url)}" for url in sources.conda_channels),
            "KERNELS": "\n".join(calls),
        },
    )


def on_start_script(
    *,
    sdk_defaults_yaml: str,
    notebook_name: str,
    region: str,
    idle_minutes: int | None,
    log_group_name: str | None,
    kernels: Sequence[Kernel],
    sources: PackageSources,
    bounds: Mapping[str, int],
) -> OnStartScript:
    """The notebook's on-start script: SDK defaults, idle stop (None: off) and kernels.
    `bounds`: the most characters each deploy-time token in the values can take."""
    parts: dict[str, int] = {}
    if idle_minutes is not None and log_group_name is not None:
        idle_section = render(
            "idle_stop_section.sh",
            {
                "IDLE_STOP_PY": heredoc_body(
                    compressed(compact_python(IDLE_STOP_SCRIPT)), "SMKIT_IDLE_STOP_PY"
                ),
                "NOTEBOOK_NAME": quote(notebook_name),
                "IDLE_MINUTES": str(int(idle_minutes)),
                "LOG_GROUP": quote(log_group_name),
                "REGION": quote(region),
            },
        )
        parts["idle stop"] = encoded_length(idle_section, bounds)
    else:
        idle_section = 'echo "idle stop: off for this notebook"'
    if kernels:
        kernels_section = render(
            "kernels_section.sh",
            {
                "BUILD_KERNELS": heredoc_body(
                    build_kernels_script(kernels, sources), "SMKIT_BUILD_KERNELS"
                )
            },
        )
        parts[f"kernels ({len(kernels)})"] = encoded_length(kernels_section, bounds)
    else:
        kernels_section = 'echo "kernels: none configured"'
    defaults = heredoc_body(sdk_defaults_yaml, "SMKIT_SDK_DEFAULTS")
    parts["SDK defaults"] = encoded_length(defaults, bounds)
    text = render(
        "on_start.sh",
        {
            "SDK_DEFAULTS": defaults,
            "IDLE_STOP_SECTION": idle_section,
            "KERNELS_SECTION": kernels_section,
        },
    )
    return OnStartScript(text=text, parts=parts, encoded_length=encoded_length(text, bounds))


def studio_start_script(
    *,
    sdk_defaults_yaml: str,
    kernels: Sequence[Kernel],
    sources: PackageSources,
    bounds: Mapping[str, int],
) -> OnStartScript:
    """A Studio JupyterLab app's start script: SDK defaults and kernels, built like a
    notebook instance's (the same builder, run as sagemaker-user on the space's volume).
    `bounds`: the most characters each deploy-time token in the values can take."""
    parts: dict[str, int] = {}
    if kernels:
        kernels_section = render(
            "studio_kernels_section.sh",
            {
                "BUILD_KERNELS": heredoc_body(
                    build_kernels_script(kernels, sources, host=STUDIO_HOST),
                    "SMKIT_BUILD_KERNELS",
                )
            },
        )
        parts[f"kernels ({len(kernels)})"] = encoded_length(kernels_section, bounds)
    else:
        kernels_section = 'echo "kernels: none configured"'
    defaults = heredoc_body(sdk_defaults_yaml, "SMKIT_SDK_DEFAULTS")
    parts["SDK defaults"] = encoded_length(defaults, bounds)
    text = render(
        "studio_on_start.sh", {"SDK_DEFAULTS": defaults, "KERNELS_SECTION": kernels_section}
    )
    return OnStartScript(text=text, parts=parts, encoded_length=encoded_length(text, bounds))


SLOW_COMMANDS = frozenset(
    {"conda", "mamba", "micromamba", "pip", "apt-get", "dnf", "yum", "git", "curl", "wget"}
    | {"sleep"}
)
"""Commands that may take minutes: a lifecycle script runs them in the background only."""

_HEREDOC = re.compile(r"<<'(?P<end>\w+)'\n.*?\n(?P=end)\n", re.DOTALL)


def slow_foreground_commands(script: str) -> list[str]:
    """The slow commands (`SLOW_COMMANDS`) `script` would run itself, outside the files it
    writes from heredocs: a lifecycle script must finish within 5 minutes."""
    foreground = _HEREDOC.sub("", script)
    return sorted(set(re.findall(r"[\w.-]+", foreground)) & SLOW_COMMANDS)
