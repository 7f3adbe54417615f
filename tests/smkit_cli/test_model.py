"""`smkit model list|approve|reject|promote` against moto: the model registry (SageMaker
model packages), the Inference stack's version parameters and the approval workflow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import ACCOUNT, HERE, REGION, Platform, executions, sagemaker_backend

CONFIG = HERE / "approval.yaml"
GROUP = "appr-text-classifier"
STAGING = "appr-text-classifier-staging"
PROD = "appr-text-classifier"


def arn(version: int, group: str = GROUP) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"


def register(platform: Platform, *approvals: str, group: str = GROUP) -> None:
    """Versions 1, 2... of the group, with these approval statuses."""
    sagemaker = platform.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    for approval in approvals:
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/tc:1"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus=approval,
        )


def deploy(platform: Platform, staging: int | None = None, prod: int | None = None) -> None:
    """The Inference stack with its version parameters and the workflow's output."""
    values = {
        "TextClassifierStagingModelVersion": arn(staging) if staging else "",
        "TextClassifierModelVersion": arn(prod) if prod else "",
    }
    template = {
        "Parameters": {key: {"Type": "String", "Default": ""} for key in values},
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "ModelApprovalStateMachineArn": {"Value": platform.state_machine("appr-approval")},
            "TextClassifierEndpointName": {"Value": PROD},
            "TextClassifierStagingEndpointName": {"Value": STAGING},
        },
    }
    platform.client("cloudformation").create_stack(
        StackName="appr-Inference",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )


def described(platform: Platform, version: int) -> dict[str, Any]:
    return dict(platform.client("sagemaker").describe_model_package(ModelPackageName=arn(version)))


def run(platform: Platform, *args: str) -> Any:
    return platform.run("model", *args, config=CONFIG)


@pytest.fixture
def registry(platform: Platform) -> Platform:
    """Version 1 approved and served by both endpoints (promoted), version 2 approved and
    on staging, version 3 waiting for approval."""
    register(platform, "Approved", "Approved", "PendingManualApproval")
    platform.client("sagemaker").update_model_package(
        ModelPackageArn=arn(1),
        ModelApprovalStatus="Approved",
        ApprovalDescription="first model",
        CustomerMetadataProperties={f"smkit:promoted:{PROD}": "2026-03-01T09:00:00+00:00"},
    )
    deploy(platform, staging=2, prod=1)
    platform.endpoint(STAGING)
    platform.endpoint(PROD)
    return platform


def test_list_shows_versions_reasons_and_what_each_endpoint_serves(registry: Platform) -> None:
    result = run(registry, "list", "text-classifier", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [
        (v["version"], v["approval"], v["reason"], v["served_by"], v["promoted_to"])
        for v in listed["versions"]
    ] == [
        (3, "PendingManualApproval", "", [], []),
        (2, "Approved", "", ["text-classifier-staging"], []),
        (1, "Approved", "first model", ["text-classifier"], ["text-classifier"]),
    ]
    assert listed["endpoints"] == [
        {
            "endpoint": "text-classifier-staging",
            "serves": 2,
            "should_serve": 2,
            "endpoint_status": "InService",
            "promoted_from": None,
            "next": "up to date",
        },
        {
            "endpoint": "text-classifier",
            "serves": 1,
            "should_serve": 1,
            "endpoint_status": "InService",
            "promoted_from": "text-classifier-staging",
            "next": "up to date",
        },
    ]


def test_list_as_tables(registry: Platform) -> None:
    result = run(registry, "list", GROUP)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        f"Model package group {GROUP} (training definition text-classifier): 3 version(s), "
        "newest 3 shown"
    )
    assert any("text-classifier (promoted from text-classifier-staging)" in line for line in lines)
    assert any(line.split("│")[1:3] == [" 1       ", " Approved              "] for line in lines)


def test_approve_records_the_reason_and_starts_the_workflow(registry: Platform) -> None:
    result = run(registry, "approve", "text-classifier", "3", "--reason", "macro F1 0.91")
    assert result.exit_code == 0, result.output
    version = described(registry, 3)
    assert (version["ModelApprovalStatus"], version["ApprovalDescription"]) == (
        "Approved",
        "macro F1 0.91",
    )
    (run_,) = executions("appr-approval")
    assert json.loads(run_.execution_input) == {"group": GROUP}
    assert run_.name == "approve-text-classifier-v3-20260302T090000"
    assert result.output.splitlines()[:3] == [
        f"Approved version 3 of {GROUP}.",
        "  text-classifier-staging: serves 2; moves to version 3 (the approval workflow "
        "deploys it)",
        "  text-classifier: serves 1; up to date",
    ]
    assert "Follow it: smkit model list text-classifier" in result.output


def test_approving_again_keeps_the_promotions(registry: Platform) -> None:
    result = run(registry, "approve", "text-classifier", "1", "--reason", "re-checked")
    assert result.exit_code == 0, result.output
    assert described(registry, 1)["CustomerMetadataProperties"] == {
        f"smkit:promoted:{PROD}": "2026-03-01T09:00:00+00:00"
    }


def test_rejecting_a_served_version_says_where_each_endpoint_goes(registry: Platform) -> None:
    result = run(registry, "reject", "text-classifier", "2", "--reason", "bias on short reviews")
    assert result.exit_code == 0, result.output
    assert described(registry, 2)["ModelApprovalStatus"] == "Rejected"
    assert (
        "  text-classifier-staging: serves 2; moves to version 1 (the approval workflow "
        "deploys it)" in result.output
    )

    result = run(registry, "reject", "text-classifier", "1", "--reason", "also biased", "--json")
    report = json.loads(result.output)
    assert report["endpoints"][1] == {
        "endpoint": "text-classifier",
        "serves": 1,
        "should_serve": 1,
        "next": f"no approved version of {GROUP} is promoted from {STAGING}; it keeps serving "
        "version 1",
    }
    assert len(executions("appr-approval")) == 2


def test_promote_marks_the_version_served_by_staging_and_starts_the_workflow(
    registry: Platform,
) -> None:
    result = run(
        registry, "promote", "text-classifier", "2", "--reason", "a week on staging, p99 120ms!"
    )
    assert result.exit_code == 0, result.output
    assert described(registry, 2)["CustomerMetadataProperties"] == {
        f"smkit:promoted:{PROD}": "2026-03-02T09:00:00+00:00",
        f"smkit:promotion-reason:{PROD}": "a week on staging p99 120ms",
    }
    assert described(registry, 2)["ModelApprovalStatus"] == "Approved"
    assert "  text-classifier: serves 1; moves to version 2" in result.output
    (run_,) = executions("appr-approval")
    assert run_.name == "promote-text-classifier-v2-20260302T090000"


def test_promote_needs_the_staging_endpoint_to_serve_the_version_in_service(
    registry: Platform,
) -> None:
    result = run(registry, "promote", "text-classifier", "1", "--reason", "x")
    assert result.exit_code == 2
    assert (
        "Error: text-classifier-staging serves version 2 (InService); promote a version once "
        "the staging endpoint serves it InService" in result.output
    )
    sagemaker_backend().endpoints[STAGING].endpoint_status = "Updating"
    result = run(registry, "promote", "text-classifier", "2", "--reason", "x")
    assert result.exit_code == 2
    assert "serves version 2 (Updating)" in result.output
    result = run(registry, "promote", "text-classifier", "3", "--reason", "x")
    assert result.exit_code == 2
    assert "version 3 of appr-text-classifier is PendingManualApproval (Completed)" in (
        result.output
    )
    assert executions("appr-approval") == []


def test_a_group_no_endpoint_follows_is_approved_without_a_workflow(platform: Platform) -> None:
    register(platform, "PendingManualApproval", group="appr-sentiment-v2")
    result = run(platform, "approve", "sentiment-v2", "1", "--reason", "ok")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Approved version 1 of appr-sentiment-v2.",
        f"No endpoint of {CONFIG} follows appr-sentiment-v2.",
    ]


def test_mistakes_are_named(registry: Platform) -> None:
    result = run(registry, "approve", "text-classifier", "9", "--reason", "x")
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        2,
        f"Error: model package group {GROUP} has no version 9 (versions: 1-3)",
    )
    result = run(registry, "approve", "classifier", "1", "--reason", "x")
    assert result.exit_code == 2
    assert "no training definition 'classifier' in" in result.output
    assert "configured: text-classifier, sentiment-v2" in result.output
    result = run(registry, "reject", "text-classifier", "1", "--reason", "x" * 1025)
    assert result.exit_code == 2
    assert "--reason takes at most 1024 characters (got 1025)" in result.output
    result = run(registry, "approve", "text-classifier", "1")
    assert result.exit_code == 2 and "Missing option '--reason'" in result.output
