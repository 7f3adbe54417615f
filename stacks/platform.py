"""Build the whole platform from settings: stacks, app-wide tags and checks."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .foundation_stack import FoundationStack
from .labeling_stack import LabelingStack
from .settings import PlatformSettings
from .workforce_stack import WorkforceStack


@dataclass(frozen=True)
class Platform:
    """The stacks of one deployment."""

    foundation: FoundationStack
    workforce: WorkforceStack | None = None
    labeling: LabelingStack | None = None


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
    workforce, labeling = _labeling_stacks(app, settings, foundation, env)
    apply_tags(app, settings)
    return Platform(foundation=foundation, workforce=workforce, labeling=labeling)


def _labeling_stacks(
    app: cdk.App,
    settings: PlatformSettings,
    foundation: FoundationStack,
    env: cdk.Environment | None,
) -> tuple[WorkforceStack | None, LabelingStack | None]:
    """The Ground Truth stacks the `labeling` section asks for."""
    section = settings.labeling
    if section is None:
        return None, None
    workforce = None
    if section.workforce is not None:
        workforce = WorkforceStack(
            app,
            settings.stack_name("Workforce"),
            settings=settings,
            encryption_key=foundation.key,
            network=foundation.network,
            env=env,
            description="sagemaker-platform-kit: Ground Truth workforce and work teams (stateful)",
            termination_protection=settings.protect_stateful_stacks,
        )
    labeling = None
    if section.workflows or section.auto_labeling:
        labeling = LabelingStack(
            app,
            settings.stack_name("Labeling"),
            settings=settings,
            encryption_key=foundation.key,
            data_bucket=foundation.data_bucket,
            artifacts_bucket=foundation.artifacts_bucket,
            alerts_topic=foundation.alerts_topic,
            network=foundation.network,
            workforce=workforce,
            job_tags=platform_tags(settings),
            env=env,
            description="sagemaker-platform-kit: labeling and auto-labeling workflows",
        )
    return workforce, labeling


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
