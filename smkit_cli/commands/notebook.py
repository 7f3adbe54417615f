"""`smkit notebook open|stop`: a presigned JupyterLab URL (starting the instance when it
is stopped), and stopping an instance (its volume and work are kept)."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import ClientError

from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..options import examples, interval_option
from ..waiting import wait_for_status

seconds_option = interval_option("Seconds between two status checks while waiting.")


@click.group(epilog=examples("smkit notebook open research", "smkit notebook stop research --wait"))
def notebook() -> None:
    """Open or stop the platform's notebook instances."""


def _describe(operator: Operator, name: str) -> dict[str, Any]:
    try:
        described: dict[str, Any] = operator.aws.client("sagemaker").describe_notebook_instance(
            NotebookInstanceName=name
        )
    except ClientError as err:
        if error_code(err) == "ValidationException":
            raise CliError(
                f"notebook instance {name} does not exist in {operator.deployment.where()}",
                ExitCode.NOT_DEPLOYED,
                hint=operator.deployment.deploy_hint,
            ) from None
        raise
    return described


def _status(operator: Operator, name: str) -> str:
    return str(_describe(operator, name)["NotebookInstanceStatus"])


@notebook.command(
    "open",
    short_help="Print a URL that opens a notebook in JupyterLab.",
    epilog=examples("smkit notebook open research", "smkit notebook open research --no-start"),
)
@click.argument("name")
@click.option(
    "--start/--no-start",
    default=True,
    show_default=True,
    help="Start the instance (and wait until it is in service) when it is stopped.",
)
@click.option(
    "--session-minutes",
    type=click.IntRange(30, 720),
    default=720,
    show_default=True,
    help="How long the JupyterLab session stays valid once opened (30-720).",
)
@seconds_option
@json_option
@pass_operator
def open_(
    operator: Operator,
    name: str,
    start: bool,
    session_minutes: int,
    interval: float,
    as_json: bool,
) -> None:
    """Print a presigned URL that opens notebook NAME in JupyterLab.

    NAME is the notebook's name in the config (or its instance name). The URL must be
    opened within 5 minutes and works only for whoever ran this command."""
    instance = operator.deployment.notebook_name(name)
    sagemaker = operator.aws.client("sagemaker")
    described = _describe(operator, instance)
    status = str(described["NotebookInstanceStatus"])
    started = False

    def status_now() -> str:
        return _status(operator, instance)

    if status == "Failed":
        raise CliError(
            f"notebook instance {instance} is Failed: {described.get('FailureReason', '')}",
            ExitCode.FAILED,
        )
    if status in ("Stopping", "Stopped"):
        if not start:
            raise CliError(
                f"notebook instance {instance} is {status}",
                ExitCode.FAILED,
                hint="Open it without --no-start to start it (billing resumes).",
            )
        if status == "Stopping":
            wait_for_status(
                status_now,
                "Stopped",
                passing={"Stopping"},
                what=f"notebook instance {instance}",
                sleep=operator.runtime.sleep,
                interval=interval,
            )
        if not as_json:
            operator.console.print(f"Starting {instance} (this takes a few minutes)...")
        sagemaker.start_notebook_instance(NotebookInstanceName=instance)
        started = True
        status = "Pending"
    if status != "InService":
        wait_for_status(
            status_now,
            "InService",
            passing={"Pending", "Updating", "Stopped"},
            what=f"notebook instance {instance}",
            sleep=operator.runtime.sleep,
            interval=interval,
        )
    url = str(
        sagemaker.create_presigned_notebook_instance_url(
            NotebookInstanceName=instance,
            SessionExpirationDurationInSeconds=session_minutes * 60,
        )["AuthorizedUrl"]
    )
    if as_json:
        operator.emit_json(
            {
                "notebook": instance,
                "status": "InService",
                "started": started,
                "url": url,
                "session_minutes": session_minutes,
            }
        )
        return
    operator.console.print(
        f"{instance} is in service. Open this URL within 5 minutes "
        f"(the session lasts {session_minutes} minutes):"
    )
    click.echo(url)


@notebook.command(
    "stop",
    short_help="Stop a notebook instance (its files are kept).",
    epilog=examples("smkit notebook stop research", "smkit notebook stop research --wait --json"),
)
@click.argument("name")
@click.option("--wait", is_flag=True, help="Wait until the instance has stopped.")
@seconds_option
@json_option
@pass_operator
def stop(operator: Operator, name: str, wait: bool, interval: float, as_json: bool) -> None:
    """Stop notebook NAME. Its volume, and the work on it, are kept; billing for the
    instance stops. `smkit notebook open NAME` starts it again."""
    instance = operator.deployment.notebook_name(name)
    before = _status(operator, instance)
    if before == "InService":
        operator.aws.client("sagemaker").stop_notebook_instance(NotebookInstanceName=instance)
        message = f"Stopping {instance}."
    elif before in ("Stopping", "Stopped"):
        message = f"{instance} is already {before.lower()}."
    else:
        raise CliError(
            f"notebook instance {instance} is {before}: only an instance in service can be stopped",
            ExitCode.FAILED,
            hint="Try again once it is InService.",
        )
    after = "Stopping" if before == "InService" else before
    if wait and after != "Stopped":
        wait_for_status(
            lambda: _status(operator, instance),
            "Stopped",
            passing={"Stopping", "InService"},
            what=f"notebook instance {instance}",
            sleep=operator.runtime.sleep,
            interval=interval,
        )
        after = "Stopped"
        message += f" {instance} has stopped."
    if as_json:
        operator.emit_json({"notebook": instance, "before": before, "status": after})
    else:
        operator.console.print(message)
