"""What `make deploy` passes to `cdk deploy` for the model versions endpoints serve: never
a value for a parameter the stack has (the approval workflow owns it and the pinned CDK
CLI keeps it), the version approvals would choose for a new one, and a stop where the
deploy would take a running endpoint down. Against moto's CloudFormation and SageMaker."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from sagemaker_constructs.inference.runtime.promotion.versions import (
    Follower,
    parameter_pattern,
)
from tests.oracles.synth import ROOT
from tests.tools.assemblies import write_assembly
from tools.deploy_parameters import main

# moto's CloudFormation skips the types it does not model; the tool reads templates whole.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

STACK = "smkit-Inference"
GROUP = "smkit-text-classifier"
OTHER_GROUP = "smkit-deepar-demand"
STAGING = Follower("smkit-staging", "StagingModelVersion", GROUP)
PROD = Follower("smkit-prod", "ProdModelVersion", GROUP, "smkit-staging")


def version_arn(version: int, group: str = GROUP) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{version}"


def inference_template(followers: list[Follower]) -> dict[str, Any]:
    """The parts of the Inference stack the tool reads: the approval step's followers,
    the version parameters and the endpoints under their conditions."""
    template: dict[str, Any] = {
        "Parameters": {},
        "Conditions": {},
        "Resources": {
            "ApprovalStep": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Handler": "promotion.handler.handler",
                    "Environment": {
                        "Variables": {"FOLLOWERS": json.dumps([f.to_json() for f in followers])}
                    },
                },
            }
        },
    }
    for follower in followers:
        template["Parameters"][follower.parameter] = {
            "Type": "String",
            "Default": "",
            "AllowedPattern": parameter_pattern(follower.group),
        }
        template["Conditions"][f"{follower.parameter}Set"] = {
            "Fn::Not": [{"Fn::Equals": [{"Ref": follower.parameter}, ""]}]
        }
        template["Resources"][f"{follower.parameter}Endpoint"] = {
            "Type": "AWS::SageMaker::Endpoint",
            "Condition": f"{follower.parameter}Set",
            "Properties": {"EndpointName": follower.endpoint, "EndpointConfigName": "config"},
        }
    return template


def registry(*approved: int, group: str = GROUP) -> None:
    """A group whose versions 1..max exist; those in `approved` are approved."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)
    for number in range(1, max(approved, default=1) + 1):
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tc:1"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus="Approved" if number in approved else "PendingManualApproval",
        )


def deployed(template: dict[str, Any], **parameters: str) -> None:
    """The stack as CloudFormation holds it, with these parameter values (an endpoint
    whose parameter is set runs: moto needs its configuration to exist)."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_model(
        ModelName="model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/endpoint",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tc:1"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "model",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    # The approval step is left out: moto would need its code, and the tool reads the
    # followers from the new assembly.
    body = {**template, "Resources": dict(template["Resources"])}
    body["Resources"].pop("ApprovalStep")
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": parameters.get(key, "")}
            for key in template["Parameters"]
        ],
    )


def run(
    tmp_path: Path, template: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    outdir = write_assembly(tmp_path / "out", {STACK: template})
    code = main([str(outdir)], session=boto3.Session(region_name="us-east-1"))
    printed = capsys.readouterr()
    return code, printed.out.strip(), printed.err


@mock_aws
def test_a_new_stack_starts_with_the_versions_approvals_would_choose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry(2, 3)
    code, out, err = run(tmp_path, inference_template([STAGING, PROD]), capsys)
    assert code == 0
    assert out == f"--parameters {STACK}:StagingModelVersion={version_arn(3)}"
    assert "smkit-staging: starts with version 3 of smkit-text-classifier" in err
    assert (
        "smkit-prod: no approved version of smkit-text-classifier yet; the endpoint appears "
        "when one is approved" in err
    )


@mock_aws
def test_a_deployed_version_is_never_passed_so_cdk_deploy_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry(1, 2, 4)  # version 4 was approved since: the approval workflow deploys it
    template = inference_template([STAGING, PROD])
    deployed(template, StagingModelVersion=version_arn(2))
    code, out, err = run(tmp_path, template, capsys)
    assert (code, out) == (0, "")
    assert "smkit-staging: keeps version 2 (set by approvals)" in err
    assert "smkit-prod: waits for its first approved version (kept)" in err


@mock_aws
def test_an_endpoint_that_now_follows_another_group_starts_with_its_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry(1, group=OTHER_GROUP)
    registry(5)
    deployed(inference_template([STAGING]), StagingModelVersion=version_arn(5))
    moved = Follower(STAGING.endpoint, STAGING.parameter, OTHER_GROUP)
    code, out, _ = run(tmp_path, inference_template([moved]), capsys)
    assert (code, out) == (
        0,
        f"--parameters {STACK}:StagingModelVersion={version_arn(1, OTHER_GROUP)}",
    )


@mock_aws
def test_a_running_endpoint_is_not_deleted_for_want_of_an_approved_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry(3)
    registry(group=OTHER_GROUP)  # version 1, not approved
    deployed(inference_template([STAGING]), StagingModelVersion=version_arn(3))
    moved = Follower(STAGING.endpoint, STAGING.parameter, OTHER_GROUP)
    code, out, err = run(tmp_path, inference_template([moved]), capsys)
    assert (code, out) == (1, "")
    assert err == (
        "Nothing was deployed: endpoint smkit-staging runs now and would be deleted: it now "
        "follows smkit-deepar-demand, which has no approved version. Approve one first "
        "(smkit model approve smkit-deepar-demand <version> --reason ...), then deploy.\n"
    )


@mock_aws
def test_a_stack_being_updated_stops_the_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.cloudformation.models import cloudformation_backends

    registry(1)
    template = inference_template([STAGING])
    deployed(template)
    (stack,) = cloudformation_backends["123456789012"]["us-east-1"].stacks.values()
    stack.status = "UPDATE_IN_PROGRESS"
    code, _, err = run(tmp_path, template, capsys)
    assert code == 1
    assert err.startswith(
        f"Nothing was deployed: stack {STACK} is UPDATE_IN_PROGRESS: an approved model "
        "version may be deploying"
    )


@mock_aws
def test_unreadable_versions_stop_the_deploy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = botocore.session.get_session()

    def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse("https://sagemaker", 400, {}, None), error

    session.register("before-call.sagemaker.ListModelPackages", deny)
    outdir = write_assembly(tmp_path / "out", {STACK: inference_template([STAGING])})
    code = main(
        [str(outdir)], session=boto3.Session(botocore_session=session, region_name="us-east-1")
    )
    printed = capsys.readouterr()
    assert (code, printed.out) == (1, "")
    assert printed.err == (
        "Nothing was deployed: the model versions the endpoints serve could not be read "
        "(An error occurred (AccessDeniedException) when calling the "
        "ListModelPackages operation: not authorized). `make deploy` needs them to keep what "
        "approvals deployed.\n"
    )


def test_an_assembly_without_version_parameters_reads_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = write_assembly(tmp_path / "out", {"smkit-Foundation": {"Resources": {}}})
    session: Any = object()  # any AWS call would fail on it
    assert main([str(outdir)], session=session) == 0
    assert capsys.readouterr().out == ""


def test_make_deploy_passes_only_these_parameters_and_keeps_previous_values() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^deploy:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    text = recipe.group(1)
    assert 'parameters="$$($(PY) -m tools.deploy_parameters "$(OUT_PATH)")" &&' in text
    (deploy,) = [line for line in text.splitlines() if "$(CDK) deploy" in line]
    assert deploy.split()[-1] == "$$parameters"
    assert "--no-previous-parameters" not in text and "--parameters" not in deploy


def test_the_pinned_cdk_cli_keeps_the_previous_value_of_a_parameter_it_is_not_given() -> None:
    """What the design relies on, read in the CLI `make deploy` runs (package-lock.json
    pins it): `--previous-parameters` defaults to true for deploy, and a parameter
    without a given value gets UsePreviousValue when the stack has it, before the
    template's default is considered."""
    package = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["version"] == lock["packages"]["node_modules/aws-cdk"]["version"]
    cli = (ROOT / "node_modules" / "aws-cdk" / "lib" / "index.js").read_text()
    deploy_options = cli[cli.index('"Additional parameters passed to CloudFormation at deploy') :]
    option = re.search(r'option\("previous-parameters", \{\s*default: (\w+)', deploy_options)
    assert option is not None and option.group(1) == "true"
    values = cli[cli.index("ParameterValues = class {") :][:1500]
    given = values.index("const updatedValue = updates[key];")
    previous = values.index("UsePreviousValue: true")
    default = values.index("formalParam.Default !== void 0")
    assert given < previous < default
    assert (
        "templateParams.updateExisting(finalParameterValues, cloudFormationStack.parameters)" in cli
    )
