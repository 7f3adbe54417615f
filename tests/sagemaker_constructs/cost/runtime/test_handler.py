"""The budget guard, run for real against moto.

moto 5.2.5 keeps SageMaker state (tags, list filters and pagination, notebook
start/stop, StopProcessingJob, Application Auto Scaling) but has no StopTrainingJob,
StopHyperParameterTuningJob or StopTransformJob: those three calls, and only those, go
to a botocore Stubber (`test_moto_still_lacks_the_stubbed_stop_calls` pins why).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from sagemaker_constructs.cost.runtime import handler

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/sagemaker"
PLATFORM = {"Key": "smkit:platform", "Value": "smkit-test"}
OTHER = {"Key": "smkit:platform", "Value": "someone-else"}
BUDGET = "smkit-test-sagemaker-monthly"


def notification(budget: str = BUDGET, alert_type: str = "ACTUAL") -> str:
    """An AWS Budgets notification as Budgets publishes it to SNS (plain text)."""
    return f"""AWS Budget Notification November 29, 2026
AWS Account {DEFAULT_ACCOUNT_ID}

Dear AWS Customer,

You requested that we alert you when the {alert_type} Cost associated with your {budget} \
budget is greater than $2,000.00 for the current month. The {alert_type} Cost associated \
with this budget is $2,013.27. You can find additional details below and by accessing the \
AWS Budgets dashboard [1].

Budget Name: {budget}
Budget Type: Cost
Budgeted Amount: $2,000.00
Alert Type: {alert_type}
Alert Threshold: > $2,000.00
{alert_type} Amount: $2,013.27

[1] https://console.aws.amazon.com/billing/home#/budgets
"""


def sns_event(*messages: object) -> dict[str, Any]:
    return {
        "Records": [
            {"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": {"Message": m}}
            for m in messages
        ]
    }


EVENT = sns_event(notification())
CLOUDWATCH_ALARM = json.dumps(
    {
        "AlarmName": "smkit-test-ErrorsAlarm",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed",
        "Trigger": {"MetricName": "Errors", "Namespace": "AWS/Lambda"},
    }
)
MISSING_IN_MOTO = {
    "stop_training_job": "TrainingJobName",
    "stop_hyper_parameter_tuning_job": "HyperParameterTuningJobName",
    "stop_transform_job": "TransformJobName",
}


class SageMaker:
    """The moto SageMaker client, except for the stop calls moto lacks, which a Stubber
    answers (and checks: name and order)."""

    def __init__(self, moto_client: Any) -> None:
        self._moto = moto_client
        self._stubbed = boto3.client("sagemaker", region_name=REGION)
        self.stubber = Stubber(self._stubbed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stubbed if name in MISSING_IN_MOTO else self._moto, name)

    def expect_stop(self, operation: str, name: str, error: str | None = None) -> None:
        params = {MISSING_IN_MOTO[operation]: name}
        if error:
            message = f"{name} is in status Stopping" if error == "ValidationException" else "no"
            self.stubber.add_client_error(
                operation,
                service_error_code=error,
                service_message=message,
                expected_params=params,
            )
        else:
            self.stubber.add_response(operation, {}, params)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        sagemaker = SageMaker(boto3.client("sagemaker", region_name=REGION))
        with sagemaker.stubber:
            yield {
                "sagemaker": sagemaker,
                "client": sagemaker._moto,
                "autoscaling": boto3.client("application-autoscaling", region_name=REGION),
                "sns": sns,
                "sqs": sqs,
                "queue": queue,
                "topic": topic,
                "backend": sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION],
            }
            sagemaker.stubber.assert_no_pending_responses()


def environment(aws: dict[str, Any], *, dry_run: bool, scale: bool) -> dict[str, str]:
    return {
        "PLATFORM_TAG_KEY": PLATFORM["Key"],
        "PLATFORM_TAG_VALUE": PLATFORM["Value"],
        "BUDGET_NAMES": json.dumps([BUDGET]),
        "ALERTS_TOPIC_ARN": aws["topic"],
        "DRY_RUN": str(dry_run).lower(),
        "SCALE_ENDPOINTS": str(scale).lower(),
    }


def run_guard(
    aws: dict[str, Any], event: object = EVENT, *, dry_run: bool = False, scale: bool = False
) -> dict[str, Any]:
    return handler.run(
        event,
        sagemaker=aws["sagemaker"],
        autoscaling=aws["autoscaling"],
        sns=aws["sns"],
        environment=environment(aws, dry_run=dry_run, scale=scale),
    )


def alerts(aws: dict[str, Any]) -> list[dict[str, str]]:
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def training_job(aws: dict[str, Any], name: str, tag: dict[str, str], status: str) -> None:
    aws["client"].create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": "image"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=[tag],
    )
    # moto completes every job at once; SageMaker would report it running.
    aws["backend"].training_jobs[name].training_job_status = status


def tuning_job(aws: dict[str, Any], name: str, tag: dict[str, str]) -> None:
    aws["client"].create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxParallelTrainingJobs": 2},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "image"},
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.g5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=[tag],
    )
    aws["backend"].hyper_parameter_tuning_jobs[
        name
    ].hyper_parameter_tuning_job_status = "InProgress"


def processing_job(aws: dict[str, Any], name: str, tag: dict[str, str]) -> None:
    aws["client"].create_processing_job(
        ProcessingJobName=name,
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 10,
            }
        },
        AppSpecification={"ImageUri": "image"},
        RoleArn=ROLE,
        Tags=[tag],
    )
    aws["backend"].processing_jobs[name].processing_job_status = "InProgress"


def transform_job(aws: dict[str, Any], name: str, tag: dict[str, str]) -> None:
    aws["client"].create_transform_job(
        TransformJobName=name,
        ModelName="model",
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}
        },
        TransformOutput={"S3OutputPath": "s3://bucket/out"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        Tags=[tag],
    )
    aws["backend"].transform_jobs[name].transform_job_status = "InProgress"


def notebook(aws: dict[str, Any], name: str, tag: dict[str, str], *, start: bool = True) -> None:
    aws["client"].create_notebook_instance(
        NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=ROLE, Tags=[tag]
    )
    if start:
        aws["client"].start_notebook_instance(NotebookInstanceName=name)


def endpoint(aws: dict[str, Any], name: str, tag: dict[str, str], *, scaling: bool) -> None:
    client = aws["client"]
    client.create_model(
        ModelName=f"{name}-model", PrimaryContainer={"Image": "image"}, ExecutionRoleArn=ROLE
    )
    client.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 3,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    client.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config", Tags=[tag])
    if scaling:
        aws["autoscaling"].register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=f"endpoint/{name}/variant/AllTraffic",
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=1,
            MaxCapacity=4,
        )


def notebook_status(aws: dict[str, Any], name: str) -> str:
    status: str = aws["client"].describe_notebook_instance(NotebookInstanceName=name)[
        "NotebookInstanceStatus"
    ]
    return status


def test_moto_still_lacks_the_stubbed_stop_calls() -> None:
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        for operation, parameter in MISSING_IN_MOTO.items():
            with pytest.raises(NotImplementedError):
                getattr(client, operation)(**{parameter: "job"})


def test_nothing_running_reports_that_and_the_notification(aws: dict[str, Any]) -> None:
    training_job(aws, "finished", PLATFORM, "Completed")
    notebook(aws, "stopped-notebook", PLATFORM, start=False)
    aws["client"].stop_notebook_instance(NotebookInstanceName="stopped-notebook")

    report = run_guard(aws)

    assert report["stopped"] == [] and report["failed"] == [] and report["left_alone"] == 0
    [alert] = alerts(aws)
    assert alert["Subject"] == "Budget guard smkit-test: stopped 0"
    assert "Stopped (0):" in alert["Message"]
    assert "Budget notification:\n  AWS Budget Notification" in alert["Message"]
    assert f"  Budget Name: {BUDGET}\n" in alert["Message"]


def test_stops_every_kind_of_the_platform_and_reports_exactly_that(aws: dict[str, Any]) -> None:
    tuning_job(aws, "hpo", PLATFORM)
    training_job(aws, "train", PLATFORM, "InProgress")
    processing_job(aws, "prep", PLATFORM)
    transform_job(aws, "batch", PLATFORM)
    notebook(aws, "lab", PLATFORM)
    notebook(aws, "starting", PLATFORM, start=False)
    aws["sagemaker"].expect_stop("stop_hyper_parameter_tuning_job", "hpo")
    aws["sagemaker"].expect_stop("stop_training_job", "train")
    aws["sagemaker"].expect_stop("stop_transform_job", "batch")

    report = run_guard(aws)

    assert report["stopped"] == [
        {"kind": "tuning job", "name": "hpo"},
        {"kind": "training job", "name": "train"},
        {"kind": "processing job", "name": "prep"},
        {"kind": "transform job", "name": "batch"},
        {"kind": "notebook instance", "name": "lab"},
        {"kind": "notebook instance", "name": "starting"},
    ]
    assert aws["backend"].processing_jobs["prep"].processing_job_status == "Stopped"
    assert notebook_status(aws, "lab") == "Stopped"
    # Stopped, never deleted.
    assert aws["client"].list_notebook_instances()["NotebookInstances"]
    [alert] = alerts(aws)
    assert alert["Subject"] == "Budget guard smkit-test: stopped 6"
    for line in (
        "tuning job hpo",
        "training job train",
        "processing job prep",
        "transform job batch",
        "notebook instance lab",
    ):
        assert f"  - {line}\n" in alert["Message"]


def test_several_pages_of_jobs_all_stopped(aws: dict[str, Any]) -> None:
    names = [f"prep-{i:03d}" for i in range(201)]  # three pages of 100
    for name in names:
        processing_job(aws, name, PLATFORM)
    for i in range(101):
        notebook(aws, f"lab-{i:03d}", PLATFORM)

    report = run_guard(aws)

    stopped = [e["name"] for e in report["stopped"]]
    assert stopped[:201] == names
    assert len(stopped) == 302
    assert {j.processing_job_status for j in aws["backend"].processing_jobs.values()} == {"Stopped"}
    assert {n.status for n in aws["backend"].notebook_instances.values()} == {"Stopped"}


def test_resources_of_another_deployment_are_left_alone(aws: dict[str, Any]) -> None:
    training_job(aws, "ours", PLATFORM, "InProgress")
    training_job(aws, "theirs", OTHER, "InProgress")
    training_job(aws, "untagged", {"Key": "Project", "Value": "x"}, "InProgress")
    notebook(aws, "their-lab", OTHER)
    processing_job(aws, "their-prep", OTHER)
    aws["sagemaker"].expect_stop("stop_training_job", "ours")

    report = run_guard(aws)

    assert report["stopped"] == [{"kind": "training job", "name": "ours"}]
    assert report["left_alone"] == 4
    assert notebook_status(aws, "their-lab") == "InService"
    assert aws["backend"].processing_jobs["their-prep"].processing_job_status == "InProgress"
    assert "Running resources of other deployments left alone: 4" in alerts(aws)[0]["Message"]


def test_a_failing_stop_is_reported_and_the_rest_still_stopped(aws: dict[str, Any]) -> None:
    training_job(aws, "a-first", PLATFORM, "InProgress")
    training_job(aws, "b-refused", PLATFORM, "InProgress")
    training_job(aws, "c-last", PLATFORM, "InProgress")
    notebook(aws, "lab", PLATFORM)
    aws["sagemaker"].expect_stop("stop_training_job", "a-first")
    aws["sagemaker"].expect_stop("stop_training_job", "b-refused", error="AccessDeniedException")
    aws["sagemaker"].expect_stop("stop_training_job", "c-last")

    with pytest.raises(handler.GuardRunError) as raised:
        run_guard(aws)

    # The run fails (so Lambda retries it, counts an error and alarms), but only after
    # everything else was stopped and the report went out.
    assert str(raised.value) == (
        "budget guard of smkit-test: 1 call(s) failed (training job b-refused); "
        "the alert lists them"
    )
    assert notebook_status(aws, "lab") == "Stopped"
    [alert] = alerts(aws)
    assert alert["Subject"] == "Budget guard smkit-test: stopped 3, 1 FAILED"
    assert "FAILED (act on these yourself) (1):\n  - training job b-refused: " in alert["Message"]
    assert "  - training job a-first\n" in alert["Message"]
    assert "  - training job c-last\n" in alert["Message"]


def test_a_failed_listing_also_fails_the_run_after_reporting(aws: dict[str, Any]) -> None:
    notebook(aws, "lab", PLATFORM)

    def refuse(**_: Any) -> None:
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ListEndpoints"
        )

    aws["client"].meta.events.register("before-call.sagemaker.ListEndpoints", refuse)
    with pytest.raises(handler.GuardRunError, match=r"1 call\(s\) failed \(endpoint \(listing\)\)"):
        run_guard(aws)

    assert notebook_status(aws, "lab") == "Stopped"
    [alert] = alerts(aws)
    assert "endpoint (listing): ThrottlingException: slow down" in alert["Message"]


def test_a_clean_run_succeeds(aws: dict[str, Any]) -> None:
    notebook(aws, "lab", PLATFORM)

    result = run_guard(aws)

    assert result["acted"] is True and result["failed"] == [] and result["ignored"] == []


def test_dry_run_changes_nothing_and_says_what_it_would_stop(aws: dict[str, Any]) -> None:
    training_job(aws, "train", PLATFORM, "InProgress")
    processing_job(aws, "prep", PLATFORM)
    notebook(aws, "lab", PLATFORM)
    endpoint(aws, "scored", PLATFORM, scaling=True)

    report = run_guard(aws, dry_run=True, scale=True)

    assert [e["name"] for e in report["stopped"]] == ["train", "prep", "lab"]
    assert report["endpoints_capped"] == [
        {"endpoint": "scored", "variant": "AllTraffic", "min": 1, "previous_max": 4}
    ]
    assert aws["backend"].processing_jobs["prep"].processing_job_status == "InProgress"
    assert notebook_status(aws, "lab") == "InService"
    [target] = aws["autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert target["MaxCapacity"] == 4
    [alert] = alerts(aws)
    assert alert["Subject"] == (
        "Budget guard smkit-test (dry run): would stop 3, capped 1 endpoint variants"
    )
    assert alert["Message"].startswith("The budget guard of smkit-test ran as a DRY RUN")
    assert "Would stop (3):" in alert["Message"]


def test_duplicate_notification_does_no_harm(aws: dict[str, Any]) -> None:
    training_job(aws, "train", PLATFORM, "InProgress")
    processing_job(aws, "prep", PLATFORM)
    notebook(aws, "lab", PLATFORM)
    aws["sagemaker"].expect_stop("stop_training_job", "train")

    first = run_guard(aws)
    # What SageMaker does after StopTrainingJob (moto has no such call to do it).
    aws["backend"].training_jobs["train"].training_job_status = "Stopping"
    second = run_guard(aws)

    assert len(first["stopped"]) == 3
    assert second["stopped"] == [] and second["failed"] == []
    assert [a["Subject"] for a in alerts(aws)] == [
        "Budget guard smkit-test: stopped 3",
        "Budget guard smkit-test: stopped 0",
    ]


def test_a_job_already_stopping_when_the_call_lands_is_not_a_failure(aws: dict[str, Any]) -> None:
    # Listed as running, then stopped by a concurrent run of a duplicate notification.
    training_job(aws, "train", PLATFORM, "InProgress")
    aws["sagemaker"].expect_stop("stop_training_job", "train", error="ValidationException")

    def settle(**_: Any) -> None:
        aws["backend"].training_jobs["train"].training_job_status = "Stopping"

    aws["client"].meta.events.register("before-call.sagemaker.DescribeTrainingJob", settle)
    report = run_guard(aws)

    assert report["stopped"] == [] and report["failed"] == []
    assert report["already_stopping"] == [
        {"kind": "training job", "name": "train", "status": "Stopping"}
    ]


def test_endpoints_are_left_running_by_default(aws: dict[str, Any]) -> None:
    endpoint(aws, "scored", PLATFORM, scaling=True)
    endpoint(aws, "theirs", OTHER, scaling=False)

    report = run_guard(aws)

    assert report["endpoints_left_running"] == ["scored"]
    assert report["endpoints_capped"] == []
    [target] = aws["autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert target["MaxCapacity"] == 4
    assert "Real-time endpoints left running (1):\n  - scored" in alerts(aws)[0]["Message"]


def test_endpoints_capped_at_their_minimum_once(aws: dict[str, Any]) -> None:
    endpoint(aws, "scored", PLATFORM, scaling=True)
    endpoint(aws, "fixed", PLATFORM, scaling=False)

    first = run_guard(aws, scale=True)
    second = run_guard(aws, scale=True)

    assert first["endpoints_capped"] == [
        {"endpoint": "scored", "variant": "AllTraffic", "min": 1, "previous_max": 4}
    ]
    assert first["endpoints_left_running"] == ["fixed"]
    [target] = aws["autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 1)
    assert second["endpoints_capped"] == []
    assert second["endpoints_at_minimum"] == ["scored/AllTraffic"]
    message = alerts(aws)[0]["Message"]
    assert (
        "scored/AllTraffic: max capacity 4 -> 1; restore with: aws application-autoscaling "
        "register-scalable-target --service-namespace sagemaker --scalable-dimension "
        "sagemaker:variant:DesiredInstanceCount --resource-id endpoint/scored/variant/AllTraffic "
        "--max-capacity 4"
    ) in message


def test_lambda_entry_point_uses_its_environment(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook(aws, "lab", PLATFORM)
    monkeypatch.setenv("PLATFORM_TAG_KEY", PLATFORM["Key"])
    monkeypatch.setenv("PLATFORM_TAG_VALUE", PLATFORM["Value"])
    monkeypatch.setenv("BUDGET_NAMES", json.dumps([BUDGET]))
    monkeypatch.setenv("ALERTS_TOPIC_ARN", aws["topic"])
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("SCALE_ENDPOINTS", "false")

    report = handler.handler(EVENT, None)

    assert report["stopped"] == [{"kind": "notebook instance", "name": "lab"}]
    assert notebook_status(aws, "lab") == "Stopped"


IGNORED = [
    pytest.param({}, "the event has no SNS records: {}", id="empty-event"),
    pytest.param({"Records": []}, "the event has no SNS records", id="no-records"),
    pytest.param(None, "the event is not an object: None", id="null-event"),
    pytest.param({"Records": [{"Sns": None}]}, "record 0 is not an SNS record", id="no-sns"),
    pytest.param(sns_event(""), "record 0: the message is empty or not text: ''", id="empty"),
    pytest.param(sns_event(None), "the message is empty or not text: None", id="null-message"),
    pytest.param(
        sns_event("hello"), "not a budget notification (no 'Budget Name:' line)", id="text"
    ),
    pytest.param(sns_event("{not json"), "no 'Budget Name:' line", id="non-json"),
    pytest.param(
        sns_event(CLOUDWATCH_ALARM),
        "a CloudWatch alarm ('smkit-test-ErrorsAlarm'), not a budget notification",
        id="cloudwatch-alarm",
    ),
    pytest.param(sns_event('{"Budget Name": "x"}'), "a JSON message", id="json"),
    pytest.param(
        sns_event(notification(budget="finance-total")),
        "a notification of budget 'finance-total', not of the guard's "
        "('smkit-test-sagemaker-monthly')",
        id="other-budget",
    ),
    pytest.param(
        sns_event(notification(alert_type="FORECASTED")),
        "a FORECASTED notification of budget 'smkit-test-sagemaker-monthly': the guard acts "
        "on actual spend only",
        id="forecast",
    ),
    pytest.param(
        sns_event(notification().replace("Alert Type: ACTUAL\n", "")),
        "an untyped notification",
        id="no-alert-type",
    ),
]


@pytest.mark.parametrize(("event", "reason"), IGNORED)
def test_anything_but_an_actual_notification_of_its_budget_is_logged_and_ignored(
    aws: dict[str, Any], caplog: pytest.LogCaptureFixture, event: object, reason: str
) -> None:
    training_job(aws, "train", PLATFORM, "InProgress")
    notebook(aws, "lab", PLATFORM)

    with caplog.at_level(logging.WARNING):
        result = run_guard(aws, event)

    # Nothing stopped (the Stubber would also fail on an unexpected StopTrainingJob) and
    # nothing reported; the log says why, in the record the metric filter counts.
    assert result["acted"] is False
    assert notebook_status(aws, "lab") == "InService"
    assert alerts(aws) == []
    [record] = [r for r in caplog.records if r.getMessage() == handler.IGNORED_MESSAGE]
    assert reason in record.__dict__["reason"]
    assert record.__dict__["platform"] == "smkit-test"


def test_a_valid_notification_beside_ignored_records_is_acted_on(aws: dict[str, Any]) -> None:
    notebook(aws, "lab", PLATFORM)

    result = run_guard(aws, sns_event(None, notification(budget="finance-total"), notification()))

    assert result["acted"] is True
    assert [e["name"] for e in result["stopped"]] == ["lab"]
    assert len(result["ignored"]) == 2
    [alert] = alerts(aws)
    assert "finance-total" not in alert["Message"]


def test_a_notification_with_crlf_line_ends_is_acted_on(aws: dict[str, Any]) -> None:
    notebook(aws, "lab", PLATFORM)

    result = run_guard(aws, sns_event(notification().replace("\n", "\r\n")))

    assert [e["name"] for e in result["stopped"]] == ["lab"]


def test_capping_leaves_another_deployments_autoscaled_endpoint_alone(aws: dict[str, Any]) -> None:
    endpoint(aws, "ours", PLATFORM, scaling=True)
    endpoint(aws, "theirs", OTHER, scaling=True)

    report = run_guard(aws, scale=True)

    assert [e["endpoint"] for e in report["endpoints_capped"]] == ["ours"]
    assert report["left_alone"] == 1
    targets = aws["autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")
    capacity = {t["ResourceId"]: t["MaxCapacity"] for t in targets["ScalableTargets"]}
    assert capacity == {
        "endpoint/ours/variant/AllTraffic": 1,
        "endpoint/theirs/variant/AllTraffic": 4,
    }
