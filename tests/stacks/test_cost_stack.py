"""The cost stack of the full config: budgets, their notifications, the guard."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import CfnElement
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.cost import budget_name
from stacks.cost_stack import CostStack
from stacks.foundation_stack import LOGICAL_IDS
from stacks.settings import PlatformSettings
from tests.oracles.synth import Synthesis, cdk_json_context


def budgets(synthesis: Synthesis) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Budget"]["BudgetName"]: r["Properties"]
        for r in synthesis.resources("Cost", "AWS::Budgets::Budget").values()
    }


def test_only_a_config_with_a_budget_gets_a_cost_stack(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    assert "smkit-Cost" not in default_synth.stack_names
    assert default_synth.platform.cost is None
    assert "smkit-full-Cost" in full_synth.stack_names
    cost = full_synth.platform.cost
    assert cost is not None
    assert cost.termination_protection is False  # stateless


def test_platform_budget_filters_on_sagemaker_and_the_platform_tag(full_synth: Synthesis) -> None:
    budget = budgets(full_synth)["smkit-full-sagemaker-monthly"]["Budget"]
    assert budget["BudgetLimit"] == {"Amount": 2000, "Unit": "USD"}
    assert budget["FilterExpression"] == {
        "And": [
            {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}},
            {"Tags": {"Key": "smkit:platform", "Values": ["smkit-full"]}},
            {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
        ]
    }
    assert budget["Metrics"] == ["UnblendedCost"]
    assert "CostFilters" not in budget and "CostTypes" not in budget
    assert (budget["BudgetType"], budget["TimeUnit"]) == ("COST", "MONTHLY")


def test_breach_goes_to_the_guard_and_the_rest_to_the_alerts_topic(full_synth: Synthesis) -> None:
    budget = budgets(full_synth)["smkit-full-sagemaker-monthly"]
    cost = full_synth.platform.cost
    assert cost is not None and cost.guard is not None
    topic = cost.guard.topic.node.default_child
    assert isinstance(topic, CfnElement)
    guard_ref = {"Ref": cost.get_logical_id(topic)}
    seen = []
    for entry in budget["NotificationsWithSubscribers"]:
        notification = entry["Notification"]
        sns, email = entry["Subscribers"]
        seen.append((notification["NotificationType"], notification["Threshold"]))
        assert email == {"SubscriptionType": "EMAIL", "Address": "finops@example.com"}
        if notification == {
            "NotificationType": "ACTUAL",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 100,
            "ThresholdType": "PERCENTAGE",
        }:
            assert sns == {"SubscriptionType": "SNS", "Address": guard_ref}
        else:
            # The alerts topic lives in the foundation stack.
            assert sns["SubscriptionType"] == "SNS"
            assert "AlertsTopic" in str(sns["Address"])
    assert seen == [("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)]


def test_team_budget_counts_the_teams_spend_on_this_platform(full_synth: Synthesis) -> None:
    team = budgets(full_synth)["smkit-full-sagemaker-team-forecasting"]
    assert team["Budget"]["FilterExpression"]["And"] == [
        {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}},
        {"Tags": {"Key": "smkit:platform", "Values": ["smkit-full"]}},
        {"Tags": {"Key": "Team", "Values": ["forecasting"]}},
        {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
    ]
    assert team["Budget"]["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    addresses = [s["Address"] for s in team["NotificationsWithSubscribers"][0]["Subscribers"]]
    assert addresses[1:] == ["forecasting-lead@example.com"]


def test_alerts_topic_lets_budgets_of_this_account_publish(full_synth: Synthesis) -> None:
    full_synth.assertions("Foundation").has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": LOGICAL_IDS["alerts_topic"]}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "budgets.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Condition": Match.object_like(
                                    {
                                        "StringEquals": {
                                            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
                                        }
                                    }
                                ),
                            }
                        )
                    ]
                )
            },
        },
    )


def test_guard_acts_on_this_deployment_and_scales_endpoints_as_configured(
    full_synth: Synthesis,
) -> None:
    template = full_synth.assertions("Cost")
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "PLATFORM_TAG_KEY": "smkit:platform",
                        "PLATFORM_TAG_VALUE": "smkit-full",
                        "BUDGET_NAMES": '["smkit-full-sagemaker-monthly"]',
                        "DRY_RUN": "false",
                        "SCALE_ENDPOINTS": "true",
                    }
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "StopAndDescribeThePlatformsResourcesOnly",
                                "Condition": {
                                    "StringEquals": {"aws:ResourceTag/smkit:platform": "smkit-full"}
                                },
                            }
                        )
                    ]
                )
            }
        },
    )
    template.resource_count_is("AWS::SNS::Subscription", 1)
    outputs = full_synth.template("Cost")["Outputs"]
    assert outputs["BudgetName"]["Value"] == "smkit-full-sagemaker-monthly"


def cost_stack(teams: list[str]) -> tuple[CostStack, list[str]]:
    app = cdk.App(context=cdk_json_context())
    base = cdk.Stack(app, "Base")
    settings = PlatformSettings.model_validate(
        {
            "name_prefix": "demo",
            "cost": {
                "budget": {
                    "monthly_limit_usd": 100,
                    "teams": [{"team": t, "monthly_limit_usd": 10} for t in teams],
                }
            },
        }
    )
    assert settings.cost is not None and settings.cost.budget is not None
    stack = CostStack(
        app,
        "Cost",
        settings=settings,
        budget=settings.cost.budget,
        platform_tag=("smkit:platform", "demo"),
        encryption_key=kms.Key(base, "Key"),
        alerts_topic=sns.Topic(base, "Alerts"),
    )
    names = sorted(
        r["Properties"]["Budget"]["BudgetName"]
        for r in Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()
    )
    return stack, names


def test_team_budgets_are_named_after_their_team_within_budgets_rules() -> None:
    stack, names = cost_stack(["ml:vision/a", "ml-vision-a", "nlp"])
    assert names == [
        "demo-sagemaker-monthly",
        "demo-sagemaker-team-ml-vision-a",
        budget_name("demo-sagemaker-team-ml:vision/a"),
        "demo-sagemaker-team-nlp",
    ]
    assert names[2].startswith("demo-sagemaker-team-ml-vision-a-")
    assert stack.guard is None
    assert sorted(stack.team_budgets) == ["ml-vision-a", "ml:vision/a", "nlp"]


def test_long_team_names_sharing_a_prefix_get_unique_stable_budget_names() -> None:
    """Issue 13 item 14: two team names sharing their first 77 characters truncated to
    one budget name and failed the deploy."""
    shared = "forecasting-" * 6 + "demand-"  # 79 characters
    teams = [shared + "europe-west", shared + "europe-east"]
    _, names = cost_stack(teams)
    _, alone = cost_stack(teams[1:])

    team_names = [n for n in names if n != "demo-sagemaker-monthly"]
    assert len(set(team_names)) == 2
    assert all(len(n) == 100 for n in team_names)
    # Stable: each name depends on its team only, not on the other teams configured.
    assert budget_name(f"demo-sagemaker-team-{teams[1]}") in alone
    assert set(alone) < set(names)


def test_a_team_whose_budget_name_another_budget_has_is_refused() -> None:
    taken = budget_name("demo-sagemaker-team-ml:a")  # ends with '-' and 8 hex digits
    with pytest.raises(ValueError) as raised:
        cost_stack(["ml:a", taken.removeprefix("demo-sagemaker-team-")])
    assert str(raised.value) == (
        f"cost.budget.teams[1].team: team {taken.removeprefix('demo-sagemaker-team-')!r} "
        f"would get the budget name {taken!r}, which team 'ml:a' already has; budget names "
        "are unique in an account, so rename the team"
    )
