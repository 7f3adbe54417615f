"""Step Functions executions of the platform's workflows: start one, follow it, read its
outcome, and find the SageMaker job it runs (from its history)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from rich.console import RenderableType
from rich.live import Live
from rich.text import Text

from .context import Operator
from .errors import CliError, ExitCode
from .waiting import duration, since

RUNNING = "RUNNING"
# Off a terminal, the longest silence while following a run before a progress line.
PROGRESS_SECONDS = 60
# History pages read, newest first, to find the job a run started.
MAX_HISTORY_PAGES = 5


@dataclass(frozen=True)
class Execution:
    """What DescribeExecution says about one run."""

    arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None
    output: Any
    error: str | None
    cause: str | None

    @property
    def running(self) -> bool:
        """Whether the run goes on."""
        return self.status == RUNNING


def console_url(region: str, arn: str) -> str:
    """The execution's page in the Step Functions console."""
    return (
        f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{arn}"
    )


# Run names the CLI accepts: StartExecution takes 1-80 characters without whitespace,
# brackets, wildcards and some punctuation; the workflows log to CloudWatch Logs, which
# needs names of letters, digits, hyphens and underscores (API_StartExecution).
_RUN_NAME = re.compile(r"^[0-9A-Za-z_-]{1,80}$")
# How long Step Functions keeps a finished run's name (it cannot start again before).
NAME_KEPT_DAYS = 90


def run_name_problem(option: str, name: str) -> str | None:
    """Why `name` cannot name a run (None where it can)."""
    if _RUN_NAME.match(name):
        return None
    return (
        f"{option} must be 1-80 letters, digits, hyphens and underscores (Step Functions "
        f"names with CloudWatch logging; got {name!r})"
    )


def start(
    operator: Operator,
    state_machine_arn: str,
    payload: dict[str, Any],
    name: str | None,
    *,
    watch: str | None = None,
) -> str:
    """Start a run with `payload` as its input; returns the execution ARN. A name makes the
    start idempotent: the same name and input return the run already going. `watch`: the
    command that follows a run (`smkit train watch`), named when a name is taken."""
    request: dict[str, Any] = {"stateMachineArn": state_machine_arn, "input": json.dumps(payload)}
    if name:
        request["name"] = name
    client = operator.aws.client("stepfunctions")
    try:
        response = client.start_execution(**request)
    except client.exceptions.ExecutionAlreadyExists:
        raise _name_taken(operator, state_machine_arn, payload, str(name), watch) from None
    except client.exceptions.StateMachineDoesNotExist:
        raise CliError(
            f"state machine {state_machine_arn} does not exist: the stack's outputs are stale",
            ExitCode.NOT_DEPLOYED,
            hint=operator.deployment.deploy_hint,
        ) from None
    return str(response["executionArn"])


def _name_taken(
    operator: Operator,
    state_machine_arn: str,
    payload: dict[str, Any],
    name: str,
    watch: str | None,
) -> CliError:
    """Why StartExecution refused a name: the run of that name ended (its name is kept
    for 90 days, whatever the input), or it is going with another input."""
    arn = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    try:
        existing = operator.aws.client("stepfunctions").describe_execution(executionArn=arn)
    except ClientError:
        return CliError(
            f"a run named {name!r} already exists (it ended, or it is going with another "
            f"input; Step Functions keeps a name for {NAME_KEPT_DAYS} days): choose another "
            "name",
            ExitCode.USAGE,
        )
    same = _loads(existing.get("input")) == payload
    follow = f" Follow it: {watch} {arn}" if watch else ""
    if existing["status"] == RUNNING:
        return CliError(
            f"a run named {name!r} is going with another input: choose another name",
            ExitCode.USAGE,
            hint=follow.strip() or None,
        )
    ended = existing.get("stopDate")
    when = f" on {ended.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if isinstance(ended, datetime) else ""
    return CliError(
        f"a run named {name!r} already ran "
        + ("with this same input" if same else "with another input")
        + f" and ended {existing['status']}{when}; Step Functions keeps a run's name for "
        f"{NAME_KEPT_DAYS} days, so it cannot start again: choose another name",
        ExitCode.USAGE,
        hint=f"See that run: {watch} {arn}" if watch else None,
    )


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def describe(operator: Operator, arn: str) -> Execution:
    """The run's status and, once it has ended, its output or error."""
    found = operator.aws.client("stepfunctions").describe_execution(executionArn=arn)
    output = found.get("output")
    return Execution(
        arn=arn,
        name=str(found["name"]),
        status=str(found["status"]),
        started=found["startDate"],
        stopped=found.get("stopDate"),
        output=json.loads(output) if output else None,
        error=found.get("error"),
        cause=found.get("cause"),
    )


def follow(
    operator: Operator,
    arn: str,
    *,
    interval: float,
    quiet: bool,
    view: Callable[[Execution], RenderableType] | None = None,
) -> Execution:
    """Poll the run until it ends, showing `view` (default: its status and elapsed time)
    live; returns the final description. Ctrl-C stops following, not the run. Off a
    terminal there is no live view: a progress line is printed whenever nothing was for
    PROGRESS_SECONDS, then the final view once."""
    render = view or (lambda e: _status_line(operator, e))
    live = (
        Live(console=operator.console, auto_refresh=False)
        if not quiet and operator.console.is_terminal
        else None
    )
    try:
        if live is not None:
            live.start()
        while True:
            execution = describe(operator, arn)
            # Rendering polls what the view shows and prints what changed, every time.
            shown = None if quiet else render(execution)
            if live is not None:
                live.update(shown or "", refresh=True)
            if not execution.running:
                if live is None and shown is not None:
                    operator.console.print(shown)
                return execution
            if live is None and not quiet:
                _progress(operator, execution)
            operator.runtime.sleep(interval)
    except KeyboardInterrupt:
        raise CliError(
            f"stopped following {arn}; the run goes on",
            ExitCode.INTERRUPTED,
            hint=f"Follow it again in the console: {console_url(operator.aws.region, arn)}",
        ) from None
    finally:
        if live is not None:
            live.stop()


def _progress(operator: Operator, execution: Execution) -> None:
    """A line saying the run goes on, unless something was printed in the last
    PROGRESS_SECONDS (a log reading the output sees the run is alive)."""
    now = operator.now()
    last = operator.last_line_at
    if last is not None and (now - last).total_seconds() < PROGRESS_SECONDS:
        return
    operator.say(
        f"{now:%H:%M:%S}  {execution.name}: {execution.status}, "
        f"{duration(since(execution.started, now))}"
    )


def _status_line(operator: Operator, execution: Execution) -> Text:
    end = execution.stopped or operator.now()
    return Text(
        f"{execution.name}: {execution.status} after {duration(since(execution.started, end))}"
    )


def failure(execution: Execution) -> CliError:
    """The error for a run that ended without succeeding."""
    detail = ": ".join(p for p in (execution.error, execution.cause) if p)
    return CliError(
        f"run {execution.name} ended {execution.status}" + (f" ({detail})" if detail else ""),
        ExitCode.FAILED,
    )


def latest_job(operator: Operator, arn: str, resource: str, name_key: str) -> str | None:
    """Name of the latest SageMaker job the run scheduled with `resource` (e.g.
    `createTrainingJob.sync`), from the parameters in its history; None before that."""
    client = operator.aws.client("stepfunctions")
    request: dict[str, Any] = {"executionArn": arn, "reverseOrder": True, "maxResults": 200}
    best: tuple[int, str] | None = None
    for _ in range(MAX_HISTORY_PAGES):
        page = client.get_execution_history(**request)
        for event in page["events"]:
            details = event.get("taskScheduledEventDetails")
            if event["type"] != "TaskScheduled" or not details:
                continue
            if details.get("resourceType") != "sagemaker" or details.get("resource") != resource:
                continue
            name = json.loads(details["parameters"]).get(name_key)
            if name and (best is None or event["id"] > best[0]):
                best = (int(event["id"]), str(name))
        if best is not None or "nextToken" not in page:
            break
        request["nextToken"] = page["nextToken"]
    return best[1] if best else None
