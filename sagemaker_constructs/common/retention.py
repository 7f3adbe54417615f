"""CloudWatch Logs retention periods by number of days."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

# CloudWatch Logs accepts only these periods; jsii's enum is keyed by name, not days.
_BY_DAYS: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

ALLOWED_RETENTION_DAYS: tuple[int, ...] = tuple(_BY_DAYS)
"""Retention periods CloudWatch Logs accepts, in days."""


def retention_days(days: int) -> logs.RetentionDays:
    """The retention enum for `days`; a ValueError lists the allowed values otherwise."""
    try:
        return _BY_DAYS[days]
    except KeyError:
        allowed = ", ".join(map(str, ALLOWED_RETENTION_DAYS))
        raise ValueError(f"log retention must be one of {allowed} days (got {days})") from None


def retention_problem(days: int, name: str = "log_retention_days") -> str | None:
    """The message for a retention CloudWatch Logs does not accept, or None."""
    if days in _BY_DAYS:
        return None
    allowed = ", ".join(map(str, ALLOWED_RETENTION_DAYS))
    return f"{name} must be one of {allowed} (got {days})"
