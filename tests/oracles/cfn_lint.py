"""cfn-lint over synthesized templates."""

from __future__ import annotations

from pathlib import Path

import cfnlint.api
from cfnlint.api import ManualArgs

# Regions an environment-agnostic template is linted for: where resource types and
# properties differ most between regions the kit is used in.
AGNOSTIC_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


def lint(path: Path, *, regions: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one template, one line each.

    `regions`: the stack's region when it has one; an environment-agnostic
    template is linted for `AGNOSTIC_REGIONS`.
    """
    text = path.read_text()
    errors, warnings = [], []
    for match in cfnlint.api.lint(text, config=ManualArgs(regions=regions or AGNOSTIC_REGIONS)):
        line = f"{path.name}: {match.rule.id} {match.message} at {'/'.join(map(str, match.path))}"
        (errors if match.rule.id.startswith("E") else warnings).append(line)
    return errors, warnings
