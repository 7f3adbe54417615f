"""`smkit train start|watch` and `smkit tune start|watch`: start a training or tuning
workflow with overrides checked against the same allow-lists as the state machine, and
follow a run live (status and secondary status transitions, time against the stopping
condition, latest metrics; for tuning, jobs done / running and the best objective so far)."""

from __future__ import annotations

import math
import re
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
from ..options import examples, interval_option

execution_argument = click.argument("execution")
seconds_option = interval_option("Seconds between two polls.")
RUN_ARN = "arn:aws:states:us-east-1:111122223333:execution:my-team-text-classifier:retrain-7"


@click.group(
    epilog=examples(
        "smkit train start text-classifier --hp epochs=20 --wait",
        f"smkit train watch {RUN_ARN}",
    )
)
def train() -> None:
    """Start and follow training workflow runs."""


@click.group(
    epilog=examples(
        "smkit tune start text-classifier-hpo --wait",
        f"smkit tune watch {RUN_ARN.replace('classifier:', 'classifier-hpo:')}",
    )
)
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
    problems += [
        problem
        for key, value in given_hp.items()
        if key in allowed_hp
        for problem in [_value_problem(what, key, value, definition.hyperparameters.get(key))]
        if problem
    ]
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


def _value_problem(what: str, key: str, value: str, configured: object) -> str | None:
    """Whether an override has the type of the definition's own value (an integer for
    `epochs: 10`), as the algorithm would otherwise fail on it once the job runs."""
    if configured is None or isinstance(configured, str):
        return None
    if isinstance(configured, bool):
        ok, kind = value in ("true", "false"), "true or false"
    elif isinstance(configured, int):
        ok, kind = re.fullmatch(r"[+-]?\d+", value) is not None, "an integer"
    else:
        ok, kind = _is_number(value), "a number"
    if ok:
        return None
    return (
        f"hyperparameter {key} of {what} must be {kind}, as its value {configured!r} "
        f"(got {value!r})"
    )


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


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
                help="Name of the run (execution): 1-80 letters, digits, hyphens and "
                "underscores, unused for 90 days. Default: from the time.",
            ),
            click.option(
                "--wait",
                is_flag=True,
                help="Follow the run live until it ends (off a terminal: what changes, and "
                "a progress line a minute).",
            ),
            seconds_option,
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
    execution_arn = executions.start(operator, arn, payload, name, watch=f"smkit {what} watch")
    if not wait:
        if as_json:
            operator.emit_json(
                {"workflow": label, "execution_arn": execution_arn, "input": payload}
            )
        else:
            operator.say(f"Started {label}: {execution_arn}")
            operator.say(f"Follow it: smkit {what} watch {execution_arn}")
        return
    if not as_json:
        operator.say(f"Started {label}: {execution_arn}")
    _watch(
        operator,
        execution_arn,
        interval,
        as_json,
        view_type,
        "training_job" if what == "train" else "tuning_job",
    )


def _check_run_name(run_name: str | None) -> None:
    problem = executions.run_name_problem("--name", run_name) if run_name is not None else None
    if problem:
        raise CliError(problem, ExitCode.USAGE)


@train.command(
    "start",
    short_help="Start a training workflow run.",
    epilog=examples(
        "smkit train start text-classifier --hp epochs=20 --name retrain-7 --wait",
        "smkit train start deepar-demand --instance-type ml.c5.4xlarge --json",
    ),
)
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
    train, register the model, alert. With --wait, follow the job live.

    Overrides are checked as the workflow checks them (names, value types, channel
    prefixes, instance types), so nothing starts that it would refuse."""
    _check_run_name(run_name)
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


@tune.command(
    "start",
    short_help="Start a tuning workflow run.",
    epilog=examples(
        "smkit tune start text-classifier-hpo --wait",
        "smkit tune start text-classifier-hpo --hp epochs=5 --name hpo-3 --json",
    ),
)
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
    best model, alert. With --wait, follow the tuning job live.

    Overrides are checked as the workflow checks them; tuned hyperparameters cannot be
    set."""
    _check_run_name(run_name)
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


def _check_run(operator: Operator, arn: str, what: str) -> None:
    """The run exists and is a run of one of the deployment's `what` workflows
    (training or tuning): another workflow's run has no such job to follow."""
    client = operator.aws.client("stepfunctions")
    try:
        found = client.describe_execution(executionArn=arn)
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
    machine = found["stateMachineArn"]
    deployment = operator.deployment
    for workflow in deployment.workflows():
        try:
            deployed = deployment.output(workflow.unit, workflow.output)
        except CliError:
            continue  # a stack that is not deployed runs nothing
        if deployed != machine:
            continue
        if workflow.kind == what:
            return
        command = {"training": "smkit train watch", "tuning": "smkit tune watch"}
        follow = command.get(workflow.kind)
        raise CliError(
            f"{arn} is a run of the {workflow.kind} workflow {workflow.name}, not of a "
            f"{what} workflow",
            ExitCode.USAGE,
            hint=f"Follow it with: {follow} {arn}" if follow else None,
        )
    flows = ", ".join(w.name for w in deployment.workflows(what)) or "none"
    raise CliError(
        f"{arn} is a run of {machine.rsplit(':', 1)[-1]}, which is no {what} workflow of "
        f"{deployment.config} ({what} workflows: {flows})",
        ExitCode.USAGE,
    )


def _watch(
    operator: Operator,
    arn: str,
    interval: float,
    as_json: bool,
    view_type: Callable[..., TrainingView | TuningView],
    what: str,
) -> None:
    _check_run(operator, arn, "training" if view_type is TrainingView else "tuning")

    def emit(line: str) -> None:
        if not as_json:
            operator.say(line)

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


@train.command(
    "watch",
    short_help="Follow a training workflow run until it ends.",
    epilog=examples(f"smkit train watch {RUN_ARN}", f"smkit train watch {RUN_ARN} --json"),
)
@execution_argument
@seconds_option
@json_option
@pass_operator
def train_watch(operator: Operator, execution: str, interval: float, as_json: bool) -> None:
    """Follow training workflow run EXECUTION (its execution ARN) until it ends: the
    training job's status transitions, time against its stopping condition and its
    latest metrics. Exits 0 if the run succeeded, 1 if not; Ctrl-C stops watching only.
    A run of another workflow is refused. Off a terminal: a line per change, and a
    progress line after a minute without one."""
    _watch(operator, execution, interval, as_json, TrainingView, "training_job")


@tune.command(
    "watch",
    short_help="Follow a tuning workflow run until it ends.",
    epilog=examples(
        f"smkit tune watch {RUN_ARN.replace('classifier:', 'classifier-hpo:')}",
        f"smkit tune watch {RUN_ARN.replace('classifier:', 'classifier-hpo:')} --interval 60",
    ),
)
@execution_argument
@seconds_option
@json_option
@pass_operator
def tune_watch(operator: Operator, execution: str, interval: float, as_json: bool) -> None:
    """Follow tuning workflow run EXECUTION (its execution ARN) until it ends: training
    jobs done and running, the best objective so far, time against the tuning job's
    limit. Exits 0 if the run succeeded, 1 if not; Ctrl-C stops watching only.
    A run of another workflow is refused. Off a terminal: a line per change, and a
    progress line after a minute without one."""
    _watch(operator, execution, interval, as_json, TuningView, "tuning_job")
