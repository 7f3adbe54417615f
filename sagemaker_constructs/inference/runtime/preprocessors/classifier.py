"""Model Monitor record preprocessor for classifier endpoints (docs/classifier-contract.md).

Each text of a captured request becomes one flat record: its length and word count, and,
when the response was captured, the predicted label and its confidence. Build the
baseline dataset with `records` over texts and predictions the model is known to handle
well (docs/monitoring.md).

Standard library only: the analyzer's image provides nothing else for certain.
"""

from __future__ import annotations

import base64
import json
from typing import Any

FIELDS = ("text_length", "word_count", "label", "confidence")
"""The features of one text (label and confidence only with a captured response)."""


def text_record(text: str, prediction: dict[str, Any] | None = None) -> dict[str, Any]:
    """The flat record of one text (and its prediction, when known)."""
    record: dict[str, Any] = {"text_length": len(text), "word_count": len(text.split())}
    if isinstance(prediction, dict):
        if isinstance(prediction.get("label"), str):
            record["label"] = prediction["label"]
        confidence = prediction.get("confidence")
        if isinstance(confidence, int | float) and not isinstance(confidence, bool):
            record["confidence"] = float(confidence)
    return record


def _texts(request: Any) -> list[str]:
    if isinstance(request, dict) and isinstance(request.get("instances"), list):
        items = request["instances"]
    elif isinstance(request, list):
        items = request  # JSON lines, already split
    else:
        items = [request]
    return [i["source"] for i in items if isinstance(i, dict) and isinstance(i.get("source"), str)]


def _predictions(response: Any) -> list[Any]:
    if isinstance(response, dict) and isinstance(response.get("predictions"), list):
        return list(response["predictions"])
    if isinstance(response, list):
        return response
    return []


def records(request: Any, response: Any = None) -> list[dict[str, Any]]:
    """The flat records of one request and its response, one per text, in order."""
    predictions = _predictions(response)
    return [
        text_record(text, predictions[i] if i < len(predictions) else None)
        for i, text in enumerate(_texts(request))
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
        # application/jsonlines: one object per line
        lines = [line for line in str(data).split("\n") if line.strip()]
        try:
            return [json.loads(line) for line in lines]
        except ValueError:
            return None


def preprocess_handler(inference_record: Any, logger: Any = None) -> list[dict[str, Any]]:
    """Model Monitor's entry point: the flat records of one captured invocation (MONITOR-6,
    model-monitor-pre-and-post-processing page)."""
    request = _payload(getattr(inference_record, "endpoint_input", None))
    response = _payload(getattr(inference_record, "endpoint_output", None))
    found = records(request, response)
    if logger is not None and not found:
        logger.info("no classifier texts in a captured request")
    return found
