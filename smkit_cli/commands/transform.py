"""`smkit transform start|watch`: start a batch transform workflow with its input checked
against what the state machine allows, and follow a run (the job's status, instances,
time against the definition's limit, where its results go)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from rich.console import RenderableType
from rich.table import Table

from .. import batch, executions
from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..executions import Execution, latest_job
from ..jobs import describe_if_created, not_created, outcome_table
from ..options import examples, interval_option
from ..waiting import duration, since

TRANSFORM_RESOURCE = "createTransformJob.sync"

poll_option = interval_option("Seconds between two polls.")


@click.group(
    short_help="Start and follow batch transform runs.",
    epilog=examples(
        "smkit transform start demand-batch --wait", "smkit transform watch <execution ARN>"
    ),
)
def transform() -> None:
    """Start and follow batch transform runs."""


class TransformView:
    """Follows the transform job of a run."""

    def __init__(
        self, operator: Operator, *, emit: Callable[[str], None], limit_s: float | None
    ) -> None:
        self.operator = operator
        self.emit = emit
        self.limit_s = limit_s
        self.job_name: str | None = None
        self.described: dict[str, Any] | None = None
        self._status: str | None = None

    def __call__(self, execution: Execution) -> RenderableType:
        now = execution.stopped or self.operator.now()
        rows = [
            (
                "run",
                f"{execution.name}: {execution.status}, {duration(since(execution.started, now))}",
            )
        ]
        name = latest_job(self.operator, execution.arn, TRANSFORM_RESOURCE, "TransformJobName")
        if name is None:
            return _grid([*rows, ("job", "not started yet (checking the input)")])
        if name != self.job_name:
            self.job_name, self._status = name, None
            self.emit(f"Transform job {name}")
        sagemaker = self.operator.aws.client("sagemaker")
        job = describe_if_created(lambda: sagemaker.describe_transform_job(TransformJobName=name))
        if job is None:
            return _grid([*rows, not_created("job", name, execution)])
        self.described = job
        status = str(job["TransformJobStatus"])
        if status != self._status:
            self.emit(f"{now:%H:%M:%S}  {status}")
            self._status = status
        resources = job.get("TransformResources", {})
        elapsed = since(
            job.get("TransformStartTime") or job["CreationTime"], job.get("TransformEndTime") or now
        )
        limit = duration(elapsed)
        if self.limit_s:
            left = duration(self.limit_s - elapsed)
            limit = f"{limit} of {duration(self.limit_s)} ({left} left)"
        source = job.get("TransformInput", {}).get("DataSource", {}).get("S3DataSource", {})
        rows += [
            ("job", f"{name}: {status}"),
            (
                "instances",
                f"{resources.get('InstanceCount', 1)} x {resources.get('InstanceType', '?')}",
            ),
            ("running", limit),
            ("input", str(source.get("S3Uri", "?"))),
            ("output", str(job.get("TransformOutput", {}).get("S3OutputPath", "?"))),
        ]
        if job.get("FailureReason"):
            rows.append(("failure", str(job["FailureReason"])))
        return _grid(rows)


def _grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def _limit(operator: Operator, execution_arn: str) -> float | None:
    """The max runtime of the definition whose state machine ran this execution."""
    transform_settings = operator.deployment.settings.transform
    if transform_settings is None:
        return None
    machine = execution_arn.split(":execution:", 1)[-1].rsplit(":", 1)[0]
    outputs = operator.deployment.outputs("Transform")
    for name, definition in transform_settings.definitions.items():
        arn = outputs.get(
            f"{''.join(p.capitalize() for p in name.split('-'))}TransformStateMachineArn"
        )
        if arn and arn.endswith(f":stateMachine:{machine}"):
            return float(definition.max_runtime_minutes * 60)
    return None


def _watch(operator: Operator, arn: str, interval: float, as_json: bool) -> None:
    if ":execution:" not in arn:
        raise CliError(
            f"{arn!r} is not an execution ARN (arn:aws:states:<region>:<account>:execution:...)",
            ExitCode.USAGE,
        )

    def emit(line: str) -> None:
        if not as_json:
            operator.console.print(line, soft_wrap=True)

    view = TransformView(operator, emit=emit, limit_s=_limit(operator, arn))
    execution = executions.follow(operator, arn, interval=interval, quiet=as_json, view=view)
    if as_json:
        view(execution)
        described = view.described or {}
        operator.emit_json(
            {
                "execution_arn": arn,
                "status": execution.status,
                "error": execution.error,
                "cause": execution.cause,
                "output": execution.output,
                "transform_job": view.job_name,
                "job_status": described.get("TransformJobStatus"),
            }
        )
    elif execution.status == "SUCCEEDED" and execution.output is not None:
        operator.console.print("Outcome:")
        operator.console.print(outcome_table(execution.output))
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)


@transform.command(
    "start",
    short_help="Start a batch transform run.",
    epilog=examples(
        "smkit transform start demand-batch --wait",
        "smkit transform start sentiment-batch --input s3://<data>/text-classifier/batch/input/2026-11/",
    ),
)
@click.argument("definition")
@click.option(
    "--input",
    "input_uri",
    metavar="S3_URI",
    help="Objects to transform: an S3 URI under the definition's input_prefix (a narrower "
    "prefix or one object). Default: the whole input prefix.",
)
@click.option(
    "--instance-type",
    help="Instance type of this run: the definition's or one of its "
    "overridable.instance_types, within cost.limits.",
)
@click.option("--name", "run_name", help="Name of the run (execution). Default: from the time.")
@click.option("--wait", is_flag=True, help="Follow the run live until it ends.")
@poll_option
@json_option
@pass_operator
def transform_start(
    operator: Operator,
    definition: str,
    input_uri: str | None,
    instance_type: str | None,
    run_name: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Start the batch transform workflow of DEFINITION (a name under
    transform.definitions): results go under its output prefix, in a folder per run."""
    chosen = batch.pick(operator, definition)
    payload = batch.run_input(operator, chosen, input_uri=input_uri, instance_type=instance_type)
    execution_arn = batch.start(operator, chosen, payload, run_name)
    label = f"transform {chosen.name}"
    if not wait:
        if as_json:
            operator.emit_json(
                {"workflow": label, "execution_arn": execution_arn, "input": payload}
            )
        else:
            operator.console.print(f"Started {label}: {execution_arn}", soft_wrap=True)
            operator.console.print(
                f"Follow it: smkit transform watch {execution_arn}", soft_wrap=True
            )
        return
    if not as_json:
        operator.console.print(f"Started {label}: {execution_arn}", soft_wrap=True)
    _watch(operator, execution_arn, interval, as_json)


@transform.command(
    "watch",
    short_help="Follow a batch transform run until it ends.",
    epilog=examples(
        "smkit transform watch arn:aws:states:us-east-1:123456789012:execution:...:cli-20261130",
    ),
)
@click.argument("execution")
@poll_option
@json_option
@pass_operator
def transform_watch(operator: Operator, execution: str, interval: float, as_json: bool) -> None:
    """Follow batch transform run EXECUTION (its execution ARN) until it ends: the job's
    status, instances, time against the definition's limit, input and output. Exits 0 if
    the run succeeded, 1 if not; Ctrl-C stops watching only."""
    _watch(operator, execution, interval, as_json)
