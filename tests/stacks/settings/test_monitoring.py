"""Monitoring settings: Model Monitor's schedule forms and time limits, captured requests,
the analyzer's regions, processing instance types, and the cost limits on monitoring."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sagemaker_constructs.inference.monitoring_rules import schedule_interval_s
from stacks.settings import ConfigError, parse_settings

MODEL = {
    "source": "artifact",
    "image": {"type": "builtin", "algorithm": "forecasting-deepar"},
    "model_data": "demand/model.tar.gz",
}
MONITORING = {"data_quality": {"baseline": {"dataset": "monitoring/baseline.jsonl"}}}


def config(endpoint: dict[str, Any], **top: Any) -> str:
    base = {
        "model": MODEL,
        "variant": {"kind": "instance", "instance_type": "ml.c5.xlarge"},
        "data_capture": {"sampling_percentage": 10},
        "monitoring": MONITORING,
    }
    return yaml.safe_dump(
        {
            "name_prefix": "demo",
            **top,
            "inference": {"endpoints": {"demand": {**base, **endpoint}}},
        },
        sort_keys=False,
    )


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def quality(**fields: Any) -> dict[str, Any]:
    return {"monitoring": {"data_quality": {**MONITORING["data_quality"], **fields}}}


def test_a_monitored_endpoint_loads_with_hourly_defaults() -> None:
    settings = parse_settings(config({}))
    assert settings.inference is not None
    monitoring = settings.inference.endpoints["demand"].monitoring
    assert monitoring is not None
    assert monitoring.data_quality.schedule == "cron(0 * ? * * *)"
    assert monitoring.data_quality.baseline.format == "jsonlines"
    kinds = [(u.kind, u.path) for u in settings.resource_usages()]
    assert kinds == [
        ("endpoint", "inference.endpoints.demand"),
        ("processing", "inference.endpoints.demand.monitoring.data_quality.baseline"),
        ("monitoring", "inference.endpoints.demand.monitoring.data_quality"),
    ]


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("cron(0 * ? * * *)", 3600),
        ("cron(0 12 ? * * *)", 86400),
        ("cron(0 17/12 ? * * *)", 43200),
        ("cron(0 0/2 ? * * *)", 7200),
        ("cron(0 0/24 ? * * *)", 86400),
        ("cron(30 * ? * * *)", None),
        ("cron(0 25 ? * * *)", None),
        ("cron(0 0/25 ? * * *)", None),
        ("rate(1 hour)", None),
        ("NOW", None),
    ],
)
def test_schedule_forms_model_monitor_accepts(expression: str, interval: int | None) -> None:
    # MONITOR-1: the model-monitor-schedule-expression page's forms, and nothing else.
    assert schedule_interval_s(expression) == interval


def test_a_schedule_model_monitor_refuses_is_named_with_the_forms() -> None:
    (problem,) = problems_of(config(quality(schedule="cron(*/5 * ? * * *)")))
    assert problem.startswith(
        "inference.endpoints.demand.monitoring.data_quality.schedule (line 20): schedule "
        "'cron(*/5 * ? * * *)' is not one Model Monitor accepts: use cron(0 * ? * * *) (hourly)"
    )


def test_a_job_may_run_at_most_until_the_next_run() -> None:
    # MONITOR-2: an hour on an hourly schedule; the interval on a longer one.
    (hourly,) = problems_of(config(quality(max_runtime_minutes=90)))
    assert hourly.startswith(
        "inference.endpoints.demand.monitoring.data_quality.max_runtime_minutes (line 20): "
        "max_runtime of 5400 s: a DataQuality job on this schedule may run at most 3600 s"
    )
    assert parse_settings(config(quality(schedule="cron(0 0/2 ? * * *)", max_runtime_minutes=90)))


def test_monitoring_needs_captured_requests() -> None:
    # MONITOR-4: no capture, or responses only, leaves Model Monitor nothing to read.
    for capture in (None, {"capture_request": False}):
        endpoint: dict[str, Any] = {"data_capture": capture} if capture else {"data_capture": None}
        (problem,) = problems_of(config(endpoint))
        assert (
            "Model Monitor analyses the endpoint's captured requests: set data_capture" in problem
        )
        assert problem.startswith("inference.endpoints.demand.monitoring (line ")


def test_a_serverless_endpoint_is_told_to_use_instances() -> None:
    problems = problems_of(
        config(
            {
                "variant": {"kind": "serverless"},
                "data_capture": None,
            }
        )
    )
    assert any(
        "serverless endpoints capture nothing, use an instance variant" in p for p in problems
    )


def test_regions_without_the_analyzer_are_refused() -> None:
    # MONITOR-3: the SDK's image table has no analyzer in ap-southeast-7.
    (problem,) = problems_of(config({}, region="ap-southeast-7"))
    assert problem.startswith(
        "region (line 2): Model Monitor's analyzer image is not published in ap-southeast-7; "
        "monitoring runs in af-south-1, "
    )


def test_processing_types_are_checked_and_limited() -> None:
    (unknown,) = problems_of(config(quality(instance_type="ml.m5.gigantic")))
    assert "must be an instance type SageMaker processing jobs accept, e.g. ml.m5." in unknown
    limits = {"limits": {"instance_types": {"processing": ["ml.m5.large"]}}}
    problems = problems_of(config({}, cost=limits))
    assert problems == [
        "inference.endpoints.demand.monitoring.data_quality.baseline (line 23): processing "
        "instance type 'ml.m5.xlarge' is not allowed by cost.limits.instance_types.processing; "
        "allowed: ml.m5.large (got 'ml.m5.xlarge')",
        "inference.endpoints.demand.monitoring.data_quality (line 22): monitoring instance type "
        "'ml.m5.xlarge' is not allowed by cost.limits.instance_types.processing; allowed: "
        "ml.m5.large (got 'ml.m5.xlarge')",
    ]
