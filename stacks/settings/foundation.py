"""Settings of the foundation: tags, alerts, network and storage."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from .base import (
    Cidr,
    InvalidFieldsError,
    Location,
    SecurityGroupId,
    StrictModel,
    SubnetId,
    TagKey,
    TagValue,
    VpcId,
    check_unique,
)


class TagSettings(StrictModel):
    """Tags put on every resource that accepts tags (cost allocation, ownership)."""

    project: TagValue = "sagemaker-platform-kit"
    """Value of the `Project` tag. Activate it as a cost allocation tag to see the
    platform's spend."""

    cost_center: TagValue | None = None
    """Value of the `CostCenter` tag. Default: no tag."""

    owner: TagValue | None = None
    """Value of the `Owner` tag (a team or a person's e-mail). Default: no tag."""

    extra: dict[TagKey, TagValue] = Field(default_factory=dict)
    """Further tags, key: value. At most 40 (AWS allows 50 per resource; the kit uses some)."""

    @field_validator("extra")
    @classmethod
    def _extra_fits(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = ("Project", "Environment", "CostCenter", "Owner", "smkit:platform")
        problems: list[tuple[Location, str]] = [
            (
                (key,),
                f"the kit sets the {key!r} tag; use the project / cost_center / owner settings "
                "instead",
            )
            for key in value
            if key in reserved
        ]
        if len(value) > 40:
            problems.append(((), f"at most 40 extra tags are allowed (got {len(value)})"))
        if problems:
            raise InvalidFieldsError(problems)
        return value


MAX_ALERT_EMAILS = 100
"""Addresses on the alerts topic: each is a subscription resource in the Foundation stack."""


class AlertSettings(StrictModel):
    """Where the platform's alerts (failed jobs, budgets, alarms) go."""

    emails: Annotated[list[EmailStr], Field(max_length=MAX_ALERT_EMAILS)] = Field(
        default_factory=list
    )
    """E-mail addresses subscribed to the alerts topic (at most 100; a mailing list serves
    more people). Each receives a confirmation e-mail after deploy and gets alerts only
    once it confirms. Default: none."""

    @field_validator("emails")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        check_unique(value, "address", fold=lambda e: str(e).lower())
        return value


class NoNetwork(StrictModel):
    """SageMaker-managed networking: no VPC is created; cheapest when idle."""

    mode: Literal["none"] = "none"
    """`none`: SageMaker-managed networking (default)."""


class PrivateNetwork(StrictModel):
    """A new VPC with private isolated subnets (no internet route, no NAT gateway) and
    VPC endpoints for the AWS services SageMaker workloads call."""

    mode: Literal["private"]
    """`private`: the kit creates an isolated VPC with VPC endpoints."""

    cidr: Cidr = "10.40.0.0/16"
    """IPv4 range of the new VPC. A /16 to /24 block."""

    availability_zones: Annotated[int, Field(ge=2, le=3)] = 2
    """How many Availability Zones get a private subnet. Valid range: 2-3. Each
    interface endpoint is billed per AZ."""

    flow_log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365] = 30
    """Days to keep VPC flow logs in CloudWatch Logs."""

    @field_validator("cidr")
    @classmethod
    def _ipv4_size(cls, value: str) -> str:
        if ":" in value:
            raise ValueError("must be an IPv4 block (the VPC's primary range is IPv4)")
        prefix = int(value.split("/")[1])
        if not 16 <= prefix <= 24:
            raise ValueError(f"must be a /16 to /24 block (got /{prefix})")
        return value


class ExistingNetwork(StrictModel):
    """An existing VPC, given by ids (no lookup at synth, so no credentials needed).
    The subnets must reach S3, SageMaker, STS, ECR and CloudWatch Logs (through VPC
    endpoints or a NAT gateway)."""

    mode: Literal["existing"]
    """`existing`: reuse a VPC you already have."""

    vpc_id: VpcId
    """Id of the VPC, e.g. vpc-0123456789abcdef0."""

    subnet_ids: Annotated[list[SubnetId], Field(min_length=1, max_length=16)]
    """Private subnets SageMaker resources are placed in (1-16; at least two AZs recommended)."""

    security_group_ids: Annotated[list[SecurityGroupId], Field(min_length=1, max_length=5)]
    """Security groups SageMaker resources use (1-5). For multi-instance training they must
    allow all traffic between members of the group."""

    @model_validator(mode="after")
    def _no_duplicates(self) -> ExistingNetwork:
        problems: list[tuple[Location, str]] = []
        for name in ("subnet_ids", "security_group_ids"):
            values = getattr(self, name)
            problems.extend(
                ((name, index), f"{value!r} is listed twice")
                for index, value in enumerate(values)
                if value in values[:index]
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self


NetworkSettings = Annotated[
    NoNetwork | PrivateNetwork | ExistingNetwork,
    Field(discriminator="mode"),
]


class StorageSettings(StrictModel):
    """Lifecycle of the platform's buckets (data, artifacts, access logs)."""

    noncurrent_version_expiration_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days a replaced or deleted object version is kept before S3 expires it.
    Valid range: 1-3650."""

    abort_incomplete_upload_days: Annotated[int, Field(ge=1, le=30)] = 7
    """Days after which S3 aborts an unfinished multipart upload. Valid range: 1-30."""

    access_log_retention_days: Annotated[int, Field(ge=30, le=3650)] = 365
    """Days S3 server access logs are kept. Valid range: 30-3650."""
