"""The `smkit` command group: global options, error handling, exit codes."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from .aws import explain
from .commands.label import label
from .commands.model import model
from .commands.monitor import monitor
from .commands.notebook import notebook
from .commands.predict import classify, forecast
from .commands.preflight import preflight
from .commands.status import status
from .commands.studio import studio
from .commands.train import train, tune
from .commands.transform import transform
from .config_file import ENV_VAR, KIT_DEFAULT
from .context import Operator, Runtime
from .errors import CliError, ExitCode, unexpected
from .options import accept_global_options_after, examples, version_option

EPILOG = """\b
Exit codes:
  0  done (with --wait: the run succeeded)
  1  the workflow, job or request ran and did not succeed
  2  bad arguments (unknown option, value outside its allow-list)
  3  the config file cannot be read or is invalid
  4  a stack, stack output or resource is not deployed
  5  no AWS credentials or region, credentials refused, or access denied
  6  any other AWS error
  70  a bug in smkit (the message says what to report)
  130  interrupted while following a run (the run goes on)

""" + examples(
    "smkit --config config/my-team.yaml status",
    "smkit train start text-classifier --wait --config config/my-team.yaml",
)


class SmkitGroup(click.Group):
    """Turns botocore's errors into messages with meaningful exit codes, and lets every
    command take the global options after its name too."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        accept_global_options_after(self)
        return super().parse_args(ctx, args)

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
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:  # no traceback reaches a user
            raise unexpected(err) from None


@click.group(
    cls=SmkitGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@version_option
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
    model approvals, batch transforms, model monitoring baselines, forecasts,
    classification, notebooks and Studio; and check an account before deploying
    (preflight).

    Stack names and resources come from the config file and the stacks' CloudFormation
    outputs. Every command takes --json for scripts."""
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    ctx.obj = Operator(runtime, config=config, profile=profile, region=region)


for command in (
    preflight,
    status,
    label,
    train,
    tune,
    model,
    transform,
    monitor,
    forecast,
    classify,
    notebook,
    studio,
):
    cli.add_command(command)


def main() -> None:
    """The `smkit` console script."""
    cli(prog_name="smkit")
