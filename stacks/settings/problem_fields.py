"""The field each sentence of the training and tuning rules speaks of.

The rules (`sagemaker_constructs/training`) check a job for the construct and the settings
alike, so they return sentences, not settings paths. Each sentence starts by naming what it
is about ("instance type 'ml.m5.xlarge' ...", "max_parallel_jobs must ..."); these patterns
turn that start into the field's location, so a config error points at the offending line.
A sentence no pattern knows stays at the definition itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .base import Location

NAMED = "<named>"
"""In a target location: the name the sentence quotes (the pattern's first group)."""

_DEFINITION: list[tuple[str, Location]] = [
    (r"^channel '([^']*)'", ("channels", NAMED)),
    (r"^hyperparameter '([^']*)'", ("hyperparameters", NAMED)),
    (r"^environment variable '([^']*)'", ("environment", NAMED)),
    (r"^metric '([^']*)'", ("metric_definitions", NAMED)),
    (r"^input_mode ", ("input_mode",)),
    (r"^instance_count ", ("instance_count",)),
    (r"^volume_size_gb ", ("volume_size_gb",)),
    (r"^max_runtime ", ("max_runtime_minutes",)),
    (r"^max_wait ", ("max_wait_minutes",)),
    (
        r"^(channels needs|channel names|[^:;]*? needs the channel|[^:;]*? reads only the "
        r"channels)",
        ("channels",),
    ),
    (
        r"^(at most \d+ hyperparameters|[^:;]*? has no hyperparameter|[^:;]*? needs the "
        r"hyperparameter)",
        ("hyperparameters",),
    ),
    (r"^environment allows", ("environment",)),
    (r"^(metric_definitions|at most \d+ metric definitions)", ("metric_definitions",)),
    (r"^(overridable hyperparameters|hyperparameters \[)", ("overridable", "hyperparameters")),
]

_INSTANCE_TYPE = re.compile(r"^instance type '([^']*)'")


def definition_field(
    problem: str, *, instance_type: str, overridable_types: Sequence[str]
) -> Location:
    """The field of a training definition that `problem` (a sentence of
    `training_job_problems` or of the algorithm's profile) is about."""
    match = _INSTANCE_TYPE.match(problem)
    if match:
        if match[1] == instance_type:
            return ("instance_type",)
        if match[1] in overridable_types:
            return ("overridable", "instance_types", list(overridable_types).index(match[1]))
        return ()
    return _first_match(problem, _DEFINITION)


def _first_match(problem: str, rules: list[tuple[str, Location]]) -> Location:
    for pattern, target in rules:
        match = re.match(pattern, problem)
        if match:
            return tuple(match[1] if part == NAMED else part for part in target)
    return ()
