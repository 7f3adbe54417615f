"""Model Monitor record preprocessor for DeepAR endpoints.

Model Monitor's analyzer reads flat records; DeepAR's requests hold whole series. This
script, run by the analyzer on every captured request (`preprocess_handler`), turns each
series of a request into one flat record of its statistics, with the mean of its forecast
when the response was captured too. Build the baseline dataset with `records` over the
series the model was trained on (docs/monitoring.md): the same function, the same fields.

Standard library only: the analyzer's image provides nothing else for certain.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

FIELDS = (
    "target_length",
    "target_mean",
    "target_std",
    "target_min",
    "target_max",
    "target_last",
    "missing_share",
    "forecast_mean",
)
"""The features of one series (forecast_mean only with a captured response)."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def series_record(
    series: dict[str, Any], prediction: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The flat record of one series (and its prediction, when known)."""
    target = series.get("target") or []
    values = [v for v in (_number(x) for x in target) if v is not None]
    record: dict[str, Any] = {
        "target_length": len(target),
        "missing_share": (len(target) - len(values)) / len(target) if target else 1.0,
    }
    if values:
        mean = sum(values) / len(values)
        record.update(
            target_mean=mean,
            target_std=math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)),
            target_min=min(values),
            target_max=max(values),
            target_last=values[-1],
        )
    forecast = [
        v for v in (_number(x) for x in (prediction or {}).get("mean") or []) if v is not None
    ]
    if forecast:
        record["forecast_mean"] = sum(forecast) / len(forecast)
    return record


def records(request: Any, response: Any = None) -> list[dict[str, Any]]:
    """The flat records of one request (`{"instances": [...]}` or one series) and its
    response (`{"predictions": [...]}`), one per series, in order."""
    instances = request.get("instances", [request]) if isinstance(request, dict) else []
    predictions = response.get("predictions", []) if isinstance(response, dict) else []
    return [
        series_record(series, predictions[i] if i < len(predictions) else None)
        for i, series in enumerate(instances)
        if isinstance(series, dict)
    ]


def _payload(captured: Any) -> Any:
    if captured is None or not getattr(captured, "data", None):
        return None
    data = captured.data
    if getattr(captured, "encoding", "") == "BASE64":
        data = base64.b64decode(data).decode("utf-8")
    try:
        return json.loads(data)
    except ValueError:
        return None


def preprocess_handler(inference_record: Any, logger: Any = None) -> list[dict[str, Any]]:
    """Model Monitor's entry point: the flat records of one captured invocation (MONITOR-6,
    model-monitor-pre-and-post-processing page)."""
    request = _payload(getattr(inference_record, "endpoint_input", None))
    response = _payload(getattr(inference_record, "endpoint_output", None))
    found = records(request, response)
    if logger is not None and not found:
        logger.info("no DeepAR series in a captured request")
    return found
