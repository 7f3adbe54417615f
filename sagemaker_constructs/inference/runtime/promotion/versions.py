"""Which model package version each endpoint that follows a group should serve, and
what it serves now: the rules the approval workflow applies, shared with the operator
CLI (`smkit model`) and the deploy (`tools.deploy_parameters`).

An endpoint that follows a group serves the version its stack parameter names (the
parameter is the state; CloudFormation is the source of truth). It should serve:

- the latest (highest) version of the group that is Approved and whose package is
  complete (`ModelPackageStatus` Completed: a version being deleted no longer counts);
- for an endpoint promoted from a staging endpoint, the latest such version that also
  carries the promotion mark for it (`smkit model promote`, a second approval);
- when no version qualifies: whatever it serves now. Rejecting or deleting a version
  never empties the parameter, so it never takes an endpoint down.

Plain Python and boto3 (no CDK): the approval workflow's Lambda function, the CLI and
the deploy tools import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
COMPLETED = "Completed"

PROMOTED_PREFIX = "smkit:promoted:"
"""Metadata key prefix of a promotion: `smkit:promoted:<endpoint name>` = UTC time."""
PROMOTION_REASON_PREFIX = "smkit:promotion-reason:"
"""Metadata key prefix of a promotion's reason (`smkit model promote --reason`)."""

PARAMETER_SUFFIX = "ModelVersion"

_VERSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[A-Za-z0-9-]{1,63})"
    r"/(?P<version>\d+)$"
)
# UpdateModelPackage: metadata values are 1-256 characters of letters, digits, blanks
# and _.:/=+-@ (botocore's service model).
_METADATA_UNSAFE = re.compile(r"[^\w\s.:/=+\-@]")


def version_parameter(endpoint_key: str) -> str:
    """The stack parameter naming the version endpoint `endpoint_key` serves:
    `text-classifier` -> `TextClassifierModelVersion`."""
    return "".join(part.capitalize() for part in endpoint_key.split("-")) + PARAMETER_SUFFIX


def parameter_pattern(group: str) -> str:
    """The parameter's AllowedPattern: empty (no version yet) or a version of `group`.
    ENDPOINT-21 (template parameters page): CloudFormation matches the whole value, so a
    value of another group is refused."""
    if not re.fullmatch(r"[A-Za-z0-9-]{1,63}", group):
        raise ValueError(f"not a model package group name: {group!r}")
    return rf"(arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{{12}}:model-package/{group}/[0-9]+)?"


def version_number(arn: str) -> int | None:
    """The version of a model package version ARN, None for anything else."""
    match = _VERSION_ARN.match(arn or "")
    return int(match.group("version")) if match else None


def group_of(arn: str) -> str | None:
    """The group of a model package version ARN, None for anything else."""
    match = _VERSION_ARN.match(arn or "")
    return match.group("group") if match else None


def metadata_safe(text: str, limit: int = 256) -> str:
    """`text` as a metadata value may hold it: other characters become blanks.
    ENDPOINT-24 (UpdateModelPackage API page)."""
    cleaned = " ".join(_METADATA_UNSAFE.sub(" ", text).split())
    return cleaned[:limit] or "-"


@dataclass(frozen=True)
class Follower:
    """An endpoint that follows a model package group."""

    endpoint: str
    """The endpoint's name, e.g. `smkit-full-text-classifier`."""
    parameter: str
    """The stack parameter naming the version it serves."""
    group: str
    """The model package group's name."""
    promoted_from: str | None = None
    """Name of the staging endpoint versions are promoted from; None: every approval."""

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "parameter": self.parameter,
            "group": self.group,
            "promoted_from": self.promoted_from,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Follower:
        return cls(
            endpoint=str(value["endpoint"]),
            parameter=str(value["parameter"]),
            group=str(value["group"]),
            promoted_from=value.get("promoted_from"),
        )


def followers_from_json(text: str) -> list[Follower]:
    """The followers of a `FOLLOWERS` environment variable (a JSON list)."""
    return [Follower.from_json(item) for item in json.loads(text)]


@dataclass(frozen=True)
class Version:
    """One version of a model package group."""

    arn: str
    number: int
    approval: str
    """`Approved`, `Rejected` or `PendingManualApproval`."""
    status: str
    """`ModelPackageStatus`: Completed, InProgress, Deleting..."""
    created: datetime | None = None
    description: str = ""
    """The approval description (the reason of the last approve or reject)."""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """Customer metadata properties (only filled by `describe`)."""

    @property
    def deployable(self) -> bool:
        return self.approval == APPROVED and self.status == COMPLETED

    def promoted_to(self, endpoint: str) -> bool:
        return f"{PROMOTED_PREFIX}{endpoint}" in self.metadata

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Version:
        """From a ListModelPackages summary or a DescribeModelPackage answer."""
        arn = str(item["ModelPackageArn"])
        number = item.get("ModelPackageVersion") or version_number(arn) or 0
        return cls(
            arn=arn,
            number=int(number),
            approval=str(item.get("ModelApprovalStatus", PENDING)),
            status=str(item.get("ModelPackageStatus", "")),
            created=item.get("CreationTime"),
            description=str(item.get("ApprovalDescription", "") or ""),
            metadata=dict(item.get("CustomerMetadataProperties") or {}),
        )


def list_versions(sagemaker: Any, group: str, *, approval: str | None = None) -> Iterator[Version]:
    """The versions of `group`, newest first (optionally only those with `approval`)."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageType": "Versioned",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if approval:
        request["ModelApprovalStatus"] = approval
    found = [
        Version.from_api(item)
        for page in sagemaker.get_paginator("list_model_packages").paginate(**request)
        for item in page["ModelPackageSummaryList"]
    ]
    yield from sorted(found, key=lambda v: v.number, reverse=True)


def describe(sagemaker: Any, arn: str) -> Version:
    """One version with its approval description and metadata."""
    return Version.from_api(sagemaker.describe_model_package(ModelPackageName=arn))


def target_version(sagemaker: Any, follower: Follower) -> Version | None:
    """The version `follower` should serve, or None when none qualifies."""
    for version in list_versions(sagemaker, follower.group, approval=APPROVED):
        if not version.deployable:
            continue
        if follower.promoted_from is None:
            return version
        described = describe(sagemaker, version.arn)
        if described.deployable and described.promoted_to(follower.endpoint):
            return described
    return None


@dataclass(frozen=True)
class Plan:
    """What one follower serves and should serve."""

    follower: Follower
    serving: str
    """The version ARN its parameter names ("" before its first version)."""
    target: Version | None
    """What it should serve; None when no version qualifies (it keeps `serving`)."""

    @property
    def changes(self) -> bool:
        return self.target is not None and self.target.arn != self.serving

    def why_not(self) -> str:
        """Why a follower without a target keeps what it serves."""
        follower = self.follower
        if follower.promoted_from:
            what = (
                f"no approved version of {follower.group} is promoted from {follower.promoted_from}"
            )
        else:
            what = f"no version of {follower.group} is approved"
        keeps = (
            f"keeps serving version {version_number(self.serving)}"
            if self.serving
            else "waits for one (no endpoint until then)"
        )
        return f"{follower.endpoint}: {what}; it {keeps}"


def plans(
    sagemaker: Any, followers: Sequence[Follower], parameters: Mapping[str, str]
) -> list[Plan]:
    """A plan per follower, from the stack's parameter values."""
    return [
        Plan(f, parameters.get(f.parameter, ""), target_version(sagemaker, f)) for f in followers
    ]
