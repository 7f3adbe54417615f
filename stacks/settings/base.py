"""Shared building blocks of the settings model: the strict base model and
reusable field types whose error messages say what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict


class StrictModel(BaseModel):
    """Base of every settings section.

    Unknown keys are errors (a typo must not pass silently), values are
    immutable after loading, and attribute docstrings become the field
    descriptions that the JSON Schema and the reference (docs/configuration.md) are made from.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=True,
    )


Location = tuple[str | int, ...]
"""A path inside a settings section: keys and list indexes, e.g. `("teams", 1, "team")`."""


class InvalidFieldsError(ValueError):
    """Problems a section's validator found, each at the field that causes it.

    Raised from a `model_validator` so that the loader names the offending entry's path
    and line, not the section's: `cost.budget.teams[1].team (line 48): ...`. Each
    location is relative to the section being validated; `()` is the section itself.
    """

    def __init__(self, problems: Sequence[tuple[Location, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(message for _, message in self.problems))


def check_unique(
    values: Sequence[object], what: str, *, fold: Callable[[object], object] = lambda v: v
) -> None:
    """Raise `InvalidFieldsError` at each entry of a list that repeats an earlier one
    (compared after `fold`, e.g. lower-casing)."""
    first: dict[object, int] = {}
    problems: list[tuple[Location, str]] = []
    for index, value in enumerate(values):
        key = fold(value)
        if key in first:
            problems.append(
                (
                    (index,),
                    f"each {what} may appear only once ({value!r} repeats entry {first[key]})",
                )
            )
        first.setdefault(key, index)
    if problems:
        raise InvalidFieldsError(problems)


def _matches(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(
            f"must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/16 ({err})"
        ) from None
    return str(network)


NamePrefix = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,18}[a-z0-9]",
        "must be 2-20 characters of lower-case letters, digits and hyphens, "
        "starting with a letter and not ending with a hyphen",
    ),
]
"""Short lower-case name used in stack and resource names."""

EnvironmentName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,14}[a-z0-9]",
        "must be 2-16 characters of lower-case letters, digits and hyphens, "
        "starting with a letter (e.g. dev, staging, prod)",
    ),
]


def _quoted_account(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(
            "must be a 12-digit AWS account id written as a quoted string ('123456789012'), "
            "so YAML keeps any leading zeros"
        )
    return value


AccountId = Annotated[
    str,
    BeforeValidator(_quoted_account),
    _matches(r"\d{12}", "must be a 12-digit AWS account id"),
]

Cidr = Annotated[str, AfterValidator(_cidr)]

TagKey = Annotated[
    str,
    _matches(
        r"(?!aws:)[\w .:/=+\-@]{1,128}",
        "must be 1-128 characters of letters, digits, spaces and _ . : / = + - @, "
        "and must not start with 'aws:'",
    ),
]
TagValue = Annotated[
    str,
    _matches(
        r"[\w .:/=+\-@]{0,256}",
        "must be at most 256 characters of letters, digits, spaces and _ . : / = + - @",
    ),
]

VpcId = Annotated[
    str, _matches(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?", "must look like vpc-0123456789abcdef0")
]
SubnetId = Annotated[
    str, _matches(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?", "must look like subnet-0123456789abcdef0")
]
SecurityGroupId = Annotated[
    str, _matches(r"sg-[0-9a-f]{8}([0-9a-f]{9})?", "must look like sg-0123456789abcdef0")
]


@dataclass(frozen=True)
class ResourceUsage:
    """One thing a config will run, as the cost limits and preflight's quota check see it.

    Settings sections that start compute define `resource_usages()` returning these;
    the limits check (cost guardrails) and `smkit preflight` collect them from every
    section.
    """

    kind: Literal[
        "notebook",
        "training",
        "tuning",
        "endpoint",
        "studio",
        "transform",
        "processing",
        "monitoring",
    ]
    """What runs (`processing`: a Model Monitor baseline job; `monitoring`: the processing
    jobs a monitoring schedule starts)."""
    path: str
    """Where it is configured, e.g. `notebooks[0]` or `training.definitions.text-classifier`."""
    instance_type: str | None
    """ML instance type, or None where none is chosen (serverless endpoints)."""
    instance_count: int = 1
    """Instances per job or variant (the maximum, where it scales)."""
    max_runtime_seconds: int | None = None
    """Longest runtime of one job."""
    max_parallel_jobs: int | None = None
    """For tuning: training jobs at once."""
    max_jobs: int | None = None
    """For tuning: training jobs in all (a grid search's: every combination)."""
    max_tuning_seconds: int | None = None
    """For tuning: longest the tuning job may run (None: only its jobs' limits)."""
    overridable: bool = False
    """For training and tuning: an instance type a run may pick instead of the
    definition's (`overridable.instance_types`)."""
    spot: bool = False
    """For training and tuning: managed spot training (its own SageMaker quotas)."""
    max_concurrency: int | None = None
    """For serverless endpoints: most concurrent invocations."""
