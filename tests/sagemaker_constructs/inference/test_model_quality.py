"""ModelQualityMonitor: the job definition and schedule (matching botocore's request
shapes), the ground-truth input and window offsets, the alarms, the role's scope, and
the metrics function hearing its runs."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference import Endpoint, InstanceVariant, ModelData, ModelSource
from sagemaker_constructs.inference.model_quality import ModelQualityMonitor
from sagemaker_constructs.inference.monitoring import MonitoringMetrics
from sagemaker_constructs.inference.options import DataCapture
from tests.oracles.stepfunctions import render_intrinsics, validate_request
from tests.oracles.synth import new_stack

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
NETWORK = NetworkPlacement(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
)


def build(stack: cdk.Stack, **overrides: Any) -> ModelQualityMonitor:
    data = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    topic = sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN)
    endpoint = Endpoint(
        stack,
        "Classifier",
        endpoint_name="demo-classifier",
        model=ModelSource.from_artifact(
            ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/textclf:1"),
            ModelData.from_uri("s3://my-artifacts/textclf/model.tar.gz"),
        ),
        variant=InstanceVariant("ml.m5.large"),
        encryption_key=key,
        data_bucket=data,
        data_capture=DataCapture(sampling_percentage=100),
    )
    kwargs: dict[str, Any] = {
        "endpoint_name": endpoint.endpoint.attr_endpoint_name,
        "schedule_name": "demo-classifier-model-quality",
        "data_bucket": data,
        "captured_prefix": "inference/demo-classifier/data-capture/",
        "monitoring_prefix": "monitoring/demo-classifier/model-quality/",
        "encryption_key": key,
        "alerts_topic": topic,
        "constraints_key": "monitoring/demo-classifier/constraints.json",
        "network": NETWORK,
        **overrides,
    }
    return ModelQualityMonitor(stack, "Quality", **kwargs)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    monitor = build(stack)
    MonitoringMetrics(
        stack,
        "Metrics",
        monitors=[monitor],
        encryption_key=kms.Key.from_key_arn(stack, "MetricsKey", KEY_ARN),
    )
    return Template.from_stack(stack).to_json()


def one(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, r) for k, r in template["Resources"].items() if r["Type"] == resource_type]
    return found


def test_job_definition_matches_botocore_and_reads_ground_truth(template: dict[str, Any]) -> None:
    _, definition = one(template, "AWS::SageMaker::ModelQualityJobDefinition")
    props = definition["Properties"]
    request = {"JobDefinitionName": "generated", **render_intrinsics(props)}
    request.pop("Tags", None)
    assert validate_request("CreateModelQualityJobDefinition", request) == []
    app = props["ModelQualityAppSpecification"]
    assert app["ProblemType"] == "MulticlassClassification"
    assert app["ImageUri"]["Fn::Join"][1][-1] == "/sagemaker-model-monitor-analyzer"
    job_input = props["ModelQualityJobInput"]
    endpoint = job_input["EndpointInput"]
    assert endpoint["InferenceAttribute"] == "predictions[0].label"
    assert "ProbabilityAttribute" not in endpoint
    # MONITOR-8: a week of predictions, up to a day before the run.
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT168H", "-PT24H")
    ground_truth = json.dumps(job_input["GroundTruthS3Input"])
    assert "my-data/monitoring/demo-classifier/model-quality/ground-truth" in ground_truth
    constraints = json.dumps(props["ModelQualityBaselineConfig"])
    assert "my-data/monitoring/demo-classifier/constraints.json" in constraints
    assert props["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert props["NetworkConfig"]["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]
    assert props["ModelQualityJobOutputConfig"]["KmsKeyId"] == KEY_ARN
    assert props["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_schedule_is_of_type_model_quality_and_follows_the_endpoint(
    template: dict[str, Any],
) -> None:
    definition_id, _ = one(template, "AWS::SageMaker::ModelQualityJobDefinition")
    endpoint_id, _ = one(template, "AWS::SageMaker::Endpoint")
    _, schedule = one(template, "AWS::SageMaker::MonitoringSchedule")
    props = schedule["Properties"]
    assert props["MonitoringScheduleName"] == "demo-classifier-model-quality"
    assert props["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    config = props["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "ModelQuality"
    assert config["MonitoringJobDefinitionName"] == {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [definition_id, "JobDefinitionArn"]}]}]
    }
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 0 ? * * *)"}
    request = render_intrinsics(props)
    request.pop("EndpointName")
    assert validate_request("CreateMonitoringSchedule", request) == []


def test_violations_and_failed_runs_alarm_and_the_metrics_function_hears_them(
    template: dict[str, Any],
) -> None:
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "smkit/ModelMonitor"
    ]
    assert sorted(a["MetricName"] for a in alarms) == ["ExecutionFailed", "Violations"]
    for alarm in alarms:
        assert alarm["AlarmActions"] == [TOPIC_ARN]
        assert {"Name": "MonitoringSchedule", "Value": "demo-classifier-model-quality"} in alarm[
            "Dimensions"
        ]
    _, function = one(template, "AWS::Lambda::Function")
    schedules = function["Properties"]["Environment"]["Variables"]["SCHEDULES"]
    assert "demo-classifier-model-quality" in json.dumps(schedules)


def test_role_reads_captures_and_ground_truth_and_writes_only_reports(
    template: dict[str, Any],
) -> None:
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and "QualityRole" in json.dumps(r["Properties"]["Roles"])
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    text = json.dumps(statements)
    for fragment in (
        "my-data/inference/demo-classifier/data-capture/*",
        "my-data/monitoring/demo-classifier/model-quality/ground-truth/*",
        "my-data/monitoring/demo-classifier/constraints.json",
        "ec2:CreateNetworkInterface",
    ):
        assert fragment in text, fragment
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert [json.dumps(s["Resource"]).count("model-quality/reports/*") for s in writes] == [1]


def test_validation_names_each_rule() -> None:
    with pytest.raises(ValueError) as raised:
        build(
            new_stack(),
            schedule_expression="cron(0 * ? * * *)",
            max_runtime=cdk.Duration.minutes(45),
            window_start=cdk.Duration.hours(24),
            window_end=cdk.Duration.hours(48),
            problem_type="Ranking",
            instance_type="ml.m5.huge",
            monitoring_prefix="monitoring/demo",
        )
    message = str(raised.value)
    for fragment in (
        "max_runtime of 2700 s: a ModelQuality job on this schedule may run at most 1800 s",
        "window_end_hours (48) must be less than window_start_hours (24)",
        "problem_type must be one of BinaryClassification, MulticlassClassification, "
        "Regression (got 'Ranking')",
        "instance_type 'ml.m5.huge' is not an instance type processing jobs accept",
        "monitoring_prefix must end with '/'",
    ):
        assert fragment in message, fragment
