"""Build the whole platform from settings: stacks, app-wide tags and checks."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .cost_stack import CostStack
from .foundation_stack import FoundationStack
from .github_deploy_stack import GitHubDeployStack
from .inference_stack import InferenceStack
from .labeling_stack import LabelingStack
from .model_registry_stack import ModelRegistryStack
from .notebooks_stack import NotebooksStack
from .settings import PlatformSettings
from .studio_stack import StudioStack
from .training_stack import TrainingStack
from .transform_stack import TransformStack
from .workforce_stack import WorkforceStack


@dataclass(frozen=True)
class Platform:
    """The stacks of one deployment."""

    foundation: FoundationStack
    cost: CostStack | None = None
    notebooks: NotebooksStack | None = None
    inference: InferenceStack | None = None
    model_registry: ModelRegistryStack | None = None
    """Model package groups (stateful); present with `training` settings."""
    training: TrainingStack | None = None
    """Training and tuning workflows; present with `training` settings."""
    github_deploy: GitHubDeployStack | None = None
    """GitHub OIDC provider and deploy role; present with `github_deploy` settings."""
    workforce: WorkforceStack | None = None
    """Ground Truth workforce and work teams (stateful); with `labeling.workforce`."""
    labeling: LabelingStack | None = None
    """Labeling and auto-labeling workflows; with `labeling` workflows."""
    studio: StudioStack | None = None
    """The Studio domain, its users and spaces (stateful); with `studio` settings."""
    transform: TransformStack | None = None
    """Batch transform workflows; with `transform` settings."""


def build_platform(app: cdk.App, settings: PlatformSettings) -> Platform:
    """Create every stack the settings ask for and tag everything in them."""
    env = (
        cdk.Environment(account=settings.account, region=settings.region)
        if settings.account or settings.region
        else None
    )
    foundation = FoundationStack(
        app,
        settings.stack_name("Foundation"),
        settings=settings,
        env=env,
        description="sagemaker-platform-kit: KMS key, buckets, network and alerts (stateful)",
        termination_protection=settings.protect_stateful_stacks,
    )
    base = _Base(app=app, settings=settings, foundation=foundation, env=env)
    model_registry, training = _training(base)
    workforce = _workforce(base)
    labeling = _labeling(base, workforce)
    # Studio users start the platform's workflows; the budget guard stops Studio's apps.
    studio = _studio(base, training, labeling)
    inference = _inference(base)
    if inference is not None and inference.model_approval is not None and model_registry:
        # Its endpoints follow the registry's groups: the groups exist first.
        inference.add_stack_dependency(model_registry)
    platform = Platform(
        foundation=foundation,
        model_registry=model_registry,
        training=training,
        cost=_cost(base, studio),
        notebooks=_notebooks(base),
        inference=inference,
        github_deploy=_github_deploy(base),
        workforce=workforce,
        labeling=labeling,
        studio=studio,
        transform=_transform(base),
    )
    apply_tags(app, settings)
    return platform


@dataclass(frozen=True)
class _Base:
    """What every area's stack is built from."""

    app: cdk.App
    settings: PlatformSettings
    foundation: FoundationStack
    env: cdk.Environment | None


def _cost(base: _Base, studio: StudioStack | None) -> CostStack | None:
    settings = base.settings
    if settings.cost is None or settings.cost.budget is None:
        return None
    return CostStack(
        base.app,
        settings.stack_name("Cost"),
        settings=settings,
        budget=settings.cost.budget,
        platform_tag=(PLATFORM_TAG, settings.name_prefix),
        encryption_key=base.foundation.key,
        alerts_topic=base.foundation.alerts_topic,
        studio_domain_id=studio.domain.domain_id if studio else None,
        env=base.env,
        description="sagemaker-platform-kit: SageMaker budgets and the budget guard",
    )


def _notebooks(base: _Base) -> NotebooksStack | None:
    settings = base.settings
    if settings.notebooks is None:
        return None
    return NotebooksStack(
        base.app,
        settings.stack_name("Notebooks"),
        settings=settings,
        encryption_key=base.foundation.key,
        data_bucket=base.foundation.data_bucket,
        artifacts_bucket=base.foundation.artifacts_bucket,
        network=base.foundation.network,
        sdk_tags=platform_tags(settings),
        alerts_topic=base.foundation.alerts_topic,
        env=base.env,
        description="sagemaker-platform-kit: notebook instances (stateful: volumes retained)",
        termination_protection=settings.protect_stateful_stacks,
    )


def _studio(
    base: _Base, training: TrainingStack | None, labeling: LabelingStack | None
) -> StudioStack | None:
    settings = base.settings
    if settings.studio is None:
        return None
    workflows = []
    if training is not None:
        workflows += [w.state_machine for w in training.training_workflows.values()]
        workflows += [w.state_machine for w in training.tuning_workflows.values()]
    if labeling is not None:
        workflows += [w.state_machine for w in labeling.workflows.values()]
        workflows += [w.state_machine for w in labeling.auto_labeling.values()]
    return StudioStack(
        base.app,
        settings.stack_name("Studio"),
        settings=settings,
        encryption_key=base.foundation.key,
        data_bucket=base.foundation.data_bucket,
        artifacts_bucket=base.foundation.artifacts_bucket,
        network=base.foundation.network,
        sdk_tags=platform_tags(settings),
        workflows=workflows,
        env=base.env,
        description="sagemaker-platform-kit: SageMaker Studio domain, users and spaces "
        "(stateful: retained)",
        termination_protection=settings.protect_stateful_stacks,
    )


def _training(base: _Base) -> tuple[ModelRegistryStack | None, TrainingStack | None]:
    settings = base.settings
    if settings.training is None:
        return None, None
    foundation = base.foundation
    model_registry = ModelRegistryStack(
        base.app,
        settings.stack_name("ModelRegistry"),
        settings=settings,
        env=base.env,
        description="sagemaker-platform-kit: model package groups (stateful)",
        termination_protection=settings.protect_stateful_stacks,
    )
    training = TrainingStack(
        base.app,
        settings.stack_name("Training"),
        training=settings.training,
        name_prefix=settings.name_prefix,
        encryption_key=foundation.key,
        data_bucket=foundation.data_bucket,
        artifacts_bucket=foundation.artifacts_bucket,
        alerts_topic=foundation.alerts_topic,
        network=foundation.network,
        model_package_groups=model_registry.group_names,
        job_tags=platform_tags(settings),
        env=base.env,
        description="sagemaker-platform-kit: training and tuning workflows",
    )
    # The workflows name the groups (no cross-stack export to pin them).
    training.add_stack_dependency(model_registry)
    return model_registry, training


def _inference(base: _Base) -> InferenceStack | None:
    settings = base.settings
    if settings.inference is None:
        return None
    return InferenceStack(
        base.app,
        settings.stack_name("Inference"),
        settings=settings,
        encryption_key=base.foundation.key,
        data_bucket=base.foundation.data_bucket,
        artifacts_bucket=base.foundation.artifacts_bucket,
        alerts_topic=base.foundation.alerts_topic,
        network=base.foundation.network,
        job_tags=platform_tags(settings),
        env=base.env,
        description="sagemaker-platform-kit: inference endpoints (stateless)",
    )


def _github_deploy(base: _Base) -> GitHubDeployStack | None:
    settings = base.settings
    if settings.github_deploy is None:
        return None
    return GitHubDeployStack(
        base.app,
        settings.stack_name("GitHubDeploy"),
        settings=settings.github_deploy,
        env=base.env,
        description="sagemaker-platform-kit: GitHub OIDC provider and deploy role",
    )


def _workforce(base: _Base) -> WorkforceStack | None:
    settings = base.settings
    if settings.labeling is None or settings.labeling.workforce is None:
        return None
    return WorkforceStack(
        base.app,
        settings.stack_name("Workforce"),
        settings=settings,
        encryption_key=base.foundation.key,
        network=base.foundation.network,
        env=base.env,
        description="sagemaker-platform-kit: Ground Truth workforce and work teams (stateful)",
        termination_protection=settings.protect_stateful_stacks,
    )


def _labeling(base: _Base, workforce: WorkforceStack | None) -> LabelingStack | None:
    settings = base.settings
    section = settings.labeling
    if section is None or not (section.workflows or section.auto_labeling):
        return None
    return LabelingStack(
        base.app,
        settings.stack_name("Labeling"),
        settings=settings,
        encryption_key=base.foundation.key,
        data_bucket=base.foundation.data_bucket,
        artifacts_bucket=base.foundation.artifacts_bucket,
        alerts_topic=base.foundation.alerts_topic,
        network=base.foundation.network,
        workforce=workforce,
        job_tags=platform_tags(settings),
        env=base.env,
        description="sagemaker-platform-kit: labeling and auto-labeling workflows",
    )


def _transform(base: _Base) -> TransformStack | None:
    settings = base.settings
    if settings.transform is None:
        return None
    return TransformStack(
        base.app,
        settings.stack_name("Transform"),
        settings=settings,
        encryption_key=base.foundation.key,
        data_bucket=base.foundation.data_bucket,
        artifacts_bucket=base.foundation.artifacts_bucket,
        alerts_topic=base.foundation.alerts_topic,
        network=base.foundation.network,
        job_tags=platform_tags(settings),
        env=base.env,
        description="sagemaker-platform-kit: batch transform workflows",
    )


# Names this deployment on every resource, including jobs the workflows start at run
# time, so the budget guard and operators can tell its resources from others'.
PLATFORM_TAG = "smkit:platform"


def platform_tags(settings: PlatformSettings) -> dict[str, str]:
    """The tags every resource of this deployment carries: project, environment, cost
    center, owner, extra, and `smkit:platform` = name_prefix. State machines put the
    same tags on the SageMaker jobs they create (CloudFormation does not create those)."""
    tags = {
        "Project": settings.tags.project,
        "Environment": settings.environment,
        PLATFORM_TAG: settings.name_prefix,
    }
    if settings.tags.cost_center:
        tags["CostCenter"] = settings.tags.cost_center
    if settings.tags.owner:
        tags["Owner"] = settings.tags.owner
    tags.update(settings.tags.extra)
    return tags


def apply_tags(scope: cdk.App | cdk.Stack, settings: PlatformSettings) -> None:
    """`platform_tags` on every taggable resource."""
    for key, value in platform_tags(settings).items():
        cdk.Tags.of(scope).add(key, value)


def add_checks(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions pack, once for the whole app: synthesis fails on any
    unacknowledged finding. Acknowledgements are copied into the templates' metadata
    so reviewers see each one with its reason."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
