"""What every command works with: the injected runtime (session factory, clock, sleep,
so tests run against moto without waiting), the global options, the deployment and the
console."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import click
from rich.console import Console

from .aws import Aws, new_session
from .config_file import resolve_config
from .deployment import Deployment, load
from .errors import CliError, ExitCode

# Width of the output when it is not a terminal (a pipe, a file): wide enough that
# nothing wraps or is cut, so a script or `grep` sees each ARN and table row whole.
PIPE_WIDTH = 10_000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What the CLI takes from its surroundings; tests pass their own as click's `obj`."""

    session_factory: Callable[[str | None, str | None], boto3.Session] = new_session
    """(profile, region) -> boto3 session."""
    clock: Callable[[], datetime] = _now
    """The current time (timezone-aware)."""
    sleep: Callable[[float], None] = time.sleep
    """Waits between two polls of a run."""
    width: int | None = None
    """Console width. Default: the terminal's; off a terminal, PIPE_WIDTH."""
    console_kwargs: dict[str, Any] = field(default_factory=dict)
    """Further rich Console arguments."""


class Operator:
    """The state of one `smkit` invocation."""

    def __init__(
        self, runtime: Runtime, *, config: str | None, profile: str | None, region: str | None
    ) -> None:
        self.runtime = runtime
        self._config = config
        self.profile = profile
        self.region = region
        self.console = Console(width=runtime.width, highlight=False, **runtime.console_kwargs)
        if runtime.width is None and not self.console.is_terminal:
            self.console.width = PIPE_WIDTH
        self._deployment: Deployment | None = None
        self.last_line_at: datetime | None = None
        """When `say` last printed a line (progress lines are printed after a silence)."""

    @property
    def config(self) -> str:
        """The config file: --config, $SMKIT_CONFIG or the kit's default (config_file.py);
        resolved on first use, so that `--help` needs none."""
        self._config = resolve_config(self._config)
        return self._config

    @config.setter
    def config(self, value: str | None) -> None:
        """--config given after the command (options.py): it wins over one before it."""
        self._config = value
        self._deployment = None

    @property
    def deployment(self) -> Deployment:
        """Settings and AWS access, loaded on first use (so `--help` needs neither)."""
        if self._deployment is None:
            settings = load(self.config)
            if self.region and settings.region and self.region != settings.region:
                raise CliError(
                    f"--region {self.region} contradicts {self.config}, which deploys to "
                    f"{settings.region}",
                    ExitCode.USAGE,
                )
            session = self.runtime.session_factory(self.profile, self.region or settings.region)
            self._deployment = Deployment(settings, self.config, Aws(session))
        return self._deployment

    @property
    def aws(self) -> Aws:
        """The deployment's AWS clients."""
        return self.deployment.aws

    def now(self) -> datetime:
        """The injected clock's time."""
        return self.runtime.clock()

    def say(self, line: str) -> None:
        """Print one line as it is (never wrapped), noting when."""
        self.console.print(line, soft_wrap=True)
        self.last_line_at = self.now()

    def emit_json(self, value: Any) -> None:
        """One JSON document on stdout (`--json`): dates as ISO 8601."""
        click.echo(json.dumps(value, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


pass_operator = click.make_pass_decorator(Operator)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document instead of tables."
)
