"""The budget guard and Studio: it stops the running apps of the platform's domain with
DeleteApp (COST-6: the space and its volume stay) and nothing else of Studio.

moto 5.2.5 has no ListApps, DeleteApp or DescribeApp, so SageMaker is a botocore Stubber
here (it checks every request against botocore's model, in order); SNS is moto's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sagemaker_constructs.cost.runtime import handler

from .test_handler import BUDGET, EVENT, PLATFORM, REGION

DOMAIN = "d-abc123def456"
STARTED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
# The list calls the guard makes before Studio's apps, in its order (none finds anything).
EARLIER_LISTS = [
    ("list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries", "InProgress"),
    ("list_training_jobs", "TrainingJobSummaries", "InProgress"),
    ("list_processing_jobs", "ProcessingJobSummaries", "InProgress"),
    ("list_transform_jobs", "TransformJobSummaries", "InProgress"),
    ("list_notebook_instances", "NotebookInstances", "InService"),
    ("list_notebook_instances", "NotebookInstances", "Pending"),
]


def app(name: str, status: str, instance_type: str, *, space: str | None = "alice-main",
        app_type: str = "JupyterLab", user: str | None = None) -> dict[str, Any]:  # fmt: skip
    found: dict[str, Any] = {
        "DomainId": DOMAIN,
        "AppType": app_type,
        "AppName": name,
        "Status": status,
        "CreationTime": STARTED,
        "ResourceSpec": {"InstanceType": instance_type},
    }
    if space:
        found["SpaceName"] = space
    if user:
        found["UserProfileName"] = user
    return found


class StudioGuard:
    """A stubbed SageMaker that answers the guard's calls in order, and moto's SNS."""

    def __init__(self) -> None:
        self.client = boto3.client("sagemaker", region_name=REGION)
        self.stubber = Stubber(self.client)
        sqs = boto3.client("sqs", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.topic = self.sns.create_topic(Name="alerts")["TopicArn"]
        self.queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=queue_arn)
        self.sqs = sqs

    def lists_before_apps(self) -> None:
        for operation, key, status in EARLIER_LISTS:
            self.stubber.add_response(
                operation, {key: []}, {"StatusEquals": status, "MaxResults": 100}
            )

    def apps(self, *apps: dict[str, Any]) -> None:
        self.stubber.add_response(
            "list_apps", {"Apps": list(apps)}, {"DomainIdEquals": DOMAIN, "MaxResults": 100}
        )

    def endpoints(self) -> None:
        self.stubber.add_response("list_endpoints", {"Endpoints": []}, {"MaxResults": 100})

    def delete(self, name: str, *, space: str = "alice-main", error: str | None = None) -> None:
        params = {"DomainId": DOMAIN, "SpaceName": space, "AppType": "JupyterLab", "AppName": name}
        if error:
            self.stubber.add_client_error(
                "delete_app", service_error_code=error, service_message="no", expected_params=params
            )
        else:
            self.stubber.add_response("delete_app", {}, params)

    def describe(self, name: str, status: str) -> None:
        params = {"DomainId": DOMAIN, "SpaceName": "alice-main", "AppType": "JupyterLab",
                  "AppName": name}  # fmt: skip
        self.stubber.add_response("describe_app", {"Status": status, "AppName": name}, params)

    def run(self, *, dry_run: bool = False) -> dict[str, Any]:
        with self.stubber:
            result = handler.run(
                EVENT,
                sagemaker=self.client,
                autoscaling=boto3.client("application-autoscaling", region_name=REGION),
                sns=self.sns,
                environment={
                    "PLATFORM_TAG_KEY": PLATFORM["Key"],
                    "PLATFORM_TAG_VALUE": PLATFORM["Value"],
                    "BUDGET_NAMES": json.dumps([BUDGET]),
                    "ALERTS_TOPIC_ARN": self.topic,
                    "DRY_RUN": str(dry_run).lower(),
                    "SCALE_ENDPOINTS": "false",
                    "STUDIO_DOMAIN_IDS": json.dumps([DOMAIN]),
                },
            )
            self.stubber.assert_no_pending_responses()
        return result

    def alert(self) -> dict[str, str]:
        (message,) = self.sqs.receive_message(QueueUrl=self.queue)["Messages"]
        alert: dict[str, str] = json.loads(message["Body"])
        return alert


@pytest.fixture
def guard() -> Iterator[StudioGuard]:
    with mock_aws():
        yield StudioGuard()


def test_running_apps_of_the_domain_are_stopped_and_their_spaces_kept(guard: StudioGuard) -> None:
    guard.lists_before_apps()
    guard.apps(
        app("default", "InService", "ml.g5.xlarge"),
        app("default", "Pending", "ml.t3.medium", space="bob-main", app_type="CodeEditor"),
        app("old", "Deleted", "ml.t3.medium"),
        app("broken", "Failed", "ml.t3.medium"),
        app("default", "InService", "system", space=None, app_type="JupyterServer", user="carol"),
    )
    guard.delete("default")
    guard.stubber.add_response(
        "delete_app",
        {},
        {
            "DomainId": DOMAIN,
            "SpaceName": "bob-main",
            "AppType": "CodeEditor",
            "AppName": "default",
        },
    )
    guard.endpoints()

    report = guard.run()

    assert report["stopped"] == [
        {"kind": "Studio app", "name": "alice-main/JupyterLab/default (ml.g5.xlarge)"},
        {"kind": "Studio app", "name": "bob-main/CodeEditor/default (ml.t3.medium)"},
    ]
    alert = guard.alert()
    assert alert["Subject"] == "Budget guard smkit-test: stopped 2"
    assert "  - Studio app alice-main/JupyterLab/default (ml.g5.xlarge)\n" in alert["Message"]
    assert (
        "Studio apps are stopped, not their spaces: each space and its volume (the user's "
        "files) stay, and the user starts the app again in Studio." in alert["Message"]
    )


def test_a_dry_run_lists_the_apps_and_deletes_none(guard: StudioGuard) -> None:
    guard.lists_before_apps()
    guard.apps(app("default", "InService", "ml.t3.medium"))
    guard.endpoints()  # no delete_app expected: the Stubber fails on any unexpected call

    report = guard.run(dry_run=True)

    assert report["stopped"] == [
        {"kind": "Studio app", "name": "alice-main/JupyterLab/default (ml.t3.medium)"}
    ]
    assert guard.alert()["Subject"] == "Budget guard smkit-test (dry run): would stop 1"


def test_an_app_already_going_is_not_a_failure(guard: StudioGuard) -> None:
    guard.lists_before_apps()
    guard.apps(app("a", "InService", "ml.t3.medium"), app("b", "InService", "ml.t3.medium"))
    guard.delete("a", error="ResourceInUse")
    guard.describe("a", "Deleting")
    guard.delete("b", error="ResourceNotFound")
    guard.endpoints()

    report = guard.run()

    assert report["stopped"] == [] and report["failed"] == []
    assert report["already_stopping"] == [
        {
            "kind": "Studio app",
            "name": "alice-main/JupyterLab/a (ml.t3.medium)",
            "status": "Deleting",
        },
        {
            "kind": "Studio app",
            "name": "alice-main/JupyterLab/b (ml.t3.medium)",
            "status": "Deleted",
        },
    ]


def test_a_refused_stop_is_reported_and_fails_the_run(guard: StudioGuard) -> None:
    guard.lists_before_apps()
    guard.apps(app("a", "InService", "ml.t3.medium"), app("b", "InService", "ml.t3.medium"))
    guard.delete("a", error="AccessDeniedException")
    guard.delete("b")
    guard.endpoints()

    with pytest.raises(handler.GuardRunError, match=r"1 call\(s\) failed \(Studio app "):
        guard.run()

    alert = guard.alert()
    assert "FAILED (act on these yourself) (1):" in alert["Message"]
    assert "  - Studio app alice-main/JupyterLab/a: AccessDeniedException: no\n" in alert["Message"]
    assert "  - Studio app alice-main/JupyterLab/b (ml.t3.medium)\n" in alert["Message"]


def test_a_failed_listing_is_reported(guard: StudioGuard) -> None:
    guard.lists_before_apps()
    guard.stubber.add_client_error(
        "list_apps",
        service_error_code="ThrottlingException",
        service_message="slow down",
        expected_params={"DomainIdEquals": DOMAIN, "MaxResults": 100},
    )
    guard.endpoints()

    with pytest.raises(handler.GuardRunError):
        guard.run()

    assert (
        f"  - Studio app {DOMAIN} (listing): ThrottlingException: slow down\n"
        in guard.alert()["Message"]
    )
