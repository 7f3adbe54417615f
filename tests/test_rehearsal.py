"""Deploy rehearsal: every template of both shipped configs created as a stack in
moto's CloudFormation and deleted again (tools/rehearsal.py says what is and
is not rehearsed). The report is printed at the end of the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sagemaker_constructs.inference.runtime.promotion.versions import parameter_pattern
from tests.oracles.synth import Synthesis
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.rehearsal import (
    MOTO_DELETE_GAPS,
    REPORT_PROPERTY,
    Rehearsal,
    rehearsable_template,
    rehearse,
    resolve_stack_outputs,
)


@pytest.fixture(scope="module")
def rehearsals(default_synth: Synthesis, full_synth: Synthesis) -> dict[str, Rehearsal]:
    """Both shipped configs, each rehearsed once."""
    results = {}
    for name, synth in (("default", default_synth), ("full", full_synth)):
        results[name] = rehearse(load_assembly(synth.outdir), f"the {name} config")
    return results


@pytest.fixture(params=["default", "full"])
def rehearsal(request: pytest.FixtureRequest, rehearsals: dict[str, Rehearsal]) -> Rehearsal:
    return rehearsals[request.param]


def test_every_stack_is_created_and_deleted(
    rehearsal: Rehearsal, request: pytest.FixtureRequest
) -> None:
    # Reaches the session's summary (conftest.py), from pytest-xdist workers too.
    request.node.user_properties.append((REPORT_PROPERTY, rehearsal.report()))
    assert rehearsal.stacks
    assert rehearsal.ok, rehearsal.report()


def test_every_resource_of_a_type_moto_models_is_created(rehearsal: Rehearsal) -> None:
    assert [s.missing for s in rehearsal.stacks if s.missing] == [], rehearsal.report()
    assert sum(len(s.created) for s in rehearsal.stacks) > 0


def test_only_known_moto_gaps_are_left_behind(rehearsal: Rehearsal) -> None:
    for stack in rehearsal.stacks:
        for logical_id, reason in stack.left_by_moto.items():
            assert any(gap in reason for gap in MOTO_DELETE_GAPS.values()), (logical_id, reason)


def test_foundation_resources_are_really_created(rehearsal: Rehearsal) -> None:
    foundation = next(s for s in rehearsal.stacks if s.stack.endswith("-Foundation"))
    created = foundation.created
    for logical_id in ("PlatformKey", "DataBucket", "ArtifactsBucket", "AccessLogsBucket"):
        assert logical_id in created
    assert created["AlertsTopic"] == "AWS::SNS::Topic"
    assert set(foundation.retained) >= {"PlatformKey", "DataBucket", "AlertsTopic"}


def test_file_assets_are_published(rehearsal: Rehearsal) -> None:
    # Each stack's template is a file asset; the full config adds Lambda code.
    assert len(rehearsal.uploaded_files) >= len(rehearsal.stacks)


def test_custom_resources_are_reported_not_faked(rehearsals: dict[str, Rehearsal]) -> None:
    foundation = next(s for s in rehearsals["full"].stacks if s.stack.endswith("-Foundation"))
    reasons = list(foundation.not_rehearsable.values())
    assert any(
        "Custom::VpcRestrictDefaultSG: a Lambda-backed custom resource" in r for r in reasons
    )
    assert not any(t.startswith("Custom::") for t in foundation.created.values())
    # Its handler and role are ordinary resources: created.
    assert "AWS::Lambda::Function" in foundation.created.values()


def test_custom_resources_take_their_dependents_out() -> None:
    template = {
        "Resources": {
            "Handler": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Custom": {
                "Type": "Custom::Thing",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]}},
            },
            "User": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Fn::GetAtt": ["Custom", "Name"]}},
            },
            "Waiter": {"Type": "AWS::SQS::Queue", "DependsOn": "User"},
            "Free": {"Type": "AWS::SQS::Queue"},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Tags": [{"Key": "a", "Value": "b"}]}},
        },
        "Outputs": {"Name": {"Value": {"Fn::GetAtt": ["User", "TopicName"]}}},
    }
    rehearsed, reasons, adapted = rehearsable_template(template, {"AWS::SQS::Queue"})
    assert sorted(rehearsed["Resources"]) == ["Free", "Handler", "Key"]
    assert reasons["Custom"].startswith("Custom::Thing: a Lambda-backed custom resource")
    assert reasons["User"] == "refers to Custom, not rehearsable"
    assert reasons["Waiter"] == "refers to User, not rehearsable"
    assert reasons["output Name"] == "refers to User, not rehearsable"
    assert "Outputs" in rehearsed and rehearsed["Outputs"] == {}
    assert "Tags" not in rehearsed["Resources"]["Key"]["Properties"]
    assert adapted["Key"].startswith("Tags not rehearsed: moto 5.2.5")
    # The template itself is left as it was.
    assert template["Resources"]["Key"]["Properties"]["Tags"] == [{"Key": "a", "Value": "b"}]


def test_docker_image_assets_resolve_to_a_placeholder_image(tmp_path: Path) -> None:
    image = {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        "cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}:image0"
    }
    role = resource(
        "AWS::IAM::Role",
        AssumeRolePolicyDocument={
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
    )
    model = resource(
        "AWS::SageMaker::Model",
        ExecutionRoleArn={"Fn::GetAtt": ["Role", "Arn"]},
        PrimaryContainer={"Image": image},
    )
    outdir = write_assembly(
        tmp_path / "out",
        {"Serving": {"Resources": {"Role": role, "Model": model}}},
        docker_images=1,
    )
    result = rehearse(load_assembly(outdir), "an image asset")
    assert result.ok, result.report()
    assert result.placeholder_images == [
        "image0 -> cdk-hnb659fds-container-assets-123456789012-us-east-1:image0"
    ]
    assert result.stacks[0].created == {"Role": "AWS::IAM::Role", "Model": "AWS::SageMaker::Model"}


def test_stacks_of_another_account_and_region_are_rehearsed_there(tmp_path: Path) -> None:
    outdir = write_assembly(
        tmp_path / "out",
        {"Queues": {"Resources": {"Queue": resource("AWS::SQS::Queue")}}},
        environment="aws://111122223333/eu-west-1",
    )
    result = rehearse(load_assembly(outdir), "another account")
    assert result.ok, result.report()
    assert result.stacks[0].created == {"Queue": "AWS::SQS::Queue"}


def test_a_failing_resource_fails_the_rehearsal(tmp_path: Path) -> None:
    # moto's SageMaker endpoint needs its endpoint configuration to exist.
    outdir = write_assembly(
        tmp_path / "out",
        {
            "Broken": {
                "Resources": {
                    "Endpoint": resource("AWS::SageMaker::Endpoint", EndpointConfigName="none")
                }
            }
        },
    )
    result = rehearse(load_assembly(outdir), "a broken stack")
    assert not result.ok
    assert result.stacks[0].create_status == "CREATE_FAILED"
    assert "CREATE_FAILED (" in result.report()


def _output_ref(stack: str, output: str) -> dict[str, object]:
    return {"Fn::GetStackOutput": {"StackName": stack, "Region": "us-east-1", "OutputName": output}}


def test_stack_output_references_are_resolved_from_the_created_stacks(tmp_path: Path) -> None:
    producer = {
        "Resources": {"Queue": resource("AWS::SQS::Queue")},
        "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}},
    }
    consumer = {
        "Resources": {
            "Topic": resource(
                "AWS::SNS::Topic",
                DisplayName={
                    "Fn::Select": [5, {"Fn::Split": [":", _output_ref("Producer", "QueueArn")]}]
                },
            )
        }
    }
    outdir = write_assembly(tmp_path / "out", {"Producer": producer, "Consumer": consumer})
    result = rehearse(load_assembly(outdir), "two stacks")
    assert result.ok, result.report()
    consumer_outcome = result.stacks[1]
    assert consumer_outcome.adapted["(template)"].startswith(
        "1 Fn::GetStackOutput reference(s) resolved by the rehearsal"
    )


def test_environment_agnostic_references_resolve_in_the_consumers_region() -> None:
    # CDK names the consumer's own region with a Ref when the stacks have no fixed region.
    outputs = {("Producer", "us-east-1"): {"QueueArn": "arn:aws:sqs:us-east-1:1:q"}}
    spec = {"StackName": "Producer", "Region": {"Ref": "AWS::Region"}, "OutputName": "QueueArn"}
    assert resolve_stack_outputs({"Fn::GetStackOutput": spec}, outputs, "us-east-1") == (
        "arn:aws:sqs:us-east-1:1:q",
        1,
    )


def test_a_missing_stack_output_fails_the_stack(tmp_path: Path) -> None:
    consumer = {
        "Resources": {"Topic": resource("AWS::SNS::Topic", DisplayName=_output_ref("Gone", "X"))}
    }
    outdir = write_assembly(tmp_path / "out", {"Consumer": consumer})
    result = rehearse(load_assembly(outdir), "a dangling reference")
    assert not result.ok
    assert result.stacks[0].create_error == (
        "Fn::GetStackOutput Gone.X (us-east-1): no such output among the stacks rehearsed before it"
    )


def test_attributes_of_unmodelled_resources_stand_in_as_placeholders() -> None:
    template = {
        "Resources": {
            "Repo": {"Type": "AWS::SageMaker::CodeRepository", "Properties": {}},
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "DisplayName": {"Fn::GetAtt": ["Repo", "CodeRepositoryName"]},
                    "TopicName": {"Fn::Sub": "t-${Repo.CodeRepositoryName}"},
                },
            },
        }
    }
    rehearsed, reasons, adapted = rehearsable_template(template, {"AWS::SNS::Topic"})
    props = rehearsed["Resources"]["Topic"]["Properties"]
    assert props["DisplayName"] == "rehearsal-placeholder-Repo-CodeRepositoryName"
    assert props["TopicName"] == {"Fn::Sub": "t-rehearsal-placeholder-Repo-CodeRepositoryName"}
    assert reasons == {}
    assert adapted["Topic"] == (
        "Fn::GetAtt Repo.CodeRepositoryName (AWS::SageMaker::CodeRepository), "
        "Fn::Sub ${Repo.*} (AWS::SageMaker::CodeRepository) stand in as placeholders: "
        "moto does not model these resources, so it cannot give their attributes"
    )


def test_values_aws_accepts_but_moto_refuses_are_reported() -> None:
    template = {
        "Resources": {
            "Gpu": {
                "Type": "AWS::SageMaker::NotebookInstance",
                "Properties": {"InstanceType": "ml.g5.xlarge"},
            },
            "Cpu": {
                "Type": "AWS::SageMaker::NotebookInstance",
                "Properties": {"InstanceType": "ml.t3.medium"},
            },
            "Typo": {
                "Type": "AWS::SageMaker::NotebookInstance",
                "Properties": {"InstanceType": "ml.t3.mediun"},
            },
        }
    }
    _, reasons, _ = rehearsable_template(template, {"AWS::SageMaker::NotebookInstance"})
    assert reasons == {
        "Gpu": "InstanceType ml.g5.xlarge: moto 5.2.5's list of allowed values lacks it, "
        "though AWS (botocore's SageMaker model) accepts it"
    }


def test_the_model_approval_is_rehearsed_and_creates_the_waiting_endpoints(
    rehearsals: dict[str, Rehearsal],
) -> None:
    inference = next(s for s in rehearsals["full"].stacks if s.stack.endswith("-Inference"))
    assert inference.approval == (
        "smkit-full-text-classifier-staging now serves version 1; smkit-full-text-classifier "
        "now serves version 1; 6 waiting resource(s) created by UpdateStack on the previous "
        "template"
    )
    assert inference.waiting == {} and inference.missing == {}
    created = {k: t for k, t in inference.created.items() if k.startswith("textclassifier")}
    assert sorted(created.values()).count("AWS::SageMaker::Endpoint") == 2
    assert any(k.startswith("ModelApprovalWorkflowStateMachine") for k in inference.created)
    assert "AWS::Events::Rule" in inference.created.values()


def _approval_stack(waiting: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stack whose `waiting` resource (a queue) waits for a version parameter, and the
    approval step that sets it (its code is not run: the rehearsal runs the step in
    process)."""
    followers = [
        {
            "endpoint": "smkit-x",
            "parameter": "XModelVersion",
            "group": "smkit-g",
            "promoted_from": None,
        }
    ]
    return {
        "Parameters": {
            "XModelVersion": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": parameter_pattern("smkit-g"),
            }
        },
        "Conditions": {"Set": {"Fn::Not": [{"Fn::Equals": [{"Ref": "XModelVersion"}, ""]}]}},
        "Resources": {
            "Waiting": {**(waiting or {"Type": "AWS::SQS::Queue"}), "Condition": "Set"},
            "StepRole": resource(
                "AWS::IAM::Role",
                AssumeRolePolicyDocument={
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                },
            ),
            "Step": resource(
                "AWS::Lambda::Function",
                Handler="promotion.handler.handler",
                Runtime="python3.12",
                Role={"Fn::GetAtt": ["StepRole", "Arn"]},
                Code={"ZipFile": "def handler(event, context): pass"},
                Environment={"Variables": {"FOLLOWERS": json.dumps(followers)}},
            ),
        },
    }


def test_a_waiting_resource_is_created_by_the_rehearsed_approval(tmp_path: Path) -> None:
    outdir = write_assembly(tmp_path / "out", {"Serving": _approval_stack()})
    result = rehearse(load_assembly(outdir), "an approval")
    assert result.ok, result.report()
    (stack,) = result.stacks
    assert stack.created["Waiting"] == "AWS::SQS::Queue"
    assert "approval rehearsed: smkit-x now serves version 1; 1 waiting resource(s)" in (
        result.report()
    )


def test_an_approval_that_cannot_deploy_fails_the_rehearsal(tmp_path: Path) -> None:
    # moto's endpoint needs its endpoint configuration to exist: the update fails.
    broken = resource("AWS::SageMaker::Endpoint", EndpointConfigName="none")
    outdir = write_assembly(tmp_path / "out", {"Serving": _approval_stack(broken)})
    result = rehearse(load_assembly(outdir), "a refused approval")
    assert not result.ok
    assert "APPROVAL FAILED: " in result.report()


def test_what_moto_does_not_model_is_listed_as_skipped(rehearsals: dict[str, Rehearsal]) -> None:
    # Model Monitor's resources: moto's CloudFormation has no model for them, so the
    # rehearsal creates everything around them and lists them (cfn-lint, botocore's shapes
    # and the template assertions check them instead).
    inference = next(s for s in rehearsals["full"].stacks if s.stack.endswith("-Inference"))
    skipped = set(inference.skipped.values())
    assert {
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::MonitoringSchedule",
    } <= skipped
    assert "AWS::Lambda::Function" in inference.created.values()
    report = rehearsals["full"].report()
    listed = report.split("types moto's CloudFormation does not model (skipped):", 1)[1]
    assert "AWS::SageMaker::MonitoringSchedule" in listed
    assert "AWS::SageMaker::DataQualityJobDefinition" in listed
    assert "AWS::SageMaker::ModelQualityJobDefinition" in listed
