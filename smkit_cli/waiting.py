"""Polling helpers shared by the commands that follow something until it settles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from .errors import CliError, ExitCode

T = TypeVar("T")

DEFAULT_INTERVAL = 10.0
"""Seconds between two polls (a few describe calls each: far below the APIs' limits)."""


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    sleep: Callable[[float], None],
    interval: float,
    on_update: Callable[[T], None] | None = None,
) -> T:
    """Call `fetch` every `interval` seconds until `done` holds for what it returns."""
    while True:
        value = fetch()
        if on_update is not None:
            on_update(value)
        if done(value):
            return value
        sleep(interval)


def wait_for_status(
    describe: Callable[[], str],
    wanted: str,
    *,
    passing: set[str],
    what: str,
    sleep: Callable[[float], None],
    interval: float,
) -> None:
    """Poll `describe` until it returns `wanted`; any status outside `passing` fails."""
    status = poll(
        describe,
        lambda s: s == wanted or s not in passing,
        sleep=sleep,
        interval=interval,
    )
    if status != wanted:
        raise CliError(f"{what} is {status}, not {wanted}", ExitCode.FAILED)


def duration(seconds: float) -> str:
    """`3725` -> `1:02:05`; negative durations are shown as 0:00:00."""
    return str(timedelta(seconds=max(0, round(seconds))))


def since(start: datetime | None, now: datetime) -> float:
    """Seconds from `start` to `now` (0 without a start)."""
    return (now - start).total_seconds() if start is not None else 0.0
