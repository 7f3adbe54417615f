"""The role GitHub Actions deploys with: OpenID Connect instead of stored keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from sagemaker_constructs.common import acknowledge_wildcards

from .settings.delivery import GitHubDeploySettings

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The roles `cdk bootstrap` creates; `cdk deploy` works by assuming them.
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")
INTEG_PREFIX = "smkit-it-"
"""Starts the name_prefix of every integration case (tests/integ): the integration
workflow's cleanup is allowed on those stacks, buckets and model packages only."""


class GitHubDeployStack(Stack):
    """The GitHub OIDC provider (unless the account has one) and a deploy role trusted
    only for one repository's environments / branches, allowed only to assume the CDK
    bootstrap roles of this account and region."""

    def __init__(
        self, scope: Construct, id_: str, *, settings: GitHubDeploySettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)

        if settings.oidc_provider_arn:
            provider_arn = settings.oidc_provider_arn
        else:
            provider = iam.OidcProviderNative(
                self, "GitHubOidcProvider", url=GITHUB_OIDC_URL, client_ids=["sts.amazonaws.com"]
            )
            provider_arn = provider.oidc_provider_arn

        self.role = iam.Role(
            self,
            "DeployRole",
            description=f"cdk deploy from GitHub Actions of {settings.repository}",
            max_session_duration=Duration.hours(settings.max_session_hours),
            assumed_by=iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_HOST}:sub": settings.subjects(),
                    }
                },
            ),
        )
        """The role the deploy workflow assumes (its ARN is the `DeployRoleArn` output)."""

        # Everything else `cdk deploy` needs is granted to the bootstrap roles, which
        # trust this account: the deploy role holds no other permission.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[
                    f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/"
                    f"cdk-{settings.cdk_qualifier}-{role}-role-{Aws.ACCOUNT_ID}-{Aws.REGION}"
                    for role in BOOTSTRAP_ROLES
                ],
            )
        )

        if settings.integ_environment is not None:
            self._allow_integ_cleanup()

        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description="Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub repository",
        )
        CfnOutput(self, "OidcProviderArn", value=provider_arn, description="GitHub OIDC provider")

    def _allow_integ_cleanup(self) -> None:
        """What `make integ` does itself before `cdk destroy` (tools/integ.py): list the
        buckets and model package groups of the cases' stacks, empty those buckets and
        delete the model packages the runs registered. Only `smkit-it-*` names."""
        stacks = self.format_arn(
            service="cloudformation", resource="stack", resource_name=f"{INTEG_PREFIX}*"
        )
        buckets = f"arn:{Aws.PARTITION}:s3:::{INTEG_PREFIX}*"
        packages = self.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{INTEG_PREFIX}*"
        )
        groups = self.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=f"{INTEG_PREFIX}*"
        )
        statements = [
            (["cloudformation:ListStackResources"], [stacks]),
            (["s3:ListBucket", "s3:ListBucketVersions"], [buckets]),
            (["s3:DeleteObject", "s3:DeleteObjectVersion"], [f"{buckets}/*"]),
            (["sagemaker:ListModelPackages"], ["*"]),
            (["sagemaker:DeleteModelPackage"], [packages, groups]),
        ]
        for actions, resources in statements:
            self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        acknowledge_wildcards(
            self.role,
            resources=[stacks, buckets, f"{buckets}/*", packages, groups, "*"],
            reason="The integration workflow's cleanup before cdk destroy: only the stacks, "
            f"buckets and model packages of the integration cases ({INTEG_PREFIX}*), whose "
            "physical names CloudFormation generates; ListModelPackages has no resource-level "
            "permission.",
        )
