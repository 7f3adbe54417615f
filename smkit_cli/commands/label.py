"""`smkit label run|auto`: start a Ground Truth labeling workflow or an auto-labeling
workflow from flags, and with --wait follow it to its summary (auto vs human counts)."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from sagemaker_constructs.labeling.runtime.autolabel.prepare import run_id_problem
from sagemaker_constructs.labeling.runtime.labeling_job.prepare import job_name_problem

from .. import executions
from ..context import Operator, json_option, pass_operator
from ..deployment import Deployment, pascal
from ..errors import CliError, ExitCode
from ..options import examples, interval_option
from .label_studio import studio_setup

wait_option = click.option(
    "--wait",
    is_flag=True,
    help="Follow the run and print its summary (off a terminal: a progress line a minute).",
)
seconds_option = interval_option("Seconds between two status checks with --wait.")
manifest_option = click.option(
    "--manifest",
    "-m",
    required=True,
    help="Input manifest: s3://<data bucket>/<key>, or just the key in the data bucket.",
)


@click.group(
    short_help="Start labeling and auto-labeling runs; set up Label Studio.",
    epilog=examples(
        "smkit label run sentiment -m batches/7/input.manifest --job-name batch-7 --wait",
        "smkit label auto sentiment-auto -m reviews/march.manifest --threshold 0.9 --wait",
    ),
)
def label() -> None:
    """Start labeling and auto-labeling workflows; set up Label Studio for a run."""


label.add_command(studio_setup)


def _labeling(deployment: Deployment) -> Any:
    return deployment.section("labeling", "labeling workflows")


def _manifest_uri(deployment: Deployment, given: str) -> str:
    bucket = deployment.output("Foundation", "DataBucketName")
    uri = given if given.startswith("s3://") else f"s3://{bucket}/{given.lstrip('/')}"
    if not uri.startswith(f"s3://{bucket}/") or uri == f"s3://{bucket}/":
        raise CliError(
            f"--manifest must be an object in the data bucket {bucket} (got {given!r})",
            ExitCode.USAGE,
        )
    return uri


def _started(operator: Operator, workflow: str, arn: str, as_json: bool) -> None:
    if not as_json:
        operator.say(f"Started {workflow}: {arn}")
        operator.say(f"Console: {executions.console_url(operator.aws.region, arn)}")


@label.command(
    "run",
    short_help="Start a Ground Truth labeling workflow on a manifest.",
    epilog=examples(
        "smkit label run sentiment -m batches/7/input.manifest --job-name batch-7",
        "smkit label run sentiment -m s3://my-team-data/batches/7/input.manifest --wait",
    ),
)
@click.argument("workflow")
@manifest_option
@click.option(
    "--job-name",
    help="Names the labeling job (after the workflow's prefix) and the run: letters, digits "
    "and hyphens; starting the same name and input again returns the run already going. "
    "Default: from the time.",
)
@click.option("--title", help="Task title for this run. Default: the workflow's.")
@click.option("--description", help="Task description for this run. Default: the workflow's.")
@click.option("--workers-per-object", type=click.IntRange(1, 9), help="Default: the workflow's.")
@click.option(
    "--task-time-limit",
    type=click.IntRange(30, 28_800),
    help="Seconds a worker has per task (30-28800). Default: the workflow's.",
)
@click.option(
    "--task-availability",
    type=click.IntRange(60, 2_592_000),
    help="Seconds tasks wait for workers (60-2592000). Default: the workflow's.",
)
@click.option("--label-attribute", help="Output attribute of the labels. Default: the workflow's.")
@wait_option
@seconds_option
@json_option
@pass_operator
def run(
    operator: Operator,
    workflow: str,
    manifest: str,
    job_name: str | None,
    title: str | None,
    description: str | None,
    workers_per_object: int | None,
    task_time_limit: int | None,
    task_availability: int | None,
    label_attribute: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Start labeling workflow WORKFLOW (a Ground Truth labeling job) on a manifest.
    With --wait, follow it and print who labeled how many objects."""
    deployment = operator.deployment
    name = deployment.pick(
        "labeling workflow", workflow, [w.name for w in _labeling(deployment).workflows]
    )
    if job_name is not None:
        # The workflow's first step names the job `<prefix><job_name>` and checks it.
        problem = job_name_problem(f"{deployment.prefix}-{name}-", job_name)
        if problem:
            raise CliError(f"--job-name: {problem}", ExitCode.USAGE)
    arn = deployment.output("Labeling", f"LabelingWorkflow{pascal(name)}Arn")
    payload: dict[str, Any] = {"manifest_uri": _manifest_uri(deployment, manifest)}
    overrides = {
        "job_name": job_name,
        "title": title,
        "description": description,
        "workers_per_object": workers_per_object,
        "task_time_limit_seconds": task_time_limit,
        "task_availability_seconds": task_availability,
        "label_attribute": label_attribute,
    }
    payload.update({k: v for k, v in overrides.items() if v is not None})
    run_name = job_name or f"cli-{operator.now():%Y%m%d-%H%M%S}"
    execution_arn = executions.start(operator, arn, payload, run_name)
    _started(operator, name, execution_arn, as_json)
    if not wait:
        if as_json:
            operator.emit_json({"workflow": name, "execution_arn": execution_arn, "input": payload})
        return
    execution = executions.follow(operator, execution_arn, interval=interval, quiet=as_json)
    output = execution.output if isinstance(execution.output, dict) else {}
    if as_json:
        operator.emit_json(
            {
                "workflow": name,
                "execution_arn": execution_arn,
                "status": execution.status,
                "error": execution.error,
                "cause": execution.cause,
                "output": execution.output,
            }
        )
    elif execution.status == "SUCCEEDED":
        counters = output.get("label_counters", {})
        operator.console.print(f"Labeling job {output.get('job_name', '')}", soft_wrap=True)
        table = Table()
        table.add_column("labeled by")
        table.add_column("objects", justify="right")
        for label_, key in (
            ("people", "HumanLabeled"),
            ("automated labeling", "MachineLabeled"),
            ("total", "TotalLabeled"),
            ("failed", "FailedNonRetryableError"),
            ("unlabeled", "Unlabeled"),
        ):
            table.add_row(label_, str(counters.get(key, 0)))
        operator.console.print(table)
        operator.console.print(
            f"Output manifest: {output.get('output_manifest_uri')}", soft_wrap=True
        )
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)


@label.command(
    "auto",
    short_help="Start an auto-labeling workflow: model first, people for the rest.",
    epilog=examples(
        "smkit label auto sentiment-auto -m reviews/march.manifest --threshold 0.9",
        "smkit label auto sentiment-auto -m reviews/march.manifest --run-id march --wait",
    ),
)
@click.argument("workflow")
@manifest_option
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Keep the model's label at or above this confidence (0-1). Default: the workflow's.",
)
@click.option(
    "--endpoint",
    help="Endpoint that pre-labels (one of the workflow's endpoint_names). Default: the first.",
)
@click.option(
    "--human-mode",
    type=click.Choice(["ground_truth", "label_studio", "external"]),
    help="Who labels the rest: a Ground Truth labeling workflow, Label Studio, or an external "
    "tool (the run waits for its labels). Default: the workflow's.",
)
@click.option(
    "--run-id",
    help="Names the run's folder; the same input otherwise gets the same id (a re-run reuses "
    "what was done). Lower-case letters, digits, hyphens.",
)
@wait_option
@seconds_option
@json_option
@pass_operator
def auto(
    operator: Operator,
    workflow: str,
    manifest: str,
    threshold: float | None,
    endpoint: str | None,
    human_mode: str | None,
    run_id: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Start auto-labeling workflow WORKFLOW: the model labels what it is confident about
    (at or above --threshold), people label the rest, both are merged into one manifest."""
    deployment = operator.deployment
    configured = {a.name: a for a in _labeling(deployment).auto_labeling}
    name = deployment.pick("auto-labeling workflow", workflow, configured)
    settings = configured[name]
    problem = run_id_problem(run_id) if run_id is not None else None
    if problem:
        raise CliError(f"--run-id: {problem}", ExitCode.USAGE)
    if endpoint is not None and endpoint not in settings.endpoint_names:
        raise CliError(
            f"--endpoint {endpoint!r} is not one of {name}'s endpoints: "
            f"{', '.join(settings.endpoint_names)}",
            ExitCode.USAGE,
        )
    configured_mode = settings.human_review.mode
    if human_mode in ("ground_truth", "label_studio") and human_mode != configured_mode:
        allowed = list(dict.fromkeys([configured_mode, "external"]))
        raise CliError(
            f"{name}'s human step is {configured_mode}: --human-mode must be "
            f"{' or '.join(allowed)}",
            ExitCode.USAGE,
        )
    arn = deployment.output("Labeling", f"AutoLabeling{pascal(name)}Arn")
    payload: dict[str, Any] = {"manifest_uri": _manifest_uri(deployment, manifest)}
    given = {"threshold": threshold, "endpoint_name": endpoint, "human_mode": human_mode}
    given["run_id"] = run_id
    payload.update({k: v for k, v in given.items() if v is not None})
    execution_arn = executions.start(operator, arn, payload, None)
    _started(operator, name, execution_arn, as_json)
    if not wait:
        if as_json:
            operator.emit_json({"workflow": name, "execution_arn": execution_arn, "input": payload})
        return
    execution = executions.follow(operator, execution_arn, interval=interval, quiet=as_json)
    if as_json:
        operator.emit_json(
            {
                "workflow": name,
                "execution_arn": execution_arn,
                "status": execution.status,
                "error": execution.error,
                "cause": execution.cause,
                "summary": execution.output,
            }
        )
    elif execution.status == "SUCCEEDED":
        _show_summary(operator, execution.output)
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)


def _show_summary(operator: Operator, summary: dict[str, Any]) -> None:
    """Per class, how many objects the model labeled and how many people did."""
    auto, human = summary.get("auto_labeled", 0), summary.get("human_labeled", 0)
    total = summary.get("total", auto + human)
    operator.console.print(
        f"Auto-labeling run {summary.get('run_id')} (threshold {summary.get('threshold')}, "
        f"model {summary.get('endpoint_name')}, people: {summary.get('human_mode')})",
        soft_wrap=True,
    )
    table = Table()
    for column in ("class", "model", "people", "total"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, counts in (summary.get("per_class") or {}).items():
        both = counts.get("auto", 0) + counts.get("human", 0)
        table.add_row(name, str(counts.get("auto", 0)), str(counts.get("human", 0)), str(both))
    share = f"{100 * auto / total:.1f}% by the model" if total else "nothing to label"
    table.add_section()
    table.add_row("all", str(auto), str(human), str(total))
    operator.console.print(table)
    operator.console.print(
        f"{share}; estimated human labeling saved: "
        f"${summary.get('estimated_human_cost_saved_usd', 0):,.2f}"
    )
    operator.console.print(f"Output manifest: {summary.get('output_manifest_uri')}", soft_wrap=True)
