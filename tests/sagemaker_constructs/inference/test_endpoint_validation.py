"""Every rule of `Endpoint`, one case each, with the message a user reads."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk import aws_kms as kms

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import (
    AlarmThresholds,
    AsyncVariant,
    Autoscaling,
    DataCapture,
    Deployment,
    InstanceVariant,
    ModelData,
    ModelSource,
    ServerlessVariant,
)

from .conftest import NETWORK, Platform, platform

SERVERLESS = ServerlessVariant()
TWO = InstanceVariant("ml.c5.xlarge", initial_instance_count=2)
_ids = itertools.count()


@pytest.fixture(scope="module")
def shared() -> Platform:
    return platform()


def refused(shared: Platform, **overrides: Any) -> str:
    with pytest.raises(ValueError) as raised:
        shared.endpoint(f"Case{next(_ids)}", **overrides)
    message = str(raised.value)
    prefix = "Invalid Endpoint props: "
    assert message.startswith(prefix)
    return message.removeprefix(prefix)


def classifier_at(key: str) -> ModelSource:
    return ModelSource.from_artifact(
        ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/c:1"),
        ModelData.from_uri(f"s3://models/{key}"),
    )


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "endpoint name": (
        {"endpoint_name": "demand_forecast"},
        "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a "
        "letter or digit (got 'demand_forecast')",
    ),
    "model data not a tar.gz": (
        {"model": classifier_at("model.zip")},
        "model data must be a .tar.gz archive (got key 'model.zip')",
    ),
    "unversioned model package": (
        {
            "model": ModelSource.from_model_package(
                "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/deepar"
            )
        },
        "model_package_arn must be a versioned model package, arn:aws:sagemaker:<region>:"
        "<account>:model-package/<group>/<version> (got "
        "'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/deepar')",
    ),
    "unknown instance type": (
        {"variant": InstanceVariant("ml.c5.huge")},
        "instance_type must be an endpoint instance type such as ml.c5.18xlarge, "
        "ml.c5.2xlarge, ml.c5.4xlarge, ml.c5.9xlarge, ml.c5.large, ml.c5.xlarge "
        "(got 'ml.c5.huge')",
    ),
    "no instances": (
        {"variant": InstanceVariant("ml.c5.xlarge", initial_instance_count=0)},
        "initial_instance_count must be at least 1 (got 0)",
    ),
    "DeepAR on a GPU": (
        {"variant": InstanceVariant("ml.g5.xlarge")},
        "forecasting-deepar serves on CPUs only; instance_type must be a CPU type such as "
        "ml.c5.xlarge (got 'ml.g5.xlarge')",
    ),
    "async concurrency": (
        {"variant": AsyncVariant("ml.m5.xlarge", max_concurrent_invocations_per_instance=0)},
        "max_concurrent_invocations_per_instance must be 1-1000 (got 0)",
    ),
    "async without a bucket": (
        {"variant": AsyncVariant("ml.m5.xlarge"), "data_bucket": None},
        "an async variant needs data_bucket (requests, results and failures live there)",
    ),
    "serverless memory": (
        {"variant": ServerlessVariant(memory_size_mb=1500)},
        "memory_size_mb must be 1024, 2048, 3072, 4096, 5120 or 6144 (got 1500)",
    ),
    "serverless concurrency": (
        {"variant": ServerlessVariant(max_concurrency=500)},
        "max_concurrency must be 1-200 (got 500)",
    ),
    "provisioned above max": (
        {"variant": ServerlessVariant(max_concurrency=5, provisioned_concurrency=6)},
        "provisioned_concurrency must be 1-max_concurrency (5) (got 6)",
    ),
    "serverless autoscaling": (
        {"variant": SERVERLESS, "autoscaling": Autoscaling(max_capacity=2)},
        "serverless endpoints scale by themselves; autoscaling is for instance and async variants",
    ),
    "instance scale to zero": (
        {"autoscaling": Autoscaling(min_capacity=0, max_capacity=2)},
        "autoscaling min_capacity must be at least 1 for instance variants (got 0); only async "
        "endpoints can scale to zero",
    ),
    "max below min": (
        {"variant": TWO, "autoscaling": Autoscaling(min_capacity=2, max_capacity=1)},
        "autoscaling max_capacity must be at least 1 and at least min_capacity (2) (got 1); "
        "initial_instance_count (2) must lie within autoscaling min_capacity-max_capacity (2-1)",
    ),
    "initial count outside the range": (
        {"variant": TWO, "autoscaling": Autoscaling(min_capacity=3, max_capacity=4)},
        "initial_instance_count (2) must lie within autoscaling min_capacity-max_capacity (3-4)",
    ),
    "burstable autoscaling": (
        {
            "model": classifier_at("model.tar.gz"),
            "variant": InstanceVariant("ml.t2.medium"),
            "autoscaling": Autoscaling(max_capacity=2),
        },
        "autoscaling does not support burstable instance types (ml.t2.medium): Application "
        "Auto Scaling refuses to register them; choose a non-burstable type such as ml.c5.large "
        "or drop autoscaling",
    ),
    "canary on inf1": (
        {
            "model": classifier_at("model.tar.gz"),
            "variant": InstanceVariant("ml.inf1.xlarge", initial_instance_count=2),
            "deployment": Deployment.canary(50),
        },
        "canary traffic shifting is not available on Inf1 instances (ml.inf1.xlarge): "
        "SageMaker deploys them all at once without baking; use Deployment.all_at_once() or "
        "another instance type",
    ),
    "target value": (
        {"autoscaling": Autoscaling(max_capacity=2, target_value=0)},
        "autoscaling target_value must be positive (got 0)",
    ),
    "cooldown": (
        {"autoscaling": Autoscaling(max_capacity=2, scale_in_cooldown=Duration.hours(2))},
        "autoscaling scale_in_cooldown must be 0-3600 seconds (got 7200)",
    ),
    "serverless data capture": (
        {"variant": SERVERLESS, "data_capture": DataCapture()},
        "serverless endpoints do not support data capture",
    ),
    "data capture without a bucket": (
        {"data_capture": DataCapture(), "data_bucket": None},
        "data capture needs data_bucket",
    ),
    "sampling percentage": (
        {"data_capture": DataCapture(sampling_percentage=0)},
        "data capture sampling_percentage must be 1-100 (got 0)",
    ),
    "capture nothing": (
        {"data_capture": DataCapture(capture_request=False, capture_response=False)},
        "data capture must capture the request, the response or both",
    ),
    "too many content types": (
        {"data_capture": DataCapture(json_content_types=tuple(f"a/{i}" for i in range(11)))},
        "data capture json_content_types takes at most 10 types (got 11)",
    ),
    "step for all at once": (
        {"deployment": Deployment("ALL_AT_ONCE", step_percent=10)},
        "step_percent is for CANARY and LINEAR shifts (got 10)",
    ),
    "canary size": (
        {"variant": TWO, "deployment": Deployment.canary(60)},
        "canary step_percent must be 1-50 (got 60)",
    ),
    "linear step": (
        {"variant": TWO, "deployment": Deployment.linear(5, wait=Duration.seconds(0))},
        "linear step_percent must be 10-50 (got 5)",
    ),
    "canary on one instance": (
        {"deployment": Deployment.canary(10)},
        "canary traffic shifting needs at least 2 instances (a step of at most 50% is at least "
        "one instance) (got initial_instance_count 1)",
    ),
    "wait": (
        {"deployment": Deployment.all_at_once(wait=Duration.hours(2))},
        "wait must be 0-3600 seconds (got 7200); maximum_execution_timeout (3600 s) is shorter "
        "than the deployment's waits (1 x 7200 s + 300 s = 7500 s)",
    ),
    "timeout range": (
        {"deployment": Deployment.all_at_once(maximum_execution_timeout=Duration.hours(5))},
        "maximum_execution_timeout must be 600-14400 seconds (got 18000)",
    ),
    "timeout shorter than the waits": (
        {
            "variant": TWO,
            "deployment": Deployment.linear(10, wait=Duration.minutes(10)),
        },
        "maximum_execution_timeout (3600 s) is shorter than the deployment's waits "
        "(10 x 600 s + 300 s = 6300 s)",
    ),
    "server errors": (
        {"alarms": AlarmThresholds(server_errors=0)},
        "alarms server_errors must be at least 1 (got 0)",
    ),
    "latency": (
        {"alarms": AlarmThresholds(p99_model_latency=Duration.millis(0))},
        "alarms p99_model_latency must be at least 1 ms (got 0 ms)",
    ),
    "alarm period": (
        {"alarms": AlarmThresholds(period=Duration.seconds(45))},
        "alarms period must be 10 s, 30 s or a multiple of 60 s (got 45 s)",
    ),
    "evaluation periods": (
        {"alarms": AlarmThresholds(evaluation_periods=0)},
        "alarms evaluation_periods must be 1-30 (got 0)",
    ),
    "serverless in a VPC": (
        {"variant": SERVERLESS, "network": NETWORK},
        "serverless endpoints support neither network (VPC) nor network_isolation; use an "
        "instance variant to run in a VPC",
    ),
    "serverless isolation": (
        {"variant": SERVERLESS, "network_isolation": True},
        "serverless endpoints support neither network (VPC) nor network_isolation; use an "
        "instance variant to run in a VPC",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule(shared: Platform, case: str) -> None:
    overrides, message = CASES[case]
    assert refused(shared, **overrides) == message


def test_volume_key_on_local_nvme_storage(shared: Platform) -> None:
    gpu_model = classifier_at("model.tar.gz")
    message = refused(
        shared,
        model=gpu_model,
        variant=InstanceVariant("ml.g5.xlarge"),
        volume_encryption_key=kms.Key(shared.stack, "VolumeKey"),
    )
    assert message == (
        "ml.g5.xlarge has local NVMe storage, which its hardware encrypts; SageMaker refuses "
        "a volume_encryption_key for it (leave it unset)"
    )


def test_volume_key_on_serverless(shared: Platform) -> None:
    message = refused(
        shared,
        variant=SERVERLESS,
        volume_encryption_key=kms.Key(shared.stack, "ServerlessKey"),
    )
    assert message == (
        "serverless endpoints take no volume_encryption_key (SageMaker manages their storage)"
    )


def test_every_problem_is_reported_at_once(shared: Platform) -> None:
    message = refused(
        shared,
        endpoint_name="-bad",
        variant=ServerlessVariant(memory_size_mb=100, max_concurrency=0),
        data_capture=DataCapture(),
    )
    assert message.count("; ") == 3


def test_bad_model_data_uri() -> None:
    with pytest.raises(
        ValueError, match=r"^model data must be an s3://bucket/key URI \(got 'models/x.tar.gz'\)$"
    ):
        ModelData.from_uri("models/x.tar.gz")
