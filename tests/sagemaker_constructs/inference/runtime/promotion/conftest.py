"""A model registry and an Inference stack in moto, as the approval workflow finds them.

moto 5.2.5 gaps the fixtures work around (each on moto's backend, like a test that sets
a job's status): it has no DeleteModelPackage (a deleted version is taken out of the
backend), its UpdateStack completes at once (a rollback is set on the stack model), its
stacks keep only the parameters given at creation (every parameter is given, as
CloudFormation keeps defaults too), and it returns no stack Capabilities.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from sagemaker_constructs.inference.runtime.promotion.handler import Clients, Step
from sagemaker_constructs.inference.runtime.promotion.versions import Follower, parameter_pattern

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
STACK = "smkit-test-Inference"
GROUP = "smkit-test-text-classifier"
STAGING = Follower(endpoint="smkit-test-staging", parameter="StagingModelVersion", group=GROUP)
PROD = Follower(
    endpoint="smkit-test-prod",
    parameter="ProdModelVersion",
    group=GROUP,
    promoted_from="smkit-test-staging",
)
STATE_MACHINE = "smkit-test-model-approval"


def arn(version: int, group: str = GROUP) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"


def package_event(version: int, approval: str = "Approved") -> dict[str, Any]:
    """An EventBridge "SageMaker Model Package State Change" event (the docs' example)."""
    return {
        "version": "0",
        "id": "844e2571-85d4-695f-b930-0153b71dcb42",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2026-03-02T09:00:00Z",
        "region": REGION,
        "resources": [arn(version)],
        "detail": {
            "ModelPackageGroupName": GROUP,
            "ModelPackageVersion": version,
            "ModelPackageArn": arn(version),
            "ModelPackageStatus": "Completed",
            "ModelApprovalStatus": approval,
        },
    }


def template(followers: list[Follower]) -> dict[str, Any]:
    """The shape of the Inference stack: one parameter and condition per follower, the
    endpoint's resources under the condition (a queue stands in), and the bootstrap
    version parameter every CDK stack has."""
    parameters: dict[str, Any] = {
        "BootstrapVersion": {"Type": "String", "Default": "/cdk-bootstrap/hnb659fds/version"}
    }
    conditions: dict[str, Any] = {}
    resources: dict[str, Any] = {"Marker": {"Type": "AWS::SNS::Topic"}}
    for follower in followers:
        parameters[follower.parameter] = {
            "Type": "String",
            "Default": "",
            "AllowedPattern": parameter_pattern(follower.group),
        }
        conditions[f"{follower.parameter}Set"] = {
            "Fn::Not": [{"Fn::Equals": [{"Ref": follower.parameter}, ""]}]
        }
        resources[f"{follower.parameter}Endpoint"] = {
            "Type": "AWS::SQS::Queue",
            "Condition": f"{follower.parameter}Set",
        }
    return {"Parameters": parameters, "Conditions": conditions, "Resources": resources}


@dataclass
class World:
    """moto's registry, stack, workflow and alerts topic."""

    followers: list[Follower]
    topic_arn: str
    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def register(self, approval: str = "PendingManualApproval", group: str = GROUP) -> int:
        """A new version of `group`; returns its number."""
        created = self.client("sagemaker").create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/classifier:1",
                        "ModelDataUrl": "s3://smkit-test-artifacts/training/m.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus=approval,
        )
        number = int(created["ModelPackageArn"].rsplit("/", 1)[1])
        return number

    def set_approval(self, version: int, approval: str, description: str = "") -> None:
        self.client("sagemaker").update_model_package(
            ModelPackageArn=arn(version),
            ModelApprovalStatus=approval,
            ApprovalDescription=description,
        )

    def promote(self, version: int, endpoint: str) -> None:
        described = self.described(version)
        self.client("sagemaker").update_model_package(
            ModelPackageArn=arn(version),
            ModelApprovalStatus=described["ModelApprovalStatus"],
            ApprovalDescription=described.get("ApprovalDescription", ""),
            CustomerMetadataProperties={
                **described.get("CustomerMetadataProperties", {}),
                f"smkit:promoted:{endpoint}": "2026-03-02T09:00:00Z",
            },
        )

    def described(self, version: int) -> dict[str, Any]:
        return dict(self.client("sagemaker").describe_model_package(ModelPackageName=arn(version)))

    def delete(self, version: int) -> None:
        """moto has no DeleteModelPackage: the version leaves the backend."""
        sagemaker_backend().model_packages.pop(arn(version))

    def parameters(self) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
        return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}

    def serve(self, follower: Follower, version: int) -> None:
        """Set a follower's parameter as an earlier deployment left it."""
        set_parameters({follower.parameter: arn(version)})

    def roll_back(
        self, previous: dict[str, str], reason: str = "Alarm smkit-test-errors fired"
    ) -> None:
        """What CloudFormation leaves after an update it rolled back: the `previous`
        parameter values, UPDATE_ROLLBACK_COMPLETE and the failed resource's event."""
        stack = stack_model()
        set_parameters(previous)
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS")
        from moto.cloudformation.models import Event

        stack.events.append(
            Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id="StagingEndpoint",
                physical_resource_id="smkit-test-staging",
                resource_type="AWS::SageMaker::Endpoint",
                resource_status="UPDATE_FAILED",
                resource_status_reason=reason,
                resource_properties=None,
            )
        )
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")

    def alerts(self) -> list[tuple[str, str]]:
        """(subject, message) of everything published to the alerts topic."""
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][REGION].topics[self.topic_arn]
        return [(subject or "", message) for _, message, subject, *_ in topic.sent_notifications]

    def step(self, *, poll_seconds: int = 60) -> Step:
        clients = Clients(
            cloudformation=self.client("cloudformation"),
            sagemaker=self.client("sagemaker"),
            stepfunctions=self.client("stepfunctions"),
            sns=self.client("sns"),
        )
        return Step(
            clients,
            stack_name=STACK,
            followers=self.followers,
            alerts_topic_arn=self.topic_arn,
            poll_seconds=poll_seconds,
            now=lambda: self.now,
        )

    def run(self, state: Any, execution: str = "", started: str = "") -> dict[str, Any]:
        return self.step().run({"state": state, "execution": execution, "started": started})

    def run_to_end(self, state: Any, limit: int = 20) -> tuple[dict[str, Any], int]:
        """Call the step as the state machine does until it is done; the number of calls."""
        for calls in range(1, limit + 1):
            state = self.run(state)
            if state["next"] != "wait":
                return state, calls
        raise AssertionError(f"still waiting after {limit} steps: {state}")


def sagemaker_backend() -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


def stack_model() -> Any:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[ACCOUNT][REGION]
    (stack,) = [s for s in backend.stacks.values() if s.name == STACK]
    return stack


def set_parameters(values: dict[str, str]) -> None:
    """Parameter values on moto's stack model (moto answers DescribeStacks from the
    resolved ones and UpdateStack's UsePreviousValue from the given ones)."""
    stack = stack_model()
    stack.parameters.update(values)
    stack.resource_map.resolved_parameters.update(values)


def deploy(followers: list[Follower]) -> None:
    body = template(followers)
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": key, "ParameterValue": spec["Default"]}
            for key, spec in body["Parameters"].items()
        ],
        Capabilities=["CAPABILITY_IAM"],
    )


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        boto3.client("sagemaker", region_name=REGION).create_model_package_group(
            ModelPackageGroupName=GROUP
        )
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
        deploy([STAGING, PROD])
        yield World(followers=[STAGING, PROD], topic_arn=topic)
