"""Settings of delivery: the role GitHub Actions deploys with, through OpenID Connect."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import InvalidFieldsError, Location, StrictModel, _matches

GitHubRepository = Annotated[
    str,
    _matches(
        r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}",
        "must be OWNER/NAME of a GitHub repository, e.g. my-org/sagemaker-platform",
    ),
]
GitHubEnvironment = Annotated[
    str,
    _matches(
        r"[A-Za-z0-9._-]{1,255}",
        "must be a GitHub environment name (letters, digits, '.', '_' and '-')",
    ),
]
GitBranch = Annotated[
    str,
    _matches(
        r"[A-Za-z0-9._/-]{1,255}",
        "must be an exact branch name such as main (letters, digits, '.', '_', '-' and '/'; "
        "no wildcards)",
    ),
]
OidcProviderArn = Annotated[
    str,
    _matches(
        r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com",
        "must be the ARN of the account's GitHub OIDC provider, "
        "arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    ),
]
CdkQualifier = Annotated[
    str, _matches(r"[a-z0-9]{1,10}", "must be 1-10 lower-case letters and digits (cdk bootstrap)")
]


class GitHubDeploySettings(StrictModel):
    """A deploy role that GitHub Actions assumes through OpenID Connect, so the deploy
    workflow needs no stored AWS keys. The role trusts only the given repository (and
    its environments / branches) and may only assume the CDK bootstrap roles."""

    repository: GitHubRepository
    """OWNER/NAME of the GitHub repository whose workflows may deploy. Required."""

    environments: list[GitHubEnvironment] = Field(default_factory=lambda: ["dev", "prod"])
    """GitHub environments whose jobs may assume the role (a job that names an
    environment presents `repo:OWNER/NAME:environment:ENV`). Default: `dev` and `prod`,
    the environments of the shipped deploy workflow."""

    branches: list[GitBranch] = Field(default_factory=list)
    """Branches whose jobs without an environment may assume the role
    (`repo:OWNER/NAME:ref:refs/heads/BRANCH`). Exact names. Default: none."""

    oidc_provider_arn: OidcProviderArn | None = None
    """The account's existing GitHub OIDC provider. An account holds one provider per
    URL, so set this when another stack or tool already created it. Default: none, the
    stack creates the provider."""

    cdk_qualifier: CdkQualifier = "hnb659fds"
    """Qualifier of the CDK bootstrap stack whose roles the deploy role may assume.
    Default: the CDK's default qualifier."""

    max_session_hours: Annotated[int, Field(ge=1, le=12)] = 1
    """Longest session of the deploy role, in hours. Valid range: 1-12. The integration
    test workflow asks for 4 hours: set 4 or more with `integ_environment`."""

    integ_environment: GitHubEnvironment | None = None
    """GitHub environment of the integration test workflow (.github/workflows/integ.yml,
    `make integ` against a sandbox account): its jobs may assume the role too, which may
    then also clear what the integration cases leave in their own stacks before `cdk
    destroy` (empty the buckets and delete the model packages of `smkit-it-*` stacks).
    Deploy only to a sandbox account. Default: none, not trusted."""

    @model_validator(mode="after")
    def _someone_trusted(self) -> GitHubDeploySettings:
        if not self.environments and not self.branches:
            raise InvalidFieldsError(
                [
                    (
                        ("environments",),
                        "environments and branches are both empty: no workflow could assume "
                        "the role; list at least one GitHub environment or branch",
                    )
                ]
            )
        problems: list[tuple[Location, str]] = []
        if self.integ_environment is not None and self.integ_environment in self.environments:
            problems.append(
                (
                    ("integ_environment",),
                    f"{self.integ_environment!r} is also in environments: the integration "
                    "tests need an environment of their own (e.g. integ), so that deploy "
                    "jobs do not get their cleanup permissions",
                )
            )
        for name in ("environments", "branches"):
            values = getattr(self, name)
            problems.extend(
                ((name, index), f"{value!r} is listed twice")
                for index, value in enumerate(values)
                if value in values[:index]
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def subjects(self) -> list[str]:
        """The OIDC `sub` claims the role trusts."""
        environments = [*self.environments, *filter(None, [self.integ_environment])]
        return [f"repo:{self.repository}:environment:{env}" for env in environments] + [
            f"repo:{self.repository}:ref:refs/heads/{branch}" for branch in self.branches
        ]
