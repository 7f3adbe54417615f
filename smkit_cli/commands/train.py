"""`smkit train start|watch` and `smkit tune start|watch`: start a training or tuning
workflow with overrides checked against the same allow-lists as the state machine, and
follow a run live (status and secondary status transitions, time against the stopping
condition, latest metrics; for tuning, jobs done / running and the best objective so far)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import click

from sagemaker_constructs.training.job_rules import TrainingChannel
from stacks.settings.training import TrainingDefinition

from .. import executions
from ..context import Operator, json_option, pass_operator
from ..deployment import Deployment, pascal
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
    """Start and follow training workflow runs."""


@click.group()
def tune() -> None:
    """Start and follow tuning workflow runs."""


def _pairs(option: str, given: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"{option} takes name=value (got {item!r})", ExitCode.USAGE)
        pairs[key] = value
    return pairs


def _run_input(
    deployment: Deployment,
    *,
    what: str,
    definition: TrainingDefinition,
    kind: Literal["training", "tuning"],
    tuned: set[str],
    hyperparameters: tuple[str, ...],
    channels: tuple[str, ...],
    instance_type: str | None,
) -> dict[str, Any]:
    """The execution input, checked against the allow-lists the state machine checks
    (and the cost limits), so that nothing starts that the workflow would refuse."""
    problems = []
    payload: dict[str, Any] = {}
    allowed_hp = [h for h in definition.overridable.hyperparameters if h not in tuned]
    given_hp = _pairs("--hp", hyperparameters)
    refused = sorted(set(given_hp) - set(allowed_hp))
    if refused:
        problems.append(
            f"hyperparameters {what} lets a run set: {', '.join(allowed_hp) or 'none'} "
            f"(got {', '.join(refused)})"
            + (
                f" (tuned: {', '.join(sorted(tuned & set(refused)))})"
                if tuned & set(refused)
                else ""
            )
        )
    if given_hp:
        payload["hyperparameters"] = given_hp
    given_channels = _pairs("--channel", channels)
    bucket = deployment.output("Foundation", "DataBucketName") if given_channels else ""
    for name, uri in given_channels.items():
        if name not in definition.overridable.channels:
            problems.append(
                f"channels {what} lets a run point elsewhere: "
                f"{', '.join(definition.overridable.channels) or 'none'} (got {name})"
            )
            continue
        channel: TrainingChannel = next(c for c in definition.to_channels() if c.name == name)
        prefix = f"s3://{bucket}/{channel.read_prefix}"
        if not uri.startswith(prefix):
            problems.append(
                f"channel {name} must be an S3 URI under {prefix} (the job may read nothing "
                f"else; got {uri})"
            )
    if given_channels:
        payload["channels"] = given_channels
    if instance_type is not None:
        choices = [definition.instance_type, *definition.overridable.instance_types]
        limits = deployment.settings.allowed_instance_types(kind)
        allowed = [t for t in dict.fromkeys(choices) if t in limits]
        if instance_type not in allowed:
            problems.append(
                f"instance type {instance_type} is not allowed for {what}; allowed: "
                f"{', '.join(allowed)} (the definition's instance_type and "
                f"overridable.instance_types, within cost.limits)"
            )
        payload["instance_type"] = instance_type
    if problems:
        raise CliError("; ".join(problems), ExitCode.USAGE)
    return payload


def _start_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "--hp",
                "hyperparameters",
                multiple=True,
                metavar="NAME=VALUE",
                help="Override a hyperparameter (repeatable); only those the definition's "
                "overridable.hyperparameters lists.",
            ),
            click.option(
                "--channel",
                "channels",
                multiple=True,
                metavar="NAME=S3_URI",
                help="Point a channel at other data (repeatable); only overridable.channels, "
                "under the channel's access prefix.",
            ),
            click.option(
                "--instance-type",
                help="Instance type of this run: the definition's or one of its "
                "overridable.instance_types, within cost.limits.",
            ),
            click.option(
                "--name",
                "run_name",
                help="Name of the run (execution). Default: from the time.",
            ),
            click.option("--wait", is_flag=True, help="Follow the run live until it ends."),
            interval_option,
            json_option,
        ]
    ):
        command = option(command)
    return command


def _start(
    operator: Operator,
    *,
    label: str,
    unit_key: str,
    payload: dict[str, Any],
    run_name: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
    view_type: Callable[..., TrainingView | TuningView],
    what: str,
) -> None:
    arn = operator.deployment.output("Training", unit_key)
    name = run_name or f"cli-{operator.now():%Y%m%d-%H%M%S}"
    execution_arn = executions.start(operator, arn, payload, name)
    if not wait:
        if as_json:
            operator.emit_json(
                {"workflow": label, "execution_arn": execution_arn, "input": payload}
            )
        else:
            operator.console.print(f"Started {label}: {execution_arn}", soft_wrap=True)
            operator.console.print(f"Follow it: smkit {what} watch {execution_arn}", soft_wrap=True)
        return
    if not as_json:
        operator.console.print(f"Started {label}: {execution_arn}", soft_wrap=True)
    _watch(
        operator,
        execution_arn,
        interval,
        as_json,
        view_type,
        "training_job" if what == "train" else "tuning_job",
    )


@train.command("start")
@click.argument("definition")
@_start_options
@pass_operator
def train_start(
    operator: Operator,
    definition: str,
    hyperparameters: tuple[str, ...],
    channels: tuple[str, ...],
    instance_type: str | None,
    run_name: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Start the training workflow of DEFINITION (a name under training.definitions):
    train, register the model, alert. With --wait, follow the job live."""
    deployment = operator.deployment
    training = deployment.section("training", "training workflows")
    name = deployment.pick("training definition", definition, training.definitions)
    payload = _run_input(
        deployment,
        what=name,
        definition=training.definitions[name],
        kind="training",
        tuned=set(),
        hyperparameters=hyperparameters,
        channels=channels,
        instance_type=instance_type,
    )
    _start(
        operator,
        label=name,
        unit_key=f"{pascal(name)}TrainingStateMachineArn",
        payload=payload,
        run_name=run_name,
        wait=wait,
        interval=interval,
        as_json=as_json,
        view_type=TrainingView,
        what="train",
    )


@tune.command("start")
@click.argument("tuning")
@_start_options
@pass_operator
def tune_start(
    operator: Operator,
    tuning: str,
    hyperparameters: tuple[str, ...],
    channels: tuple[str, ...],
    instance_type: str | None,
    run_name: str | None,
    wait: bool,
    interval: float,
    as_json: bool,
) -> None:
    """Start the tuning workflow TUNING (a name under training.tuning): tune, register the
    best model, alert. With --wait, follow the tuning job live."""
    deployment = operator.deployment
    training = deployment.section("training", "tuning workflows")
    name = deployment.pick("tuning definition", tuning, training.tuning)
    settings = training.tuning[name]
    payload = _run_input(
        deployment,
        what=name,
        definition=training.definitions[settings.training],
        kind="tuning",
        tuned=set(settings.ranges),
        hyperparameters=hyperparameters,
        channels=channels,
        instance_type=instance_type,
    )
    _start(
        operator,
        label=name,
        unit_key=f"{pascal(name)}TuningStateMachineArn",
        payload=payload,
        run_name=run_name,
        wait=wait,
        interval=interval,
        as_json=as_json,
        view_type=TuningView,
        what="tune",
    )


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
