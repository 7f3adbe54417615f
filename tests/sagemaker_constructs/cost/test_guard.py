from __future__ import annotations

import fnmatch
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.cost import BudgetGuard
from sagemaker_constructs.cost.runtime import handler
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
        budget_names=kwargs.pop("budget_names", ["demo-sagemaker-monthly"]),
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
                    "BUDGET_NAMES": '["demo-sagemaker-monthly"]',
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
    assert found["FindScalableTargets"]["Action"] == (
        "application-autoscaling:DescribeScalableTargets"
    )
    assert found["FindScalableTargets"]["Resource"] == "*"
    cap = found["CapThePlatformsScalableTargetsOnly"]
    assert cap["Action"] == "application-autoscaling:RegisterScalableTarget"
    assert resolve(cap["Resource"]) == (
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/*"
    )
    assert cap["Condition"] == {"StringEquals": {"aws:ResourceTag/smkit:platform": "demo"}}
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


# --- what the role can touch: its statements evaluated as IAM would -------------------

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
PSEUDO = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
READS = ("List", "Describe", "Get")


def resolve(value: Any) -> Any:
    """A template value with the pseudo parameters filled in."""
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(resolve(p) for p in parts)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in PSEUDO:
        return PSEUDO[value["Ref"]]
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(
    policy: dict[str, dict[str, Any]], action: str, resource: str, tags: dict[str, str]
) -> bool:
    """Whether the role's statements allow `action` on `resource` carrying `tags`: IAM's
    evaluation for Allow statements with StringEquals conditions (anything else fails the
    test rather than being guessed)."""
    for statement in policy.values():
        assert statement["Effect"] == "Allow"
        actions = [a.lower() for a in _as_list(statement["Action"])]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            continue
        resources = [str(resolve(r)) for r in _as_list(statement["Resource"])]
        if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}, conditions
        context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
        if all(context.get(k) == v for k, v in conditions.get("StringEquals", {}).items()):
            return True
    return False


OURS = {"smkit:platform": "demo"}
THEIRS = {"smkit:platform": "someone-else"}


def arn(service: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        (
            "application-autoscaling:RegisterScalableTarget",
            arn("application-autoscaling", "scalable-target/0123abcd"),
        ),
        ("sagemaker:UpdateEndpointWeightsAndCapacities", arn("sagemaker", "endpoint/scored")),
        ("sagemaker:StopTrainingJob", arn("sagemaker", "training-job/train")),
        ("sagemaker:StopNotebookInstance", arn("sagemaker", "notebook-instance/lab")),
        (
            "sagemaker:StopHyperParameterTuningJob",
            arn("sagemaker", "hyper-parameter-tuning-job/hpo"),
        ),
    ],
)
def test_role_can_change_the_platforms_resources_and_no_one_elses(
    action: str, resource: str
) -> None:
    stack, guard, _ = guard_stack(scale_endpoints_to_minimum=True)
    policy = statements(stack, guard)

    assert allowed(policy, action, resource, OURS)
    assert not allowed(policy, action, resource, THEIRS)
    assert not allowed(policy, action, resource, {})


def test_every_write_action_of_the_role_needs_the_platform_tag() -> None:
    stack, guard, _ = guard_stack(scale_endpoints_to_minimum=True)
    tagged = {"StringEquals": {"aws:ResourceTag/smkit:platform": "demo"}}
    writes = []
    for statement in statements(stack, guard).values():
        for action in _as_list(statement["Action"]):
            service, verb = action.split(":")
            if service in ("sagemaker", "application-autoscaling") and not verb.startswith(READS):
                writes.append(action)
                assert statement.get("Condition") == tagged, statement
                assert "*" not in _as_list(statement["Resource"]), statement
    assert sorted(writes) == [
        "application-autoscaling:RegisterScalableTarget",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:StopNotebookInstance",
        "sagemaker:StopProcessingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:StopTransformJob",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
    ]


def test_errors_and_ignored_messages_alarm_on_the_alerts_topic() -> None:
    stack, guard, alerts = guard_stack()
    template = Template.from_stack(stack)
    alerts_ref = {"Ref": stack.get_logical_id(alerts.node.default_child)}  # type: ignore[arg-type]
    function_ref = {"Ref": stack.get_logical_id(guard.function.node.default_child)}  # type: ignore[arg-type]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Lambda",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": function_ref}],
            "Statistic": "Sum",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [alerts_ref],
        },
    )
    # The metric filter matches the record the function writes for an ignored message.
    template.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {
            "LogGroupName": {"Ref": stack.get_logical_id(guard.log_group.node.default_child)},  # type: ignore[arg-type]
            "FilterPattern": f'{{ $.message = "{handler.IGNORED_MESSAGE}" }}',
            "MetricTransformations": [
                Match.object_like(
                    {
                        "MetricNamespace": "smkit/BudgetGuard",
                        "MetricName": "IgnoredMessages",
                        "MetricValue": "1",
                        "Dimensions": [{"Key": "Platform", "Value": "$.platform"}],
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "smkit/BudgetGuard",
            "MetricName": "IgnoredMessages",
            "Dimensions": [{"Name": "Platform", "Value": "demo"}],
            "Threshold": 1,
            "AlarmActions": [alerts_ref],
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
        guard_stack(timeout=cdk.Duration.minutes(20), budget_names=[])
    assert str(raised.value) == (
        "Invalid BudgetGuard props: budget_names must name 1 or more budgets of 1-100 "
        "characters (got []); timeout must be 1-15 minutes (got 20)"
    )


def test_budget_names_reach_the_function_as_json() -> None:
    stack, _, _ = guard_stack(budget_names=["a, b", "c"])
    [function] = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    names = function["Properties"]["Environment"]["Variables"]["BUDGET_NAMES"]
    assert json.loads(names) == ["a, b", "c"]


def test_studio_apps_are_stopped_in_the_platforms_domain_only() -> None:
    # COST-6: DeleteApp on the domain's apps; nothing else of Studio, no delete elsewhere.
    stack, guard, _ = guard_stack(studio_domain_ids=["d-abc123"])
    policy = statements(stack, guard)
    ours = arn("sagemaker", "app/d-abc123/alice-main/JupyterLab/default")
    theirs = arn("sagemaker", "app/d-other/bob-main/JupyterLab/default")
    assert allowed(policy, "sagemaker:DeleteApp", ours, {})
    assert not allowed(policy, "sagemaker:DeleteApp", theirs, {})
    assert not allowed(policy, "sagemaker:DeleteSpace", arn("sagemaker", "space/d-abc123/x"), {})
    assert policy["ListStudioApps"]["Resource"] == "*"
    deletes = [a for s in policy.values() for a in _as_list(s["Action"]) if ":Delete" in a]
    assert deletes == ["sagemaker:DeleteApp"]
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"STUDIO_DOMAIN_IDS": '["d-abc123"]'})}},
    )
    assert unacknowledged_findings(stack.node.root) == []  # type: ignore[arg-type]


def test_without_a_domain_the_guard_has_no_studio_permission() -> None:
    stack, guard, _ = guard_stack()
    policy = statements(stack, guard)
    assert "ListStudioApps" not in policy and "StopThePlatformDomainsAppsOnly" not in policy
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"STUDIO_DOMAIN_IDS": "[]"})}},
    )
