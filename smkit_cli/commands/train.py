"""`smkit train watch` and `smkit tune watch`: follow a training or tuning workflow run
live (status and secondary status transitions, time against the stopping condition,
latest metrics; for tuning, jobs done / running and the best objective so far)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .. import executions
from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..jobs import TrainingView, TuningView, outcome_table
from ..waiting import DEFAULT_INTERVAL

execution_argument = click.argument("execution")
interval_option = click.option(
    "--interval",
    type=click.FloatRange(min=0),
    default=DEFAULT_INTERVAL,
    show_default=True,
    help="Seconds between two polls.",
)


@click.group()
def train() -> None:
    """Follow training workflow runs."""


@click.group()
def tune() -> None:
    """Follow tuning workflow runs."""


def _check_run(operator: Operator, arn: str) -> None:
    client = operator.aws.client("stepfunctions")
    try:
        client.describe_execution(executionArn=arn)
    except client.exceptions.InvalidArn:
        raise CliError(
            f"{arn!r} is not an execution ARN (the `Started ...: arn:aws:states:...` line of "
            "the command that started the run)",
            ExitCode.USAGE,
        ) from None
    except client.exceptions.ExecutionDoesNotExist:
        raise CliError(
            f"no run {arn} in {operator.deployment.where()}", ExitCode.NOT_DEPLOYED
        ) from None


def _watch(
    operator: Operator,
    arn: str,
    interval: float,
    as_json: bool,
    view_type: Callable[..., TrainingView | TuningView],
    what: str,
) -> None:
    _check_run(operator, arn)

    def emit(line: str) -> None:
        if not as_json:
            operator.console.print(line, soft_wrap=True)

    view = view_type(operator, emit=emit)
    execution = executions.follow(operator, arn, interval=interval, quiet=as_json, view=view)
    if as_json:
        view(execution)
        described: dict[str, Any] = view.described or {}
        operator.emit_json(
            {
                "execution_arn": arn,
                "status": execution.status,
                "error": execution.error,
                "cause": execution.cause,
                "output": execution.output,
                what: view.job_name,
                "job_status": described.get("TrainingJobStatus")
                or described.get("HyperParameterTuningJobStatus"),
                **({"metrics": view.metrics} if isinstance(view, TrainingView) else {}),
                **({"best": view.best()} if isinstance(view, TuningView) else {}),
            }
        )
    elif execution.status == "SUCCEEDED" and execution.output is not None:
        operator.console.print("Outcome:")
        operator.console.print(outcome_table(execution.output))
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)


@train.command("watch")
@execution_argument
@interval_option
@json_option
@pass_operator
def train_watch(operator: Operator, execution: str, interval: float, as_json: bool) -> None:
    """Follow training workflow run EXECUTION (its execution ARN) until it ends: the
    training job's status transitions, time against its stopping condition and its
    latest metrics. Exits 0 if the run succeeded, 1 if not; Ctrl-C stops watching only."""
    _watch(operator, execution, interval, as_json, TrainingView, "training_job")


@tune.command("watch")
@execution_argument
@interval_option
@json_option
@pass_operator
def tune_watch(operator: Operator, execution: str, interval: float, as_json: bool) -> None:
    """Follow tuning workflow run EXECUTION (its execution ARN) until it ends: training
    jobs done and running, the best objective so far, time against the tuning job's
    limit. Exits 0 if the run succeeded, 1 if not; Ctrl-C stops watching only."""
    _watch(operator, execution, interval, as_json, TuningView, "tuning_job")
