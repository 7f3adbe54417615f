"""Options and help shared by every command: the global options accepted after the
command too, `--interval`, examples at the end of each help text, and `--version`."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from typing import Any

import click
from click.decorators import FC

from .context import Operator
from .waiting import DEFAULT_INTERVAL

GLOBAL_OPTIONS = ("config", "profile", "region")
"""The group's options that a command also takes after its name (`smkit status -c f`)."""

MIN_INTERVAL = 1.0
"""Fewest seconds between two polls: faster only spends API calls (and risks throttling)."""


def interval_option(help_text: str) -> Callable[[FC], FC]:
    """`--interval SECONDS` between two polls, at least MIN_INTERVAL."""
    return click.option(
        "--interval",
        type=click.FloatRange(min=MIN_INTERVAL),
        default=DEFAULT_INTERVAL,
        show_default=True,
        help=f"{help_text} At least {MIN_INTERVAL:g}.",
    )


def examples(*lines: str) -> str:
    """A help epilog listing example command lines (click keeps `\\b` blocks as they are)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _set_on_operator(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command: it wins over one given before."""
    if value is not None and param.name is not None:
        operator = ctx.find_object(Operator)
        if operator is not None:
            setattr(operator, param.name, value)
    return value


def accept_global_options_after(group: click.Group) -> None:
    """Give every command under `group` the group's global options (idempotent). A
    command's own option of the same spelling keeps it; the copies change nothing but
    the invocation's Operator."""
    originals = [
        p for p in group.params if isinstance(p, click.Option) and p.name in GLOBAL_OPTIONS
    ]
    for command in _leaves(group):
        taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        names = {p.name for p in command.params}
        for original in originals:
            opts = [opt for opt in original.opts if opt not in taken]
            if not opts or original.name in names:
                continue
            command.params.append(
                click.Option(
                    [*opts, original.name],
                    default=None,
                    expose_value=False,
                    callback=_set_on_operator,
                    show_default=False,
                    help=f"{original.help} (The global option, given after the command.)",
                    metavar=original.metavar,
                )
            )


def _leaves(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        if isinstance(command, click.Group):
            found += _leaves(command)
        else:
            found.append(command)
    return found


def package_version() -> str:
    """The version of the distribution that installed `smkit_cli`."""
    for distribution in packages_distributions().get(__package__ or "smkit_cli", []):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return "unknown (not installed: run it from an install of the kit)"


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"smkit {package_version()}")
        ctx.exit()


version_option = click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Print smkit's version and exit.",
)
"""`--version`: looked up only when asked (reading the installed distributions takes time)."""
