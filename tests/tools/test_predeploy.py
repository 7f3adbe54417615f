"""`make deploy`'s pre-deploy check against CloudFormation in moto: an update SageMaker
refuses stops the deploy before anything changes; a new or unchanged stack passes; an
unreadable template skips the check with a notice."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sagemaker_constructs.inference import InstanceVariant
from tests.tools.assemblies import write_assembly
from tests.tools.endpoints import STACK, endpoint_template, with_instance_type
from tools import predeploy
from tools.predeploy import main

# moto's CloudFormation skips the types it does not model (alarms, scaling): the check
# reads only the template, which moto keeps whole.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return endpoint_template(
        tmp_path_factory.mktemp("scaled"), InstanceVariant("ml.c5.xlarge"), scaled=True
    )


def _deploy(template: dict[str, Any]) -> None:
    """The stack as CloudFormation holds it (moto keeps the template it was created with)."""
    boto3.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    boto3.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )


def _with_lookup_role(outdir: Path) -> Path:
    """The manifest names the CDK lookup role, as `cdk synth` writes it."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    manifest["artifacts"][STACK]["properties"]["lookupRole"] = {
        "arn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
        "cdk-hnb659fds-lookup-role-${AWS::AccountId}-${AWS::Region}"
    }
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    return outdir


@mock_aws
def test_a_refused_endpoint_update_stops_the_deploy(
    scaled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _deploy(scaled)
    new = _with_lookup_role(
        write_assembly(tmp_path, {STACK: with_instance_type(scaled, "ml.c5.2xlarge")})
    )
    assert main([str(new)]) == 1
    printed = capsys.readouterr().err
    assert (
        "FAILS ON DEPLOY: endpoint smkit-forecast, variant AllTraffic (stack Serving): the "
        "instance type changes from ml.c5.xlarge to ml.c5.2xlarge" in printed
    )
    assert "Nothing was deployed: AWS would refuse 1 update(s)" in printed


@mock_aws
def test_an_unchanged_or_new_stack_passes(
    scaled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = write_assembly(tmp_path, {STACK: scaled})
    assert main([str(new)]) == 0
    assert "0 deployed stack(s) compared" in capsys.readouterr().out
    _deploy(scaled)
    assert main([str(new)]) == 0
    assert "1 deployed stack(s) compared, no update AWS refuses" in capsys.readouterr().out


def test_unreadable_templates_skip_the_check(
    scaled: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_template", service_error_code="AccessDenied", service_message="not authorized"
    )
    monkeypatch.setattr(predeploy, "aws_client", lambda *args: client)
    with stubber:
        assert main([str(write_assembly(tmp_path, {STACK: scaled}))]) == 0
    assert capsys.readouterr().err == (
        "Pre-deploy check skipped: could not read the deployed templates (Serving: "
        "AccessDenied: not authorized).\n"
    )


def _waiting_for_a_version(template: dict[str, Any]) -> dict[str, Any]:
    """The endpoint of `template` made to follow a model package group: its SageMaker and
    scaling resources exist once parameter Version names a version."""
    changed = copy.deepcopy(template)
    changed.setdefault("Parameters", {})["Version"] = {"Type": "String", "Default": ""}
    changed["Conditions"] = {"HasVersion": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Version"}, ""]}]}}
    for resource in changed["Resources"].values():
        if resource["Type"].startswith(("AWS::SageMaker::", "AWS::ApplicationAutoScaling::")):
            resource["Condition"] = "HasVersion"
    return changed


@mock_aws
def test_an_endpoint_that_does_not_exist_yet_has_no_update_to_refuse(
    scaled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = _waiting_for_a_version(scaled)
    _deploy(waiting)
    new = write_assembly(tmp_path, {STACK: with_instance_type(waiting, "ml.c5.2xlarge")})
    assert main([str(new)]) == 0
    assert "1 deployed stack(s) compared, no update AWS refuses" in capsys.readouterr().out


@mock_aws
def test_an_endpoint_serving_its_version_is_checked_as_before(
    scaled: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = _waiting_for_a_version(scaled)
    boto3.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    version = "arn:aws:sagemaker:us-east-1:123456789012:model-package/smkit-forecast/1"
    boto3.client("cloudformation").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(waiting),
        Parameters=[{"ParameterKey": "Version", "ParameterValue": version}],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    new = write_assembly(tmp_path, {STACK: with_instance_type(waiting, "ml.c5.2xlarge")})
    assert main([str(new)]) == 1
    assert "FAILS ON DEPLOY: endpoint smkit-forecast, variant AllTraffic" in (
        capsys.readouterr().err
    )
