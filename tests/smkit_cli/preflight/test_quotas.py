"""SageMaker quotas: what a config needs of each (from its settings), and needed vs applied
from Service Quotas (which moto does not mock for SageMaker: answered)."""

from __future__ import annotations

from pathlib import Path

from smkit_cli.deployment import Deployment
from smkit_cli.preflight.quotas import (
    ENDPOINT_INSTANCES,
    NOTEBOOK_INSTANCES,
    SERVERLESS_CONCURRENCY,
    SERVERLESS_ENDPOINTS,
    SPOT_TRAINING_INSTANCES,
    TRAINING_INSTANCES,
    Need,
    check_quotas,
    quota_needs,
)
from stacks.settings import load_settings

from ..conftest import OPS_CONFIG, Platform
from .conftest import (
    OPS_QUOTAS,
    answers,
    default_quotas,
    denied,
    make_deployment,
    plenty,
    quota,
    quotas,
    requests,
)


def test_needs_count_everything_the_config_can_start_at_once() -> None:
    needs = {n.quota: n for n in quota_needs(load_settings(OPS_CONFIG))}
    assert list(needs) == OPS_QUOTAS
    spot = needs["ml.g5.xlarge for spot training job usage"]
    assert spot.needs == (
        Need("training.definitions.text-classifier", 1, "1 instance per job"),
        Need("training.tuning.text-classifier-hpo", 2, "1 instance x 2 parallel jobs"),
    )
    assert spot.needed == 3
    # A run uses one of the definition's instance types: counted once account-wide.
    assert needs[SPOT_TRAINING_INSTANCES].needed == 3
    assert needs["ml.c5.xlarge for endpoint usage"].needed == 1
    assert needs[SERVERLESS_CONCURRENCY].needs == (
        Need("inference.endpoints.text-classifier", 5, "max_concurrency 5"),
    )
    assert needs[SERVERLESS_ENDPOINTS].needed == 1
    assert needs[NOTEBOOK_INSTANCES].needs == (
        Need("notebooks.instances[0]", 1, "a notebook instance"),
    )
    # Model Monitor's baseline and scheduled jobs are processing jobs; transforms their own.
    assert needs["ml.m5.xlarge for processing job usage"].needs == (
        Need(
            "inference.endpoints.demand-forecast.monitoring.data_quality.baseline",
            1,
            "1 instance per job",
        ),
        Need(
            "inference.endpoints.demand-forecast.monitoring.data_quality", 1, "1 instance per job"
        ),
    )
    assert needs["ml.c5.xlarge for transform job usage"].needs == (
        Need("transform.definitions.sentiment-batch", 1, "1 instance per job"),
    )


def test_on_demand_jobs_and_scaled_out_endpoints(tmp_path: Path) -> None:
    config = tmp_path / "big.yaml"
    config.write_text(
        """
name_prefix: big
inference:
  endpoints:
    forecast:
      model:
        source: artifact
        image: {type: builtin, algorithm: forecasting-deepar}
        model_data: model.tar.gz
      variant:
        kind: instance
        instance_type: ml.c5.xlarge
        initial_instance_count: 2
        autoscaling: {min_capacity: 2, max_capacity: 6}
training:
  definitions:
    trainer:
      image: {source: uri, uri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1}
      channels: {train: {s3_key: train/}}
      instance_type: ml.m5.xlarge
      instance_count: 2
      spot: false
      metric_definitions: {"validation:loss": "loss=([0-9.]+)"}
  tuning:
    trainer-hpo:
      training: trainer
      objective: {metric: "validation:loss", type: Minimize}
      ranges: {lr: {kind: continuous, min: 0.001, max: 0.1}}
      max_parallel_jobs: 3
"""
    )
    needs = {n.quota: n for n in quota_needs(load_settings(config))}
    training = needs["ml.m5.xlarge for training job usage"]
    assert training.needs == (
        Need("training.definitions.trainer", 2, "2 instances per job"),
        Need("training.tuning.trainer-hpo", 6, "2 instances x 3 parallel jobs"),
    )
    assert needs[TRAINING_INSTANCES].needed == 8
    assert SPOT_TRAINING_INSTANCES not in needs
    assert needs["ml.c5.xlarge for endpoint usage"].needs == (
        Need("inference.endpoints.forecast", 6, "up to 6 instances"),
    )
    assert needs[ENDPOINT_INSTANCES].needed == 6


def test_a_config_that_starts_no_compute_needs_no_quota(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text("name_prefix: ops\nregion: us-east-1\n")
    assert check_quotas(make_deployment(config)) == []


def test_a_gpu_type_at_zero_fails_with_the_increase_to_request(
    platform: Platform, deployment: Deployment
) -> None:
    spot = "ml.g5.xlarge for spot training job usage"
    applied = [*plenty(spot), quota(spot, 0.0, code="L-G5SPOT")]
    with answers(platform, quotas(*applied)) as received:
        findings = {f.subject: f for f in check_quotas(deployment)}
    assert requests(received["ListServiceQuotas"]) == [{"ServiceCode": "sagemaker"}]
    failed = findings.pop(spot)
    assert failed.status == "fail"
    assert failed.detail == (
        "needs 3, has 0 (applied): training.definitions.text-classifier: 1 (1 instance per "
        "job); training.tuning.text-classifier-hpo: 2 (1 instance x 2 parallel jobs)"
    )
    assert failed.fix == (
        "aws service-quotas request-service-quota-increase --service-code sagemaker "
        "--quota-code L-G5SPOT --desired-value 3 --region us-east-1"
    )
    assert failed.data["applied"] == 0
    assert failed.data["entries"][1] == {
        "path": "training.tuning.text-classifier-hpo",
        "count": 2,
        "how": "1 instance x 2 parallel jobs",
    }
    assert {f.status for f in findings.values()} == {"pass"}
    assert findings[SERVERLESS_CONCURRENCY].detail == (
        "needs 5, has 100 (applied): inference.endpoints.text-classifier: 5 (max_concurrency 5)"
    )


def test_a_quota_without_an_applied_value_takes_the_aws_default(
    platform: Platform, deployment: Deployment
) -> None:
    notebook = "ml.t3.medium for notebook instance usage"
    with answers(
        platform, quotas(*plenty(notebook)), default_quotas(quota(notebook, 2))
    ) as received:
        findings = {f.subject: f for f in check_quotas(deployment)}
    assert requests(received["ListAWSDefaultServiceQuotas"]) == [{"ServiceCode": "sagemaker"}]
    assert findings[notebook].status == "pass"
    assert findings[notebook].detail == (
        "needs 1, has 2 (AWS default, no applied value listed): notebooks.instances[0]: 1 "
        "(a notebook instance)"
    )
    assert findings[notebook].data["source"] == "default"


def test_a_quota_service_quotas_does_not_list_is_unknown(
    platform: Platform, deployment: Deployment
) -> None:
    gpu = "ml.g5.2xlarge for spot training job usage"
    with answers(platform, quotas(*plenty(gpu)), default_quotas()):
        findings = {f.subject: f for f in check_quotas(deployment)}
    assert findings[gpu].status == "unknown"
    assert findings[gpu].detail.startswith(
        "Service Quotas lists no such SageMaker quota in us-east-1; needed 3 by "
    )
    assert findings[gpu].fix == (
        "Check that the instance type is offered in us-east-1 for this use (SageMaker pricing "
        "page), or choose another type."
    )
    assert findings[gpu].cause is None


def test_a_quota_that_cannot_be_raised_says_to_need_less(
    platform: Platform, deployment: Deployment
) -> None:
    endpoints = SERVERLESS_ENDPOINTS
    fixed = quota(endpoints, 0, Adjustable=False)
    with answers(platform, quotas(*plenty(endpoints), fixed)):
        findings = {f.subject: f for f in check_quotas(deployment)}
    assert findings[endpoints].status == "fail"
    assert findings[endpoints].fix == (
        "Not adjustable: make inference.endpoints.text-classifier need less."
    )


def test_denied_quota_listing_is_one_unknown_naming_the_permission(
    platform: Platform, deployment: Deployment
) -> None:
    with answers(
        platform,
        ("service-quotas", "ListServiceQuotas", denied("servicequotas:ListServiceQuotas")),
        status=400,
    ):
        (finding,) = check_quotas(deployment)
    assert finding.subject == "SageMaker service quotas"
    assert finding.status == "unknown"
    assert finding.detail == "access denied to servicequotas:ListServiceQuotas"
    assert finding.permission == "servicequotas:ListServiceQuotas"
    assert finding.cause == "denied"
    assert finding.fix == (
        "Grant servicequotas:ListServiceQuotas to the credentials' role (docs/preflight.md "
        "lists every permission preflight uses)."
    )


def test_denied_defaults_leave_only_the_unlisted_quotas_unknown(
    platform: Platform, deployment: Deployment
) -> None:
    notebook = "ml.t3.medium for notebook instance usage"
    with (
        answers(platform, quotas(*plenty(notebook))),
        answers(
            platform,
            (
                "service-quotas",
                "ListAWSDefaultServiceQuotas",
                denied("servicequotas:ListAWSDefaultServiceQuotas"),
            ),
            status=400,
        ),
    ):
        findings = {f.subject: f for f in check_quotas(deployment)}
    assert findings.pop(notebook).permission == "servicequotas:ListAWSDefaultServiceQuotas"
    assert {f.status for f in findings.values()} == {"pass"}
