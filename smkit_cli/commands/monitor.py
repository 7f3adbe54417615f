"""`smkit monitor baseline`: compute an endpoint's Model Monitor baseline (its baseline
workflow runs the analyzer over the configured dataset) and, with --wait, follow it."""

from __future__ import annotations

from typing import Any

import click

from .. import executions
from ..context import Operator, json_option, pass_operator
from ..deployment import pascal
from ..errors import CliError, ExitCode
from ..jobs import outcome_table
from ..options import examples, interval_option


@click.group(
    short_help="Model Monitor of the endpoints that configure monitoring.",
    epilog=examples("smkit monitor baseline demand-forecast --wait"),
)
def monitor() -> None:
    """Model Monitor of the endpoints that configure `monitoring`."""


@monitor.command(
    "baseline",
    short_help="Compute an endpoint's data quality baseline.",
    epilog=examples(
        "smkit monitor baseline demand-forecast --wait",
    ),
)
@click.argument("endpoint")
@click.option("--name", "run_name", help="Name of the run (execution). Default: from the time.")
@click.option("--wait", is_flag=True, help="Follow the run until it ends.")
@interval_option("Seconds between two polls.")
@json_option
@pass_operator
def monitor_baseline(
    operator: Operator,
    endpoint: str,
    run_name: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Compute ENDPOINT's data quality baseline: statistics and constraints of its
    baseline dataset, where the monitoring schedule reads them. Run it once after the
    first deployment (the schedule's runs fail until it exists) and whenever the model or
    its data changes."""
    deployment = operator.deployment
    inference = deployment.section("inference", "endpoints")
    key = deployment.pick("endpoint", endpoint, inference.endpoints)

    def baselined(settings: Any) -> bool:
        return settings.monitoring is not None and settings.monitoring.data_quality is not None

    if not baselined(inference.endpoints[key]):
        monitored = [k for k, e in inference.endpoints.items() if baselined(e)]
        raise CliError(
            f"endpoint {key} configures no data quality monitoring in {deployment.config}; "
            "monitored: "
            f"{', '.join(monitored) or 'none'}",
            ExitCode.USAGE,
        )
    arn = deployment.output("Inference", f"{pascal(key)}BaselineStateMachineArn")
    name = run_name or f"cli-{operator.now():%Y%m%d-%H%M%S}"
    execution_arn = executions.start(operator, arn, {}, name)
    if not wait:
        if as_json:
            operator.emit_json({"endpoint": key, "execution_arn": execution_arn})
        else:
            operator.console.print(f"Started the {key} baseline: {execution_arn}", soft_wrap=True)
        return
    if not as_json:
        operator.console.print(f"Started the {key} baseline: {execution_arn}", soft_wrap=True)
    execution = executions.follow(operator, execution_arn, interval=interval, quiet=as_json)
    if as_json:
        operator.emit_json(
            {
                "endpoint": key,
                "execution_arn": execution_arn,
                "status": execution.status,
                "output": execution.output,
                "error": execution.error,
                "cause": execution.cause,
            }
        )
    elif execution.status == "SUCCEEDED" and execution.output is not None:
        operator.console.print(outcome_table(execution.output))
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)
