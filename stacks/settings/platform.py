"""The root of the settings model: what one config file holds."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from .base import AccountId, EnvironmentName, NamePrefix, StrictModel
from .foundation import AlertSettings, NetworkSettings, NoNetwork, StorageSettings, TagSettings
from .labeling import LabelingSettings
from .regions import SAGEMAKER_REGIONS


class PlatformSettings(StrictModel):
    """One deployment of the platform: one config file, one set of stacks."""

    name_prefix: NamePrefix
    """Starts every stack name (`<name_prefix>-Foundation`, ...). Required. 2-20
    lower-case letters, digits and hyphens, starting with a letter."""

    environment: EnvironmentName = "dev"
    """Environment name, put in the `Environment` tag. Stacks outside `dev` get
    termination protection unless `termination_protection` says otherwise."""

    account: AccountId | None = None
    """AWS account to deploy to. Default: none, so the stacks are environment-agnostic
    and deploy to whatever account the credentials belong to."""

    region: str | None = None
    """AWS region to deploy to (one where SageMaker is available). Default: none
    (environment-agnostic: the region of the credentials / AWS_REGION)."""

    termination_protection: bool | None = None
    """Termination protection on the stateful stacks. Default: on unless environment is `dev`."""

    tags: TagSettings = Field(default_factory=TagSettings)
    """Tags on every resource."""

    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """Alert delivery."""

    network: NetworkSettings = Field(default_factory=NoNetwork)
    """Network mode: `none` (default), `private` or `existing`."""

    storage: StorageSettings = Field(default_factory=StorageSettings)
    """Bucket lifecycle."""

    labeling: LabelingSettings | None = None
    """Ground Truth workforce, work teams, labeling and auto-labeling workflows. Default:
    none (nothing deployed)."""

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in SAGEMAKER_REGIONS:
            raise ValueError(
                "must be a region where SageMaker is available: " + ", ".join(SAGEMAKER_REGIONS)
            )
        return value

    @field_validator("labeling")
    @classmethod
    def _labeling_region(
        cls, value: LabelingSettings | None, info: ValidationInfo
    ) -> LabelingSettings | None:
        problem = value.region_problem(info.data.get("region")) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @property
    def protect_stateful_stacks(self) -> bool:
        """Whether stateful stacks get termination protection."""
        if self.termination_protection is not None:
            return self.termination_protection
        return self.environment != "dev"

    def stack_name(self, unit: str) -> str:
        """The CloudFormation stack name of one deployable unit."""
        return f"{self.name_prefix}-{unit}"
