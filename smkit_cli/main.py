"""The `smkit` command group: global options, error handling, exit codes."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from .aws import explain
from .commands.label import label
from .commands.notebook import notebook
from .commands.predict import classify, forecast
from .commands.preflight import preflight
from .commands.status import status
from .commands.train import train, tune
from .config_file import ENV_VAR, KIT_DEFAULT
from .context import Operator, Runtime
from .errors import CliError, ExitCode

EPILOG = """\b
Exit codes:
  0  done (with --wait: the run succeeded)
  1  the workflow, job or request ran and did not succeed
  2  bad arguments (unknown option, value outside its allow-list)
  3  the config file cannot be read or is invalid
  4  a stack, stack output or resource is not deployed
  5  no AWS credentials or region, credentials refused, or access denied
  6  any other AWS error
  130  interrupted while following a run (the run goes on)
"""


class SmkitGroup(click.Group):
    """Turns botocore's errors into messages with meaningful exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ClientError, BotoCoreError) as err:
            raise explain(err) from None
        except KeyboardInterrupt:
            raise CliError(
                "interrupted: anything already started goes on running in AWS",
                ExitCode.INTERRUPTED,
            ) from None


@click.group(
    cls=SmkitGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--config",
    "-c",
    default=None,
    show_default=f"${ENV_VAR}; in a checkout of the kit, {KIT_DEFAULT}",
    help="Config file the platform was deployed from (as `make deploy CONFIG=...`).",
)
@click.option("--profile", help="AWS profile. Default: AWS_PROFILE or the default chain.")
@click.option("--region", help="AWS region, when the config names none. Default: AWS_REGION.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, profile: str | None, region: str | None) -> None:
    """Operate a deployed sagemaker-platform-kit: status, labeling, training, tuning,
    forecasts, classification and notebooks; and check an account before deploying
    (preflight).

    Stack names and resources come from the config file and the stacks' CloudFormation
    outputs. Every command takes --json for scripts."""
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    ctx.obj = Operator(runtime, config=config, profile=profile, region=region)


for command in (preflight, status, label, train, tune, forecast, classify, notebook):
    cli.add_command(command)


def main() -> None:
    """The `smkit` console script."""
    cli(prog_name="smkit")
