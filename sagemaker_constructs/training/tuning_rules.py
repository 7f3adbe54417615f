"""The rules of a tuning definition, free of aws-cdk-lib so that the settings model
can check a config with them before (and without) loading the CDK."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .algorithms import AlgorithmProfile

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")


OBJECTIVE_TYPES = ("Maximize", "Minimize")


SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


EARLY_STOPPING = ("Off", "Auto")


WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")


RUN_ID_LENGTH = 12
"""Hex digits (from a UUID drawn once per run) that make tuning job names unique."""


MAX_TUNING_JOB_NAME = 32


MAX_TUNING_JOB_NAME_PREFIX = MAX_TUNING_JOB_NAME - 1 - RUN_ID_LENGTH


_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")


@dataclass(frozen=True)
class ContinuousRange:
    """A real-valued hyperparameter searched between two bounds."""

    name: str
    min_value: float
    max_value: float
    scaling: str = "Auto"
    """`Auto`, `Linear`, `Logarithmic` (bounds > 0) or `ReverseLogarithmic` (0 <= bounds < 1)."""


@dataclass(frozen=True)
class IntegerRange:
    """An integer hyperparameter searched between two bounds."""

    name: str
    min_value: int
    max_value: int
    scaling: str = "Auto"
    """`Auto`, `Linear` or `Logarithmic` (bounds > 0)."""


@dataclass(frozen=True)
class CategoricalRange:
    """A hyperparameter chosen from a list of values."""

    name: str
    values: Sequence[str]


Range = ContinuousRange | IntegerRange | CategoricalRange


def range_problems(ranges: Sequence[Range]) -> list[str]:
    """What is wrong with a set of ranges (also used by the settings model)."""
    found = []
    names = [r.name for r in ranges]
    if not names:
        found.append("ranges needs at least one hyperparameter to tune")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        found.append(f"each hyperparameter may have one range (repeated: {repeated})")
    for kind in (ContinuousRange, IntegerRange, CategoricalRange):
        count = sum(isinstance(r, kind) for r in ranges)
        if count > 30:
            found.append(f"at most 30 {kind.__name__} ranges (got {count})")
    for item in ranges:
        where = f"range {item.name!r}"
        if isinstance(item, CategoricalRange):
            values = list(item.values)
            if not 1 <= len(values) <= 30:
                found.append(f"{where}: needs 1-30 values (got {len(values)})")
            if any(not v for v in values):
                found.append(f"{where}: values must not be empty strings")
            if len(set(values)) != len(values):
                found.append(f"{where}: values must be unique (got {values})")
            continue
        low, high = item.min_value, item.max_value
        if not low < high:
            found.append(f"{where}: min must be less than max (got {low} >= {high})")
        allowed = SCALING_TYPES if isinstance(item, ContinuousRange) else SCALING_TYPES[:3]
        if item.scaling not in allowed:
            found.append(
                f"{where}: scaling must be one of {', '.join(allowed)} (got {item.scaling!r})"
            )
        elif item.scaling == "Logarithmic" and low <= 0:
            found.append(f"{where}: Logarithmic scaling needs min > 0 (got {low})")
        elif item.scaling == "ReverseLogarithmic" and not (low >= 0 and high < 1):
            found.append(
                f"{where}: ReverseLogarithmic scaling needs 0 <= min and max < 1 "
                f"(got {low}..{high})"
            )
    return found


def grid_size(ranges: Sequence[Range]) -> int:
    """How many training jobs a grid search over categorical ranges runs."""
    return math.prod(len(r.values) for r in ranges if isinstance(r, CategoricalRange))


def render_ranges(ranges: Sequence[Range]) -> dict[str, list[dict[str, Any]]]:
    """ParameterRanges of the tuning config (SageMaker takes every value as a string)."""
    rendered: dict[str, list[dict[str, Any]]] = {}
    for item in ranges:
        if isinstance(item, CategoricalRange):
            rendered.setdefault("CategoricalParameterRanges", []).append(
                {"Name": item.name, "Values": list(item.values)}
            )
        else:
            key = (
                "ContinuousParameterRanges"
                if isinstance(item, ContinuousRange)
                else "IntegerParameterRanges"
            )
            rendered.setdefault(key, []).append(
                {
                    "Name": item.name,
                    "MinValue": str(item.min_value),
                    "MaxValue": str(item.max_value),
                    "ScalingType": item.scaling,
                }
            )
    return rendered


def tuning_problems(
    *,
    profile: AlgorithmProfile | None,
    hyperparameters: Collection[str],
    channels: Collection[str],
    metrics: Collection[str],
    objective_metric: str,
    objective_type: str,
    ranges: Sequence[Range],
    strategy: str,
    max_jobs: int | None,
    max_parallel_jobs: int,
    early_stopping: str,
    hyperband: tuple[int | None, int | None],
    warm_start_parents: Sequence[str],
    warm_start_type: str,
    overridable_hyperparameters: Collection[str] = (),
) -> list[str]:
    """What is wrong with tuning a training job whose static hyperparameters, channels and
    metric definitions are given (the settings model reports the same sentences)."""
    found = range_problems(ranges)
    if strategy not in STRATEGIES:
        found.append(f"strategy must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
    if objective_type not in OBJECTIVE_TYPES:
        found.append(
            f"objective type must be one of {', '.join(OBJECTIVE_TYPES)} (got {objective_type!r})"
        )
    found.extend(objective_problems(profile, metrics, channels, objective_metric))
    tuned = {r.name for r in ranges}
    overridden = sorted(tuned & set(overridable_hyperparameters))
    if overridden:
        found.append(
            f"tuned hyperparameters cannot be overridden by the execution input (got {overridden})"
        )
    if profile is not None and profile.hyperparameters is not None:
        unknown = sorted(tuned - profile.hyperparameters)
        if unknown:
            found.append(f"{profile.name} has no hyperparameter(s) {unknown} to tune")
    if profile is not None:
        missing = sorted(profile.required_hyperparameters - tuned - set(hyperparameters))
        if missing:
            found.append(f"{profile.name} needs the hyperparameter(s) {missing}")
    if strategy == "Grid":
        not_categorical = sorted(r.name for r in ranges if not isinstance(r, CategoricalRange))
        if not_categorical:
            found.append(
                f"Grid search takes only categorical ranges (got {not_categorical} "
                "continuous or integer)"
            )
        if max_jobs is not None:
            found.append(
                f"max_jobs must be unset with Grid search: it runs every combination "
                f"({grid_size(ranges)} here)"
            )
        limit = grid_size(ranges)
    else:
        if max_jobs is None or max_jobs < 1:
            found.append(f"max_jobs must be at least 1 (got {max_jobs})")
        limit = max_jobs or 0
    if not 1 <= max_parallel_jobs <= max(limit, 1):
        found.append(f"max_parallel_jobs must be 1 to max_jobs ({limit}) (got {max_parallel_jobs})")
    if early_stopping not in EARLY_STOPPING:
        found.append(
            f"early_stopping must be one of {', '.join(EARLY_STOPPING)} (got {early_stopping!r})"
        )
    elif strategy == "Hyperband" and early_stopping != "Off":
        found.append("early_stopping must be Off with Hyperband, which stops jobs itself")
    low, high = hyperband
    if (low is not None or high is not None) and strategy != "Hyperband":
        found.append("hyperband resources apply only to the Hyperband strategy")
    if low is not None and high is not None and not 1 <= low <= high:
        found.append(f"hyperband min_resource must be 1 to max_resource (got {low}..{high})")
    if warm_start_parents:
        if not 1 <= len(warm_start_parents) <= 5:
            found.append(f"warm start takes 1-5 parent jobs (got {len(warm_start_parents)})")
        bad = [p for p in warm_start_parents if not _JOB_NAME.match(p)]
        if bad:
            found.append(f"warm start parents must be tuning job names (got {bad})")
        if warm_start_type not in WARM_START_TYPES:
            found.append(
                f"warm start type must be one of {', '.join(WARM_START_TYPES)} "
                f"(got {warm_start_type!r})"
            )
    return found


def objective_problems(
    profile: AlgorithmProfile | None,
    metrics: Collection[str],
    channels: Collection[str],
    metric: str,
) -> list[str]:
    """Whether the jobs can report `metric`: one of their metric definitions, or a metric
    of their built-in algorithm (whose channel, for `test:` metrics, is configured)."""
    if profile is not None and profile.builtin:
        if not profile.metrics:
            return [
                f"the kit has no table of the metrics of {profile.name}, so it cannot check "
                f"the objective metric {metric!r}; tuning is supported for built-in "
                "algorithms whose metrics it knows (forecasting-deepar)"
            ]
        if metric not in profile.metrics:
            return [
                f"objective metric {metric!r} is not one {profile.name} emits; "
                f"choose one of {', '.join(profile.metrics)}"
            ]
        for prefix, channel in profile.metric_channels.items():
            if metric.startswith(prefix) and channel not in channels:
                return [
                    f"objective metric {metric!r} is computed on the {channel!r} channel, "
                    f"which the job does not have (channels: {sorted(channels)})"
                ]
        return []
    if metric not in metrics:
        known = ", ".join(metrics) or "none"
        return [f"objective metric {metric!r} is not one of the job's metric definitions ({known})"]
    return []
