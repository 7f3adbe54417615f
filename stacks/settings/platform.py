"""The root of the settings model: what one config file holds."""

from __future__ import annotations

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sagemaker_constructs.inference.monitoring_rules import monitor_image_problem

from .base import (
    AccountId,
    EnvironmentName,
    InvalidFieldsError,
    Location,
    NamePrefix,
    ResourceUsage,
    StrictModel,
)
from .cost import CostSettings, UsageKind, allowed_instance_types
from .delivery import GitHubDeploySettings
from .foundation import AlertSettings, NetworkSettings, NoNetwork, StorageSettings, TagSettings
from .inference import InferenceSettings
from .labeling import LabelingSettings
from .monitoring import model_quality_problems
from .notebooks import NotebookSettings
from .regions import SAGEMAKER_REGIONS
from .stack_sizes import over_the_limit
from .studio import StudioSettings, security_group_problem
from .training import TrainingSettings
from .transform import TransformSettings, transform_platform_problems


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

    cost: CostSettings | None = None
    """Cost guardrails: SageMaker budget, budget guard, limits. Default: none."""
    notebooks: NotebookSettings | None = None
    """SageMaker notebook instances. Default: none."""

    studio: StudioSettings | None = None
    """A SageMaker Studio domain with users and private JupyterLab spaces (stack
    `<name_prefix>-Studio`, stateful). Default: none."""

    inference: InferenceSettings | None = None
    """Inference endpoints (stack `<prefix>-Inference`). Default: none."""

    training: TrainingSettings | None = None
    """Training and tuning workflows and the model registry. Default: none (off)."""
    github_deploy: GitHubDeploySettings | None = None
    """The GitHub OIDC provider and a deploy role for GitHub Actions (stack
    `<name_prefix>-GitHubDeploy`). Default: none, no such stack."""

    labeling: LabelingSettings | None = None
    """Ground Truth workforce, work teams, labeling and auto-labeling workflows. Default:
    none (nothing deployed)."""

    transform: TransformSettings | None = None
    """Batch transform workflows (stack `<name_prefix>-Transform`). Default: none."""

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in SAGEMAKER_REGIONS:
            raise ValueError(
                "must be a region where SageMaker is available: " + ", ".join(SAGEMAKER_REGIONS)
            )
        return value

    @model_validator(mode="after")
    def _within_cost_limits(self) -> PlatformSettings:
        """Every notebook, job and endpoint of the config within `cost.limits`: one error
        per violation, located at the resource's own path."""
        if self.cost is None or self.cost.limits is None:
            return self
        # A job usable on several instance types is one usage per type: its count and
        # runtime are reported once.
        violations = list(
            {
                (v.path, v.message): v for v in self.cost.limits.violations(self.resource_usages())
            }.values()
        )
        if violations:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("cost_limit", v.message),
                        loc=v.location,
                        input=v.value,
                    )
                    for v in violations
                ],
            )
        return self

    def resource_usages(self) -> list[ResourceUsage]:
        """What the config runs, from every section that says (`resource_usages()`)."""
        usages: list[ResourceUsage] = []
        for name in type(self).model_fields:
            section = getattr(self, name)
            if hasattr(section, "resource_usages"):
                usages.extend(section.resource_usages())
        return usages

    def allowed_instance_types(self, kind: UsageKind) -> tuple[str, ...]:
        """Instance types `kind` may use: `cost.limits` allow-list, or every type SageMaker
        accepts for it. Workflows check run-time overrides against the same list."""
        return allowed_instance_types(self.cost.limits if self.cost else None, kind)

    @field_validator("notebooks", "studio")
    @classmethod
    def _fits_the_network(
        cls, value: NotebookSettings | StudioSettings | None, info: ValidationInfo
    ) -> NotebookSettings | StudioSettings | None:
        """Notebooks and Studio each check their subnets, security groups and mirrors
        against the network section (checked before them)."""
        network = info.data.get("network")
        if value is not None and network is not None:
            problems = value.check_network(network)
            if problems:
                raise InvalidFieldsError(problems)
        return value

    @field_validator("training")
    @classmethod
    def _training_names_fit(
        cls, value: TrainingSettings | None, info: ValidationInfo
    ) -> TrainingSettings | None:
        name_prefix = info.data.get("name_prefix")
        if value is not None and name_prefix is not None:
            problems = value.name_problems(name_prefix)
            if problems:
                raise InvalidFieldsError(problems)
        return value

    @model_validator(mode="after")
    def _stacks_within_cloudformations_limit(self) -> PlatformSettings:
        # STACK-1 (CloudFormation quotas page): at most 500 resources per stack.
        problems = over_the_limit(self)
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @model_validator(mode="after")
    def _studio_security_groups(self) -> PlatformSettings:
        # STUDIO-5: the problem is the list of groups the file names.
        problem = security_group_problem(self.network) if self.studio else None
        if problem:
            raise InvalidFieldsError([(("network", "security_group_ids"), problem)])
        return self

    @model_validator(mode="after")
    def _followed_groups_are_trained(self) -> PlatformSettings:
        """An endpoint follows the model package group of a training definition here."""
        followers = self.inference.followed_groups() if self.inference else {}
        definitions = list(self.training.definitions) if self.training else []
        problems: list[tuple[Location, str]] = [
            (
                ("inference", "endpoints", key, "model", "group"),
                f"group {model.group!r} is not a training definition of this config "
                f"(definitions: {', '.join(definitions) or 'none, no training section'}); "
                "an endpoint follows the model package group its training registers into",
            )
            for key, model in followers.items()
            if model.group not in definitions
        ]
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @model_validator(mode="after")
    def _transforms_fit_their_models(self) -> PlatformSettings:
        """Endpoints a transform names exist; the model's algorithm's rules (DeepAR) hold."""
        problems = transform_platform_problems(self)
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @model_validator(mode="after")
    def _monitoring_region(self) -> PlatformSettings:
        """MONITOR-3: the region has Model Monitor's analyzer image."""
        monitored = self.inference is not None and any(
            e.monitoring is not None for e in self.inference.endpoints.values()
        )
        problem = monitor_image_problem(self.region) if monitored else None
        if problem:
            raise InvalidFieldsError([(("region",), problem)])
        return self

    @model_validator(mode="after")
    def _model_quality_has_ground_truth(self) -> PlatformSettings:
        """An endpoint's model quality takes people's labels from an auto-labeling workflow
        that pre-labels with that endpoint."""
        problems = model_quality_problems(self.inference, self.labeling, self.name_prefix)
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @model_validator(mode="after")
    def _labeling_region(self) -> PlatformSettings:
        """Ground Truth in the region: the problem is the region the file names."""
        problem = self.labeling.region_problem(self.region) if self.labeling else None
        if problem:
            raise InvalidFieldsError([(("region",), problem)])
        return self

    @property
    def protect_stateful_stacks(self) -> bool:
        """Whether stateful stacks get termination protection."""
        if self.termination_protection is not None:
            return self.termination_protection
        return self.environment != "dev"

    def stack_name(self, unit: str) -> str:
        """The CloudFormation stack name of one deployable unit."""
        return f"{self.name_prefix}-{unit}"
