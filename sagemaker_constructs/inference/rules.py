"""The rules an endpoint's arguments must follow, checked together so that every
problem is reported at once (`Problems`)."""

from __future__ import annotations

import re

from aws_cdk import Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from ..common import Problems, describe_allowed, has_local_nvme_storage, is_gpu_instance_type
from ..common.instance_types import ENDPOINT_INSTANCE_TYPES
from ..foundation import NetworkPlacement
from .algorithms import CPU_ONLY_ALGORITHMS
from .limits import is_burstable, lacks_deployment_guardrails
from .model_source import ModelSource
from .options import (
    AlarmThresholds,
    AsyncVariant,
    Autoscaling,
    DataCapture,
    Deployment,
    EndpointVariant,
    InstanceVariant,
    ServerlessVariant,
)

_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def validate(
    *,
    endpoint_name: str,
    model: ModelSource,
    variant: EndpointVariant,
    data_bucket: s3.IBucket | None,
    autoscaling: Autoscaling | None,
    data_capture: DataCapture | None,
    deployment: Deployment,
    alarms: AlarmThresholds,
    network: NetworkPlacement | None,
    network_isolation: bool,
    volume_encryption_key: kms.IKey | None,
) -> None:
    """Raise one ValueError naming every broken rule, or return."""
    problems = Problems("Endpoint")
    # ENDPOINT-16 (CreateEndpoint API page: EndpointName).
    problems.check(
        Token.is_unresolved(endpoint_name) or bool(_ENDPOINT_NAME.match(endpoint_name)),
        "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a "
        f"letter or digit (got {endpoint_name!r})",
    )
    for problem in model.problems():
        problems.add(problem)
    if isinstance(variant, ServerlessVariant):
        _check_serverless(problems, variant)
    else:
        _check_instances(problems, variant, model)
    if autoscaling is not None:
        _check_autoscaling(problems, variant, autoscaling)
    if data_capture is not None:
        _check_data_capture(problems, variant, data_capture, data_bucket)
    problems.check(
        not isinstance(variant, AsyncVariant) or data_bucket is not None,
        "an async variant needs data_bucket (requests, results and failures live there)",
    )
    _check_deployment(problems, variant, deployment)
    _check_alarms(problems, alarms)
    if isinstance(variant, ServerlessVariant):
        # ENDPOINT-7 (serverless-endpoints page: feature exclusions).
        problems.check(
            network is None and not network_isolation,
            "serverless endpoints support neither network (VPC) nor network_isolation; "
            "use an instance variant to run in a VPC",
        )
        problems.check(
            volume_encryption_key is None,
            "serverless endpoints take no volume_encryption_key (SageMaker manages their storage)",
        )
    elif volume_encryption_key is not None and has_local_nvme_storage(variant.instance_type):
        # ENDPOINT-14 (CreateEndpointConfig API page: KmsKeyId).
        problems.add(
            f"{variant.instance_type} has local NVMe storage, which its hardware encrypts; "
            "SageMaker refuses a volume_encryption_key for it (leave it unset)"
        )
    problems.raise_if_any()


def _check_serverless(problems: Problems, variant: ServerlessVariant) -> None:
    # ENDPOINT-5 and ENDPOINT-6 (ProductionVariantServerlessConfig API page).
    memory = variant.memory_size_mb
    problems.check(
        1024 <= memory <= 6144 and memory % 1024 == 0,
        f"memory_size_mb must be 1024, 2048, 3072, 4096, 5120 or 6144 (got {memory})",
    )
    problems.check(
        1 <= variant.max_concurrency <= 200,
        f"max_concurrency must be 1-200 (got {variant.max_concurrency})",
    )
    provisioned = variant.provisioned_concurrency
    problems.check(
        provisioned is None or 1 <= provisioned <= variant.max_concurrency,
        f"provisioned_concurrency must be 1-max_concurrency ({variant.max_concurrency}) "
        f"(got {provisioned})",
    )


def _check_instances(
    problems: Problems, variant: InstanceVariant | AsyncVariant, model: ModelSource
) -> None:
    instance_type = variant.instance_type
    family = instance_type.rsplit(".", 1)[0] + "."
    similar = [t for t in ENDPOINT_INSTANCE_TYPES if t.startswith(family)]
    problems.check(
        instance_type in ENDPOINT_INSTANCE_TYPES,
        f"instance_type must be an endpoint instance type such as "
        f"{describe_allowed(similar or ENDPOINT_INSTANCE_TYPES)} (got {instance_type!r})",
    )
    problems.check(
        variant.initial_instance_count >= 1,
        f"initial_instance_count must be at least 1 (got {variant.initial_instance_count})",
    )
    if model.algorithm in CPU_ONLY_ALGORITHMS:  # ENDPOINT-8 (deepar page)
        problems.check(
            not is_gpu_instance_type(instance_type),
            f"{model.algorithm} serves on CPUs only; instance_type must be a CPU type "
            f"such as ml.c5.xlarge (got {instance_type!r})",
        )
    if isinstance(variant, AsyncVariant):
        per_instance = variant.max_concurrent_invocations_per_instance
        problems.check(
            1 <= per_instance <= 1000,
            f"max_concurrent_invocations_per_instance must be 1-1000 (got {per_instance})",
        )


def _check_autoscaling(problems: Problems, variant: EndpointVariant, scaling: Autoscaling) -> None:
    if isinstance(variant, ServerlessVariant):
        problems.add(
            "serverless endpoints scale by themselves; autoscaling is for instance and "
            "async variants"
        )
        return
    # ENDPOINT-9 (endpoint-auto-scaling-add-console page): no burstable instances.
    problems.check(
        not is_burstable(variant.instance_type),
        f"autoscaling does not support burstable instance types ({variant.instance_type}): "
        "Application Auto Scaling refuses to register them; choose a non-burstable type such "
        "as ml.c5.large or drop autoscaling",
    )
    # ENDPOINT-10 (async-inference-autoscale, endpoint-auto-scaling-zero-instances pages).
    lowest = 0 if isinstance(variant, AsyncVariant) else 1
    problems.check(
        scaling.min_capacity >= lowest,
        f"autoscaling min_capacity must be at least {lowest} for {variant.kind} variants "
        f"(got {scaling.min_capacity})"
        + ("; only async endpoints can scale to zero" if lowest else ""),
    )
    problems.check(
        max(1, scaling.min_capacity) <= scaling.max_capacity,
        f"autoscaling max_capacity must be at least 1 and at least min_capacity "
        f"({scaling.min_capacity}) (got {scaling.max_capacity})",
    )
    problems.check(
        scaling.min_capacity <= variant.initial_instance_count <= scaling.max_capacity,
        f"initial_instance_count ({variant.initial_instance_count}) must lie within "
        f"autoscaling min_capacity-max_capacity ({scaling.min_capacity}-{scaling.max_capacity})",
    )
    problems.check(
        scaling.target_value > 0,
        f"autoscaling target_value must be positive (got {scaling.target_value})",
    )
    for name, cooldown in (
        ("scale_in_cooldown", scaling.scale_in_cooldown),
        ("scale_out_cooldown", scaling.scale_out_cooldown),
    ):
        seconds = cooldown.to_seconds()
        problems.check(
            0 <= seconds <= 3600, f"autoscaling {name} must be 0-3600 seconds (got {seconds})"
        )


def _check_data_capture(
    problems: Problems,
    variant: EndpointVariant,
    capture: DataCapture,
    data_bucket: s3.IBucket | None,
) -> None:
    if isinstance(variant, ServerlessVariant):  # ENDPOINT-7 (serverless-endpoints page)
        problems.add("serverless endpoints do not support data capture")
        return
    problems.check(data_bucket is not None, "data capture needs data_bucket")
    problems.check(
        1 <= capture.sampling_percentage <= 100,
        f"data capture sampling_percentage must be 1-100 (got {capture.sampling_percentage})",
    )
    problems.check(
        capture.capture_request or capture.capture_response,
        "data capture must capture the request, the response or both",
    )
    problems.check(
        len(capture.json_content_types) <= 10,
        f"data capture json_content_types takes at most 10 types "
        f"(got {len(capture.json_content_types)})",
    )


def _check_deployment(problems: Problems, variant: EndpointVariant, deployment: Deployment) -> None:
    shift = deployment.traffic_shift
    percent = deployment.step_percent
    if shift == "ALL_AT_ONCE":
        problems.check(
            percent is None, f"step_percent is for CANARY and LINEAR shifts (got {percent})"
        )
    else:
        # ENDPOINT-11 (TrafficRoutingConfig API page).
        low = 1 if shift == "CANARY" else 10
        problems.check(
            percent is not None and low <= percent <= 50,
            f"{shift.lower()} step_percent must be {low}-50 (got {percent})",
        )
        if not isinstance(variant, ServerlessVariant):
            # ENDPOINT-13 (deployment-guardrails-exclusions page).
            problems.check(
                not lacks_deployment_guardrails(variant.instance_type),
                f"{shift.lower()} traffic shifting is not available on Inf1 instances "
                f"({variant.instance_type}): SageMaker deploys them all at once without "
                "baking; use Deployment.all_at_once() or another instance type",
            )
            problems.check(
                variant.initial_instance_count >= 2,
                f"{shift.lower()} traffic shifting needs at least 2 instances (a step of at "
                f"most 50% is at least one instance) (got initial_instance_count "
                f"{variant.initial_instance_count})",
            )
    waits = {
        "wait": deployment.wait.to_seconds(),
        "termination_wait": deployment.termination_wait.to_seconds(),
    }
    for name, seconds in waits.items():
        problems.check(0 <= seconds <= 3600, f"{name} must be 0-3600 seconds (got {seconds})")
    timeout = deployment.maximum_execution_timeout.to_seconds()
    problems.check(
        600 <= timeout <= 14400,
        f"maximum_execution_timeout must be 600-14400 seconds (got {timeout})",
    )
    # ENDPOINT-12 (BlueGreenUpdatePolicy API page).
    needed = deployment.steps * waits["wait"] + waits["termination_wait"]
    problems.check(
        timeout >= needed,
        f"maximum_execution_timeout ({timeout} s) is shorter than the deployment's waits "
        f"({deployment.steps} x {waits['wait']} s + {waits['termination_wait']} s = {needed} s)",
    )


def _check_alarms(problems: Problems, alarms: AlarmThresholds) -> None:
    problems.check(
        alarms.server_errors >= 1,
        f"alarms server_errors must be at least 1 (got {alarms.server_errors})",
    )
    latency = alarms.p99_model_latency.to_milliseconds()
    problems.check(
        latency >= 1, f"alarms p99_model_latency must be at least 1 ms (got {latency} ms)"
    )
    period = alarms.period.to_seconds()
    problems.check(
        period in (10, 30) or (period >= 60 and period % 60 == 0),
        f"alarms period must be 10 s, 30 s or a multiple of 60 s (got {period} s)",
    )
    problems.check(
        1 <= alarms.evaluation_periods <= 30,
        f"alarms evaluation_periods must be 1-30 (got {alarms.evaluation_periods})",
    )
