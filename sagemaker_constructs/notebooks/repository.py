"""A Git repository notebooks clone: `AWS::SageMaker::CodeRepository`."""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..common import Problems

# CloudFormation's patterns for GitConfig.RepositoryUrl and Branch.
_URL = re.compile(r"https://([^/]+)/?.{3,1016}")
_BRANCH = re.compile(r"[^ ~^:?*\[]+")


class GitRepository(Construct):
    """A Git repository registered with SageMaker, cloned into every notebook that lists it.

    For a private repository, `credentials` is a Secrets Manager secret with `username`
    and `password` keys; `grant_clone` lets a notebook's role read it (SageMaker clones
    with the notebook's role).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        repository_url: str,
        branch: str | None = None,
        credentials: secretsmanager.ISecret | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param repository_url: HTTPS URL of the repository (11-1024 characters).
        :param branch: Branch to check out. Default: the repository's default branch.
            At most 1024 characters, no spaces or ~ ^ : ? * [.
        :param credentials: Secret with `username` and `password`. Default: none (public).
        :param removal_policy: Default: RETAIN, like the notebook instances that name it.
        """
        super().__init__(scope, id_)
        problems = Problems("GitRepository")
        problems.check(
            11 <= len(repository_url) <= 1024 and bool(_URL.fullmatch(repository_url)),
            "repository_url must be an https:// URL of 11-1024 characters "
            f"(got {repository_url!r})",
        )
        if branch is not None:
            problems.check(
                len(branch) <= 1024 and bool(_BRANCH.fullmatch(branch)),
                f"branch must be 1-1024 characters without spaces or ~ ^ : ? * [ (got {branch!r})",
            )
        problems.raise_if_any()

        self.credentials = credentials
        """The secret SageMaker clones with, if any."""
        self.repository = sagemaker.CfnCodeRepository(
            self,
            "Resource",
            git_config=sagemaker.CfnCodeRepository.GitConfigProperty(
                repository_url=repository_url,
                branch=branch,
                secret_arn=credentials.secret_arn if credentials else None,
            ),
        )
        """The CodeRepository resource."""
        self.repository.apply_removal_policy(removal_policy)
        self.repository_name = self.repository.attr_code_repository_name
        """Its name, as notebooks refer to it."""

    def grant_clone(self, grantee: iam.IGrantable) -> None:
        """Let a notebook's role read the credentials (nothing to grant for a public one)."""
        if self.credentials is not None:
            self.credentials.grant_read(grantee)
