"""Settings of the cost guardrails: the SageMaker budget, its guard, and the limits
every configured notebook, job and endpoint is checked against at synth."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from sagemaker_constructs.common.instance_types import (
    ENDPOINT_INSTANCE_TYPES,
    NOTEBOOK_INSTANCE_TYPES,
    PROCESSING_INSTANCE_TYPES,
    STUDIO_INSTANCE_TYPES,
    TRAINING_INSTANCE_TYPES,
    TRANSFORM_INSTANCE_TYPES,
    describe_allowed,
)

from .base import (
    InvalidFieldsError,
    Location,
    ResourceUsage,
    StrictModel,
    TagKey,
    TagValue,
    check_unique,
)

UsageKind = Literal[
    "notebook", "training", "tuning", "endpoint", "studio", "transform", "processing", "monitoring"
]

# What SageMaker itself accepts per kind (botocore's enums); a tuning job runs training jobs,
# a monitoring schedule runs processing jobs.
SAGEMAKER_INSTANCE_TYPES: dict[str, tuple[str, ...]] = {
    "notebook": NOTEBOOK_INSTANCE_TYPES,
    "training": TRAINING_INSTANCE_TYPES,
    "tuning": TRAINING_INSTANCE_TYPES,
    "endpoint": ENDPOINT_INSTANCE_TYPES,
    "studio": STUDIO_INSTANCE_TYPES,
    "transform": TRANSFORM_INSTANCE_TYPES,
    "processing": PROCESSING_INSTANCE_TYPES,
}
LIMITED_KINDS: dict[str, str] = {"monitoring": "processing"}
"""Usage kinds checked against another kind's allow-list (`cost.limits.instance_types`)."""

# AWS Budgets allows five notifications per budget and ten e-mail subscribers per notification.
MAX_NOTIFICATIONS = 5
MAX_EMAILS = 10

# SageMaker stops a training job after one day when its request sets no MaxRuntimeInSeconds.
SAGEMAKER_DEFAULT_MAX_RUNTIME_SECONDS = 24 * 3600

Percent = Annotated[int, Field(ge=1, le=1000)]
UsdAmount = Annotated[float, Field(gt=0, le=1_000_000_000)]
BudgetEmails = Annotated[list[EmailStr], Field(max_length=MAX_EMAILS)]


def _unique(values: list[Any], what: str) -> list[Any]:
    check_unique(values, what, fold=lambda v: str(v).lower())
    return values


class TeamBudget(StrictModel):
    """A monthly budget on one team's SageMaker spend on the platform (resources tagged
    with the platform and the team). Its budget name is `<name_prefix>-sagemaker-team-
    <team>`; a team name with ':', '/' or '\\', or one making the name longer than 100
    characters, gives a shortened name ending in a hash of the team, unique per team."""

    team: Annotated[TagValue, Field(min_length=1)]
    """Value of the team tag (`budget.team_tag_key`) on the team's resources. Required."""

    monthly_limit_usd: UsdAmount
    """Monthly SageMaker spend of the team, in USD. Required. Greater than 0."""

    emails: BudgetEmails = Field(default_factory=list)
    """Addresses e-mailed directly by AWS Budgets for this team's notifications (at most
    10; no confirmation needed). The alerts topic gets them too. Default: none."""

    @field_validator("emails")
    @classmethod
    def _unique_emails(cls, value: list[str]) -> list[str]:
        return _unique(value, "address")


class GuardSettings(StrictModel):
    """The budget guard: a function that stops the platform's running SageMaker jobs,
    notebook instances and Studio apps when the budget's actual spend passes a threshold.
    It never deletes data (a Studio app is stopped with DeleteApp: its space and volume
    stay)."""

    threshold_percent: Percent = 100
    """Actual spend, in percent of `monthly_limit_usd`, at which the guard acts.
    Valid range: 1-1000."""

    dry_run: bool = False
    """Only report what would be stopped; stop nothing."""

    scale_endpoints_to_minimum: bool = False
    """Also cap each autoscaled real-time endpoint variant of the platform at its
    autoscaling minimum (its maximum capacity is set to the minimum, so the
    autoscaler scales in and stays there until you restore the maximum; the report
    says how). Default: endpoints keep running untouched, since stopping them breaks
    whoever calls them."""


class BudgetSettings(StrictModel):
    """A monthly AWS Budgets budget on the platform's SageMaker spend: service
    "Amazon SageMaker" and the platform's `smkit:platform` cost allocation tag, without
    credits and refunds. The tag counts only once it is activated as a cost allocation
    tag in the Billing console (docs/cost-guardrails.md)."""

    monthly_limit_usd: UsdAmount
    """Monthly SageMaker spend of the platform, in USD. Required. Greater than 0."""

    actual_thresholds_percent: Annotated[list[Percent], Field(max_length=MAX_NOTIFICATIONS)] = (
        Field(default_factory=lambda: [50, 80, 100])
    )
    """Notify when actual spend passes each of these percentages of the limit.
    Each 1-1000."""

    forecasted_thresholds_percent: Annotated[list[Percent], Field(max_length=MAX_NOTIFICATIONS)] = (
        Field(default_factory=lambda: [100])
    )
    """Notify when the month's forecasted spend passes each of these percentages.
    Each 1-1000."""

    emails: BudgetEmails = Field(default_factory=list)
    """Addresses e-mailed directly by AWS Budgets, besides the alerts topic (at most
    10; no confirmation needed). Default: none."""

    team_tag_key: TagKey = "Team"
    """Tag that names a resource's team, for `teams` budgets."""

    teams: list[TeamBudget] = Field(default_factory=list)
    """Per-team budgets, with the same thresholds, on the platform's SageMaker resources
    that also carry `team_tag_key` = `team` (activate that tag too). They alert; the
    guard acts on the platform budget only. Default: none."""

    guard: GuardSettings | None = None
    """The budget guard. Default: none (budget alerts only)."""

    @field_validator("actual_thresholds_percent", "forecasted_thresholds_percent")
    @classmethod
    def _unique_thresholds(cls, value: list[int]) -> list[int]:
        return _unique(value, "threshold")

    @field_validator("emails")
    @classmethod
    def _unique_emails(cls, value: list[str]) -> list[str]:
        return _unique(value, "address")

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, value: list[TeamBudget]) -> list[TeamBudget]:
        first: dict[str, int] = {}
        problems: list[tuple[Location, str]] = []
        for index, budget in enumerate(value):
            key = budget.team.lower()
            if key in first:
                problems.append(
                    (
                        (index, "team"),
                        f"team {budget.team!r} already has a budget "
                        f"(teams[{first[key]}]); each team may appear only once",
                    )
                )
            first.setdefault(key, index)
        if problems:
            raise InvalidFieldsError(problems)
        return value

    @model_validator(mode="after")
    def _fits_in_five_notifications(self) -> BudgetSettings:
        count = len(self.actual_thresholds_percent) + len(self.forecasted_thresholds_percent)
        extra = ""
        if self.guard and self.guard.threshold_percent not in self.actual_thresholds_percent:
            count += 1
            extra = f" plus the guard's {self.guard.threshold_percent}%"
        if count > MAX_NOTIFICATIONS:
            # COST-1: the thresholds are what the user trims, so the error is at them.
            raise InvalidFieldsError(
                [
                    (
                        ("actual_thresholds_percent",),
                        f"AWS Budgets allows {MAX_NOTIFICATIONS} notifications per budget; "
                        f"{len(self.actual_thresholds_percent)} actual and "
                        f"{len(self.forecasted_thresholds_percent)} forecasted thresholds"
                        f"{extra} make {count}",
                    )
                ]
            )
        return self


class InstanceTypeLimits(StrictModel):
    """Instance types each kind of resource may use. A kind left unset may use any type
    SageMaker accepts for it."""

    notebook: list[str] | None = None
    """Notebook instance types allowed. Default: any."""

    training: list[str] | None = None
    """Training job instance types allowed (also checked by the training workflow
    against run-time overrides). Default: any."""

    tuning: list[str] | None = None
    """Instance types of a tuning job's training jobs. Default: any."""

    endpoint: list[str] | None = None
    """Real-time endpoint instance types allowed. Default: any."""

    studio: list[str] | None = None
    """Instance types Studio users may start JupyterLab and Code Editor apps on: the
    domain's default and the kit's spaces are checked at synth, and the users' execution
    roles may create apps on these types only (IAM, `sagemaker:InstanceTypes`).
    Default: any."""

    transform: list[str] | None = None
    """Batch transform instance types allowed (also checked by the transform workflow
    against run-time overrides). Default: any."""

    processing: list[str] | None = None
    """Instance types of processing jobs: Model Monitor's baseline and scheduled
    monitoring jobs. Default: any."""

    @model_validator(mode="after")
    def _known_types(self) -> InstanceTypeLimits:
        problems: list[tuple[Location, str]] = []
        for kind, known in SAGEMAKER_INSTANCE_TYPES.items():
            allowed = getattr(self, kind)
            if allowed is None:
                continue
            if not allowed:
                problems.append(((kind,), "list at least one type, or leave it out to allow any"))
            for index, instance_type in enumerate(allowed):
                if instance_type not in known:
                    problems.append(
                        (
                            (kind, index),
                            f"{instance_type!r} is not a {kind} instance type SageMaker accepts "
                            f"(e.g. {describe_allowed(known, limit=5)})",
                        )
                    )
                elif instance_type in allowed[:index]:
                    problems.append(((kind, index), f"{instance_type!r} is listed twice"))
        if problems:
            raise InvalidFieldsError(problems)
        return self


class LimitSettings(StrictModel):
    """Limits every notebook, training or tuning job and endpoint in this config is
    checked against at synth: a config outside them does not synthesize."""

    instance_types: InstanceTypeLimits = Field(default_factory=InstanceTypeLimits)
    """Allowed instance types per kind."""

    max_instance_count: Annotated[int, Field(ge=1, le=100)] | None = None
    """Most instances of one training job (also per training job of a tuning job), one
    endpoint variant at its autoscaling maximum, one transform or processing job. Valid
    range: 1-100. Default: no limit."""

    max_training_runtime_hours: Annotated[int, Field(ge=1, le=672)] | None = None
    """Longest a training job (also each training job of a tuning job) may run. A job
    that sets no limit counts as SageMaker's default of 24 hours. Valid range: 1-672
    (SageMaker's maximum, 28 days). Default: no limit."""

    max_parallel_tuning_jobs: Annotated[int, Field(ge=1, le=100)] | None = None
    """Most training jobs a tuning job may run at once. Valid range: 1-100.
    Default: no limit."""

    max_transform_runtime_hours: Annotated[int, Field(ge=1, le=672)] | None = None
    """Longest a batch transform run may go on before its workflow stops it. Valid range:
    1-672 (28 days). Default: no limit."""

    def allowed_instance_types(self, kind: UsageKind) -> tuple[str, ...]:
        """The instance types `kind` may use under these limits."""
        kind = LIMITED_KINDS.get(kind, kind)  # type: ignore[assignment]
        allowed = getattr(self.instance_types, kind)
        return tuple(allowed) if allowed is not None else SAGEMAKER_INSTANCE_TYPES[kind]

    def violations(self, usages: Iterable[ResourceUsage]) -> list[LimitViolation]:
        """Every way `usages` break these limits, one entry each."""
        found = []
        for usage in usages:
            found.extend(self._check(usage))
        return found

    def _check(self, usage: ResourceUsage) -> list[LimitViolation]:
        found = []
        kind = LIMITED_KINDS.get(usage.kind, usage.kind)
        allowed = getattr(self.instance_types, kind)
        if (
            usage.instance_type is not None
            and allowed is not None
            and usage.instance_type not in allowed
        ):
            found.append(
                LimitViolation(
                    usage.path,
                    usage.instance_type,
                    f"{usage.kind} instance type {usage.instance_type!r} is not allowed by "
                    f"cost.limits.instance_types.{kind}; allowed: " + describe_allowed(allowed),
                )
            )
        if self.max_instance_count is not None and usage.instance_count > self.max_instance_count:
            found.append(
                LimitViolation(
                    usage.path,
                    usage.instance_count,
                    f"{usage.instance_count} instances exceed cost.limits.max_instance_count "
                    f"({self.max_instance_count})",
                )
            )
        if self.max_training_runtime_hours is not None and usage.kind in ("training", "tuning"):
            implied = usage.max_runtime_seconds is None
            seconds = (
                SAGEMAKER_DEFAULT_MAX_RUNTIME_SECONDS
                if usage.max_runtime_seconds is None
                else usage.max_runtime_seconds
            )
            if seconds > self.max_training_runtime_hours * 3600:
                found.append(
                    LimitViolation(
                        usage.path,
                        seconds,
                        f"a maximum runtime of {_hours(seconds)}"
                        + (" (SageMaker's default when none is set)" if implied else "")
                        + " exceeds cost.limits.max_training_runtime_hours "
                        f"({self.max_training_runtime_hours} h)",
                    )
                )
        if (
            self.max_transform_runtime_hours is not None
            and usage.kind == "transform"
            and usage.max_runtime_seconds is not None
            and usage.max_runtime_seconds > self.max_transform_runtime_hours * 3600
        ):
            found.append(
                LimitViolation(
                    usage.path,
                    usage.max_runtime_seconds,
                    f"a maximum runtime of {_hours(usage.max_runtime_seconds)} exceeds "
                    "cost.limits.max_transform_runtime_hours "
                    f"({self.max_transform_runtime_hours} h)",
                )
            )
        if (
            self.max_parallel_tuning_jobs is not None
            and usage.kind == "tuning"
            and usage.max_parallel_jobs is not None
            and usage.max_parallel_jobs > self.max_parallel_tuning_jobs
        ):
            found.append(
                LimitViolation(
                    usage.path,
                    usage.max_parallel_jobs,
                    f"{usage.max_parallel_jobs} parallel training jobs exceed "
                    f"cost.limits.max_parallel_tuning_jobs ({self.max_parallel_tuning_jobs})",
                )
            )
        return found


class CostSettings(StrictModel):
    """Cost guardrails: a budget with alerts (and optionally a guard that stops
    spending), and limits checked at synth."""

    budget: BudgetSettings | None = None
    """Monthly budget on the platform's SageMaker spend. Default: none."""

    limits: LimitSettings | None = None
    """Limits on instance types, counts, runtimes and tuning parallelism.
    Default: none."""


@dataclass(frozen=True)
class LimitViolation:
    """One resource of the config outside one cost limit."""

    path: str
    """Where the resource is configured (`ResourceUsage.path`)."""
    value: object
    """The value outside the limit."""
    message: str
    """What the limit is and how the value breaks it."""

    @property
    def location(self) -> tuple[str | int, ...]:
        """`path` as a pydantic error location: `notebooks[0]` -> ("notebooks", 0)."""
        parts: list[str | int] = []
        for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", self.path):
            parts.append(int(index) if index else name)
        return tuple(parts)


def allowed_instance_types(limits: LimitSettings | None, kind: UsageKind) -> tuple[str, ...]:
    """The instance types `kind` may use: the limits' allow-list, or, without limits,
    every type SageMaker accepts for it."""
    if limits is None:
        return SAGEMAKER_INSTANCE_TYPES[kind]
    return limits.allowed_instance_types(kind)


def _hours(seconds: int) -> str:
    hours = seconds / 3600
    shown = f"{hours:g}" if hours == int(hours) else f"{hours:.2f}"
    return f"{shown} h ({seconds} s)"
