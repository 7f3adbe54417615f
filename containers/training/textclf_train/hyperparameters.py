"""The training job's hyperparameters: names, types, defaults and allowed ranges.

SageMaker writes them to hyperparameters.json with every value as a string (tuning jobs
too); each is parsed to its type and checked against its range, and every problem is
reported at once. Keys starting with `_` or `sagemaker_` are SageMaker's own (a tuning
job adds `_tuning_objective_metric`) and are ignored; any other unknown key is an error,
so that a misspelt name cannot silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .environment import read_json_object
from .errors import TrainingError

RESERVED_PREFIXES = ("_", "sagemaker_")


@dataclass(frozen=True)
class Spec:
    """How one hyperparameter is parsed and what it may be."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    description: str = ""

    def allowed(self) -> str:
        if self.kind is str:
            return "a non-empty string"
        noun = "an integer" if self.kind is int else "a number"
        low = "" if self.minimum is None else _number(self.minimum)
        high = "" if self.maximum is None else _number(self.maximum)
        if self.exclusive_minimum:
            return f"{noun} greater than {low} and at most {high}"
        return f"{noun} from {low} to {high}"


@dataclass(frozen=True)
class Hyperparameters:
    """Typed hyperparameters with their defaults (containers/README.md documents them)."""

    epochs: int = 10
    learning_rate: float = 0.01
    batch_size: int = 64
    embedding_dim: int = 64
    max_vocab_size: int = 50_000
    max_length: int = 256
    ngram_size: int = 2
    min_count: int = 1
    label_attribute: str = "label"
    text_attribute: str = "source"
    validation_fraction: float = 0.1
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SPECS: dict[str, Spec] = {
    "epochs": Spec(int, 1, 10_000, description="passes over the training data"),
    "learning_rate": Spec(float, 0, 10, exclusive_minimum=True, description="Adam's step size"),
    "batch_size": Spec(int, 1, 65_536, description="examples per step and process"),
    "embedding_dim": Spec(int, 1, 4_096, description="size of each feature's embedding"),
    "max_vocab_size": Spec(
        int, 1, 10_000_000, description="most frequent features kept (words and n-grams)"
    ),
    "max_length": Spec(int, 1, 1_000_000, description="tokens read from each text"),
    "ngram_size": Spec(int, 1, 5, description="longest word n-gram used as a feature"),
    "min_count": Spec(int, 1, 1_000_000, description="fewest occurrences a feature needs"),
    "label_attribute": Spec(str, description="the JSON key holding the label"),
    "text_attribute": Spec(str, description="the JSON key holding the text"),
    "validation_fraction": Spec(
        float,
        0,
        0.5,
        description="share of the training data held out when there is no validation channel",
    ),
    "seed": Spec(int, 0, 2**32 - 1, description="seed of every random choice"),
}


def parse_hyperparameters(raw: Mapping[str, Any]) -> Hyperparameters:
    """Typed hyperparameters from SageMaker's string values; raises TrainingError naming
    every bad key, its value and what is allowed."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in sorted(raw):
        value = raw[key]
        if key.startswith(RESERVED_PREFIXES):
            continue
        spec = SPECS.get(key)
        if spec is None:
            close = difflib.get_close_matches(key, SPECS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{key}: unknown hyperparameter{hint}")
            continue
        parsed = _parse(value, spec)
        if parsed is None:
            problems.append(f"{key} must be {spec.allowed()} (got {value!r})")
        else:
            values[key] = parsed
    merged = dataclasses.replace(Hyperparameters(), **values)
    if merged.label_attribute == merged.text_attribute:
        problems.append(
            f"label_attribute and text_attribute must differ (both are {merged.text_attribute!r})"
        )
    if problems:
        raise TrainingError("invalid hyperparameters: " + "; ".join(problems))
    return merged


def read_hyperparameters(path: Path) -> Hyperparameters:
    """hyperparameters.json (all defaults when SageMaker wrote none)."""
    raw = read_json_object(path, "hyperparameters file")
    return parse_hyperparameters(raw or {})


def _parse(value: Any, spec: Spec) -> Any:
    if spec.kind is str:
        return (value.strip() or None) if isinstance(value, str) else None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if spec.kind is int:
        if not number.is_integer():
            return None
        number = int(number)
    if spec.minimum is not None and (
        number < spec.minimum or (spec.exclusive_minimum and number == spec.minimum)
    ):
        return None
    if spec.maximum is not None and number > spec.maximum:
        return None
    return number


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
