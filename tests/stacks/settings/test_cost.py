"""The cost section: budget rules, and the limits every notebook, job and endpoint of a
config is checked against. The sections that start compute are stood in for by small
in-test sections that report their `resource_usages()` the way the real ones do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sagemaker_constructs.common.instance_types import (
    ENDPOINT_INSTANCE_TYPES,
    NOTEBOOK_INSTANCE_TYPES,
    TRAINING_INSTANCE_TYPES,
    describe_allowed,
)
from stacks.settings import ConfigError, PlatformSettings, load_settings, loader, parse_settings
from stacks.settings.base import ResourceUsage, StrictModel
from stacks.settings.cost import LimitViolation

ROOT = Path(__file__).resolve().parents[3]


class Notebooks(StrictModel):
    instance_types: list[str]

    def resource_usages(self) -> list[ResourceUsage]:
        return [
            ResourceUsage("notebook", f"probe_notebooks.instance_types[{i}]", t)
            for i, t in enumerate(self.instance_types)
        ]


class Training(StrictModel):
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    max_runtime_seconds: int | None = None
    tuning_parallel_jobs: int | None = None

    def resource_usages(self) -> list[ResourceUsage]:
        usages = [
            ResourceUsage(
                "training",
                "probe_training.definitions.classifier",
                self.instance_type,
                self.instance_count,
                self.max_runtime_seconds,
            )
        ]
        if self.tuning_parallel_jobs is not None:
            usages.append(
                ResourceUsage(
                    "tuning",
                    "probe_training.definitions.classifier.tuning",
                    self.instance_type,
                    self.instance_count,
                    self.max_runtime_seconds,
                    self.tuning_parallel_jobs,
                )
            )
        return usages


class Endpoints(StrictModel):
    instance_type: str | None = "ml.m5.large"
    max_instances: int = 1

    def resource_usages(self) -> list[ResourceUsage]:
        return [
            ResourceUsage("endpoint", "probe_endpoints[0]", self.instance_type, self.max_instances)
        ]


class Settings(PlatformSettings):
    """PlatformSettings with stand-in sections that start compute (named apart from the
    real sections, whose own validators would run on them)."""

    probe_notebooks: Notebooks | None = None
    probe_training: Training | None = None
    probe_endpoints: Endpoints | None = None


def settings(limits: dict[str, Any], **sections: Any) -> Settings:
    return Settings.model_validate({"name_prefix": "demo", "cost": {"limits": limits}, **sections})


def violations(limits: dict[str, Any], **sections: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as raised:
        settings(limits, **sections)
    return [{"loc": e["loc"], "msg": e["msg"], "input": e["input"]} for e in raised.value.errors()]


def test_instance_type_outside_its_kinds_allow_list() -> None:
    found = violations(
        {"instance_types": {"notebook": ["ml.t3.medium", "ml.t3.large"]}},
        probe_notebooks={"instance_types": ["ml.t3.medium", "ml.p3.2xlarge"]},
    )
    assert found == [
        {
            "loc": ("probe_notebooks", "instance_types", 1),
            "msg": "notebook instance type 'ml.p3.2xlarge' is not allowed by "
            "cost.limits.instance_types.notebook; allowed: ml.t3.large, ml.t3.medium",
            "input": "ml.p3.2xlarge",
        }
    ]


def test_each_kind_has_its_own_allow_list() -> None:
    limits = {"instance_types": {"training": ["ml.g5.xlarge"], "tuning": ["ml.m5.xlarge"]}}
    found = violations(
        limits, probe_training={"instance_type": "ml.g5.xlarge", "tuning_parallel_jobs": 2}
    )
    assert [f["msg"] for f in found] == [
        "tuning instance type 'ml.g5.xlarge' is not allowed by "
        "cost.limits.instance_types.tuning; allowed: ml.m5.xlarge"
    ]
    assert found[0]["loc"] == ("probe_training", "definitions", "classifier", "tuning")


def test_max_instance_count() -> None:
    found = violations(
        {"max_instance_count": 2},
        probe_training={"instance_count": 4},
        probe_endpoints={"max_instances": 3},
    )
    assert found == [
        {
            "loc": ("probe_training", "definitions", "classifier"),
            "msg": "4 instances exceed cost.limits.max_instance_count (2)",
            "input": 4,
        },
        {
            "loc": ("probe_endpoints", 0),
            "msg": "3 instances exceed cost.limits.max_instance_count (2)",
            "input": 3,
        },
    ]


def test_max_training_runtime() -> None:
    found = violations(
        {"max_training_runtime_hours": 12}, probe_training={"max_runtime_seconds": 90000}
    )
    assert found == [
        {
            "loc": ("probe_training", "definitions", "classifier"),
            "msg": "a maximum runtime of 25 h (90000 s) exceeds "
            "cost.limits.max_training_runtime_hours (12 h)",
            "input": 90000,
        }
    ]


def test_training_without_a_runtime_counts_as_sagemakers_one_day_default() -> None:
    found = violations({"max_training_runtime_hours": 8}, probe_training={})
    assert [f["msg"] for f in found] == [
        "a maximum runtime of 24 h (86400 s) (SageMaker's default when none is set) exceeds "
        "cost.limits.max_training_runtime_hours (8 h)"
    ]
    assert (
        settings({"max_training_runtime_hours": 24}, probe_training={}).probe_training is not None
    )


def test_max_parallel_tuning_jobs() -> None:
    found = violations({"max_parallel_tuning_jobs": 4}, probe_training={"tuning_parallel_jobs": 10})
    assert found == [
        {
            "loc": ("probe_training", "definitions", "classifier", "tuning"),
            "msg": "10 parallel training jobs exceed cost.limits.max_parallel_tuning_jobs (4)",
            "input": 10,
        }
    ]


def test_every_violation_is_reported_at_once() -> None:
    found = violations(
        {
            "instance_types": {"training": ["ml.m5.xlarge"], "endpoint": ["ml.m5.large"]},
            "max_instance_count": 1,
            "max_parallel_tuning_jobs": 1,
        },
        probe_training={
            "instance_type": "ml.p4d.24xlarge",
            "instance_count": 2,
            "tuning_parallel_jobs": 3,
        },
        probe_endpoints={"instance_type": "ml.g5.xlarge"},
    )
    assert [(f["loc"][-1], f["input"]) for f in found] == [
        ("classifier", "ml.p4d.24xlarge"),
        ("classifier", 2),
        ("tuning", 2),
        ("tuning", 3),
        (0, "ml.g5.xlarge"),
    ]


def test_within_limits_and_serverless_endpoints_pass() -> None:
    ok = settings(
        {
            "instance_types": {"endpoint": ["ml.m5.large"], "notebook": ["ml.t3.medium"]},
            "max_instance_count": 2,
            "max_training_runtime_hours": 2,
            "max_parallel_tuning_jobs": 2,
        },
        probe_notebooks={"instance_types": ["ml.t3.medium"]},
        probe_training={
            "instance_count": 2,
            "max_runtime_seconds": 7200,
            "tuning_parallel_jobs": 2,
        },
        probe_endpoints={"instance_type": None},
    )
    assert ok.cost is not None and ok.cost.limits is not None
    assert len(ok.resource_usages()) == 4


def test_config_file_shows_the_resources_path_line_and_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loader, "PlatformSettings", Settings)
    text = (
        "name_prefix: demo\n"
        "probe_notebooks:\n"
        "  instance_types: [ml.t3.medium, ml.p3.2xlarge]\n"
        "cost:\n"
        "  limits:\n"
        "    instance_types:\n"
        "      notebook: [ml.t3.medium]\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="team.yaml")
    assert raised.value.problems == [
        "probe_notebooks.instance_types[1] (line 3): notebook instance type 'ml.p3.2xlarge' is not "
        "allowed by cost.limits.instance_types.notebook; allowed: ml.t3.medium "
        "(got 'ml.p3.2xlarge')"
    ]


def test_allow_lists_are_exposed_for_run_time_checks() -> None:
    limited = settings({"instance_types": {"training": ["ml.g5.xlarge", "ml.m5.xlarge"]}})
    assert limited.allowed_instance_types("training") == ("ml.g5.xlarge", "ml.m5.xlarge")
    assert limited.allowed_instance_types("notebook") == NOTEBOOK_INSTANCE_TYPES
    unlimited = PlatformSettings(name_prefix="demo")
    assert unlimited.allowed_instance_types("tuning") == TRAINING_INSTANCE_TYPES
    assert unlimited.allowed_instance_types("endpoint") == ENDPOINT_INSTANCE_TYPES


def test_allow_list_names_only_types_sagemaker_accepts() -> None:
    problems = problem_lines(
        "cost:\n  limits:\n    instance_types:\n      notebook: [ml.t3.medium, ml.t3.mediun]\n"
        "      endpoint: []\n"
    )
    assert problems == [
        "cost.limits.instance_types.notebook[1] (line 5): 'ml.t3.mediun' is not a notebook "
        "instance type SageMaker accepts "
        f"(e.g. {describe_allowed(NOTEBOOK_INSTANCE_TYPES, limit=5)})",
        "cost.limits.instance_types.endpoint (line 6): list at least one type, or leave it out "
        "to allow any",
    ]


def test_limit_ranges() -> None:
    problems = problem_lines("cost:\n  limits:\n    max_training_runtime_hours: 700\n")
    assert problems == [
        "cost.limits.max_training_runtime_hours (line 4): Input should be less than or equal "
        "to 672 (got 700)"
    ]


def test_violation_location_of_nested_paths() -> None:
    assert LimitViolation("a.b[2].c", 1, "m").location == ("a", "b", 2, "c")
    assert LimitViolation("training.definitions.text-classifier", 1, "m").location == (
        "training",
        "definitions",
        "text-classifier",
    )


# --- budget ------------------------------------------------------------------------------


def problem_lines(cost_yaml: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings("name_prefix: demo\n" + cost_yaml, source="test.yaml")
    return raised.value.problems


def test_budget_defaults() -> None:
    loaded = parse_settings("name_prefix: demo\ncost:\n  budget:\n    monthly_limit_usd: 300\n")
    assert loaded.cost is not None and loaded.cost.budget is not None
    budget = loaded.cost.budget
    assert budget.actual_thresholds_percent == [50, 80, 100]
    assert budget.forecasted_thresholds_percent == [100]
    assert budget.guard is None and budget.teams == []


def test_budget_takes_at_most_five_notifications_counting_the_guards() -> None:
    problems = problem_lines(
        "cost:\n  budget:\n    monthly_limit_usd: 300\n"
        "    actual_thresholds_percent: [50, 80, 100]\n"
        "    forecasted_thresholds_percent: [90, 100]\n"
        "    guard:\n      threshold_percent: 120\n"
    )
    assert problems == [
        "cost.budget.actual_thresholds_percent (line 5): AWS Budgets allows 5 notifications "
        "per budget; 3 actual and "
        "2 forecasted thresholds plus the guard's 120% make 6"
    ]


def test_budget_rules() -> None:
    problems = problem_lines(
        "cost:\n  budget:\n    monthly_limit_usd: 0\n"
        "    actual_thresholds_percent: [80, 80]\n"
        "    teams:\n      - {team: a, monthly_limit_usd: 5}\n"
        "      - {team: a, monthly_limit_usd: 6}\n"
    )
    assert problems == [
        "cost.budget.monthly_limit_usd (line 4): Input should be greater than 0 (got 0)",
        "cost.budget.actual_thresholds_percent[1] (line 5): each threshold may appear only once "
        "(80 repeats entry 0)",
        "cost.budget.teams[1].team (line 8): team 'a' already has a budget (teams[0]); "
        "each team may appear only once",
    ]


def test_full_example_has_a_guarded_budget_and_limits() -> None:
    full = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert full.cost is not None and full.cost.budget is not None and full.cost.limits
    assert full.cost.budget.guard is not None and full.cost.budget.guard.dry_run is False
    assert full.allowed_instance_types("training") == full.cost.limits.allowed_instance_types(
        "training"
    )
