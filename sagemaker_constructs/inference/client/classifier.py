"""The text classifier's contract and client.

Request (application/json): `{"instances": [{"source": "<text>"}, ...]}`.
Response: `{"predictions": [{"label": "<class>", "confidence": 0.93,
"probabilities": {"<class>": 0.93, ...}}, ...]}`, one prediction per instance, in order;
`confidence` is the probability of `label`.

`ClassifierClient.predict` splits long lists into requests that fit the payload limits
(4 MB for serverless endpoints, 6 MB for real-time ones) and keeps the order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .runtime import InferenceError, RuntimeClient, decode, invoke_json, runtime_client

SERVERLESS_PAYLOAD_LIMIT = 4 * 1024 * 1024
"""Largest request body a serverless endpoint accepts, in bytes."""


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one text."""

    label: str
    """The most probable class."""
    confidence: float
    """Probability of `label`, 0-1."""
    probabilities: dict[str, float]
    """Probability of every class."""


def build_request(texts: Sequence[str]) -> dict[str, Any]:
    """The JSON body of a classification request."""
    if not texts:
        raise ValueError("Invalid classifier request: at least one text is needed")
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise ValueError(f"Invalid classifier request: texts must be strings (not at {bad})")
    return {"instances": [{"source": text} for text in texts]}


def parse_response(body: bytes | str | Mapping[str, Any], *, expected: int) -> list[Prediction]:
    """The predictions of a classifier response, one per text sent, in order."""
    data = decode("classifier endpoint", body) if isinstance(body, bytes | str) else body
    predictions = data.get("predictions") if isinstance(data, Mapping) else None
    if not isinstance(predictions, list):
        raise InferenceError('classifier response must be {"predictions": [...]}')
    if len(predictions) != expected:
        raise InferenceError(
            f"classifier answered {len(predictions)} predictions for {expected} texts"
        )
    return [_prediction(index, p) for index, p in enumerate(predictions)]


class ClassifierClient:
    """Labels texts with the text classifier endpoint."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        client: RuntimeClient | None = None,
        batch_size: int = 64,
        max_payload_bytes: int = SERVERLESS_PAYLOAD_LIMIT,
    ) -> None:
        """
        :param endpoint_name: The endpoint to invoke.
        :param client: A boto3 `sagemaker-runtime` client. Default: a new one.
        :param batch_size: Most texts per request. Default: 64. Minimum: 1.
        :param max_payload_bytes: Largest request body. Default: 4 MiB (serverless).
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
        self.endpoint_name = endpoint_name
        self.batch_size = batch_size
        self.max_payload_bytes = max_payload_bytes
        self._client = client or runtime_client()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        """One prediction per text, in order. Nothing is sent unless every text fits."""
        build_request(texts)
        predictions: list[Prediction] = []
        for batch in self._batches(texts):
            answer = invoke_json(self._client, self.endpoint_name, build_request(batch))
            predictions.extend(parse_response(answer, expected=len(batch)))
        return predictions

    def _batches(self, texts: Sequence[str]) -> list[list[str]]:
        empty = len(b'{"instances":[]}')
        batches: list[list[str]] = [[]]
        size = empty
        for index, text in enumerate(texts):
            item = len(json.dumps({"source": text}, separators=(",", ":")).encode()) + 1
            if empty + item > self.max_payload_bytes:
                raise InferenceError(
                    f"text {index} alone exceeds the {self.max_payload_bytes}-byte payload limit"
                )
            batch = batches[-1]
            if batch and (len(batch) == self.batch_size or size + item > self.max_payload_bytes):
                batches.append([])
                size = empty
            batches[-1].append(text)
            size += item
        return batches


def _prediction(index: int, prediction: Any) -> Prediction:
    where = f"classifier prediction {index}"
    if not isinstance(prediction, Mapping):
        raise InferenceError(f"{where} must be an object")
    label = prediction.get("label")
    confidence: Any = prediction.get("confidence")
    probabilities = prediction.get("probabilities")
    if not isinstance(label, str) or not label:
        raise InferenceError(f"{where}: label must be a non-empty string (got {label!r})")
    if not _probability(confidence):
        raise InferenceError(f"{where}: confidence must be a number 0-1 (got {confidence!r})")
    if not isinstance(probabilities, Mapping) or not all(
        isinstance(k, str) and _probability(v) for k, v in probabilities.items()
    ):
        raise InferenceError(f"{where}: probabilities must map class names to numbers 0-1")
    if label not in probabilities:
        raise InferenceError(f"{where}: label {label!r} is missing from probabilities")
    return Prediction(
        label=label,
        confidence=float(confidence),
        probabilities={k: float(v) for k, v in probabilities.items()},
    )


def _probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
