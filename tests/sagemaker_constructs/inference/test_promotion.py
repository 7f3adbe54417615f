"""The model approval workflow construct and the conditional endpoint it deploys to:
template assertions, validation messages, and the offline oracles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import CfnCondition, CfnParameter, Fn
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import AsyncVariant, Autoscaling, Endpoint, ModelSource
from sagemaker_constructs.inference.promotion import FollowedGroup, ModelApprovalWorkflow
from tests.oracles.cfn_lint import lint
from tests.oracles.nag import unacknowledged_findings

from .conftest import Platform, platform

GROUP = "smkit-text-classifier"


def follower(shared: Platform, key: str, **endpoint: Any) -> tuple[Endpoint, CfnParameter]:
    """An endpoint serving the version a parameter names, from that version on."""
    parameter = CfnParameter(shared.stack, f"{key}ModelVersion", type="String", default="")
    condition = CfnCondition(
        shared.stack,
        f"{key}Set",
        expression=Fn.condition_not(Fn.condition_equals(parameter.value_as_string, "")),
    )
    made = shared.endpoint(
        key,
        endpoint_name=f"smkit-{key.lower()}",
        model=ModelSource.from_model_package(
            parameter.value_as_string,
            image=ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/tc:1"),
            model_data_bucket=shared.artifacts_bucket,
            model_data_prefix="training/text-classifier/output/",
        ),
        condition=condition,
        **endpoint,
    )
    return made, parameter


@pytest.fixture(scope="module")
def approval() -> tuple[Platform, ModelApprovalWorkflow, dict[str, Any]]:
    shared = platform()
    staging, staging_version = follower(
        shared,
        "Staging",
        variant=AsyncVariant("ml.m5.xlarge"),
        autoscaling=Autoscaling(min_capacity=0, max_capacity=2, target_value=5),
    )
    prod, prod_version = follower(shared, "Prod")
    workflow = ModelApprovalWorkflow(
        shared.stack,
        "Approval",
        followers=[
            FollowedGroup(endpoint=staging, parameter=staging_version, group=GROUP),
            FollowedGroup(
                endpoint=prod, parameter=prod_version, group=GROUP, promoted_from=staging
            ),
        ],
        encryption_key=shared.key,
        alerts_topic=shared.alerts_topic,
    )
    return shared, workflow, Template.from_stack(shared.stack).to_json()


def test_the_endpoint_and_its_autoscaling_exist_only_under_the_condition(
    approval: tuple[Platform, ModelApprovalWorkflow, dict[str, Any]],
) -> None:
    _, _, template = approval
    conditional = sorted(
        (r["Type"], r["Condition"])
        for r in template["Resources"].values()
        if r.get("Condition") == "StagingSet"
    )
    assert conditional == [
        ("AWS::ApplicationAutoScaling::ScalableTarget", "StagingSet"),
        ("AWS::ApplicationAutoScaling::ScalingPolicy", "StagingSet"),
        ("AWS::ApplicationAutoScaling::ScalingPolicy", "StagingSet"),
        ("AWS::CloudWatch::Alarm", "StagingSet"),  # starts the scaling from zero
        ("AWS::SageMaker::Endpoint", "StagingSet"),
        ("AWS::SageMaker::EndpointConfig", "StagingSet"),
        ("AWS::SageMaker::Model", "StagingSet"),
    ]


def test_a_conditional_endpoint_is_granted_by_name(
    approval: tuple[Platform, ModelApprovalWorkflow, dict[str, Any]],
) -> None:
    shared, workflow, _ = approval
    prod = workflow.followers[1].endpoint
    assert shared.stack.resolve(prod.endpoint_arn) == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sagemaker:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":endpoint/smkit-prod",
            ],
        ]
    }


def test_the_workflow_loops_until_done_and_reports_failures(
    approval: tuple[Platform, ModelApprovalWorkflow, dict[str, Any]],
) -> None:
    shared, workflow, template = approval
    logical_id = shared.stack.resolve(workflow.state_machine.node.default_child.logical_id)
    body = template["Resources"][logical_id]["Properties"]["DefinitionString"]
    definition = json.loads(
        "".join(p if isinstance(p, str) else "<ref>" for p in body["Fn::Join"][1])
    )
    states = definition["States"]
    reconcile = states["Reconcile"]
    assert reconcile["Resource"] == "<ref>"  # the step function, invoked directly
    assert reconcile["Parameters"] == {
        "state.$": "$",
        "execution.$": "$$.Execution.Id",
        "started.$": "$$.Execution.StartTime",
    }
    assert reconcile["Next"] == "Next"
    assert reconcile["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyError"}
    ]
    assert states["Next"]["Choices"] == [
        {"Variable": "$.next", "StringEquals": "wait", "Next": "WaitForDeployment"},
        {"Variable": "$.next", "StringEquals": "failed", "Next": "DeploymentRolledBack"},
    ]
    assert states["Next"]["Default"] == "Done"
    assert states["WaitForDeployment"] == {
        "Type": "Wait",
        "SecondsPath": "$.wait_seconds",
        "Next": "Reconcile",
    }
    assert states["DeploymentRolledBack"] == {
        "Type": "Fail",
        "Error": "ModelDeploymentRolledBack",
        "CausePath": "$.message",
    }
    assert states["NotifyError"]["Next"] == "StepFailed"
    assert definition["TimeoutSeconds"] == 24 * 3600


def test_the_step_knows_the_stack_the_followers_and_the_alerts_topic(
    approval: tuple[Platform, ModelApprovalWorkflow, dict[str, Any]],
) -> None:
    shared, workflow, template = approval
    logical_id = shared.stack.resolve(workflow.function.node.default_child.logical_id)
    variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
    assert variables["STACK_NAME"] == "Test"
    assert variables["POLL_SECONDS"] == "60"
    assert json.loads(variables["FOLLOWERS"]) == [
        {
            "endpoint": "smkit-staging",
            "parameter": "StagingModelVersion",
            "group": GROUP,
            "promoted_from": None,
        },
        {
            "endpoint": "smkit-prod",
            "parameter": "ProdModelVersion",
            "group": GROUP,
            "promoted_from": "smkit-staging",
        },
    ]
    handler = template["Resources"][logical_id]["Properties"]["Handler"]
    assert handler == "promotion.handler.handler"


def test_cdk_nag_and_cfn_lint_find_nothing(
    approval: tuple[Platform, ModelApprovalWorkflow, dict[str, Any]], tmp_path: Path
) -> None:
    shared, _, template = approval
    # Only the workflow's and the endpoints' findings: the shared stand-ins are bare.
    findings = unacknowledged_findings(shared.stack.node.root)
    mine = ("Test/Approval/", "Test/Staging/", "Test/Prod/")
    assert [f for f in findings if f.split(" at ")[1].startswith(mine)] == []
    assert findings, "the stand-ins' findings show the oracle ran"
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    errors, _warnings = lint(path, regions=["us-east-1"])
    assert errors == []


def test_every_mistake_is_reported_at_once() -> None:
    shared = platform()
    staging, version = follower(shared, "Staging")
    other, other_version = follower(shared, "Other")
    with pytest.raises(ValueError) as raised:
        ModelApprovalWorkflow(
            shared.stack,
            "Approval",
            followers=[
                FollowedGroup(endpoint=staging, parameter=version, group=GROUP),
                FollowedGroup(endpoint=staging, parameter=version, group=GROUP),
                FollowedGroup(
                    endpoint=other,
                    parameter=other_version,
                    group="smkit-deepar",
                    promoted_from=staging,
                ),
            ],
            encryption_key=shared.key,
            alerts_topic=shared.alerts_topic,
            poll_interval=cdk.Duration.seconds(5),
            timeout=cdk.Duration.hours(100),
        )
    message = str(raised.value)
    for fragment in (
        "each endpoint may follow one group (got ['smkit-staging', 'smkit-staging', "
        "'smkit-other'])",
        "each follower needs its own parameter",
        "smkit-other is promoted from smkit-staging, which must follow the same group "
        "(smkit-deepar) among the followers",
        "poll_interval must be 10 seconds - 15 minutes (got 5 s)",
        "timeout must be 1-72 hours (got 100)",
    ):
        assert fragment in message
    with pytest.raises(ValueError, match="followers needs at least one endpoint"):
        ModelApprovalWorkflow(
            platform().stack,
            "Approval",
            followers=[],
            encryption_key=shared.key,
            alerts_topic=shared.alerts_topic,
        )
