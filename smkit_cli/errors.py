"""Exit codes and the error every command raises for a problem the user can act on."""

from __future__ import annotations

import os
import traceback
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
    INTERNAL = 70
    """A bug in smkit: an error it does not know how to explain (sysexits' EX_SOFTWARE)."""
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


DEBUG_VARIABLE = "SMKIT_DEBUG"
"""Set (to anything) to see the traceback of an unexpected error."""


def unexpected(err: Exception) -> CliError:
    """The message for an error smkit has no explanation for: what happened and where,
    in one line, instead of a traceback (SMKIT_DEBUG=1 prints it)."""
    if os.environ.get(DEBUG_VARIABLE):
        traceback.print_exception(err)
    frame = traceback.extract_tb(err.__traceback__)[-1:] if err.__traceback__ else []
    where = f" at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno}" if frame else ""
    return CliError(
        f"smkit failed unexpectedly: {type(err).__name__}: {err}{where}",
        ExitCode.INTERNAL,
        hint=f"This is a bug in smkit. Report it with this message; set {DEBUG_VARIABLE}=1 "
        "to see the traceback.",
    )
