"""The role GitHub Actions deploys with: OpenID Connect instead of stored keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .settings.delivery import GitHubDeploySettings

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The roles `cdk bootstrap` creates; `cdk deploy` works by assuming them.
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")


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

        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description="Set as the AWS_DEPLOY_ROLE_ARN variable of the GitHub repository",
        )
        CfnOutput(self, "OidcProviderArn", value=provider_arn, description="GitHub OIDC provider")
