"""cfn-lint over synthesized templates."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cfnlint.config import ConfigMixIn
from cfnlint.decode.decode import decode_str
from cfnlint.runner import Runner

# Regions an environment-agnostic template is linted for: where resource types and
# properties differ most between regions the kit is used in.
AGNOSTIC_REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"]


@cache
def _runner(regions: tuple[str, ...]) -> Runner:
    # Loading cfn-lint's rules takes about 0.4 s; cfn-lint's own runner checks many
    # templates with one set, so one runner per region list serves every template.
    return Runner(ConfigMixIn(regions=list(regions)))


def lint(path: Path, *, regions: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one template, one line each.

    `regions`: the stack's region when it has one; an environment-agnostic
    template is linted for `AGNOSTIC_REGIONS`.
    """
    template, matches = decode_str(path.read_text())
    if template is not None and not matches:
        matches = list(_runner(tuple(regions or AGNOSTIC_REGIONS)).validate_template(template))
    errors, warnings = [], []
    for match in matches:
        # A file cfn-lint cannot decode has matches with a line number and no path.
        where = "/".join(map(str, getattr(match, "path", None) or [f"line {match.linenumber}"]))
        line = f"{path.name}: {match.rule.id} {match.message} at {where}"
        (errors if match.rule.id.startswith("E") else warnings).append(line)
    return errors, warnings
