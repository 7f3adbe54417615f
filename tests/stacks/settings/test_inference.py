"""The `inference` section: each rule with the message a user reads (field path, line,
bad value, what is allowed), and what the cost limits see."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml

from stacks.settings import ConfigError, parse_settings
from stacks.settings.base import ResourceUsage

DEEPAR: dict[str, Any] = {
    "model": {
        "source": "artifact",
        "image": {"type": "builtin", "algorithm": "forecasting-deepar"},
        "model_data": "training/deepar/output/model.tar.gz",
    },
    "variant": {"kind": "instance", "instance_type": "ml.c5.xlarge"},
}
WHERE = "inference.endpoints.forecast"


def config(endpoint: dict[str, Any], key: str = "forecast") -> str:
    return yaml.safe_dump(
        {"name_prefix": "demo", "inference": {"endpoints": {key: endpoint}}}, sort_keys=False
    )


def problem(change: Callable[[dict[str, Any]], None], key: str = "forecast") -> str:
    endpoint = copy.deepcopy(DEEPAR)
    change(endpoint)
    with pytest.raises(ConfigError) as raised:
        parse_settings(config(endpoint, key), source="test.yaml")
    (only,) = raised.value.problems
    return only


def serverless(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda e: e.update(variant={"kind": "serverless", **fields})


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "DeepAR on a GPU": (
        lambda e: e["variant"].update(instance_type="ml.g5.xlarge"),
        f"{WHERE}.variant.instance_type (line 13): forecasting-deepar serves on CPUs only: "
        "variant.instance_type must "
        "be a CPU type such as ml.c5.xlarge (got 'ml.g5.xlarge')",
    ),
    "unknown instance type": (
        lambda e: e["variant"].update(instance_type="ml.c5.huge"),
        f"{WHERE}.variant.instance_type (line 13): must be an instance type SageMaker endpoints "
        "accept, e.g. ml.c5.18xlarge, ml.c5.2xlarge, ml.c5.4xlarge, ml.c5.9xlarge, ml.c5.large, "
        "ml.c5.xlarge (got 'ml.c5.huge')",
    ),
    "unknown variant kind": (
        lambda e: e.update(variant={"kind": "batch"}),
        f"{WHERE}.variant.kind (line 12): got 'batch'; allowed: 'instance', 'serverless', 'async'",
    ),
    "unknown model source": (
        lambda e: e["model"].update(source="registry"),
        f"{WHERE}.model.source (line 6): got 'registry'; allowed: 'artifact', 'model_package', "
        "'model_package_group'",
    ),
    "unknown algorithm": (
        lambda e: e["model"]["image"].update(algorithm="deep-ar"),
        f"{WHERE}.model.image.algorithm (line 9): must be one of blazingtext, "
        "factorization-machines, forecasting-deepar, image-classification, ipinsights, kmeans, "
        "knn, lda, linear-learner, ntm, object-detection, object2vec, pca, randomcutforest, "
        "semantic-segmentation, seq2seq, xgboost (got 'deep-ar')",
    ),
    "asset without a Dockerfile": (
        lambda e: e["model"].update(image={"type": "asset", "directory": "containers/nothing"}),
        f"{WHERE}.model.image.directory (line 9): must be a folder of the project that holds a "
        "Dockerfile (got 'containers/nothing')",
    ),
    "bad image uri": (
        lambda e: e["model"].update(image={"type": "uri", "uri": "just a name"}),
        f"{WHERE}.model.image.uri (line 9): must look like <registry>/<repository>:<tag> "
        "(got 'just a name')",
    ),
    "model data not a tar.gz": (
        lambda e: e["model"].update(model_data="s3://models/model.zip"),
        f"{WHERE}.model.model_data (line 10): must be an s3://bucket/key URI or a key of the "
        "artifacts bucket, ending in .tar.gz (got 's3://models/model.zip')",
    ),
    "unversioned model package": (
        lambda e: e.update(
            model={
                "source": "model_package",
                "arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/deepar",
            }
        ),
        f"{WHERE}.model.arn (line 7): must be the ARN of a model package version: "
        "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version> "
        "(got 'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/deepar')",
    ),
    "serverless memory": (
        serverless(memory_size_mb=1500),
        f"{WHERE}.variant.memory_size_mb (line 13): Input should be 1024, 2048, 3072, 4096, "
        "5120 or 6144 (got 1500)",
    ),
    "serverless concurrency": (
        serverless(max_concurrency=500),
        f"{WHERE}.variant.max_concurrency (line 13): Input should be less than or equal to 200 "
        "(got 500)",
    ),
    "provisioned above max": (
        serverless(max_concurrency=5, provisioned_concurrency=6),
        f"{WHERE}.variant.provisioned_concurrency (line 14): provisioned_concurrency (6) must be "
        "at most "
        "max_concurrency (5)",
    ),
    "serverless data capture": (
        lambda e: e.update(variant={"kind": "serverless"}, data_capture={}),
        f"{WHERE}.data_capture (line 13): serverless endpoints do not support data capture",
    ),
    "async concurrency": (
        lambda e: e.update(
            variant={
                "kind": "async",
                "instance_type": "ml.m5.xlarge",
                "max_concurrent_invocations_per_instance": 1001,
            }
        ),
        f"{WHERE}.variant.max_concurrent_invocations_per_instance (line 14): Input should be "
        "less than or equal to 1000 (got 1001)",
    ),
    "instance scale to zero": (
        lambda e: e["variant"].update(autoscaling={"min_capacity": 0, "max_capacity": 2}),
        f"{WHERE}.variant.autoscaling.min_capacity (line 15): Input should be greater than or "
        "equal to 1 (got 0)",
    ),
    "max below min": (
        lambda e: e["variant"].update(autoscaling={"min_capacity": 3, "max_capacity": 2}),
        f"{WHERE}.variant.autoscaling.max_capacity (line 16): max_capacity (2) must be at least "
        "min_capacity (3)",
    ),
    "initial count outside the range": (
        lambda e: e["variant"].update(initial_instance_count=5, autoscaling={"max_capacity": 2}),
        f"{WHERE}.variant.initial_instance_count (line 14): variant.initial_instance_count (5) "
        "must lie within autoscaling "
        "min_capacity-max_capacity (1-2)",
    ),
    "capture nothing": (
        lambda e: e.update(data_capture={"capture_request": False, "capture_response": False}),
        f"{WHERE}.data_capture.capture_request (line 15): capture_request, capture_response or "
        "both must be true",
    ),
    "sampling percentage": (
        lambda e: e.update(data_capture={"sampling_percentage": 0}),
        f"{WHERE}.data_capture.sampling_percentage (line 15): Input should be greater than or "
        "equal to 1 (got 0)",
    ),
    "step for all at once": (
        lambda e: e.update(deployment={"step_percent": 10}),
        f"{WHERE}.deployment.step_percent (line 15): step_percent is for canary and linear shifts "
        "(got 10)",
    ),
    "canary without a size": (
        lambda e: e.update(deployment={"traffic_shift": "canary"}),
        f"{WHERE}.deployment.traffic_shift (line 15): canary needs step_percent (1-50)",
    ),
    "linear step": (
        lambda e: e.update(deployment={"traffic_shift": "linear", "step_percent": 5}),
        f"{WHERE}.deployment.step_percent (line 16): linear needs step_percent 10-50 (got 5)",
    ),
    "canary on one instance": (
        lambda e: e.update(deployment={"traffic_shift": "canary", "step_percent": 10}),
        f"{WHERE}.deployment.traffic_shift (line 15): canary traffic shifting needs "
        "variant.initial_instance_count of at "
        "least 2 (a step of at most 50% is at least one instance)",
    ),
    "timeout shorter than the waits": (
        lambda e: e.update(
            deployment={"wait_seconds": 3600, "maximum_execution_timeout_seconds": 600}
        ),
        f"{WHERE}.deployment.maximum_execution_timeout_seconds (line 16): "
        "maximum_execution_timeout_seconds (600) is shorter than "
        "the waits (1 x 3600 + 300 = 3900)",
    ),
    "alarm period": (
        lambda e: e.update(alarms={"period_seconds": 45}),
        f"{WHERE}.alarms.period_seconds (line 15): Input should be 10, 30, 60, 120, 300, 600, "
        "900 or 3600 (got 45)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule(case: str) -> None:
    change, message = CASES[case]
    assert problem(change) == message


def test_autoscaling_refuses_burstable_instance_types() -> None:
    def change(endpoint: dict[str, Any]) -> None:
        endpoint["model"]["image"] = {"type": "uri", "uri": "registry.example/classifier:1"}
        endpoint["variant"].update(instance_type="ml.t2.medium", autoscaling={"max_capacity": 2})

    assert problem(change) == (
        f"{WHERE}.variant.instance_type (line 13): autoscaling does not support burstable "
        "instance types (ml.t2.medium): Application Auto Scaling refuses to register them; "
        "choose a non-burstable type such as ml.c5.large or remove variant.autoscaling"
    )


def test_canary_and_linear_are_refused_on_inf1() -> None:
    def change(endpoint: dict[str, Any]) -> None:
        endpoint["model"]["image"] = {"type": "uri", "uri": "registry.example/classifier:1"}
        endpoint["variant"].update(instance_type="ml.inf1.xlarge", initial_instance_count=2)
        endpoint["deployment"] = {"traffic_shift": "linear", "step_percent": 50}

    assert problem(change) == (
        f"{WHERE}.deployment.traffic_shift (line 16): linear traffic shifting is not available "
        "on Inf1 instances (ml.inf1.xlarge): SageMaker deploys them all at once without baking; "
        "use all_at_once or another instance type"
    )


def test_endpoint_key() -> None:
    assert problem(lambda e: None, key="Forecast_1") == (
        "inference.endpoints.Forecast_1 (key) (line 4): must be 2-40 lower-case letters, "
        "digits and hyphens, starting with a letter and not ending with a hyphen "
        "(got 'Forecast_1')"
    )


def test_section_needs_an_endpoint() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_settings("name_prefix: demo\ninference:\n  endpoints: {}\n", source="test.yaml")
    assert raised.value.problems == [
        "inference.endpoints (line 3): Dictionary should have at least 1 item after "
        "validation, not 0 (got {})"
    ]


def test_resource_usages_name_each_endpoint_with_its_most_instances() -> None:
    text = yaml.safe_dump(
        {
            "name_prefix": "demo",
            "inference": {
                "endpoints": {
                    "forecast": {
                        **DEEPAR,
                        "variant": {
                            "kind": "instance",
                            "instance_type": "ml.c5.xlarge",
                            "initial_instance_count": 2,
                            "autoscaling": {"min_capacity": 2, "max_capacity": 6},
                        },
                    },
                    "fixed": DEEPAR,
                    "labels": {**DEEPAR, "variant": {"kind": "serverless", "max_concurrency": 8}},
                    "batch": {
                        **DEEPAR,
                        "variant": {
                            "kind": "async",
                            "instance_type": "ml.m5.xlarge",
                            "autoscaling": {"max_capacity": 3},
                        },
                    },
                }
            },
        },
        sort_keys=False,
    )
    settings = parse_settings(text)
    assert settings.inference is not None
    assert settings.inference.resource_usages() == [
        ResourceUsage("endpoint", "inference.endpoints.forecast", "ml.c5.xlarge", 6),
        ResourceUsage("endpoint", "inference.endpoints.fixed", "ml.c5.xlarge", 1),
        ResourceUsage("endpoint", "inference.endpoints.labels", None, 1, max_concurrency=8),
        ResourceUsage("endpoint", "inference.endpoints.batch", "ml.m5.xlarge", 3),
    ]


def test_default_config_has_no_endpoint() -> None:
    from tests.oracles.synth import DEFAULT_CONFIG

    assert parse_settings(DEFAULT_CONFIG.read_text()).inference is None


def test_the_longest_endpoint_name_the_config_allows_fits_sagemakers_limit() -> None:
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("EndpointName")
    prefix, key = "p" + "a" * 18 + "1", "k" + "b" * 38 + "2"
    text = yaml.safe_dump({"name_prefix": prefix, "inference": {"endpoints": {key: DEEPAR}}})
    settings = parse_settings(text)
    assert settings.inference is not None
    (name,) = (f"{settings.name_prefix}-{k}" for k in settings.inference.endpoints)
    assert len(name) == 61 <= shape.metadata["max"]
    assert re.fullmatch(shape.metadata["pattern"], name)
    # One character more in either part is refused when the config loads.
    with pytest.raises(ConfigError):
        parse_settings(text.replace(prefix, prefix + "x"))
    with pytest.raises(ConfigError):
        parse_settings(text.replace(key, key + "x"))


# --- endpoints that follow a model package group ------------------------------------------

FULL = Path(__file__).resolve().parents[3] / "config" / "examples" / "full.yaml"


def follow_problems(**endpoints: dict[str, Any]) -> list[str]:
    """The problems of the full example with these endpoints instead of its own."""
    data = yaml.safe_load(FULL.read_text())
    data["inference"]["endpoints"] = endpoints
    with pytest.raises(ConfigError) as raised:
        parse_settings(yaml.safe_dump(data, sort_keys=False), source="full.yaml")
    return raised.value.problems


def following(group: str, promote_from: str | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {"source": "model_package_group", "group": group}
    if promote_from:
        model["promote_from"] = promote_from
    return {"model": model, "variant": {"kind": "serverless"}}


def test_an_endpoint_follows_the_group_of_a_training_definition() -> None:
    (problem,) = follow_problems(classifier=following("text-clasifier"))
    assert problem.startswith("inference.endpoints.classifier.model.group (line ")
    assert problem.endswith(
        "group 'text-clasifier' is not a training definition of this config (definitions: "
        "text-classifier, deepar-demand); an endpoint follows the model package group its "
        "training registers into"
    )
    without_training = config(following("text-classifier"))
    with pytest.raises(ConfigError) as raised:
        parse_settings(without_training, source="test.yaml")
    assert raised.value.problems == [
        f"{WHERE}.model.group (line 7): group 'text-classifier' is not a training definition "
        "of this config (definitions: none, no training section); an endpoint follows the "
        "model package group its training registers into"
    ]


@pytest.mark.parametrize(
    ("endpoints", "message"),
    [
        (
            {"prod": following("text-classifier", "prod")},
            "an endpoint cannot be promoted from itself ('prod')",
        ),
        (
            {"staging": DEEPAR, "prod": following("text-classifier", "staging")},
            "promote_from must name another endpoint with model.source model_package_group "
            "(got 'staging'; following groups: prod)",
        ),
        (
            {
                "staging": following("deepar-demand"),
                "prod": following("text-classifier", "staging"),
            },
            "promote_from endpoint 'staging' follows group 'deepar-demand', not "
            "'text-classifier': a version is promoted within its group",
        ),
        (
            {
                "dev": following("text-classifier"),
                "staging": following("text-classifier", "dev"),
                "prod": following("text-classifier", "staging"),
            },
            "promote_from endpoint 'staging' is itself promoted from 'dev': promote from the "
            "endpoint that follows the group directly",
        ),
    ],
    ids=["itself", "not a follower", "another group", "a chain"],
)
def test_promote_from_names_a_staging_endpoint_of_the_same_group(
    endpoints: dict[str, Any], message: str
) -> None:
    (problem,) = follow_problems(**endpoints)
    assert problem.startswith("inference.endpoints.prod.model.promote_from (line ")
    assert problem.endswith(message)


def test_the_image_of_a_followed_group_comes_from_its_training() -> None:
    endpoint = following("text-classifier")
    endpoint["model"]["image"] = {"type": "asset", "directory": "containers/inference"}
    (problem,) = follow_problems(classifier=endpoint)
    assert problem.startswith("inference.endpoints.classifier.model.image (line ")
    assert problem.endswith("unknown key; allowed here: environment, group, promote_from, source")
