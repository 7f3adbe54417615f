"""A stack with the platform's shared resources, and one synthesis of four endpoints
(instance, serverless, async, GPU) that the template tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference import (
    AsyncVariant,
    Autoscaling,
    DataCapture,
    Deployment,
    Endpoint,
    InstanceVariant,
    ModelData,
    ModelSource,
    ServerlessVariant,
)
from tests.oracles.synth import new_stack

NETWORK = NetworkPlacement.from_ids(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    security_group_ids=["sg-0123456789abcdef0"],
)
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/deepar-demand/3"
CLASSIFIER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/classifier:v1"


@dataclass
class Platform:
    """The shared resources an endpoint uses, in one fresh stack."""

    stack: cdk.Stack
    key: kms.Key
    data_bucket: s3.Bucket
    artifacts_bucket: s3.Bucket
    alerts_topic: sns.Topic

    def endpoint(self, id_: str = "Endpoint", **overrides: Any) -> Endpoint:
        """An endpoint with workable defaults (DeepAR on one ml.c5.xlarge), overridden."""
        kwargs: dict[str, Any] = {
            "endpoint_name": "smkit-forecast",
            "model": deepar_artifact(self.artifacts_bucket),
            "variant": InstanceVariant("ml.c5.xlarge"),
            "encryption_key": self.key,
            "alerts_topic": self.alerts_topic,
            "data_bucket": self.data_bucket,
        }
        kwargs.update(overrides)
        return Endpoint(self.stack, id_, **kwargs)


def platform() -> Platform:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    return Platform(
        stack=stack,
        key=key,
        data_bucket=s3.Bucket(stack, "Data", encryption_key=key),
        artifacts_bucket=s3.Bucket(stack, "Artifacts", encryption_key=key),
        alerts_topic=sns.Topic(stack, "Alerts", master_key=key),
    )


def deepar_artifact(bucket: s3.IBucket) -> ModelSource:
    return ModelSource.from_artifact(
        ContainerImage.from_builtin("forecasting-deepar"),
        ModelData.from_bucket(bucket, "training/deepar/output/model.tar.gz"),
    )


@dataclass
class Endpoints:
    """Four endpoints synthesized once: their constructs, stack and template."""

    platform: Platform
    forecast: Endpoint
    classifier: Endpoint
    batch: Endpoint
    gpu: Endpoint
    json: dict[str, Any]
    """The template as a dict (read once: every `to_json` is a round trip to jsii)."""

    def resource(self, endpoint: Endpoint, construct: cdk.CfnResource) -> dict[str, Any]:
        """The template entry of one of an endpoint's resources."""
        logical_id = self.platform.stack.resolve(construct.logical_id)
        resource: dict[str, Any] = self.json["Resources"][logical_id]
        return resource

    def properties(self, construct: cdk.CfnResource) -> dict[str, Any]:
        """The properties of a resource, as synthesized."""
        logical_id = self.platform.stack.resolve(construct.logical_id)
        properties: dict[str, Any] = self.json["Resources"][logical_id]["Properties"]
        return properties

    def logical_id(self, construct: cdk.CfnResource) -> str:
        resolved: str = self.platform.stack.resolve(construct.logical_id)
        return resolved


@pytest.fixture(scope="session")
def endpoints() -> Endpoints:
    """DeepAR in a VPC with autoscaling, data capture and a canary rollout; a serverless
    classifier; an async DeepAR model package that scales to zero; a GPU endpoint."""
    shared = platform()
    forecast = shared.endpoint(
        "Forecast",
        variant=InstanceVariant("ml.c5.xlarge", initial_instance_count=2),
        autoscaling=Autoscaling(min_capacity=2, max_capacity=6, target_value=200),
        data_capture=DataCapture(sampling_percentage=20),
        deployment=Deployment.canary(25, wait=cdk.Duration.minutes(10)),
        network=NETWORK,
    )
    classifier = shared.endpoint(
        "Classifier",
        endpoint_name="smkit-classifier",
        model=ModelSource.from_artifact(
            ContainerImage.from_uri(CLASSIFIER_IMAGE),
            ModelData.from_uri("s3://team-models/text-classifier/model.tar.gz"),
            environment={"SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
        ),
        variant=ServerlessVariant(
            memory_size_mb=3072, max_concurrency=10, provisioned_concurrency=2
        ),
        deployment=Deployment.linear(20, wait=cdk.Duration.minutes(2)),
    )
    batch = shared.endpoint(
        "Batch",
        endpoint_name="smkit-batch",
        model=ModelSource.from_model_package(
            PACKAGE_ARN,
            image=ContainerImage.from_builtin("forecasting-deepar"),
            model_data_bucket=shared.artifacts_bucket,
            model_data_prefix="training/deepar/",
        ),
        variant=AsyncVariant("ml.m5.xlarge", max_concurrent_invocations_per_instance=2),
        autoscaling=Autoscaling(min_capacity=0, max_capacity=4, target_value=5),
        data_capture=DataCapture(capture_request=False),
    )
    gpu = shared.endpoint(
        "Gpu",
        endpoint_name="smkit-gpu",
        model=ModelSource.from_artifact(
            ContainerImage.from_uri(CLASSIFIER_IMAGE),
            ModelData.from_bucket(shared.artifacts_bucket, "gpu/model.tar.gz"),
        ),
        variant=InstanceVariant("ml.g5.xlarge"),
    )
    return Endpoints(
        platform=shared,
        forecast=forecast,
        classifier=classifier,
        batch=batch,
        gpu=gpu,
        json=Template.from_stack(shared.stack).to_json(),
    )
