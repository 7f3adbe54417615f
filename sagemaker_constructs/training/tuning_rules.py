"""The rules of a tuning definition, free of aws-cdk-lib so that the settings model
can check a config with them before (and without) loading the CDK."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
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

# Automatic model tuning's resource limits (automatic-model-tuning-limits page), none of
# which a quota increase lifts except the Random search job count (to 10,000) and the
# parallel training jobs (default 10, up to 100: a quota that `smkit preflight` reads).
MAX_SEARCHED_HYPERPARAMETERS = 30
MAX_TUNING_METRICS = 20
MAX_TRAINING_JOBS = 750
MAX_RANDOM_TRAINING_JOBS = 10_000
MAX_PARALLEL_TRAINING_JOBS = 100
MAX_TUNING_RUNTIME_S = 30 * 24 * 3600
# HyperbandStrategyConfig: MaxResource at most 20,000; when unset, SageMaker infers it from
# one of these static hyperparameters and refuses the job where none is there.
MAX_HYPERBAND_RESOURCE = 20_000
HYPERBAND_EPOCH_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")

Located = tuple[str, str]
"""(field, sentence): the field of the tuning definition a problem is about (`strategy`,
`max_jobs`, `objective.metric`, `ranges.<name>`, `hyperband.max_resource`...), or ""."""


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
    return [message for _, message in located_range_problems(ranges)]


def located_range_problems(ranges: Sequence[Range]) -> list[Located]:
    """What is wrong with a set of ranges, each at `ranges` or `ranges.<name>`."""
    found: list[Located] = []
    names = [r.name for r in ranges]
    if not names:
        found.append(("ranges", "ranges needs at least one hyperparameter to tune"))
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        found.append(("ranges", f"each hyperparameter may have one range (repeated: {repeated})"))
    # TRAIN-10: automatic-model-tuning-limits, at most 30 hyperparameters searched in all.
    if len(names) > MAX_SEARCHED_HYPERPARAMETERS:
        found.append(
            (
                "ranges",
                f"a tuning job searches at most {MAX_SEARCHED_HYPERPARAMETERS} "
                f"hyperparameters in all (got {len(names)}): fix the others as static "
                "hyperparameters of the training definition",
            )
        )
    for item in ranges:
        where = f"ranges.{item.name}"
        if isinstance(item, CategoricalRange):
            values = list(item.values)
            if not 1 <= len(values) <= 30:
                found.append((where, f"range {item.name!r}: needs 1-30 values (got {len(values)})"))
            if any(not v for v in values):
                found.append((where, f"range {item.name!r}: values must not be empty strings"))
            if len(set(values)) != len(values):
                found.append((where, f"range {item.name!r}: values must be unique (got {values})"))
            continue
        low, high = item.min_value, item.max_value
        label = f"range {item.name!r}"
        if not low < high:
            found.append((where, f"{label}: min must be less than max (got {low} >= {high})"))
        allowed = SCALING_TYPES if isinstance(item, ContinuousRange) else SCALING_TYPES[:3]
        # TRAIN-20: ContinuousParameterRange / IntegerParameterRange scaling rules.
        if item.scaling not in allowed:
            found.append(
                (
                    where,
                    f"{label}: scaling must be one of {', '.join(allowed)} (got {item.scaling!r})",
                )
            )
        elif item.scaling == "Logarithmic" and low <= 0:
            found.append((where, f"{label}: Logarithmic scaling needs min > 0 (got {low})"))
        elif item.scaling == "ReverseLogarithmic" and not (low >= 0 and high < 1):
            found.append(
                (
                    where,
                    f"{label}: ReverseLogarithmic scaling needs 0 <= min and max < 1 "
                    f"(got {low}..{high})",
                )
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


def tuning_problems(**kwargs: Any) -> list[str]:
    """What is wrong with tuning a training job (one sentence each; the settings model
    reports the same sentences, each at its field); takes `located_tuning_problems`'s
    arguments."""
    return [message for _, message in located_tuning_problems(**kwargs)]


def located_tuning_problems(
    *,
    profile: AlgorithmProfile | None,
    hyperparameters: Mapping[str, str],
    channels: Collection[str],
    metrics: Collection[str],
    objective_metric: str,
    objective_type: str | None,
    ranges: Sequence[Range],
    strategy: str,
    max_jobs: int | None,
    max_parallel_jobs: int,
    early_stopping: str,
    hyperband: tuple[int | None, int | None],
    warm_start_parents: Sequence[str],
    warm_start_type: str,
    overridable_hyperparameters: Collection[str] = (),
    max_runtime_s: int | None = None,
) -> list[Located]:
    """What is wrong with tuning a training job whose static hyperparameters (name ->
    value), channels and metric definitions are given, each at its field.

    :param objective_type: `Maximize` / `Minimize`; None: the direction AWS publishes for
        a built-in's metric (`objective_direction`).
    :param overridable_hyperparameters: Static hyperparameters a run may set.
    """
    found = located_range_problems(ranges)
    if strategy not in STRATEGIES:
        found.append(
            ("strategy", f"strategy must be one of {', '.join(STRATEGIES)} (got {strategy!r})")
        )
    found.extend(
        ("objective.metric", p)
        for p in objective_problems(profile, metrics, channels, objective_metric)
    )
    found.extend(_direction_problems(profile, objective_metric, objective_type))
    # TRAIN-11: automatic-model-tuning-limits, at most 20 metrics per tuning job.
    if len(metrics) > MAX_TUNING_METRICS:
        found.append(
            (
                "",
                f"a tuning job takes at most {MAX_TUNING_METRICS} metric definitions; the "
                f"training definition has {len(metrics)} (its own and its algorithm's): "
                "remove some of its metric_definitions",
            )
        )
    tuned = {r.name for r in ranges}
    overridden = sorted(tuned & set(overridable_hyperparameters))
    if overridden:
        found.append(
            (
                "ranges",
                f"tuned hyperparameters cannot be overridden by the execution input "
                f"(got {overridden})",
            )
        )
    if profile is not None and profile.hyperparameters is not None:
        unknown = sorted(tuned - profile.hyperparameters)
        if unknown:
            found.append(("ranges", f"{profile.name} has no hyperparameter(s) {unknown} to tune"))
    if profile is not None:
        missing = sorted(profile.required_hyperparameters - tuned - set(hyperparameters))
        if missing:
            found.append(("ranges", f"{profile.name} needs the hyperparameter(s) {missing}"))
    found.extend(_job_count_problems(ranges, strategy, max_jobs, max_parallel_jobs))
    # TRAIN-14: automatic-model-tuning-limits, a tuning job runs at most 30 days.
    if max_runtime_s is not None and not 120 <= max_runtime_s <= MAX_TUNING_RUNTIME_S:
        found.append(
            (
                "max_runtime",
                f"max_runtime must be 120 seconds to 30 days (got {max_runtime_s} s)",
            )
        )
    if early_stopping not in EARLY_STOPPING:
        found.append(
            (
                "early_stopping",
                f"early_stopping must be one of {', '.join(EARLY_STOPPING)} "
                f"(got {early_stopping!r})",
            )
        )
    # TRAIN-16: HyperParameterTuningJobConfig, Hyperband needs TrainingJobEarlyStoppingType OFF.
    elif strategy == "Hyperband" and early_stopping != "Off":
        found.append(
            ("early_stopping", "early_stopping must be Off with Hyperband, which stops jobs itself")
        )
    found.extend(
        _hyperband_problems(
            strategy, hyperband, tuned, hyperparameters, overridable_hyperparameters
        )
    )
    if warm_start_parents:
        if not 1 <= len(warm_start_parents) <= 5:
            found.append(
                ("warm_start", f"warm start takes 1-5 parent jobs (got {len(warm_start_parents)})")
            )
        bad = [p for p in warm_start_parents if not _JOB_NAME.match(p)]
        if bad:
            found.append(("warm_start", f"warm start parents must be tuning job names (got {bad})"))
        if warm_start_type not in WARM_START_TYPES:
            found.append(
                (
                    "warm_start",
                    f"warm start type must be one of {', '.join(WARM_START_TYPES)} "
                    f"(got {warm_start_type!r})",
                )
            )
    return found


def objective_direction(profile: AlgorithmProfile | None, metric: str) -> str | None:
    """The direction AWS publishes for a built-in's objective metric; None where unknown."""
    if profile is None:
        return None
    return profile.metric_directions.get(metric)


def _direction_problems(
    profile: AlgorithmProfile | None, metric: str, objective_type: str | None
) -> list[Located]:
    published = objective_direction(profile, metric)
    if objective_type is None:
        # A built-in's unknown metric is reported once, by objective_problems.
        if published is None and (profile is None or not profile.builtin):
            return [
                (
                    "objective.type",
                    f"objective type is required for {metric!r} (Maximize or Minimize): the "
                    "kit knows the direction of built-in algorithms' metrics only",
                )
            ]
        return []
    if objective_type not in OBJECTIVE_TYPES:
        return [
            (
                "objective.type",
                f"objective type must be one of {', '.join(OBJECTIVE_TYPES)} "
                f"(got {objective_type!r})",
            )
        ]
    # TRAIN-6: the built-in's tuning page gives each metric's optimization direction.
    if published is not None and objective_type != published:
        assert profile is not None
        return [
            (
                "objective.type",
                f"{profile.name}'s metric {metric!r} is to {published.lower()} (AWS's table of "
                f"its metrics), not to {objective_type.lower()}: set type {published} or "
                "leave it out",
            )
        ]
    return []


def _job_count_problems(
    ranges: Sequence[Range], strategy: str, max_jobs: int | None, max_parallel_jobs: int
) -> list[Located]:
    found: list[Located] = []
    if strategy == "Grid":
        # TRAIN-17: How tuning works (grid search), categorical ranges only, the job count
        # is every combination.
        not_categorical = sorted(r.name for r in ranges if not isinstance(r, CategoricalRange))
        if not_categorical:
            found.append(
                (
                    "strategy",
                    f"Grid search takes only categorical ranges (got {not_categorical} "
                    "continuous or integer)",
                )
            )
        if max_jobs is not None:
            found.append(
                (
                    "max_jobs",
                    f"max_jobs must be unset with Grid search: it runs every combination "
                    f"({grid_size(ranges)} here)",
                )
            )
        limit = grid_size(ranges)
        if limit > MAX_TRAINING_JOBS:
            found.append(
                (
                    "ranges",
                    f"Grid search here would run {limit} training jobs (every combination of "
                    f"the categorical values); a tuning job runs at most {MAX_TRAINING_JOBS}",
                )
            )
    else:
        if max_jobs is None or max_jobs < 1:
            found.append(("max_jobs", f"max_jobs must be at least 1 (got {max_jobs})"))
        # TRAIN-12: automatic-model-tuning-limits, 750 training jobs per tuning job
        # (Random search: up to 10,000 with a quota increase).
        cap = MAX_RANDOM_TRAINING_JOBS if strategy == "Random" else MAX_TRAINING_JOBS
        if max_jobs is not None and max_jobs > cap:
            found.append(
                (
                    "max_jobs",
                    f"a {strategy} tuning job runs at most {cap} training jobs (got {max_jobs})",
                )
            )
        limit = max_jobs or 0
    if not 1 <= max_parallel_jobs <= max(limit, 1):
        found.append(
            (
                "max_parallel_jobs",
                f"max_parallel_jobs must be 1 to max_jobs ({limit}) (got {max_parallel_jobs})",
            )
        )
    # TRAIN-13: automatic-model-tuning-limits, at most 100 parallel training jobs.
    elif max_parallel_jobs > MAX_PARALLEL_TRAINING_JOBS:
        found.append(
            (
                "max_parallel_jobs",
                f"a tuning job runs at most {MAX_PARALLEL_TRAINING_JOBS} training jobs at once "
                f"(got {max_parallel_jobs}; the default quota is 10)",
            )
        )
    return found


def _hyperband_problems(
    strategy: str,
    hyperband: tuple[int | None, int | None],
    tuned: Collection[str],
    hyperparameters: Mapping[str, str],
    overridable_hyperparameters: Collection[str],
) -> list[Located]:
    low, high = hyperband
    if strategy != "Hyperband":
        if low is not None or high is not None:
            return [("hyperband", "hyperband resources apply only to the Hyperband strategy")]
        return []
    found: list[Located] = []
    if low is not None and high is not None and not 1 <= low <= high:
        found.append(
            (
                "hyperband.min_resource",
                f"hyperband min_resource must be 1 to max_resource (got {low}..{high})",
            )
        )
    # TRAIN-15: HyperbandStrategyConfig, MaxResource at most 20,000 and, when unset,
    # inferred from a static epochs-like hyperparameter (or the job is refused).
    if high is not None:
        if high > MAX_HYPERBAND_RESOURCE:
            found.append(
                (
                    "hyperband.max_resource",
                    f"hyperband max_resource is at most {MAX_HYPERBAND_RESOURCE} (got {high})",
                )
            )
        return found
    keys = [k for k in HYPERBAND_EPOCH_KEYS if k in hyperparameters and k not in tuned]
    if not keys:
        found.append(
            (
                "hyperband.max_resource",
                "Hyperband needs max_resource, or a static hyperparameter it reads it from ("
                f"{', '.join(HYPERBAND_EPOCH_KEYS)}; tuned ones do not count): set "
                "hyperband.max_resource",
            )
        )
        return found
    key = keys[0]
    value = hyperparameters[key]
    if not value.isdigit() or not 1 <= int(value) <= MAX_HYPERBAND_RESOURCE:
        found.append(
            (
                "hyperband.max_resource",
                f"Hyperband reads max_resource from hyperparameter {key} = {value!r}, which must "
                f"be a whole number 1-{MAX_HYPERBAND_RESOURCE}: fix it or set "
                "hyperband.max_resource",
            )
        )
    elif low is not None and low > int(value):
        found.append(
            (
                "hyperband.min_resource",
                f"hyperband min_resource ({low}) is above the max_resource Hyperband reads "
                f"from hyperparameter {key} ({value})",
            )
        )
    if key in overridable_hyperparameters:
        found.append(
            (
                "hyperband.max_resource",
                f"Hyperband reads max_resource from hyperparameter {key}, which a run may "
                "override, so a run could set a value SageMaker refuses: set "
                f"hyperband.max_resource, or take {key} off overridable.hyperparameters",
            )
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
    # TRAIN-5: automatic-model-tuning-define-metrics page, a built-in's objective is one of
    # the metrics its tuning page publishes (builtin_metrics_data.py).
    if profile is not None and profile.builtin:
        if profile.not_tunable is not None:
            return [f"{profile.not_tunable}: it cannot be tuned"]
        if metric not in profile.metrics:
            return [
                f"objective metric {metric!r} is not one {profile.name} emits; "
                f"choose one of {', '.join(profile.metrics)}"
            ]
        # TRAIN-7: the tuning pages (e.g. deepar-tuning), built-ins compute `<channel>:`
        # metrics on that channel only.
        channel = profile.metric_channel(metric)
        if channel is not None and channel not in channels:
            return [
                f"objective metric {metric!r} is computed on the {channel!r} channel, "
                f"which the job does not have (channels: {sorted(channels)})"
            ]
        return []
    if metric not in metrics:
        known = ", ".join(metrics) or "none"
        return [f"objective metric {metric!r} is not one of the job's metric definitions ({known})"]
    return []
