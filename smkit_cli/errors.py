"""Exit codes and the error every command raises for a problem the user can act on."""

from __future__ import annotations

from enum import IntEnum
from typing import IO, Any

import click


class ExitCode(IntEnum):
    """What `smkit` exits with (docs/operations.md, "Scripts and exit codes")."""

    OK = 0
    """Done; with `--wait`, the run succeeded."""
    FAILED = 1
    """The workflow, job or request ran and did not succeed (failed, stopped, timed out)."""
    USAGE = 2
    """Bad arguments: unknown option, value outside its allow-list (click's own code)."""
    CONFIG = 3
    """The config file cannot be read or is invalid."""
    NOT_DEPLOYED = 4
    """A stack, stack output or resource the command needs is not deployed."""
    CREDENTIALS = 5
    """No AWS credentials or region, credentials refused, or access denied."""
    AWS_ERROR = 6
    """Any other error from AWS (throttling beyond retries, a service refusing the call)."""
    INTERRUPTED = 130
    """Ctrl-C while following a run (the run itself goes on)."""


class CliError(click.ClickException):
    """A problem explained in one message, ending the command with `code`."""

    def __init__(self, message: str, code: ExitCode, *, hint: str | None = None) -> None:
        super().__init__(message)
        # click reads exit_code per exception; it declares it on the class only.
        self.exit_code = int(code)  # type: ignore[misc]
        self.hint = hint

    def format_message(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", file=file, err=file is None)
