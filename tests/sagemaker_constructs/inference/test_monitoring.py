"""DataQualityMonitor and MonitoringMetrics: the job definition and schedule (matching
botocore's request shapes), their order around the endpoint, the alarms, the role's scope,
and the baseline workflow executed in moto."""

from __future__ import annotations

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
from aws_cdk.assertions import Template
from moto import mock_aws

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference import Endpoint, InstanceVariant, ModelData, ModelSource
from sagemaker_constructs.inference.monitoring import (
    DataQualityMonitor,
    MonitoringBaseline,
    MonitoringMetrics,
)
from sagemaker_constructs.inference.options import DataCapture
from tests.oracles.sfn_runner import STEPFUNCTIONS_CONFIG, Runner
from tests.oracles.stepfunctions import (
    render_intrinsics,
    state_machines,
    validate_definition,
    validate_request,
)
from tests.oracles.synth import new_stack
from tools.sfn_moto import runnable

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
NETWORK = NetworkPlacement(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0123456789abcdef0",),
    security_group_ids=("sg-0123456789abcdef0",),
)


def build(stack: cdk.Stack, **overrides: Any) -> tuple[Endpoint, DataQualityMonitor]:
    data = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    key = kms.Key.from_key_arn(stack, "Key", KEY_ARN)
    topic = sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN)
    endpoint = Endpoint(
        stack,
        "Demand",
        endpoint_name="demo-demand",
        model=ModelSource.from_artifact(
            ContainerImage.from_builtin("forecasting-deepar"),
            ModelData.from_uri("s3://my-artifacts/deepar/model.tar.gz"),
        ),
        variant=InstanceVariant("ml.c5.xlarge"),
        encryption_key=key,
        data_bucket=data,
        data_capture=DataCapture(sampling_percentage=50),
    )
    kwargs: dict[str, Any] = {
        "endpoint_name": endpoint.endpoint.attr_endpoint_name,
        "schedule_name": "demo-demand-data-quality",
        "data_bucket": data,
        "captured_prefix": "inference/demo-demand/data-capture/",
        "monitoring_prefix": "monitoring/demo-demand/data-quality/",
        "baseline": MonitoringBaseline(dataset_key="monitoring/demand/baseline.jsonl"),
        "encryption_key": key,
        "alerts_topic": topic,
        "job_name_prefix": "demo-demand-bl",
        "title": "demo-demand baseline",
        "schedule_expression": "cron(0 0/6 ? * * *)",
        "record_preprocessor": "deepar",
        "network": NETWORK,
        "tags": {"smkit:platform": "demo"},
        **overrides,
    }
    return endpoint, DataQualityMonitor(stack, "Monitor", **kwargs)


@dataclass
class Synthesized:
    monitor: DataQualityMonitor
    template: dict[str, Any]

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = [
            (k, r) for k, r in self.template["Resources"].items() if r["Type"] == resource_type
        ]
        return found


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    stack = new_stack()
    _, monitor = build(stack)
    MonitoringMetrics(stack, "Metrics", monitors=[monitor], encryption_key=monitor.encryption_key)
    return Synthesized(monitor, Template.from_stack(stack).to_json())


def test_job_definition_matches_botocore_and_reads_the_baseline(synthesized: Synthesized) -> None:
    _, definition = synthesized.one("AWS::SageMaker::DataQualityJobDefinition")
    props = definition["Properties"]
    # CloudFormation's properties are the API's (CloudFormation adds the name).
    request = {"JobDefinitionName": "generated", **render_intrinsics(props)}
    request.pop("Tags", None)
    assert validate_request("CreateDataQualityJobDefinition", request) == []
    app = props["DataQualityAppSpecification"]
    assert app["ImageUri"]["Fn::Join"][1][-1] == "/sagemaker-model-monitor-analyzer"
    assert app["RecordPreprocessorSourceUri"]["Fn::Sub"].endswith(".py")
    assert app["Environment"] == {"publish_cloudwatch_metrics": "Disabled"}
    baseline = json.dumps(props["DataQualityBaselineConfig"])
    assert "/monitoring/demo-demand/data-quality/baseline/constraints.json" in baseline
    assert "/monitoring/demo-demand/data-quality/baseline/statistics.json" in baseline
    assert props["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert props["NetworkConfig"]["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]
    assert props["JobResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_schedule_follows_the_endpoint_and_names_the_generated_definition(
    synthesized: Synthesized,
) -> None:
    definition_id, _ = synthesized.one("AWS::SageMaker::DataQualityJobDefinition")
    _, schedule = synthesized.one("AWS::SageMaker::MonitoringSchedule")
    props = schedule["Properties"]
    assert props["MonitoringScheduleName"] == "demo-demand-data-quality"
    # SageMaker refuses a schedule for an endpoint that does not exist yet: the name
    # attribute orders it after the endpoint (and CloudFormation deletes it first).
    (endpoint_id,) = [
        k
        for k, r in synthesized.template["Resources"].items()
        if r["Type"] == "AWS::SageMaker::Endpoint"
    ]
    assert props["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    config = props["MonitoringScheduleConfig"]
    assert config["MonitoringJobDefinitionName"] == {
        "Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": [definition_id, "JobDefinitionArn"]}]}]
    }
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 0/6 ? * * *)"}
    request = render_intrinsics(props)
    request.pop("EndpointName")  # CloudFormation's own property; the API has none
    assert validate_request("CreateMonitoringSchedule", request) == []


def test_violations_and_failed_runs_alarm_to_the_alerts_topic(synthesized: Synthesized) -> None:
    alarms = [
        r["Properties"]
        for r in synthesized.template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Namespace") == "smkit/ModelMonitor"
    ]
    assert sorted(a["MetricName"] for a in alarms) == ["ExecutionFailed", "Violations"]
    for alarm in alarms:
        assert alarm["Statistic"] == "Maximum"
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [TOPIC_ARN]
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]}[
            "MonitoringSchedule"
        ] == "demo-demand-data-quality"


def test_metrics_function_hears_every_ended_processing_job(synthesized: Synthesized) -> None:
    _, rule = synthesized.one("AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {"ProcessingJobStatus": ["Completed", "Failed", "Stopped"]},
    }
    (function,) = [
        r
        for r in synthesized.template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    env = function["Properties"]["Environment"]["Variables"]
    assert env["NAMESPACE"] == "smkit/ModelMonitor"
    assert "demo-demand-data-quality" in json.dumps(env["SCHEDULES"])


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and role_prefix in json.dumps(r["Properties"]["Roles"])
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_monitoring_role_reads_captured_data_and_writes_only_its_prefix(
    synthesized: Synthesized,
) -> None:
    statements = _statements(synthesized.template, "MonitorRole")
    text = json.dumps(statements)
    for fragment in (
        "my-data/inference/demo-demand/data-capture/*",
        "my-data/monitoring/demand/baseline.jsonl*",
        "my-data/monitoring/demo-demand/data-quality/reports/*",
        "ec2:CreateNetworkInterface",
        "/aws/sagemaker/ProcessingJobs:*",
    ):
        assert fragment in text, fragment
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert all("data-capture" not in json.dumps(s["Resource"]) for s in writes)


def test_monitor_validation_names_each_rule() -> None:
    with pytest.raises(ValueError) as raised:
        build(
            new_stack(),
            schedule_expression="cron(0 * ? * * *)",
            max_runtime=cdk.Duration.hours(2),
            instance_type="ml.m5.huge",
            record_preprocessor="xgboost",
            job_name_prefix="A-prefix-much-too-long-for-processing-jobs",
        )
    message = str(raised.value)
    for fragment in (
        "max_runtime of 7200 s: a DataQuality job on this schedule may run at most 3600 s",
        "instance_type 'ml.m5.huge' is not an instance type processing jobs accept",
        "record_preprocessor must be one of deepar, classifier (got 'xgboost')",
        "job_name_prefix must be 1-30 lower-case characters",
    ):
        assert fragment in message, fragment
    with pytest.raises(
        ValueError, match=r"schedule 'rate\(1 hour\)' is not one Model Monitor accepts"
    ):
        build(new_stack(), schedule_expression="rate(1 hour)")


@pytest.fixture(scope="module")
def baseline_runner(synthesized: Synthesized) -> Iterator[Runner]:
    definitions = state_machines(synthesized.template)
    (definition,) = [d for d in definitions.values() if "Baseline" in d["States"]]
    logging.disable(logging.CRITICAL)
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        boto3.client("sns").create_topic(Name="alerts")
        yield Runner(runnable(definition))
    logging.disable(logging.NOTSET)


def test_baseline_workflow_request_matches_botocore(synthesized: Synthesized) -> None:
    for definition in state_machines(synthesized.template).values():
        assert validate_definition(definition) == []


def test_a_baseline_run_writes_statistics_and_constraints_where_the_schedule_reads(
    baseline_runner: Runner,
) -> None:
    execution = baseline_runner.execute({}, name="baseline-1")
    assert execution.status == "SUCCEEDED", execution.cause
    digest = hashlib.md5(baseline_runner.execution_arn("baseline-1").encode()).hexdigest()  # noqa: S324
    job = boto3.client("sagemaker").describe_processing_job(
        ProcessingJobName=f"demo-demand-bl-{digest}"
    )
    (source,) = job["ProcessingInputs"]
    assert source["S3Input"]["S3Uri"] == "s3://my-data/monitoring/demand/baseline.jsonl"
    assert source["S3Input"]["LocalPath"] == "/opt/ml/processing/input/baseline_dataset_input"
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    assert (
        output["S3Output"]["S3Uri"] == "s3://my-data/monitoring/demo-demand/data-quality/baseline"
    )
    assert job["ProcessingOutputConfig"]["KmsKeyId"] == KEY_ARN
    assert job["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert execution.output == {
        "baseline_job": f"demo-demand-bl-{digest}",
        "statistics": "s3://my-data/monitoring/demo-demand/data-quality/baseline/statistics.json",
        "constraints": "s3://my-data/monitoring/demo-demand/data-quality/baseline/constraints.json",
    }


def test_baseline_job_runs_the_analyzer_as_the_sdk_sets_it_up(synthesized: Synthesized) -> None:
    (definition,) = [
        d for d in state_machines(synthesized.template).values() if "Baseline" in d["States"]
    ]
    parameters = definition["States"]["Baseline"]["Parameters"]
    assert parameters["Environment"] == {
        "dataset_format": '{"json": {"lines": true}}',
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert parameters["AppSpecification"]["ImageUri"].endswith("/sagemaker-model-monitor-analyzer")
    assert parameters["Tags"] == [{"Key": "smkit:platform", "Value": "demo"}]
    csv = MonitoringBaseline("b.csv", dataset_format="csv", csv_header=False).dataset_format_env()
    assert json.loads(csv) == {"csv": {"header": False, "output_columns_position": "START"}}
