"""The cost allocation tags the budgets filter on (Cost Explorer's ListCostAllocationTags,
which moto does not mock: answered)."""

from __future__ import annotations

from pathlib import Path

from smkit_cli.deployment import Deployment
from smkit_cli.preflight.cost_tags import check_cost_tags

from ..conftest import Platform
from .conftest import answers, cost_tags, denied, make_deployment, requests

TEAMS = """
name_prefix: ops
region: us-east-1
cost:
  budget:
    monthly_limit_usd: 100
    team_tag_key: CostCenter
    teams: [{team: forecasting, monthly_limit_usd: 50}]
"""


def test_an_active_platform_tag_passes(platform: Platform, deployment: Deployment) -> None:
    with answers(platform, cost_tags({"smkit:platform": "Active"})) as received:
        (finding,) = check_cost_tags(deployment)
    assert requests(received["ListCostAllocationTags"]) == [{"TagKeys": ["smkit:platform"]}]
    assert finding.subject == "cost allocation tag smkit:platform"
    assert finding.status == "pass"


def test_an_inactive_tag_fails_with_the_command_that_activates_it(
    platform: Platform, deployment: Deployment
) -> None:
    with answers(platform, cost_tags({"smkit:platform": "Inactive"})):
        (finding,) = check_cost_tags(deployment)
    assert finding.status == "fail"
    assert finding.detail == "inactive: the budget counts none of the spend tagged with it"
    assert finding.fix == (
        "aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
        "TagKey=smkit:platform,Status=Active"
    )


def test_a_tag_not_listed_yet_is_unknown_until_after_the_first_deploy(
    platform: Platform, deployment: Deployment
) -> None:
    with answers(platform, cost_tags({})):
        (finding,) = check_cost_tags(deployment)
    assert finding.status == "unknown"
    assert finding.cause is None
    assert finding.detail.startswith(
        "not listed yet: AWS lists a tag key up to 24 hours after a resource first carries it"
    )
    assert finding.fix is not None
    assert finding.fix.startswith("After `make deploy`, once it is listed: aws ce ")


def test_team_budgets_need_the_team_tag_too(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "teams.yaml"
    config.write_text(TEAMS)
    statuses = {"smkit:platform": "Active", "CostCenter": "Inactive"}
    with answers(platform, cost_tags(statuses)) as received:
        found = check_cost_tags(make_deployment(config))
    assert requests(received["ListCostAllocationTags"]) == [
        {"TagKeys": ["smkit:platform", "CostCenter"]}
    ]
    assert [(f.subject, f.status) for f in found] == [
        ("cost allocation tag smkit:platform", "pass"),
        ("cost allocation tag CostCenter", "fail"),
    ]


def test_no_budget_no_tag_check(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text("name_prefix: ops\nregion: us-east-1\n")
    assert check_cost_tags(make_deployment(config)) == []


def test_a_member_account_is_told_who_manages_the_tags(
    platform: Platform, deployment: Deployment
) -> None:
    with answers(
        platform, ("ce", "ListCostAllocationTags", denied("ce:ListCostAllocationTags")), status=400
    ):
        (finding,) = check_cost_tags(deployment)
    assert finding.status == "unknown"
    assert finding.permission == "ce:ListCostAllocationTags"
    assert finding.fix == (
        "Only the organization's management account (or a standalone account) manages cost "
        "allocation tags: ask its owner to check smkit:platform, or grant "
        "ce:ListCostAllocationTags."
    )
