from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.common import (
    TRAINING_JOB,
    LoggedStateMachine,
    PythonFunction,
    SageMakerJobTask,
    acknowledge,
    acknowledge_wildcards,
)
from sagemaker_constructs.common.function import RUNTIME
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.stepfunctions import state_machines, validate_definition
from tests.oracles.synth import cdk_json_context, new_stack


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    (tmp_path / "handler.py").write_text("def handler(event, context):\n    return event\n")
    return tmp_path


def test_function_logs_json_to_its_own_encrypted_group_with_a_minimal_role(code_dir: Path) -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    PythonFunction(stack, "Fn", code_dir=code_dir, description="does one thing", encryption_key=key)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": RUNTIME.name,
            "Architectures": ["arm64"],
            "Handler": "handler.handler",
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "KmsKeyArn": Match.any_value(),
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 365, "KmsKeyId": Match.any_value()}
    )
    template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
    statements = template.to_json()
    policy = next(r for r in statements["Resources"].values() if r["Type"] == "AWS::IAM::Policy")
    actions = [s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert actions == [["logs:CreateLogStream", "logs:PutLogEvents"], "kms:Decrypt"]


def test_function_validation(tmp_path: Path) -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError) as raised:
        PythonFunction(
            stack,
            "Fn",
            code_dir=tmp_path,
            description="x",
            encryption_key=key,
            timeout=cdk.Duration.minutes(20),
            memory_size=64,
            log_retention_days=31,
        )
    message = str(raised.value)
    assert message.startswith(
        f"Invalid PythonFunction props: handler 'handler.handler' needs {tmp_path}/handler.py"
    )
    assert "timeout must be 1-900 seconds (got 1200)" in message
    assert "memory_size must be 128-10240 MB (got 64)" in message
    assert "log_retention_days must be one of 1, 3, 5" in message


def training_machine(stack: cdk.Stack) -> tuple[SageMakerJobTask, LoggedStateMachine, iam.Role]:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    role = iam.Role(stack, "JobRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    task = SageMakerJobTask(
        stack,
        "Train",
        kind=TRAINING_JOB,
        parameters={
            "TrainingJobName.$": "$.name",
            "RoleArn": role.role_arn,
            "AlgorithmSpecification": {"TrainingImage": "img:1", "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
                "VolumeKmsKeyId": key.key_arn,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
        job_name_prefix="demo-train-",
        passed_roles=[role],
        keys_for_grants=[key],
    )
    machine = LoggedStateMachine(
        stack, "Machine", definition=task.state, encryption_key=key, timeout=cdk.Duration.hours(1)
    )
    task.grant(machine.state_machine)
    return task, machine, role


def test_training_task_is_valid_logged_traced_and_least_privilege() -> None:
    stack = new_stack()
    training_machine(stack)
    template = Template.from_stack(stack)
    (definition,) = state_machines(template.to_json()).values()
    assert validate_definition(definition) == []
    assert (
        definition["States"]["Train"]["Resource"]
        == "arn:aws:states:::sagemaker:createTrainingJob.sync"
    )
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like(
                {"Level": "ALL", "IncludeExecutionData": True}
            ),
        },
    )
    policies = [
        r for r in template.to_json()["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    job_statement = next(s for s in statements if "sagemaker:CreateTrainingJob" in s["Action"])
    assert job_statement["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sagemaker:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":training-job/demo-train-*",
            ],
        ]
    }
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    grant = next(s for s in statements if s["Action"] == "kms:CreateGrant")
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    rule = next(s for s in statements if "events:PutRule" in s["Action"])
    assert sorted(rule["Action"]) == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert (
        rule["Resource"]["Fn::Join"][1][-1]
        == ":rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule"
    )


def test_shared_constructs_leave_no_nag_findings(code_dir: Path) -> None:
    stack = new_stack()
    training_machine(stack)
    PythonFunction(
        stack,
        "Fn",
        code_dir=code_dir,
        description="does one thing",
        encryption_key=kms.Key(stack, "FnKey", enable_key_rotation=True),
    )
    cdk.Stage.of(stack).synth()
    assert unacknowledged_findings(stack.node.scope) == []


def test_job_task_validation() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        SageMakerJobTask(
            stack, "T", kind=TRAINING_JOB, parameters={}, job_name_prefix="Demo-", passed_roles=[]
        )
    assert str(raised.value) == (
        "Invalid SageMakerJobTask props: job_name_prefix must be 1-40 lower-case characters "
        "(got 'Demo-'); passed_roles needs the role(s) the job runs as (got none)"
    )


def test_wildcard_acknowledgements_name_cross_stack_resources_as_nag_sees_them() -> None:
    app = cdk.App(context=cdk_json_context())
    producer, consumer = cdk.Stack(app, "Producer"), cdk.Stack(app, "Consumer")
    bucket = s3.Bucket(producer, "Data", enforce_ssl=True)
    acknowledge(bucket, "AwsSolutions-S1", "A test bucket without access logs, never deployed.")
    role = iam.Role(consumer, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    bucket.grant_read(role, "datasets/*")
    acknowledge_wildcards(
        role,
        actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
        resources=[bucket.arn_for_objects("datasets/*")],
        reason="Reads objects under datasets/ only; the grant's wildcard actions are read-only.",
    )
    assembly = app.synth()
    assert unacknowledged_findings(app) == []
    template = assembly.get_stack_by_name("Consumer").template
    (policy,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    ids = [rule["id"] for rule in policy["Metadata"]["cdk_nag"]["rules_to_suppress"]]
    assert (
        len(ids) == 1
        and ids[0].startswith("AwsSolutions-IAM5[Resource::")
        and ids[0].endswith("/datasets/*]")
    )
