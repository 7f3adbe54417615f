"""The private workforce check (WORKFORCE-1: one per account and region). moto does not
mock workforces: ListWorkforces is answered; stacks are moto's."""

from __future__ import annotations

from pathlib import Path

from smkit_cli.deployment import Deployment
from smkit_cli.preflight import Finding
from smkit_cli.preflight.owned import StackResources
from smkit_cli.preflight.workforce import check_workforce

from ..conftest import Platform
from .conftest import answers, denied, make_deployment, workforce, workforces

EXISTING = """
name_prefix: ops
region: us-east-1
labeling:
  workforce:
    mode: existing
    name: default
    identity: cognito
    user_pool_id: {pool}
    client_id: client123
  teams:
    - name: text-reviewers
      groups: [reviewers]
"""


def existing_config(tmp_path: Path, pool: str = "us-east-1_Pool") -> Path:
    config = tmp_path / "existing.yaml"
    config.write_text(EXISTING.format(pool=pool))
    return config


def check(platform: Platform, deployment: Deployment, *found: dict[str, object]) -> list[Finding]:
    with answers(platform, workforces(*found)):
        return check_workforce(deployment, StackResources(deployment))


def test_creating_one_where_none_exists_passes(platform: Platform, deployment: Deployment) -> None:
    (finding,) = check(platform, deployment)
    assert finding.status == "pass"
    assert finding.subject == "private workforce ops"
    assert finding.detail == (
        "account 123456789012, us-east-1 has no private workforce yet: ops will be created"
    )


def test_creating_one_where_the_console_made_one_fails_with_the_config_to_reuse_it(
    platform: Platform, deployment: Deployment
) -> None:
    # WORKFORCE-1 (docs/aws-rules.md): CreateWorkforce fails when one exists.
    (finding,) = check(platform, deployment, workforce("default"))
    assert finding.status == "fail"
    assert finding.detail == (
        "account 123456789012, us-east-1 already has private workforce default (Cognito user "
        "pool us-east-1_Pool, app client client123); SageMaker allows one per account and "
        "region, so creating another fails"
    )
    assert finding.fix == (
        "Reuse it: set labeling.workforce to {mode: existing, name: default, identity: "
        "cognito, user_pool_id: us-east-1_Pool, client_id: client123, portal_url: "
        "https://abc123.labeling.us-east-1.sagemaker.aws} "
        "(docs/preflight.md#an-existing-private-workforce)."
    )


def test_an_oidc_workforce_is_offered_as_identity_oidc(
    platform: Platform, deployment: Deployment
) -> None:
    oidc = workforce("corp", user_pool=None, OidcConfig={"ClientId": "c", "Issuer": "https://idp"})
    (finding,) = check(platform, deployment, oidc)
    assert finding.status == "fail"
    assert "private workforce corp (OIDC issuer https://idp)" in finding.detail
    assert finding.fix is not None
    assert "{mode: existing, name: corp, identity: oidc, portal_url: " in finding.fix


def test_the_platforms_own_workforce_passes(platform: Platform, deployment: Deployment) -> None:
    owned = {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": "PrivateWorkforce",
                "PhysicalResourceId": "ops",
                "ResourceType": "AWS::SageMaker::Workforce",
                "LastUpdatedTimestamp": "2026-03-01T10:00:00Z",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        ]
    }
    platform.deploy("Workforce", {"WorkforceName": "ops"})
    # moto's CloudFormation cannot create a workforce: its resource list is answered.
    with answers(platform, ("cloudformation", "ListStackResources", owned)):
        (finding,) = check(platform, deployment, workforce("ops"))
    assert finding.status == "pass"
    assert finding.detail == "deployed by ops-Workforce"


def test_a_retained_workforce_of_a_deleted_stack_fails(
    platform: Platform, deployment: Deployment
) -> None:
    (finding,) = check(platform, deployment, workforce("ops"))
    assert finding.status == "fail"
    assert "already has private workforce ops" in finding.detail


def test_mode_existing_finds_the_workforce_it_names(platform: Platform, tmp_path: Path) -> None:
    deployment = make_deployment(existing_config(tmp_path))
    (finding,) = check(platform, deployment, workforce("default"))
    assert finding.status == "pass"
    assert finding.detail == (
        "found in account 123456789012, us-east-1 (Cognito user pool us-east-1_Pool, app "
        "client client123)"
    )


def test_mode_existing_with_another_user_pool_fails(platform: Platform, tmp_path: Path) -> None:
    deployment = make_deployment(existing_config(tmp_path, pool="us-east-1_Old"))
    (finding,) = check(platform, deployment, workforce("default"))
    assert finding.status == "fail"
    assert finding.detail == (
        "workforce default does not match the config: its user pool is us-east-1_Pool, not "
        "us-east-1_Old"
    )


def test_mode_existing_without_the_workforce_fails(platform: Platform, tmp_path: Path) -> None:
    deployment = make_deployment(existing_config(tmp_path))
    (finding,) = check(platform, deployment)
    assert finding.status == "fail"
    assert finding.detail == (
        "account 123456789012, us-east-1 has no private workforce default (it has none)"
    )
    assert finding.fix == (
        "Create one (mode: cognito or oidc), or make one in the SageMaker console (Labeling "
        "workforces > Private) first."
    )
    (renamed,) = check(platform, make_deployment(existing_config(tmp_path)), workforce("labelers"))
    assert renamed.detail.endswith("has no private workforce default (it has labelers)")


def test_a_config_without_a_workforce_is_not_checked(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text("name_prefix: ops\nregion: us-east-1\n")
    deployment = make_deployment(config)
    assert check_workforce(deployment, StackResources(deployment)) == []


def test_denied_listing_is_unknown(platform: Platform, deployment: Deployment) -> None:
    with answers(
        platform, ("sagemaker", "ListWorkforces", denied("sagemaker:ListWorkforces")), status=400
    ):
        (finding,) = check_workforce(deployment, StackResources(deployment))
    assert finding.status == "unknown"
    assert finding.permission == "sagemaker:ListWorkforces"
