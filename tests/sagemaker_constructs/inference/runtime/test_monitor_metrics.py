"""Model Monitor's violations as metrics: the function run for real against moto's
SageMaker, S3 and CloudWatch, on the events EventBridge delivers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from sagemaker_constructs.inference.runtime.monitor_metrics import handler

REGION = "us-east-1"
BUCKET = "smkit-data"
SCHEDULE = "smkit-demand-forecast-data-quality"
REPORTS = f"s3://{BUCKET}/monitoring/smkit-demand-forecast/data-quality/reports/run-7"
ENDED = datetime(2026, 11, 30, 6, 20, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SCHEDULES", json.dumps({SCHEDULE: "smkit-demand-forecast"}))
    monkeypatch.setenv("NAMESPACE", "smkit/ModelMonitor")
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def monitoring_job(
    name: str,
    *,
    status: str = "Completed",
    schedule: str | None = SCHEDULE,
    by_environment: bool = False,
    exit_message: str | None = None,
) -> None:
    """A processing job as a monitoring schedule starts it (moto keeps no schedule ARN or
    environment, so they are set on its backend)."""
    boto3.client("sagemaker", region_name=REGION).create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20
            }
        },
        AppSpecification={"ImageUri": "156813124566.dkr.ecr.us-east-1.amazonaws.com/analyzer"},
        RoleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/monitor",
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": REPORTS,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )  # fmt: skip
    job = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].processing_jobs[name]
    job.processing_job_status = status
    job.processing_end_time = ENDED
    if schedule and by_environment:
        job.environment = {"sagemaker_monitoring_schedule_name": schedule}
    elif schedule:
        job.monitoring_schedule_arn = (
            f"arn:aws:sagemaker:{REGION}:{DEFAULT_ACCOUNT_ID}:monitoring-schedule/{schedule}"
        )
    if exit_message:
        job.exit_message = exit_message


def report(violations: list[dict[str, Any]]) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET,
        Key=f"{REPORTS.split('/', 3)[3]}/constraint_violations.json",
        Body=json.dumps({"violations": violations}).encode(),
    )


def event(name: str, status: str = "Completed") -> dict[str, Any]:
    return {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Processing Job State Change",
        "detail": {"ProcessingJobName": name, "ProcessingJobStatus": status},
    }


def datapoints() -> dict[tuple[str, tuple[tuple[str, str], ...]], list[float]]:
    """Every datapoint put, by metric name and dimensions."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    found: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = {}
    for metric in cloudwatch.list_metrics(Namespace="smkit/ModelMonitor")["Metrics"]:
        stats = cloudwatch.get_metric_statistics(
            Namespace="smkit/ModelMonitor",
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=datetime(2026, 11, 30, tzinfo=UTC),
            EndTime=datetime(2026, 12, 1, tzinfo=UTC),
            Period=3600,
            Statistics=["Maximum"],
        )["Datapoints"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric["Dimensions"]))
        found[(metric["MetricName"], dims)] = [p["Maximum"] for p in stats]
    return found


RUN = (("Endpoint", "smkit-demand-forecast"), ("MonitoringSchedule", SCHEDULE))


def test_violations_of_a_run_are_counted_by_check(aws: None) -> None:
    monitoring_job("model-monitoring-202611300600-a1")
    report(
        [
            {"feature_name": "target_mean", "constraint_check_type": "baseline_drift_check"},
            {"feature_name": "target_std", "constraint_check_type": "baseline_drift_check"},
            {"feature_name": "missing_share", "constraint_check_type": "completeness_check"},
        ]
    )
    outcome = handler.handler(event("model-monitoring-202611300600-a1"))
    assert outcome["violations"] == 3
    assert outcome["by_check"] == {"baseline_drift_check": 2, "completeness_check": 1}
    points = datapoints()
    assert points[("Violations", RUN)] == [3.0]
    assert points[("ExecutionFailed", RUN)] == [0.0]
    assert points[("Violations", tuple(sorted((*RUN, ("Check", "baseline_drift_check")))))] == [2.0]


def test_a_run_without_a_report_has_no_violations(aws: None) -> None:
    monitoring_job("model-monitoring-clean", by_environment=True)
    outcome = handler.handler(event("model-monitoring-clean"))
    assert (outcome["schedule"], outcome["violations"]) == (SCHEDULE, 0)
    assert datapoints()[("Violations", RUN)] == [0.0]


def test_an_unreadable_report_of_a_run_with_violations_still_counts(aws: None) -> None:
    monitoring_job(
        "model-monitoring-unread",
        exit_message="CompletedWithViolations: Job completed successfully with 4 violations.",
    )
    outcome = handler.handler(event("model-monitoring-unread"))
    assert outcome["by_check"] == {"unreadable-report": 1}


def test_a_failed_or_stopped_run_is_a_failure_metric(aws: None) -> None:
    monitoring_job("model-monitoring-failed", status="Failed")
    outcome = handler.handler(event("model-monitoring-failed", "Failed"))
    assert (outcome["status"], outcome["violations"]) == ("Failed", 0)
    assert datapoints()[("ExecutionFailed", RUN)] == [1.0]


def test_jobs_of_other_schedules_and_unended_jobs_are_ignored(aws: None) -> None:
    monitoring_job("someone-elses", schedule="other-team-schedule")
    monitoring_job("a-baseline-job", schedule=None)
    assert handler.handler(event("someone-elses"))["ignored"] == (
        "not a job of this platform's monitoring schedules"
    )
    assert "ignored" in handler.handler(event("a-baseline-job"))
    assert handler.handler(event("a-baseline-job", "InProgress"))["ignored"] == (
        "not an ended processing job (status 'InProgress')"
    )
    assert datapoints() == {}


def test_a_duplicate_event_does_not_change_what_the_alarms_see(aws: None) -> None:
    # EventBridge may deliver an event twice; the alarms read the period's Maximum.
    monitoring_job("model-monitoring-twice")
    report([{"constraint_check_type": "data_type_check"}])
    handler.handler(event("model-monitoring-twice"))
    handler.handler(event("model-monitoring-twice"))
    assert datapoints()[("Violations", RUN)] == [1.0]
