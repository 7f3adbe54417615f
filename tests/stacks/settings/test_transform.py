"""The transform section: AWS's transform rules at the offending line, the rules that
depend on the model (DeepAR), endpoints that must exist, job names, and the cost limits
on transform instance types, counts and runtimes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[3]
DEEPAR_ENDPOINT = {
    "model": {
        "source": "artifact",
        "image": {"type": "builtin", "algorithm": "forecasting-deepar"},
        "model_data": "demand/model.tar.gz",
    },
    "variant": {"kind": "instance", "instance_type": "ml.c5.xlarge"},
}


def config(definition: dict[str, Any], **sections: Any) -> str:
    return yaml.safe_dump(
        {
            "name_prefix": "demo",
            "inference": {"endpoints": {"demand": DEEPAR_ENDPOINT}},
            "transform": {"definitions": {"scores": definition}},
            **sections,
        },
        sort_keys=False,
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


BASE = {
    "model": {"source": "endpoint", "endpoint": "demand"},
    "input_prefix": "in/",
    "instance_type": "ml.m5.xlarge",
    "batch_strategy": "SingleRecord",
}


def test_a_transform_of_an_endpoints_model_loads_with_its_defaults() -> None:
    settings = parse_settings(config(BASE))
    transform = settings.transform
    assert transform is not None
    definition = transform.definitions["scores"]
    assert transform.output_prefix("scores") == "transform/scores/output/"
    assert transform.job_prefix("scores", settings.name_prefix) == "demo-scores"
    assert definition.container_environment == {"SAGEMAKER_MAX_PAYLOAD_IN_MB": "6"}
    assert (definition.split_type, definition.assemble_with) == ("Line", "Line")
    assert definition.network_isolation is True
    (usage,) = settings.resource_usages()[-1:]
    assert (usage.kind, usage.instance_type, usage.max_runtime_seconds) == (
        "transform",
        "ml.m5.xlarge",
        3600,
    )


def test_aws_transform_rules_are_reported_at_their_fields() -> None:
    problems = problems_of(
        config(
            {
                **BASE,
                "model": {
                    "source": "model_package",
                    "arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/x/1",
                },
                "max_payload_mb": 50,
                "max_concurrent_transforms": 3,
                "split_type": "None",
                "batch_strategy": "MultiRecord",
                "assemble_with": "None",
                "environment": {f"V{i}": "x" for i in range(16)},
                "overridable": {"instance_types": ["ml.m5.2xlarge", "ml.m5.giant"]},
            }
        )
    )
    assert problems == [
        "transform.definitions.scores.overridable.instance_types[1] (line 47): 'ml.m5.giant' is "
        "not an instance type SageMaker batch transform accepts, e.g. ml.m5.12xlarge, "
        "ml.m5.24xlarge, ml.m5.2xlarge, ml.m5.4xlarge, ml.m5.large, ml.m5.xlarge",
        "transform.definitions.scores.max_concurrent_transforms (line 24): "
        "max_concurrent_transforms x max_payload_mb must be at most 100 MB (3 x 50 = 150)",
        "transform.definitions.scores.batch_strategy (line 22): MultiRecord batches need "
        "records: set split_type to Line, RecordIO or TFRecord, or batch_strategy to "
        "SingleRecord (one whole object per request)",
        "transform.definitions.scores.environment (line 27): at most 16 environment variables "
        "(got 17, with the kit's SAGEMAKER_MAX_PAYLOAD_IN_MB)",
    ]


def test_split_lines_need_line_assembly_to_keep_outputs_beside_inputs() -> None:
    (problem,) = problems_of(config({**BASE, "assemble_with": "None"}))
    assert problem.startswith(
        "transform.definitions.scores.assemble_with (line 23): split_type Line needs "
        "assemble_with Line"
    )


@pytest.mark.parametrize(
    ("model", "why"),
    [
        ({"source": "endpoint", "endpoint": "demand"}, "the endpoint's built-in image"),
        (
            {
                "source": "model_package",
                "arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-demand/4",
            },
            "the training definition that registers the package",
        ),
    ],
)
def test_deepar_needs_single_records_and_cpus(model: dict[str, Any], why: str) -> None:
    training = {
        "definitions": {
            "demand": {
                "image": {"source": "builtin", "algorithm": "forecasting-deepar"},
                "instance_type": "ml.c5.2xlarge",
                "hyperparameters": {
                    "time_freq": "D",
                    "prediction_length": 7,
                    "context_length": 14,
                    "epochs": 5,
                },
                "channels": {"train": {"s3_key": "demand/train/"}},
            }
        }
    }
    problems = problems_of(
        config(
            {
                **BASE,
                "model": model,
                "batch_strategy": "MultiRecord",
                "instance_type": "ml.g5.xlarge",
            },
            training=training,
        )
    )
    assert [p.split(":", 1)[0] for p in problems] == [
        "transform.definitions.scores.batch_strategy (line 22)",
        "transform.definitions.scores.instance_type (line 21)",
    ], why
    assert "forecasting-deepar batch transform needs batch_strategy SingleRecord" in problems[0]
    assert "forecasting-deepar runs inference on CPUs only" in problems[1]


def test_an_endpoint_that_is_not_configured_is_named() -> None:
    (problem,) = problems_of(config({**BASE, "model": {"source": "endpoint", "endpoint": "gone"}}))
    assert problem == (
        "transform.definitions.scores.model (line 17): 'gone' is not an endpoint of "
        "inference.endpoints (configured: demand)"
    )


def test_job_names_must_fit_with_the_runs_hash() -> None:
    text = config(BASE).replace("name_prefix: demo", "name_prefix: a-rather-long-prefix")
    text = text.replace("scores:", "scores-of-the-week:")
    (problem,) = problems_of(text)
    assert problem.startswith(
        "transform.definitions['scores-of-the-week'] (line 16): job names would start with "
        "'a-rather-long-prefix-scores-of-the-week' (39 characters; at most 30 fit"
    )


def test_prefixes_are_folders() -> None:
    (problem,) = problems_of(config({**BASE, "input_prefix": "in"}))
    assert problem == (
        "transform.definitions.scores.input_prefix (line 20): must be a key prefix ending "
        "with '/' (got 'in')"
    )


def test_cost_limits_bound_transform_types_counts_and_runtimes() -> None:
    limits = {
        "limits": {
            "instance_types": {"transform": ["ml.m5.xlarge"]},
            "max_instance_count": 2,
            "max_transform_runtime_hours": 1,
        }
    }
    problems = problems_of(
        config(
            {
                **BASE,
                "instance_count": 3,
                "max_runtime_minutes": 90,
                "overridable": {"instance_types": ["ml.c5.xlarge"]},
            },
            cost=limits,
        )
    )
    # One usage per instance type a run may choose: the count and runtime are said once.
    assert problems == [
        "transform.definitions.scores (line 16): 3 instances exceed "
        "cost.limits.max_instance_count (2) (got 3)",
        "transform.definitions.scores (line 16): a maximum runtime of 1.50 h (5400 s) exceeds "
        "cost.limits.max_transform_runtime_hours (1 h) (got 5400)",
        "transform.definitions.scores (line 16): transform instance type 'ml.c5.xlarge' is "
        "not allowed by cost.limits.instance_types.transform; allowed: ml.m5.xlarge "
        "(got 'ml.c5.xlarge')",
    ]


def test_the_full_example_transforms_within_its_limits() -> None:
    settings = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert settings.transform is not None
    assert sorted(settings.transform.definitions) == ["demand-batch", "sentiment-batch"]
    assert settings.cost is not None and settings.cost.limits is not None
    allowed = settings.allowed_instance_types("transform")
    for usage in settings.resource_usages():
        if usage.kind == "transform":
            assert usage.instance_type in allowed


def test_an_endpoint_that_follows_a_model_package_group_cannot_be_transformed() -> None:
    # The version it serves is a parameter of the Inference stack, set at approval time.
    full = yaml.safe_load((ROOT / "config" / "examples" / "full.yaml").read_text())
    followers = [
        key
        for key, endpoint in full["inference"]["endpoints"].items()
        if endpoint["model"]["source"] == "model_package_group"
    ]
    assert followers
    full["transform"]["definitions"]["scores"] = {
        **BASE,
        "model": {"source": "endpoint", "endpoint": followers[0]},
    }
    problems = problems_of(yaml.safe_dump(full, sort_keys=False))
    assert [p for p in problems if p.startswith("transform.definitions.scores")] == [
        f"transform.definitions.scores.model (line {_line_of_scores(full)}): endpoint "
        f"{followers[0]!r} follows model package group 'text-classifier': the version it "
        "serves is set at approval time, which the Transform stack cannot read; name the "
        "version to run with model: {source: model_package, arn: <its ARN>}"
    ]


def _line_of_scores(full: dict[str, Any]) -> int:
    lines = yaml.safe_dump(full, sort_keys=False).splitlines()
    start = lines.index("    scores:")
    return next(i for i, line in enumerate(lines[start:], start + 1) if "model:" in line)
