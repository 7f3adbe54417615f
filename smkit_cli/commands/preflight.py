"""`smkit preflight`: check the account and region before deploying a config (read-only),
print each check's result and fix, and exit with what the worst result says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..options import examples
from ..preflight import Finding, run_checks

DEFAULT_ASSEMBLY = Path("cdk.out")
STYLES = {"pass": "green", "fail": "bold red", "unknown": "yellow"}


def exit_code(findings: list[Finding]) -> ExitCode:
    """1 when a check failed; else 5 when AWS denied a read, 6 when another AWS error
    stopped one; else 0 (an unknown that is only not knowable yet does not count)."""
    if any(f.status == "fail" for f in findings):
        return ExitCode.FAILED
    causes = {f.cause for f in findings if f.status == "unknown"}
    if "denied" in causes:
        return ExitCode.CREDENTIALS
    if "error" in causes:
        return ExitCode.AWS_ERROR
    return ExitCode.OK


def _assembly(given: Path | None, config: str) -> Path | None:
    if given is None:
        return DEFAULT_ASSEMBLY if (DEFAULT_ASSEMBLY / "manifest.json").is_file() else None
    if not (given / "manifest.json").is_file():
        raise CliError(
            f"--assembly {given} holds no manifest.json",
            ExitCode.USAGE,
            hint=f"Synthesize the config into it first: make synth CONFIG={config} OUT={given}",
        )
    return given


def _show(operator: Operator, data: dict[str, Any], findings: list[Finding]) -> None:
    console = operator.console
    console.print(
        f"[bold]Preflight of {data['config']}[/bold] (account {data['account']}, {data['region']})"
    )
    table = Table(title_justify="left")
    for column in ("check", "subject", "result", "details"):
        table.add_column(column)
    for finding in findings:
        table.add_row(
            finding.check,
            finding.subject,
            f"[{STYLES[finding.status]}]{finding.status}[/]",
            finding.detail,
        )
    console.print(table)
    todo = [f for f in findings if f.status != "pass" and f.fix]
    if todo:
        console.print("[bold]To do[/bold]")
        for finding in todo:
            console.print(f"- {finding.subject}: {finding.fix}", soft_wrap=True)
    counts = data["summary"]
    console.print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['unknown']} unknown")


@click.command(
    short_help="Check the account and region before deploying (reads only).",
    epilog=examples(
        "make preflight CONFIG=config/my-team.yaml",
        "smkit --config config/my-team.yaml preflight --assembly cdk.out --json",
    ),
)
@click.option(
    "--assembly",
    type=click.Path(file_okay=False, path_type=Path),
    help="The cdk.out synthesized from this config, which says the CDK bootstrap version "
    "it needs (`make preflight` passes it). Default: ./cdk.out when it exists.",
)
@json_option
@pass_operator
def preflight(operator: Operator, assembly: Path | None, as_json: bool) -> None:
    """Check the account and region before deploying the config (reads only).

    Checks the CDK bootstrap version, the SageMaker quotas for every instance type and
    usage the config can start (needed vs applied, and which entry needs it), an existing
    private workforce, names already taken outside the platform's stacks, and the cost
    allocation tags the budgets filter on. Each result is pass, fail or unknown, with a
    one-line fix. Exits 1 when a check fails, 5 when AWS denies a read, 6 on another AWS
    error, else 0."""
    assembly = _assembly(assembly, operator.config)
    deployment = operator.deployment
    where = {"account": deployment.account, "region": operator.aws.region}
    findings = run_checks(deployment, assembly)
    counts = Counter(f.status for f in findings)
    data: dict[str, Any] = {
        "config": deployment.config,
        "name_prefix": deployment.prefix,
        **where,
        "checks": [f.as_json() for f in findings],
        "summary": {status: counts.get(status, 0) for status in ("pass", "fail", "unknown")},
    }
    if as_json:
        operator.emit_json(data)
    else:
        _show(operator, data, findings)
    code = exit_code(findings)
    if code == ExitCode.FAILED:
        raise CliError(
            f"preflight: {counts['fail']} check(s) failed in {deployment.where()}",
            code,
            hint=f"Fix what failed, then deploy: make deploy CONFIG={deployment.config}",
        )
    if code == ExitCode.CREDENTIALS:
        denied = sorted({f.permission for f in findings if f.cause == "denied" and f.permission})
        raise CliError(
            f"preflight: access denied to {', '.join(denied)}",
            code,
            hint="The credentials' role needs these permissions (docs/preflight.md lists "
            "every one preflight uses).",
        )
    if code == ExitCode.AWS_ERROR:
        raise CliError(
            "preflight: AWS failed some checks' reads (their details say how); run it again",
            code,
        )
