from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.cost import BudgetGuard
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.synth import new_stack

STOPS = [
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeNotebookInstance",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopNotebookInstance",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
]


def guard_stack(**kwargs: Any) -> tuple[cdk.Stack, BudgetGuard, sns.Topic]:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    alerts = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
    guard = BudgetGuard(
        stack,
        "Guard",
        encryption_key=key,
        alerts_topic=alerts,
        tag_key="smkit:platform",
        tag_value="demo",
        **kwargs,
    )
    return stack, guard, alerts


def statements(stack: cdk.Stack, guard: BudgetGuard) -> dict[str, dict[str, Any]]:
    template = Template.from_stack(stack).to_json()
    role_id = stack.get_logical_id(guard.role.node.default_child)  # type: ignore[arg-type]
    [policy] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    found = policy["Properties"]["PolicyDocument"]["Statement"]
    return {s.get("Sid", str(s["Action"])): s for s in found}


def resource_types(resources: list[dict[str, Any]]) -> set[str]:
    """`training-job` for `arn:<partition>:sagemaker:<region>:<account>:training-job/*`."""
    types = set()
    for resource in resources:
        parts = resource["Fn::Join"][1]
        assert parts[:6] == [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":sagemaker:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
        ]
        assert parts[6].endswith("/*")
        types.add(parts[6][1:-2])
    return types


def test_function_subscribes_to_its_own_encrypted_tls_only_topic() -> None:
    stack, guard, alerts = guard_stack()
    template = Template.from_stack(stack)
    topic_id = stack.get_logical_id(guard.topic.node.default_child)  # type: ignore[arg-type]
    function_id = stack.get_logical_id(guard.function.node.default_child)  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"DisplayName": "SageMaker budget guard", "KmsMasterKeyId": Match.any_value()},
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "lambda",
            "TopicArn": {"Ref": topic_id},
            "Endpoint": {"Fn::GetAtt": [function_id, "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )
    alerts_id = stack.get_logical_id(alerts.node.default_child)  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handler.handler",
            "Timeout": 300,
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "Environment": {
                "Variables": {
                    "PLATFORM_TAG_KEY": "smkit:platform",
                    "PLATFORM_TAG_VALUE": "demo",
                    "ALERTS_TOPIC_ARN": {"Ref": alerts_id},
                    "DRY_RUN": "false",
                    "SCALE_ENDPOINTS": "false",
                }
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_id},
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Ref": alerts_id}}},
        },
    )


def test_role_lists_reads_tags_and_stops_only_tagged_resources() -> None:
    stack, guard, _ = guard_stack()
    found = statements(stack, guard)
    assert found["ListRunningWork"] == {
        "Sid": "ListRunningWork",
        "Effect": "Allow",
        "Action": [
            "sagemaker:ListEndpoints",
            "sagemaker:ListHyperParameterTuningJobs",
            "sagemaker:ListNotebookInstances",
            "sagemaker:ListProcessingJobs",
            "sagemaker:ListTrainingJobs",
            "sagemaker:ListTransformJobs",
        ],
        "Resource": "*",
    }
    assert found["ReadTagsToFindThePlatformsResources"]["Action"] == "sagemaker:ListTags"
    stop = found["StopAndDescribeThePlatformsResourcesOnly"]
    assert stop["Action"] == STOPS
    assert stop["Condition"] == {"StringEquals": {"aws:ResourceTag/smkit:platform": "demo"}}
    assert resource_types(stop["Resource"]) == {
        "hyper-parameter-tuning-job",
        "training-job",
        "processing-job",
        "transform-job",
        "notebook-instance",
    }
    tags = found["ReadTagsToFindThePlatformsResources"]["Resource"]
    assert resource_types(tags) == resource_types(stop["Resource"]) | {"endpoint"}
    actions: list[str] = []
    for statement in found.values():
        action = statement["Action"]
        actions.extend([action] if isinstance(action, str) else action)
    sagemaker = [a for a in actions if a.startswith("sagemaker:")]
    assert [
        a
        for a in sagemaker
        if not a.startswith(("sagemaker:List", "sagemaker:Describe", "sagemaker:Stop"))
    ] == []
    assert [a for a in actions if a.startswith("application-autoscaling:")] == []
    assert sorted(found) == sorted(
        [
            "['logs:CreateLogStream', 'logs:PutLogEvents']",
            "['kms:Decrypt', 'kms:GenerateDataKey*']",
            "sns:Publish",
            "ListRunningWork",
            "ReadTagsToFindThePlatformsResources",
            "StopAndDescribeThePlatformsResourcesOnly",
        ]
    )


def test_endpoint_scaling_adds_only_tag_scoped_endpoint_permissions() -> None:
    stack, guard, _ = guard_stack(scale_endpoints_to_minimum=True, dry_run=True)
    found = statements(stack, guard)
    assert found["CapEndpointVariantsThroughAutoScaling"]["Action"] == [
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:RegisterScalableTarget",
    ]
    scale = found["ScaleThePlatformsEndpointsOnly"]
    assert scale["Action"] == [
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
    ]
    assert resource_types(scale["Resource"]) == {"endpoint", "endpoint-config"}
    assert scale["Condition"] == {"StringEquals": {"aws:ResourceTag/smkit:platform": "demo"}}
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({"DRY_RUN": "true", "SCALE_ENDPOINTS": "true"})
            }
        },
    )


def test_cdk_nag_clean_with_every_acknowledgement_specific() -> None:
    stack, _, _ = guard_stack(scale_endpoints_to_minimum=True)
    app = stack.node.root
    assert isinstance(app, cdk.App)
    app.synth()
    assert unacknowledged_findings(app) == []


def test_invalid_props_are_all_reported() -> None:
    with pytest.raises(ValueError) as raised:
        guard_stack(timeout=cdk.Duration.minutes(20))
    assert str(raised.value) == ("Invalid BudgetGuard props: timeout must be 1-15 minutes (got 20)")
