"""Model Monitor's rules as plain functions (no CDK: the settings model checks configs with
them, the monitoring construct checks its arguments with them). Each rule names its id in
docs/aws-rules.md."""

from __future__ import annotations

import re

from ..common.builtin_images_data import SERVICE_IMAGES

_HOURLY = re.compile(r"^cron\(0 \* \? \* \* \*\)$")
_DAILY = re.compile(r"^cron\(0 (?P<hour>\d{1,2}) \? \* \* \*\)$")
_EVERY = re.compile(r"^cron\(0 (?P<hour>\d{1,2})/(?P<step>\d{1,2}) \? \* \* \*\)$")

SCHEDULE_FORMS = (
    "cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at hour H, 0-23) or "
    "cron(0 H/N ? * * *) (every N hours from hour H, N 1-24)"
)
MAX_RUNTIME_S = 86400
"""MONITOR-2: MonitoringStoppingCondition's MaxRuntimeInSeconds is at most a day."""
HOURLY_LIMIT_S = {"DataQuality": 3600, "ModelQuality": 1800}
"""MONITOR-2: on an hourly schedule, data quality jobs may run an hour, model quality half."""
MONITOR_IMAGE = "model-monitor"
MAX_OFFSET_HOURS = 9999
"""StartTimeOffset and EndTimeOffset are at most 15 characters (`-PT9999H` fits)."""


def offset(hours: int) -> str:
    """An ISO 8601 duration before a run's time, as model quality's offsets take it."""
    return f"-PT{int(hours)}H"


def window_problems(start_hours: int, end_hours: int) -> list[str]:
    """MONITOR-8: a model-quality run analyses the predictions captured from
    StartTimeOffset to EndTimeOffset before it; the window must not be empty."""
    # MONITOR-8 (model-monitor-model-quality-schedule page: offsets).
    if end_hours >= start_hours:
        return [
            f"window_end_hours ({end_hours}) must be less than window_start_hours "
            f"({start_hours}): each run analyses the predictions captured from "
            "window_start_hours to window_end_hours before it"
        ]
    return []


def schedule_interval_s(expression: str) -> int | None:
    """MONITOR-1: seconds between two runs of a schedule Model Monitor accepts, or None
    for an expression it refuses."""
    if _HOURLY.match(expression):
        return 3600
    daily = _DAILY.match(expression)
    if daily:
        return 86400 if int(daily["hour"]) <= 23 else None
    every = _EVERY.match(expression)
    if every and int(every["hour"]) <= 23 and 1 <= int(every["step"]) <= 24:
        return int(every["step"]) * 3600 if int(every["step"]) < 24 else 86400
    return None


def schedule_problems(expression: str, *, max_runtime_s: int, monitoring_type: str) -> list[str]:
    """What is wrong with a schedule and its jobs' time limit (MONITOR-1, MONITOR-2)."""
    interval = schedule_interval_s(expression)
    if interval is None:
        # MONITOR-1 (model-monitor-schedule-expression page).
        return [f"schedule {expression!r} is not one Model Monitor accepts: use {SCHEDULE_FORMS}"]
    found = []
    # MONITOR-2 (MonitoringStoppingCondition API page).
    limit = min(interval, MAX_RUNTIME_S)
    if interval == 3600:
        limit = HOURLY_LIMIT_S[monitoring_type]
    if not 1 <= max_runtime_s <= limit:
        found.append(
            f"max_runtime of {max_runtime_s} s: a {monitoring_type} job on this schedule may "
            f"run at most {limit} s (the time between two runs"
            + (", and half an hour on an hourly model quality schedule" if limit == 1800 else "")
            + ")"
        )
    return found


def monitor_image_problem(region: str | None) -> str | None:
    """MONITOR-3: Model Monitor's analyzer image exists only in some regions."""
    accounts = SERVICE_IMAGES[MONITOR_IMAGE].accounts
    if region is None or region in accounts:
        return None
    return (
        f"Model Monitor's analyzer image is not published in {region}; monitoring runs in "
        + ", ".join(sorted(accounts))
    )
