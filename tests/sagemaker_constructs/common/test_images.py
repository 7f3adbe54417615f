from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.common.builtin_images_data import BUILTIN_IMAGES, SERVICE_IMAGES
from tests.oracles.synth import new_stack


def sagemaker_role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def policy_statements(stack: cdk.Stack) -> list[dict]:
    template = Template.from_stack(stack).to_json()
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_builtin_image_resolves_per_region_through_one_mapping() -> None:
    stack = new_stack()
    role = sagemaker_role(stack)
    deepar = ContainerImage.from_builtin("forecasting-deepar").bind(stack, role)
    xgboost = ContainerImage.from_builtin("xgboost").bind(stack, role)
    cdk.CfnOutput(stack, "Deepar", value=deepar)
    cdk.CfnOutput(stack, "Xgboost", value=xgboost)
    template = Template.from_stack(stack).to_json()
    assert template["Outputs"]["Deepar"]["Value"] == {
        "Fn::Join": [
            "",
            [
                {
                    "Fn::FindInMap": [
                        "SageMakerBuiltinImageRegistries",
                        {"Ref": "AWS::Region"},
                        "forecastingdeepar",
                    ]
                },
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/forecasting-deepar:1",
            ],
        ]
    }
    mapping = template["Mappings"]["SageMakerBuiltinImageRegistries"]
    assert mapping["us-east-1"] == {"forecastingdeepar": "522234722520", "xgboost": "683313688378"}
    assert mapping["us-west-2"]["forecastingdeepar"] == "156387875391"
    assert mapping["eu-west-1"]["forecastingdeepar"] == "224300973850"
    assert policy_statements(stack) == []  # AWS-owned images need no pull grant


def test_model_monitor_image_resolves_per_region_without_a_tag() -> None:
    stack = new_stack()
    role = sagemaker_role(stack)
    uri = ContainerImage.from_service("model-monitor").bind(stack, role)
    cdk.CfnOutput(stack, "Analyzer", value=uri)
    template = Template.from_stack(stack).to_json()
    parts = template["Outputs"]["Analyzer"]["Value"]["Fn::Join"][1]
    assert parts[0] == {
        "Fn::FindInMap": ["SageMakerBuiltinImageRegistries", {"Ref": "AWS::Region"}, "modelmonitor"]
    }
    # The SDK resolves the analyzer without a tag: SageMaker runs its latest image.
    assert parts[-1] == "/sagemaker-model-monitor-analyzer"
    mapping = template["Mappings"]["SageMakerBuiltinImageRegistries"]
    assert mapping["us-east-1"] == {"modelmonitor": "156813124566"}
    assert mapping["eu-west-1"]["modelmonitor"] == "468650794304"
    assert policy_statements(stack) == []


def test_service_images_are_not_algorithms_a_config_may_name() -> None:
    assert "model-monitor" in SERVICE_IMAGES
    assert "model-monitor" not in BUILTIN_IMAGES
    with pytest.raises(ValueError, match="unknown built-in algorithm 'model-monitor'"):
        ContainerImage.from_builtin("model-monitor")
    with pytest.raises(
        ValueError, match="unknown SageMaker service image 'xgboost'; known: model-monitor"
    ):
        ContainerImage.from_service("xgboost")


def test_builtin_image_in_a_region_without_it_fails_at_synth() -> None:
    # ap-southeast-7 has SageMaker but, per the SDK's table, no DeepAR image.
    assert "ap-southeast-7" not in BUILTIN_IMAGES["forecasting-deepar"].accounts
    stack = cdk.Stack(
        cdk.App(), "Pinned", env=cdk.Environment(account="123456789012", region="ap-southeast-7")
    )
    with pytest.raises(
        ValueError,
        match=r"built-in algorithm forecasting-deepar has no image in region ap-southeast-7; "
        r"available in: af-south-1, ",
    ):
        ContainerImage.from_builtin("forecasting-deepar").bind(stack, sagemaker_role(stack))


def test_unknown_builtin_algorithm_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown built-in algorithm 'deep-ar'; known: blazingtext, factorization-machines",
    ):
        ContainerImage.from_builtin("deep-ar")


def test_ecr_uri_grants_pull_on_that_repository_only() -> None:
    stack = new_stack()
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/classifier:v3"
    assert ContainerImage.from_uri(uri).bind(stack, sagemaker_role(stack)) == uri
    statements = policy_statements(stack)
    # The same actions as an ECR repository's grant_pull (and the notebook job role's).
    assert {
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ],
        "Effect": "Allow",
        "Resource": {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":ecr:us-east-1:123456789012:repository/team/classifier",
                ],
            ]
        },
    } in statements
    assert {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"} in statements


def test_non_ecr_uri_needs_no_grant_and_bad_uri_is_refused() -> None:
    stack = new_stack()
    ContainerImage.from_uri("public.ecr.aws/team/image:1").bind(stack, sagemaker_role(stack))
    assert policy_statements(stack) == []
    with pytest.raises(
        ValueError,
        match=r"image uri must look like <registry>/<repository>:<tag> \(got 'just a name'\)",
    ):
        ContainerImage.from_uri("just a name")


def test_repository_image_grants_pull() -> None:
    stack = new_stack()
    repository = ecr.Repository.from_repository_name(stack, "Repo", "models")
    ContainerImage.from_ecr_repository(repository, "v1").bind(stack, sagemaker_role(stack))
    actions = [s["Action"] for s in policy_statements(stack)]
    assert [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ] in actions


def test_asset_image_is_shared_per_stack_and_needs_a_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    stack = new_stack()
    image = ContainerImage.from_asset(tmp_path)
    first = image.bind(stack, sagemaker_role(stack))
    second = ContainerImage.from_asset(tmp_path).bind(
        stack, iam.Role(stack, "Other", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    )
    assert stack.resolve(first) == stack.resolve(second)
    with pytest.raises(ValueError, match="has no Dockerfile"):
        ContainerImage.from_asset(tmp_path / "missing")
