from __future__ import annotations

import hashlib
from typing import Any

import botocore.session
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from botocore.validate import ParamValidator

from sagemaker_constructs.cost import SageMakerBudget, budget_name
from tests.oracles.synth import new_stack


def budget_stack(**kwargs: Any) -> tuple[Template, dict[str, str]]:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    alerts = sns.Topic(stack, "Alerts", master_key=key)
    guard = sns.Topic(stack, "Guard", master_key=key)
    props: dict[str, Any] = {
        "budget_name": "demo-sagemaker-monthly",
        "monthly_limit_usd": 1500,
        "tags": {"smkit:platform": "demo"},
        "alerts_topic": alerts,
    }
    props.update({k: guard if v == "guard" else v for k, v in kwargs.items()})
    SageMakerBudget(stack, "Budget", **props)
    ids = {
        "alerts": stack.get_logical_id(alerts.node.default_child),  # type: ignore[arg-type]
        "guard": stack.get_logical_id(guard.node.default_child),  # type: ignore[arg-type]
    }
    return Template.from_stack(stack), ids


def notifications(template: Template) -> list[tuple[str, float, list[Any]]]:
    [budget] = template.find_resources("AWS::Budgets::Budget").values()
    return [
        (
            n["Notification"]["NotificationType"],
            n["Notification"]["Threshold"],
            [s["Address"] for s in n["Subscribers"]],
        )
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    ]


def the_budget(template: Template) -> dict[str, Any]:
    [budget] = template.find_resources("AWS::Budgets::Budget").values()
    data: dict[str, Any] = budget["Properties"]["Budget"]
    return data


def test_monthly_cost_budget_on_sagemaker_and_the_platform_tag_without_credits() -> None:
    template, _ = budget_stack()
    assert the_budget(template) == {
        "BudgetName": "demo-sagemaker-monthly",
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": 1500, "Unit": "USD"},
        "FilterExpression": {
            "And": [
                {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}},
                {"Tags": {"Key": "smkit:platform", "Values": ["demo"]}},
                {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
            ]
        },
        "Metrics": ["UnblendedCost"],
    }


def test_every_tag_must_match() -> None:
    template, _ = budget_stack(tags={"smkit:platform": "demo", "Team": "vision"})
    assert the_budget(template)["FilterExpression"]["And"][1:3] == [
        {"Tags": {"Key": "smkit:platform", "Values": ["demo"]}},
        {"Tags": {"Key": "Team", "Values": ["vision"]}},
    ]


def test_budget_fits_the_budgets_api_model_without_deprecated_fields() -> None:
    """COST-2: CreateBudget takes FilterExpression with Metrics, or the deprecated
    CostFilters with CostTypes, never a mix; every key and value is one the model knows."""
    budget = the_budget(budget_stack(tags={"smkit:platform": "demo", "Team": "vision"})[0])
    assert not {"CostFilters", "CostTypes"} & set(budget)
    assert {"FilterExpression", "Metrics"} <= set(budget)

    model = botocore.session.get_session().get_service_model("budgets")
    request = {
        "AccountId": "123456789012",
        "Budget": {**budget, "BudgetLimit": {"Amount": "1500", "Unit": "USD"}},
    }
    report = ParamValidator().validate(request, model.operation_model("CreateBudget").input_shape)
    assert not report.has_errors(), report.generate_report()

    dimensions, metrics = model.shape_for("Dimension").enum, model.shape_for("Metric").enum
    assert set(budget["Metrics"]) <= set(metrics)

    def keys(expression: dict[str, Any]) -> list[str]:
        found = [expression["Dimensions"]["Key"]] if "Dimensions" in expression else []
        children = [*expression.get("And", [])]
        if "Not" in expression:
            children.append(expression["Not"])
        for child in children:
            found += keys(child)
        return found

    assert sorted(keys(budget["FilterExpression"])) == ["RECORD_TYPE", "SERVICE"]
    assert set(keys(budget["FilterExpression"])) <= set(dimensions)


def test_default_notifications_go_to_the_alerts_topic_and_emails() -> None:
    template, ids = budget_stack(emails=["finops@example.com"])
    alerts = {"Ref": ids["alerts"]}
    assert notifications(template) == [
        ("ACTUAL", 50, [alerts, "finops@example.com"]),
        ("ACTUAL", 80, [alerts, "finops@example.com"]),
        ("ACTUAL", 100, [alerts, "finops@example.com"]),
        ("FORECASTED", 100, [alerts, "finops@example.com"]),
    ]
    template.has_resource_properties(
        "AWS::Budgets::Budget",
        {
            "NotificationsWithSubscribers": Match.array_with(
                [
                    {
                        "Notification": {
                            "NotificationType": "FORECASTED",
                            "ComparisonOperator": "GREATER_THAN",
                            "Threshold": 100,
                            "ThresholdType": "PERCENTAGE",
                        },
                        "Subscribers": [
                            {"SubscriptionType": "SNS", "Address": alerts},
                            {"SubscriptionType": "EMAIL", "Address": "finops@example.com"},
                        ],
                    }
                ]
            )
        },
    )


def test_guard_threshold_notifies_the_guard_topic_instead() -> None:
    template, ids = budget_stack(guard_topic="guard", guard_threshold_percent=100)
    alerts, guard = {"Ref": ids["alerts"]}, {"Ref": ids["guard"]}
    assert notifications(template) == [
        ("ACTUAL", 50, [alerts]),
        ("ACTUAL", 80, [alerts]),
        ("ACTUAL", 100, [guard]),
        ("FORECASTED", 100, [alerts]),
    ]


def test_guard_threshold_of_its_own_adds_a_notification() -> None:
    template, ids = budget_stack(
        guard_topic="guard", guard_threshold_percent=120, forecasted_thresholds_percent=[]
    )
    alerts, guard = {"Ref": ids["alerts"]}, {"Ref": ids["guard"]}
    assert notifications(template) == [
        ("ACTUAL", 50, [alerts]),
        ("ACTUAL", 80, [alerts]),
        ("ACTUAL", 100, [alerts]),
        ("ACTUAL", 120, [guard]),
    ]


def test_budgets_may_publish_to_each_topic_from_this_account_only() -> None:
    template, ids = budget_stack(guard_topic="guard")
    for topic in ("alerts", "guard"):
        template.has_resource_properties(
            "AWS::SNS::TopicPolicy",
            {
                "Topics": [{"Ref": ids[topic]}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Sid": "BudgetsPublishFromThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "budgets.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": {"Ref": ids[topic]},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                "ArnLike": {
                                    "aws:SourceArn": {
                                        "Fn::Join": [
                                            "",
                                            [
                                                "arn:",
                                                {"Ref": "AWS::Partition"},
                                                ":budgets::",
                                                {"Ref": "AWS::AccountId"},
                                                ":*",
                                            ],
                                        ]
                                    }
                                },
                            },
                        }
                    ],
                    "Version": "2012-10-17",
                },
            },
        )


def test_two_budgets_on_one_topic_add_one_statement() -> None:
    stack = new_stack()
    alerts = sns.Topic(stack, "Alerts")
    for team in ("a", "b"):
        SageMakerBudget(
            stack,
            team,
            budget_name=f"demo-{team}",
            monthly_limit_usd=10,
            tags={"Team": team},
            alerts_topic=alerts,
        )
    [policy] = Template.from_stack(stack).find_resources("AWS::SNS::TopicPolicy").values()
    assert len(policy["Properties"]["PolicyDocument"]["Statement"]) == 1


def test_invalid_props_are_all_reported() -> None:
    with pytest.raises(ValueError) as raised:
        budget_stack(
            budget_name="a:b",
            monthly_limit_usd=0,
            tags={},
            actual_thresholds_percent=[50, 50, 2000],
            forecasted_thresholds_percent=[80, 90, 100],
            guard_topic="guard",
            guard_threshold_percent=150,
            emails=[f"p{i}@example.com" for i in range(11)],
        )
    assert str(raised.value) == (
        "Invalid SageMakerBudget props: budget_name must be 1-100 characters without ':', "
        "'\\' or '/action/' (got 'a:b'); monthly_limit_usd must be greater than 0 (got 0); "
        "tags must name at least one cost allocation tag; "
        "actual_thresholds_percent must be unique values of 1-1000 (got [50, 50, 2000]); "
        "a budget takes 1-5 notifications (got 7); emails takes at most 10 (got 11)"
    )


def test_a_valid_budget_name_is_kept() -> None:
    assert budget_name("demo-sagemaker-team-vision") == "demo-sagemaker-team-vision"
    assert budget_name("x" * 100) == "x" * 100


def test_names_sharing_their_first_77_characters_stay_unique_within_100() -> None:
    """COST-3: budget names are unique in the account and at most 100 characters."""
    shared = "demo-sagemaker-team-" + "forecasting-" * 5 + "q"  # 81 characters
    first, second = shared + "-europe-west-demand" * 2, shared + "-europe-east-demand" * 2
    names = [budget_name(first), budget_name(second)]

    assert names[0] != names[1]
    assert [len(n) for n in names] == [100, 100]
    # The same name on every synth: the cut name and a digest of the whole name.
    digest = hashlib.sha256(first.encode()).hexdigest()[:8]
    assert names[0] == first[:91] + "-" + digest
    assert budget_name(first) == names[0]


def test_names_differing_only_in_a_replaced_character_stay_unique() -> None:
    names = {budget_name(n) for n in ("demo-ml:vision", "demo-ml/vision", "demo-ml\\vision")}
    assert len(names) == 3
    assert all(n.startswith("demo-ml-vision-") and len(n) == 23 for n in names)
    assert not any(set(n) & {":", "/", "\\"} for n in names)
