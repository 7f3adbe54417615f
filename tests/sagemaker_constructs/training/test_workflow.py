"""The training workflow, executed: moto's Step Functions interpreter runs the synthesized
definition against moto's SageMaker, SNS and SQS (see tests/oracles/sfn_runner.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
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
from moto.sagemaker.models import FakeTrainingJob

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.training import (
    TEXT_CLASSIFIER,
    ModelPackageSpec,
    NewDataTrigger,
    TrainingChannel,
    TrainingJob,
    TrainingWorkflow,
)
from sagemaker_constructs.training.workflow import training_job_name_length
from tests.oracles.sfn_runner import STEPFUNCTIONS_CONFIG, Execution, Runner
from tests.oracles.stepfunctions import state_machines, validate_definition
from tests.oracles.synth import new_stack
from tools.sfn_moto import runnable

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/text-classifier:1"
GROUP = "demo-text-classifier"
JOB_NAME = re.compile(r"^demo-tc-[0-9a-f]{32}-[12]$")


def build(stack: cdk.Stack, **overrides: Any) -> TrainingWorkflow:
    data = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    artifacts = s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    job = TrainingJob(
        stack,
        "Job",
        image=ContainerImage.from_uri(IMAGE),
        channels=[
            TrainingChannel("train", "text/train/"),
            TrainingChannel("validation", "text/validation/"),
        ],
        data_bucket=data,
        artifacts_bucket=artifacts,
        artifacts_prefix="training/tc/",
        encryption_key=key,
        instance_type="ml.g5.xlarge",
        allowed_instance_types=["ml.g5.2xlarge"],
        gpu=True,
        job_name_prefix="demo-tc",
        profile=TEXT_CLASSIFIER,
        hyperparameters={"epochs": "3", "batch_size": "64"},
        tags={"smkit:platform": "demo"},
    )
    kwargs: dict[str, Any] = {
        "job": job,
        "model_package": ModelPackageSpec(GROUP, IMAGE),
        "alerts_topic": sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN),
        "encryption_key": key,
        "title": "demo text-classifier",
        "overridable_hyperparameters": ["epochs", "learning_rate"],
        "overridable_channels": ["train"],
        "capacity_retries": 1,
        "capacity_retry_delay": cdk.Duration.seconds(1),
        "schedule": cdk.aws_events.Schedule.expression("rate(7 days)"),
        "new_data": NewDataTrigger(prefix="text/train/new/", suffix="_SUCCESS", channel="train"),
        "tags": {"smkit:platform": "demo"},
        **overrides,
    }
    return TrainingWorkflow(stack, "TextClassifier", **kwargs)


@dataclass
class Synthesized:
    workflow: TrainingWorkflow
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
        """The alerts sent since the last call. Each is deleted once read: a message only
        received comes back after the visibility timeout and would count twice when a
        slow (loaded) machine reaches a later test past it."""
        sqs = boto3.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]

    def run(self, execution_input: Any, name: str) -> Execution:
        self.alerts()  # what earlier runs sent
        return self.runner.execute(execution_input, name=name)

    def job_name(self, execution: str, attempt: int = 1) -> str:
        digest = hashlib.md5(self.runner.execution_arn(execution).encode()).hexdigest()  # noqa: S324
        return f"demo-tc-{digest}-{attempt}"

    def packages_of(self, job_name: str) -> list[dict[str, Any]]:
        summaries = boto3.client("sagemaker").list_model_packages(ModelPackageGroupName=GROUP)
        return [
            p
            for p in summaries["ModelPackageSummaryList"]
            if job_name in p.get("ModelPackageDescription", "")
        ]


@pytest.fixture(scope="module")
def aws(synthesized: Synthesized) -> Iterator[Aws]:
    """One moto account for the module (creating the state machine is the slow part);
    each test runs executions of its own name."""
    # moto logs every JSONPath an IsPresent check does not find, at length.
    logging.disable(logging.CRITICAL)
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
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
        boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
        yield Aws(Runner(runnable(synthesized.definition)), queue_url)
    logging.disable(logging.NOTSET)


@pytest.fixture
def job_failures(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Training job name -> FailureReason: those jobs end Failed (moto's always complete)."""
    failures: dict[str, str] = {}
    original = FakeTrainingJob.__init__

    def init(self: FakeTrainingJob, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.training_job_name in failures:
            self.training_job_status = self.secondary_status = "Failed"
            self.failure_reason = failures[self.training_job_name]

    monkeypatch.setattr(FakeTrainingJob, "__init__", init)
    return failures


def test_definition_requests_match_botocore(synthesized: Synthesized) -> None:
    assert validate_definition(synthesized.definition) == []


def test_a_run_trains_registers_the_model_and_alerts(aws: Aws) -> None:
    execution = aws.run({}, "default")
    assert execution.status == "SUCCEEDED", execution.cause
    name = aws.job_name("default")
    assert JOB_NAME.match(name)
    sagemaker = boto3.client("sagemaker")
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["HyperParameters"] == {"epochs": "3", "batch_size": "64"}
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    assert [c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]] == [
        "s3://my-data/text/train/",
        "s3://my-data/text/validation/",
    ]
    run_id = name.split("-")[2]
    assert job["CheckpointConfig"]["S3Uri"] == (
        f"s3://my-artifacts/training/tc/checkpoints/{run_id}/"
    )
    assert sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"] == [
        {"Key": "smkit:platform", "Value": "demo"}
    ]
    (package,) = aws.packages_of(name)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    container = described["InferenceSpecification"]["Containers"][0]
    assert container == {
        "Image": IMAGE,
        "ModelDataUrl": f"s3://my-artifacts/training/tc/output/{name}/output/model.tar.gz",
    }
    assert execution.output == {
        "training_job": name,
        "model_artifacts": container["ModelDataUrl"],
        "model_package": package["ModelPackageArn"],
        "approval": "PendingManualApproval",
    }
    (alert,) = aws.alerts()
    assert alert["outcome"] == "SUCCEEDED"
    assert alert["model_package"] == package["ModelPackageArn"]
    assert alert["training_job"] == name
    assert alert["execution"] == aws.runner.execution_arn("default")


def test_overrides_on_the_allow_list_reach_the_job(aws: Aws) -> None:
    execution = aws.run(
        {
            "hyperparameters": {"epochs": "20", "learning_rate": "0.05"},
            "channels": {"train": "s3://my-data/text/train/2026-05/"},
            "instance_type": "ml.g5.2xlarge",
        },
        "overrides",
    )
    assert execution.status == "SUCCEEDED", execution.cause
    job = boto3.client("sagemaker").describe_training_job(TrainingJobName=aws.job_name("overrides"))
    assert job["HyperParameters"] == {"epochs": "20", "batch_size": "64", "learning_rate": "0.05"}
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://my-data/text/train/2026-05/"
    )


@pytest.mark.parametrize(
    ("execution_input", "error", "cause"),
    [
        (
            {"hyperparameters": {"batch_size": "8"}},
            "HyperparametersNotOverridable",
            "hyperparameters that the execution input may set: epochs, learning_rate; got "
            '{"batch_size":"8"}',
        ),
        (
            {"hyperparameters": {"epochs": 20}},
            "HyperparameterNotAString",
            "hyperparameter epochs must be a string, as SageMaker takes hyperparameters "
            '(e.g. "10", not 10); got 20',
        ),
        (
            {"channels": {"train": "s3://other-bucket/text/train/"}},
            "ChannelOutsideItsPrefix",
            "channel train must be an S3 URI under s3://my-data/text/train/ (the job may read "
            'nothing else); got "s3://other-bucket/text/train/"',
        ),
        (
            {"channels": {"validation": "s3://my-data/text/validation/v2/"}},
            "ChannelsNotOverridable",
            "channels that the execution input may set: train; got "
            '{"validation":"s3://my-data/text/validation/v2/"}',
        ),
        (
            {"instance_type": "ml.p5.48xlarge"},
            "InstanceTypeNotAllowed",
            'instance_type must be one of ml.g5.xlarge, ml.g5.2xlarge; got "ml.p5.48xlarge"',
        ),
        (
            {"hyperparameter": {"epochs": "2"}},
            "InvalidExecutionInput",
            "The execution input may only have the keys hyperparameters, channels, "
            'instance_type; got: {"hyperparameter":{"epochs":"2"}}',
        ),
        (
            {"hyperparameters": "epochs=2"},
            "InvalidExecutionInput",
            'hyperparameters must be a JSON object of name: value (got "epochs=2")',
        ),
        (
            ["epochs"],
            "InvalidExecutionInput",
            "The execution input must be a JSON object with the keys hyperparameters, channels, "
            'instance_type (each optional); got: ["epochs"]',
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
    assert "StartRun" not in execution.entered()
    with pytest.raises(boto3.client("sagemaker").exceptions.ClientError):
        boto3.client("sagemaker").describe_training_job(TrainingJobName=aws.job_name(name))


def test_no_capacity_means_another_attempt_that_resumes_the_same_checkpoints(
    aws: Aws, job_failures: dict[str, str]
) -> None:
    first, second = aws.job_name("capacity", 1), aws.job_name("capacity", 2)
    job_failures[first] = "CapacityError: Unable to provision requested ML compute capacity."
    execution = aws.run({}, "capacity")
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.entered().count("WaitForCapacity") == 1
    sagemaker = boto3.client("sagemaker")
    jobs = {n: sagemaker.describe_training_job(TrainingJobName=n) for n in (first, second)}
    assert jobs[first]["TrainingJobStatus"] == "Failed"
    assert jobs[second]["TrainingJobStatus"] == "Completed"
    assert jobs[first]["CheckpointConfig"] == jobs[second]["CheckpointConfig"]
    assert execution.output is not None
    assert execution.output["training_job"] == second


def test_capacity_retries_run_out(aws: Aws, job_failures: dict[str, str]) -> None:
    for attempt in (1, 2):
        job_failures[aws.job_name("no-capacity", attempt)] = (
            "CapacityError: no ml.g5.xlarge capacity"
        )
    execution = aws.run({}, "no-capacity")
    assert (execution.status, execution.error) == ("FAILED", "TrainingJobFailed")
    assert execution.entered().count("Train") == 2  # capacity_retries=1
    (alert,) = aws.alerts()
    assert alert["job"] == aws.job_name("no-capacity", 2)
    assert alert["failure_reason"] == "CapacityError: no ml.g5.xlarge capacity"


def test_a_failed_job_alerts_with_sagemakers_failure_reason(
    aws: Aws, job_failures: dict[str, str]
) -> None:
    reason = "AlgorithmError: channel 'train': 2 bad record(s)"
    job_failures[aws.job_name("failing")] = reason
    execution = aws.run({}, "failing")
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "TrainingJobFailed",
        reason,
    )
    assert "WaitForCapacity" not in execution.entered()
    assert aws.packages_of(aws.job_name("failing")) == []
    (alert,) = aws.alerts()
    assert alert == {
        "workflow": "demo text-classifier",
        "outcome": "FAILED",
        "execution": aws.runner.execution_arn("failing"),
        "job": aws.job_name("failing"),
        "status": "Failed",
        "failure_reason": reason,
    }


def test_job_names_fit_sagemakers_limit() -> None:
    # `<prefix>-<32 hex>-<attempt>`: a 28-character prefix is the longest that fits.
    assert training_job_name_length("p" * 28, max_attempts=6) == 63
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        build(stack, capacity_retries=9, capacity_retry_delay=cdk.Duration.days(2))
    assert str(raised.value) == (
        "Invalid TrainingWorkflow props: capacity_retries must be 0-5 (got 9); "
        "capacity_retry_delay must be 1 second to 1 day (got 172800 s)"
    )


def test_workflow_validation_names_each_mistake() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        build(
            stack,
            overridable_hyperparameters=["epochs", "dropout", "max-length"],
            overridable_channels=["test"],
            new_data=NewDataTrigger(prefix="elsewhere/", channel="validation"),
            model_package=ModelPackageSpec(GROUP, IMAGE, approval="Rejected"),
        )
    message = str(raised.value)
    for fragment in [
        "model approval must be one of PendingManualApproval, Approved (got 'Rejected')",
        "new-data trigger: channel 'validation' must be one of the overridable channels ['test']",
        "override name 'max-length' must be letters, digits and underscores",
        "overridable channels ['test'] are not channels of the job",
        "has no hyperparameter(s) ['dropout', 'max-length']",
    ]:
        assert fragment in message, fragment


def test_triggers_start_runs_on_schedule_and_on_new_data(synthesized: Synthesized) -> None:
    template = Template.from_json(synthesized.template)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(7 days)",
            "Targets": [Match.object_like({"Input": "{}"})],
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": ["my-data"]},
                    "object": {"key": [{"wildcard": "text/train/new/*_SUCCESS"}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "InputTransformer": {
                            "InputPathsMap": {"detail-object-key": "$.detail.object.key"},
                            "InputTemplate": '{"channels":{"train":'
                            '"s3://my-data/<detail-object-key>"}}',
                        }
                    }
                )
            ],
        },
    )


def test_state_machine_may_manage_only_its_own_jobs_and_packages(
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
    assert ":training-job/demo-tc-*" in text
    assert f":model-package/{GROUP}/*" in text
    # Only tracing and log delivery, which take no resource ARN, are on "*".
    unscoped = {
        a
        for s in statements
        if s["Resource"] == "*"
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert unscoped and all(a.startswith(("xray:", "logs:")) for a in unscoped)
    sagemaker_actions = {
        a
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if a.startswith("sagemaker:")
    }
    assert sagemaker_actions == {
        "sagemaker:AddTags",
        "sagemaker:CreateModelPackage",
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:ListTags",
        "sagemaker:StopTrainingJob",
    }
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
