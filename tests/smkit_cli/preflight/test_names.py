"""Names the platform's stacks would create that already exist outside them (moto's
SageMaker, Cognito and CloudFormation)."""

from __future__ import annotations

from smkit_cli.deployment import Deployment
from smkit_cli.preflight import Finding
from smkit_cli.preflight.names import PlannedName, check_names, planned_names
from smkit_cli.preflight.owned import StackResources
from stacks.settings import load_settings

from ..conftest import ACCOUNT, OPS_CONFIG, Platform
from .conftest import answers, denied


def findings(deployment: Deployment) -> dict[str, Finding]:
    return {f.subject: f for f in check_names(deployment, StackResources(deployment))}


def test_the_config_plans_its_fixed_names() -> None:
    assert planned_names(load_settings(OPS_CONFIG)) == [
        PlannedName(
            "endpoint",
            "ops-demand-forecast",
            "Inference",
            "AWS::SageMaker::Endpoint",
            "inference.endpoints.demand-forecast",
        ),
        PlannedName(
            "endpoint",
            "ops-text-classifier",
            "Inference",
            "AWS::SageMaker::Endpoint",
            "inference.endpoints.text-classifier",
        ),
        PlannedName(
            "notebook instance",
            "ops-research",
            "Notebooks",
            "AWS::SageMaker::NotebookInstance",
            "notebooks.instances[0].name",
        ),
        PlannedName(
            "model package group",
            "ops-text-classifier",
            "ModelRegistry",
            "AWS::SageMaker::ModelPackageGroup",
            "training.definitions.text-classifier",
        ),
        PlannedName(
            "Cognito domain",
            "ops-labelers",
            "Workforce",
            "AWS::Cognito::UserPoolDomain",
            "labeling.workforce.domain_prefix",
        ),
    ]


def test_free_names_pass(platform: Platform, deployment: Deployment) -> None:
    found = check_names(deployment, StackResources(deployment))
    assert [(f.subject, f.status, f.detail) for f in found] == [
        ("endpoint ops-demand-forecast", "pass", "free"),
        ("endpoint ops-text-classifier", "pass", "free"),
        ("notebook instance ops-research", "pass", "free"),
        ("model package group ops-text-classifier", "pass", "free"),
        ("Cognito domain ops-labelers", "pass", "free"),
    ]


def test_an_endpoint_made_outside_the_stacks_fails(
    platform: Platform, deployment: Deployment
) -> None:
    platform.endpoint("ops-demand-forecast")
    finding = findings(deployment)["endpoint ops-demand-forecast"]
    assert finding.status == "fail"
    assert finding.detail == (
        "exists in account 123456789012, us-east-1 outside ops-Inference: CloudFormation "
        "cannot create it again"
    )
    assert finding.fix == (
        "Rename inference.endpoints.demand-forecast, or delete the endpoint "
        "ops-demand-forecast once nothing on it is needed."
    )


def test_a_notebook_of_the_platforms_stack_passes(
    platform: Platform, deployment: Deployment
) -> None:
    platform.notebook("ops-research", "InService")
    platform.deploy("Notebooks", {})
    # moto's CloudFormation names notebooks itself, so the stack's resources are answered,
    # with the instance's ARN as CloudFormation gives it.
    resources = {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": "NotebookResearch",
                "PhysicalResourceId": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:notebook-instance/"
                "ops-research",
                "ResourceType": "AWS::SageMaker::NotebookInstance",
                "LastUpdatedTimestamp": "2026-03-01T10:00:00Z",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        ]
    }
    with answers(platform, ("cloudformation", "ListStackResources", resources)):
        finding = findings(deployment)["notebook instance ops-research"]
    assert finding.status == "pass"
    assert finding.detail == "deployed by ops-Notebooks"


def test_a_notebook_outside_the_platforms_stack_fails(
    platform: Platform, deployment: Deployment
) -> None:
    platform.notebook("ops-research", "Stopped")
    platform.deploy("Notebooks", {})
    finding = findings(deployment)["notebook instance ops-research"]
    assert finding.status == "fail"
    assert finding.fix == (
        "Rename notebooks.instances[0].name, or delete the notebook instance ops-research "
        "once nothing on it is needed."
    )


def test_a_retained_model_package_group_fails(platform: Platform, deployment: Deployment) -> None:
    platform.client("sagemaker").create_model_package_group(
        ModelPackageGroupName="ops-text-classifier"
    )
    finding = findings(deployment)["model package group ops-text-classifier"]
    assert finding.status == "fail"
    assert finding.fix == (
        "It outlived an earlier deployment (groups are retained): bring it back under "
        "ops-ModelRegistry with `npx cdk import`, or change name_prefix."
    )


def test_a_cognito_domain_of_another_user_pool_here_fails(
    platform: Platform, deployment: Deployment
) -> None:
    cognito = platform.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="old-labelers")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain="ops-labelers", UserPoolId=pool)
    finding = findings(deployment)["Cognito domain ops-labelers"]
    assert finding.status == "fail"
    assert finding.detail.startswith(
        "exists in account 123456789012, us-east-1 outside ops-Workforce"
    )
    assert finding.fix == "Choose another labeling.workforce.domain_prefix."


def test_a_cognito_domain_of_another_account_fails(
    platform: Platform, deployment: Deployment
) -> None:
    # Cognito domain prefixes are unique per region across accounts; moto knows one account.
    taken = {
        "DomainDescription": {
            "UserPoolId": "us-east-1_Other",
            "AWSAccountId": "999999999999",
            "Domain": "ops-labelers",
            "Status": "ACTIVE",
        }
    }
    with answers(platform, ("cognito-idp", "DescribeUserPoolDomain", taken)):
        finding = findings(deployment)["Cognito domain ops-labelers"]
    assert finding.status == "fail"
    assert finding.detail == (
        "taken by another AWS account (999999999999): Cognito domain prefixes are unique in "
        "us-east-1 across all accounts"
    )


def test_a_denied_describe_is_unknown(platform: Platform, deployment: Deployment) -> None:
    with answers(
        platform,
        ("sagemaker", "DescribeEndpoint", denied("sagemaker:DescribeEndpoint")),
        status=400,
    ):
        finding = findings(deployment)["endpoint ops-demand-forecast"]
    assert finding.status == "unknown"
    assert finding.permission == "sagemaker:DescribeEndpoint"
