"""The `github_deploy` section: subjects the role trusts, and each mistake reported
with its field path and what is allowed."""

from __future__ import annotations

import pytest

from stacks.settings import ConfigError, parse_settings


def _problems(section: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(f"name_prefix: demo\ngithub_deploy:\n{section}", source="t.yaml")
    return raised.value.problems


def test_off_by_default() -> None:
    assert parse_settings("name_prefix: demo\n").github_deploy is None


def test_defaults_trust_the_workflow_environments() -> None:
    settings = parse_settings("name_prefix: demo\ngithub_deploy:\n  repository: my-org/platform\n")
    deploy = settings.github_deploy
    assert deploy is not None
    assert deploy.subjects() == [
        "repo:my-org/platform:environment:dev",
        "repo:my-org/platform:environment:prod",
    ]
    assert (deploy.cdk_qualifier, deploy.max_session_hours, deploy.oidc_provider_arn) == (
        "hnb659fds",
        1,
        None,
    )


def test_branches_add_ref_subjects() -> None:
    deploy = parse_settings(
        "name_prefix: demo\ngithub_deploy:\n  repository: o/r\n  environments: []\n"
        "  branches: [main, release/2026]\n"
    ).github_deploy
    assert deploy is not None
    assert deploy.subjects() == [
        "repo:o/r:ref:refs/heads/main",
        "repo:o/r:ref:refs/heads/release/2026",
    ]


def test_repository_must_be_owner_and_name() -> None:
    assert _problems("  repository: platform\n") == [
        "github_deploy.repository (line 3): must be OWNER/NAME of a GitHub repository, "
        "e.g. my-org/sagemaker-platform (got 'platform')"
    ]


def test_someone_must_be_trusted() -> None:
    assert _problems("  repository: o/r\n  environments: []\n") == [
        "github_deploy.environments (line 4): environments and branches are both empty: no "
        "workflow could "
        "assume the role; list at least one GitHub environment or branch"
    ]


def test_branch_wildcards_are_refused() -> None:
    assert _problems("  repository: o/r\n  branches: ['release/*']\n") == [
        "github_deploy.branches[0] (line 4): must be an exact branch name such as main "
        "(letters, digits, '.', '_', '-' and '/'; no wildcards) (got 'release/*')"
    ]


def test_existing_provider_must_be_githubs() -> None:
    problems = _problems(
        "  repository: o/r\n  oidc_provider_arn: arn:aws:iam::123456789012:oidc-provider/x\n"
    )
    assert problems[0].startswith(
        "github_deploy.oidc_provider_arn (line 4): must be the ARN of the account's "
        "GitHub OIDC provider"
    )


def test_session_hours_range() -> None:
    assert _problems("  repository: o/r\n  max_session_hours: 13\n") == [
        "github_deploy.max_session_hours (line 4): "
        "Input should be less than or equal to 12 (got 13)"
    ]


def test_names_listed_once() -> None:
    assert _problems("  repository: o/r\n  environments: [dev, dev]\n") == [
        "github_deploy.environments[1] (line 4): 'dev' is listed twice"
    ]
