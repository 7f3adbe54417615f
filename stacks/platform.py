"""Build the whole platform from settings: stacks, app-wide tags and checks."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .foundation_stack import FoundationStack
from .github_deploy_stack import GitHubDeployStack
from .settings import PlatformSettings


@dataclass(frozen=True)
class Platform:
    """The stacks of one deployment."""

    foundation: FoundationStack
    github_deploy: GitHubDeployStack | None = None


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
    github_deploy = None
    if settings.github_deploy is not None:
        github_deploy = GitHubDeployStack(
            app,
            settings.stack_name("GitHubDeploy"),
            settings=settings.github_deploy,
            env=env,
            description="sagemaker-platform-kit: GitHub OIDC provider and deploy role",
        )
    apply_tags(app, settings)
    return Platform(foundation=foundation, github_deploy=github_deploy)


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
