"""The batch transform workflow, executed: moto's Step Functions interpreter runs the
synthesized definition against moto's SageMaker and SNS (tests/oracles/sfn_runner.py)."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from moto import mock_aws
from moto.sagemaker.models import FakeTransformJob

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import ModelData, ModelSource
from sagemaker_constructs.transform import TransformJob, TransformWorkflow
from tests.oracles.sfn_runner import STEPFUNCTIONS_CONFIG, Execution, Runner
from tests.oracles.stepfunctions import state_machines, validate_definition
from tests.oracles.synth import new_stack
from tools.sfn_moto import runnable

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/text-classifier:1"
INPUT = "s3://my-data/texts/in/"


def build_job(stack: cdk.Stack, **overrides: Any) -> TransformJob:
    data = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    artifacts = s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts")
    kwargs: dict[str, Any] = {
        "model": ModelSource.from_artifact(
            ContainerImage.from_uri(IMAGE), ModelData.from_bucket(artifacts, "tc/model.tar.gz")
        ),
        "data_bucket": data,
        "input_prefix": "texts/in/",
        "output_prefix": "texts/out/",
        "encryption_key": kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        "instance_type": "ml.m5.xlarge",
        "allowed_instance_types": ["ml.m5.2xlarge"],
        "job_name_prefix": "demo-texts",
        "tags": {"smkit:platform": "demo"},
        **overrides,
    }
    return TransformJob(stack, "Job", **kwargs)


def build(stack: cdk.Stack, **overrides: Any) -> TransformWorkflow:
    job = build_job(stack)
    kwargs: dict[str, Any] = {
        "job": job,
        "alerts_topic": sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN),
        "encryption_key": job.encryption_key,
        "title": "demo texts",
        "max_runtime": cdk.Duration.minutes(90),
        "schedule": cdk.aws_events.Schedule.expression("cron(0 4 ? * MON *)"),
        **overrides,
    }
    return TransformWorkflow(stack, "Texts", **kwargs)


@dataclass
class Synthesized:
    workflow: TransformWorkflow
    template: dict[str, Any]
    definition: dict[str, Any]


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    stack = new_stack()
    workflow = build(stack)
    template = Template.from_stack(stack).to_json()
    (definition,) = state_machines(template).values()
    return Synthesized(workflow, template, definition)


@dataclass
class Aws:
    runner: Runner
    queue_url: str

    def alerts(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    def run(self, execution_input: Any, name: str) -> Execution:
        self.alerts()
        return self.runner.execute(execution_input, name=name)

    def run_id(self, execution: str) -> str:
        return hashlib.md5(self.runner.execution_arn(execution).encode()).hexdigest()  # noqa: S324


def _subscribe_queue() -> str:
    boto3.client("sns").create_topic(Name="alerts")
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    boto3.client("sns").subscribe(
        TopicArn=TOPIC_ARN,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(queue_url)


@pytest.fixture(scope="module")
def aws(synthesized: Synthesized) -> Iterator[Aws]:
    logging.disable(logging.CRITICAL)
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        queue_url = _subscribe_queue()
        yield Aws(Runner(runnable(synthesized.definition)), queue_url)
    logging.disable(logging.NOTSET)


@pytest.fixture
def job_failures(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Transform job name -> FailureReason: those jobs end Failed (moto's complete)."""
    failures: dict[str, str] = {}
    original = FakeTransformJob.__init__

    def init(self: FakeTransformJob, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.transform_job_name in failures:
            self.transform_job_status = "Failed"
            self.failure_reason = failures[self.transform_job_name]

    monkeypatch.setattr(FakeTransformJob, "__init__", init)
    return failures


def test_definition_requests_match_botocore(synthesized: Synthesized) -> None:
    assert validate_definition(synthesized.definition) == []


def test_a_run_transforms_the_whole_prefix_into_a_folder_of_its_own(aws: Aws) -> None:
    execution = aws.run({}, "weekly")
    assert execution.status == "SUCCEEDED", execution.cause
    run_id = aws.run_id("weekly")
    job = boto3.client("sagemaker").describe_transform_job(TransformJobName=f"demo-texts-{run_id}")
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == INPUT
    assert job["TransformInput"]["SplitType"] == "Line"
    assert job["TransformOutput"]["S3OutputPath"] == f"s3://my-data/texts/out/{run_id}/"
    assert job["TransformOutput"]["AssembleWith"] == "Line"
    assert job["TransformOutput"]["KmsKeyId"] == KEY_ARN
    assert job["TransformResources"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 1,
        "VolumeKmsKeyId": KEY_ARN,
    }
    assert "Environment" not in job  # none configured
    assert execution.output == {
        "transform_job": f"demo-texts-{run_id}",
        "input": INPUT,
        "output": f"s3://my-data/texts/out/{run_id}/",
        "instance_type": "ml.m5.xlarge",
    }
    (alert,) = aws.alerts()
    assert alert["outcome"] == "SUCCEEDED"
    assert alert["output"] == f"s3://my-data/texts/out/{run_id}/"


def test_a_run_may_narrow_the_input_and_choose_an_allowed_instance_type(aws: Aws) -> None:
    given = {"input": f"{INPUT}2026-11/part-1.jsonl", "instance_type": "ml.m5.2xlarge"}
    execution = aws.run(given, "narrow")
    assert execution.status == "SUCCEEDED", execution.cause
    job = boto3.client("sagemaker").describe_transform_job(
        TransformJobName=f"demo-texts-{aws.run_id('narrow')}"
    )
    assert job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == given["input"]
    assert job["TransformResources"]["InstanceType"] == "ml.m5.2xlarge"


@pytest.mark.parametrize(
    ("execution_input", "error", "cause"),
    [
        (
            {"input": "s3://my-data/secrets/"},
            "InputOutsideItsPrefix",
            "input must be an S3 URI under s3://my-data/texts/in/ (the job may read nothing "
            'else); got "s3://my-data/secrets/"',
        ),
        (
            {"input": 5},
            "InputOutsideItsPrefix",
            "got 5",
        ),
        (
            {"instance_type": "ml.p4d.24xlarge"},
            "InstanceTypeNotAllowed",
            'instance_type must be one of ml.m5.xlarge, ml.m5.2xlarge; got "ml.p4d.24xlarge"',
        ),
        (
            {"output": "s3://my-data/elsewhere/"},
            "InvalidExecutionInput",
            "The execution input may only have the keys input, instance_type; got: "
            '{"output":"s3://my-data/elsewhere/"}',
        ),
        (
            ["s3://my-data/texts/in/"],
            "InvalidExecutionInput",
            "The execution input must be a JSON object",
        ),
    ],
)
def test_input_outside_the_allow_lists_fails_before_any_job(
    aws: Aws, execution_input: Any, error: str, cause: str
) -> None:
    name = f"rejected-{error}-{len(json.dumps(execution_input))}"
    execution = aws.run(execution_input, name)
    assert (execution.status, execution.error) == ("FAILED", error)
    assert cause in (execution.cause or "")
    assert "Transform" not in execution.entered()
    assert (
        boto3.client("sagemaker").list_transform_jobs(NameContains=aws.run_id(name))[
            "TransformJobSummaries"
        ]
        == []
    )


def test_a_failed_job_alerts_with_sagemakers_failure_reason(
    aws: Aws, job_failures: dict[str, str]
) -> None:
    reason = "ClientError: See job logs for more information"
    job_failures[f"demo-texts-{aws.run_id('failing')}"] = reason
    execution = aws.run({}, "failing")
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "TransformJobFailed",
        reason,
    )
    (alert,) = aws.alerts()
    assert alert["outcome"] == "FAILED"
    assert alert["failure_reason"] == reason
    assert alert["job"] == f"demo-texts-{aws.run_id('failing')}"


def test_past_its_time_limit_the_job_is_stopped_and_the_run_alerts(
    synthesized: Synthesized,
) -> None:
    states = synthesized.definition["States"]
    transform = states["Transform"]
    assert transform["TimeoutSeconds"] == 90 * 60
    assert transform["Catch"][0] == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.error",
        "Next": "StopJob",
    }
    assert states["StopJob"]["Resource"].endswith(":states:::aws-sdk:sagemaker:stopTransformJob")
    # moto cannot time a task out: run the states from the catch on, as they would then.
    tail = copy.deepcopy(synthesized.definition)
    tail["StartAt"] = "StopJob"
    logging.disable(logging.CRITICAL)
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        queue_url = _subscribe_queue()
        aws = Aws(Runner(runnable(tail), name="tail"), queue_url)
        execution = aws.run({"names": {"job": "demo-texts-0123"}, "error": {}}, "late")
        alerts = aws.alerts()
    logging.disable(logging.NOTSET)
    assert (execution.status, execution.error) == ("FAILED", "TransformTimedOut")
    # moto has no StopTransformJob: the failed stop is caught, the alert goes out anyway.
    assert execution.entered() == ["StopJob", "NotifyTimeout", "TimeLimitReached"]
    (alert,) = alerts
    assert alert["outcome"] == "STOPPED"
    assert alert["job"] == "demo-texts-0123"
    assert "longer than 90 minutes" in alert["reason"]


def test_workflow_time_limit_is_checked() -> None:
    with pytest.raises(ValueError) as raised:
        build(new_stack(), max_runtime=cdk.Duration.seconds(30))
    assert str(raised.value) == (
        "Invalid TransformWorkflow props: max_runtime must be 1 minute to 28 days (got 30 s)"
    )


def test_schedule_starts_a_run_over_the_whole_prefix(synthesized: Synthesized) -> None:
    Template.from_json(synthesized.template).has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 4 ? * MON *)",
            "Targets": [Match.object_like({"Input": "{}"})],
        },
    )


def test_state_machine_may_manage_only_its_own_jobs_and_passes_no_role(
    synthesized: Synthesized,
) -> None:
    stack = cdk.Stack.of(synthesized.workflow)
    role = stack.get_logical_id(synthesized.workflow.state_machine.role.node.default_child)
    (statements,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in synthesized.template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": role}]
    ]
    text = json.dumps(statements)
    assert ":transform-job/demo-texts-*" in text
    assert "StepFunctionsGetEventsForSageMakerTransformJobsRule" in text
    actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {a for a in actions if a.startswith("sagemaker:")} == {
        "sagemaker:AddTags",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:ListTags",
        "sagemaker:StopTransformJob",
    }
    # A transform job runs as its model's role: the request passes none.
    assert "iam:PassRole" not in actions
    grant = next(s for s in statements if s["Action"] == "kms:CreateGrant")
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
