"""Model quality settings: ground truth from an auto-labeling workflow of the same
endpoint, the problem type, the window of captured predictions, the schedule's limits."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stacks.settings import ConfigError, parse_settings

MODEL = {
    "source": "artifact",
    "image": {"type": "uri", "uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/textclf:1"},
    "model_data": "textclf/model.tar.gz",
}


def config(model_quality: dict[str, Any], *, auto: dict[str, Any] | None = None) -> str:
    workflow = {
        "name": "sentiment-auto",
        "data_type": "text",
        "labels": ["positive", "negative"],
        "endpoint_names": ["demo-classifier"],
        "human_review": {"mode": "external", "notify_emails": ["a@example.com"]},
        **(auto or {}),
    }
    return yaml.safe_dump(
        {
            "name_prefix": "demo",
            "inference": {
                "endpoints": {
                    "classifier": {
                        "model": MODEL,
                        "variant": {"kind": "instance", "instance_type": "ml.m5.large"},
                        "data_capture": {"sampling_percentage": 100},
                        "monitoring": {
                            "model_quality": {
                                "ground_truth_from": "sentiment-auto",
                                **model_quality,
                            }
                        },
                    }
                }
            },
            "labeling": {"auto_labeling": [workflow]},
        },
        sort_keys=False,
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


WHERE = "inference.endpoints.classifier.monitoring.model_quality"


def test_model_quality_alone_loads_with_daily_defaults() -> None:
    settings = parse_settings(config({}))
    assert settings.inference is not None
    monitoring = settings.inference.endpoints["classifier"].monitoring
    assert monitoring is not None and monitoring.data_quality is None
    quality = monitoring.model_quality
    assert quality is not None
    assert (quality.problem_type, quality.schedule) == (
        "MulticlassClassification",
        "cron(0 0 ? * * *)",
    )
    assert quality.inference_attribute == "predictions[0].label"
    assert (quality.window_start_hours, quality.window_end_hours) == (168, 24)
    assert [(u.kind, u.path) for u in settings.resource_usages() if u.kind == "monitoring"] == [
        ("monitoring", WHERE)
    ]


def test_monitoring_needs_at_least_one_kind() -> None:
    text = config({}).replace(
        "      monitoring:\n        model_quality:\n          ground_truth_from: sentiment-auto\n",
        "      monitoring: {}\n",
    )
    (problem,) = problems_of(text)
    assert problem.startswith("inference.endpoints.classifier.monitoring (line ")
    assert "monitoring needs data_quality, model_quality or both" in problem


def test_ground_truth_comes_from_an_auto_labeling_workflow_of_this_endpoint() -> None:
    (unknown,) = problems_of(config({"ground_truth_from": "reviews"}))
    assert unknown.startswith(f"{WHERE}.ground_truth_from (line ")
    assert "'reviews' is not an auto-labeling workflow of this config" in unknown
    assert "(labeling.auto_labeling: sentiment-auto)" in unknown

    (other,) = problems_of(config({}, auto={"endpoint_names": ["demo-other"]}))
    assert "auto-labeling workflow 'sentiment-auto' does not pre-label with this endpoint" in other
    assert "add demo-classifier to its endpoint_names (now demo-other)" in other

    (multi,) = problems_of(config({}, auto={"multi_label": True}))
    assert "auto-labeling workflow 'sentiment-auto' is multi-label" in multi


def test_only_the_multiclass_problem_type_fits_the_classifier_contract() -> None:
    (problem,) = problems_of(config({"problem_type": "Regression"}))
    assert problem.startswith(f"{WHERE}.problem_type (line ")
    assert "MulticlassClassification" in problem


def test_an_hourly_model_quality_run_may_take_half_an_hour() -> None:
    # MONITOR-2: the merge job and the analysis share the hour.
    (problem,) = problems_of(config({"schedule": "cron(0 * ? * * *)", "max_runtime_minutes": 45}))
    assert problem.startswith(f"{WHERE}.max_runtime_minutes (line ")
    assert "a ModelQuality job on this schedule may run at most 1800 s" in problem
    assert "half an hour on an hourly model quality schedule" in problem
    assert parse_settings(config({"schedule": "cron(0 * ? * * *)", "max_runtime_minutes": 30}))


def test_the_window_of_captured_predictions_is_not_empty() -> None:
    # MONITOR-8: from StartTimeOffset to EndTimeOffset before each run.
    (problem,) = problems_of(config({"window_start_hours": 24, "window_end_hours": 24}))
    assert problem.startswith(f"{WHERE}.window_end_hours (line ")
    assert "window_end_hours (24) must be less than window_start_hours (24)" in problem


def test_model_quality_needs_captured_requests() -> None:
    # MONITOR-4 holds for model quality too.
    text = config({}).replace("      data_capture:\n        sampling_percentage: 100\n", "")
    (problem,) = problems_of(text)
    assert "set data_capture (with capture_request: true)" in problem
