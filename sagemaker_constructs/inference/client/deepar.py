"""DeepAR forecasts: build the request, parse the response, call the endpoint.

Request (application/json), as DeepAR documents it:

    {"instances": [{"start": "2026-01-01 00:00:00", "target": [4.0, "NaN", 6.0],
                    "cat": [0], "dynamic_feat": [[...]]}],
     "configuration": {"num_samples": 100, "output_types": ["mean", "quantiles"],
                       "quantiles": ["0.1", "0.5", "0.9"]}}

Response: `{"predictions": [{"mean": [...], "quantiles": {"0.1": [...], ...},
"samples": [[...], ...]}, ...]}`, one prediction per instance, in order. Each list
covers the model's prediction_length steps after the end of `target`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .runtime import InferenceError, RuntimeClient, decode, invoke_json, runtime_client

OUTPUT_TYPES = ("mean", "quantiles", "samples")
"""What DeepAR can return per series."""

_START = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
_MISSING = "NaN"


@dataclass(frozen=True)
class DeepArSeries:
    """One time series to forecast from."""

    start: str
    """Timestamp of target[0]: "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS"."""
    target: Sequence[float | None]
    """Observed values; None (or NaN) for a missing one."""
    cat: Sequence[int] | None = None
    """Categorical features (non-negative integers), if the model was trained with them."""
    dynamic_feat: Sequence[Sequence[float | None]] | None = None
    """Dynamic features, each covering target and the prediction range (so longer than
    target by the model's prediction_length)."""

    def problems(self, index: int) -> list[str]:
        """What is wrong with this series, one sentence each."""
        where = f"series {index}"
        found = []
        if not _START.match(self.start):
            found.append(
                f"{where}: start must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (got {self.start!r})"
            )
        if not self.target:
            found.append(f"{where}: target needs at least one value")
        if any(not _is_number_or_missing(v) for v in self.target):
            found.append(f"{where}: target values must be numbers or None for missing ones")
        if self.cat is not None and any(
            isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in self.cat
        ):
            found.append(f"{where}: cat values must be non-negative integers (got {self.cat!r})")
        if self.dynamic_feat is not None:
            lengths = {len(feature) for feature in self.dynamic_feat}
            if len(lengths) > 1:
                found.append(f"{where}: every dynamic_feat must have the same length")
            if lengths and min(lengths) < len(self.target):
                found.append(
                    f"{where}: dynamic_feat must cover target and the prediction range "
                    f"(at least {len(self.target)} values, got {min(lengths)})"
                )
        return found

    def to_json(self) -> dict[str, Any]:
        """The instance as DeepAR reads it (missing values as "NaN")."""
        instance: dict[str, Any] = {
            "start": self.start,
            "target": [_value(v) for v in self.target],
        }
        if self.cat is not None:
            instance["cat"] = list(self.cat)
        if self.dynamic_feat is not None:
            instance["dynamic_feat"] = [[_value(v) for v in f] for f in self.dynamic_feat]
        return instance


@dataclass(frozen=True)
class Forecast:
    """DeepAR's forecast for one series."""

    mean: list[float] | None = None
    """Mean per step, when asked for."""
    quantiles: dict[str, list[float]] = field(default_factory=dict)
    """Values per step by quantile ("0.1", "0.5"...), when asked for."""
    samples: list[list[float]] = field(default_factory=list)
    """Sample paths (num_samples of them), when asked for."""

    def quantile(self, level: str | float) -> list[float]:
        """The path of one quantile, e.g. `quantile("0.9")` or `quantile(0.9)`."""
        for key, values in self.quantiles.items():
            if key == str(level) or float(key) == float(level):
                return values
        raise KeyError(f"quantile {level} was not requested (have {sorted(self.quantiles)})")


def build_request(
    series: Iterable[DeepArSeries],
    *,
    output_types: Sequence[str] = ("mean", "quantiles"),
    quantiles: Sequence[str | float] = ("0.1", "0.5", "0.9"),
    num_samples: int | None = None,
) -> dict[str, Any]:
    """The JSON body of a DeepAR inference request.

    :param output_types: Any of mean, quantiles, samples. Default: mean and quantiles.
    :param quantiles: Levels strictly between 0 and 1. Default: 0.1, 0.5, 0.9.
    :param num_samples: Sample paths DeepAR draws (more: smoother quantiles, slower).
        Default: DeepAR's own (100).
    """
    instances = list(series)
    problems: list[str] = []
    if not instances:
        problems.append("at least one series is needed")
    for index, item in enumerate(instances):
        problems.extend(item.problems(index))
    types = list(output_types)
    unknown = [t for t in types if t not in OUTPUT_TYPES]
    if not types or unknown or len(set(types)) != len(types):
        problems.append(
            f"output_types must be distinct values among {', '.join(OUTPUT_TYPES)} (got {types})"
        )
    levels = [_level(q) for q in quantiles] if "quantiles" in types else []
    if "quantiles" in types and (not levels or None in levels):
        problems.append(f"quantiles must be numbers strictly between 0 and 1 (got {quantiles!r})")
    if num_samples is not None and (isinstance(num_samples, bool) or num_samples < 1):
        problems.append(f"num_samples must be a positive integer (got {num_samples!r})")
    if problems:
        raise ValueError("Invalid DeepAR request: " + "; ".join(problems))

    configuration: dict[str, Any] = {"output_types": types}
    if levels:
        configuration["quantiles"] = levels
    if num_samples is not None:
        configuration["num_samples"] = num_samples
    return {"instances": [s.to_json() for s in instances], "configuration": configuration}


def parse_response(body: bytes | str | Mapping[str, Any], *, expected: int) -> list[Forecast]:
    """The forecasts of a DeepAR response, one per series sent, in order."""
    data = decode("DeepAR endpoint", body) if isinstance(body, bytes | str) else body
    predictions = data.get("predictions") if isinstance(data, Mapping) else None
    if not isinstance(predictions, list):
        raise InferenceError('DeepAR response must be {"predictions": [...]}')
    if len(predictions) != expected:
        raise InferenceError(
            f"DeepAR answered {len(predictions)} predictions for {expected} series"
        )
    return [_forecast(index, p) for index, p in enumerate(predictions)]


class DeepArClient:
    """Forecasts from a DeepAR endpoint (real time or serverless).

    >>> client = DeepArClient("smkit-demand-forecast")          # doctest: +SKIP
    >>> [f] = client.forecast([DeepArSeries("2026-01-01", [3, 5, None, 4])])  # doctest: +SKIP
    >>> f.mean, f.quantile("0.9")                                # doctest: +SKIP
    """

    def __init__(self, endpoint_name: str, *, client: RuntimeClient | None = None) -> None:
        self.endpoint_name = endpoint_name
        self._client = client or runtime_client()

    def forecast(
        self,
        series: Sequence[DeepArSeries],
        *,
        output_types: Sequence[str] = ("mean", "quantiles"),
        quantiles: Sequence[str | float] = ("0.1", "0.5", "0.9"),
        num_samples: int | None = None,
    ) -> list[Forecast]:
        """One forecast per series, in order (see `build_request` for the options)."""
        request = build_request(
            series, output_types=output_types, quantiles=quantiles, num_samples=num_samples
        )
        answer = invoke_json(self._client, self.endpoint_name, request)
        return parse_response(answer, expected=len(series))


def _is_number_or_missing(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _value(value: float | None) -> float | str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    return value


def _level(value: str | float) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return str(value) if 0 < number < 1 else None


def _numbers(where: str, values: Any) -> list[float]:
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise InferenceError(f"{where} must be a list of numbers")
    return [float(v) for v in values]


def _forecast(index: int, prediction: Any) -> Forecast:
    where = f"DeepAR prediction {index}"
    if not isinstance(prediction, Mapping):
        raise InferenceError(f"{where} must be an object")
    mean = prediction.get("mean")
    quantiles = prediction.get("quantiles", {})
    samples = prediction.get("samples", [])
    if not isinstance(quantiles, Mapping):
        raise InferenceError(f"{where}: quantiles must map levels to lists")
    if not isinstance(samples, list):
        raise InferenceError(f"{where}: samples must be a list of lists")
    return Forecast(
        mean=_numbers(f"{where}: mean", mean) if mean is not None else None,
        quantiles={
            str(level): _numbers(f"{where}: quantile {level}", values)
            for level, values in quantiles.items()
        },
        samples=[_numbers(f"{where}: sample {i}", s) for i, s in enumerate(samples)],
    )
