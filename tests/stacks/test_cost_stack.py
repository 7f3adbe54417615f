"""The cost stack of the full config: budgets, their notifications, the guard."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import CfnElement
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

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
    assert budget["CostFilters"] == {
        "Service": ["Amazon SageMaker"],
        "TagKeyValue": ["user:smkit:platform$smkit-full"],
    }
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


def test_team_budget_filters_on_the_team_tag(full_synth: Synthesis) -> None:
    team = budgets(full_synth)["smkit-full-sagemaker-team-forecasting"]
    assert team["Budget"]["CostFilters"] == {
        "Service": ["Amazon SageMaker"],
        "TagKeyValue": ["user:Team$forecasting"],
    }
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


def test_team_budgets_are_named_after_their_team_within_budgets_rules() -> None:
    app = cdk.App(context=cdk_json_context())
    base = cdk.Stack(app, "Base")
    settings = PlatformSettings.model_validate(
        {
            "name_prefix": "demo",
            "cost": {
                "budget": {
                    "monthly_limit_usd": 100,
                    "teams": [
                        {"team": "ml:vision/a", "monthly_limit_usd": 10},
                        {"team": "nlp", "monthly_limit_usd": 20},
                    ],
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
    assert names == [
        "demo-sagemaker-monthly",
        "demo-sagemaker-team-ml-vision-a",
        "demo-sagemaker-team-nlp",
    ]
    assert stack.guard is None
    assert sorted(stack.team_budgets) == ["ml:vision/a", "nlp"]
