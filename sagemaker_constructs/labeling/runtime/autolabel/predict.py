"""Pre-label one batch of a run with the endpoint (one Distributed Map iteration).

Speaks the classifier contract (docs/classifier-contract.md):

    request   {"instances": [{"source": "<text>"}, ...]}   (images: {"source-ref": "s3://..."})
    response  {"predictions": [{"label": "<class>", "confidence": 0.97,
                                "probabilities": {"<class>": 0.97, ...}}, ...]}

A batch whose predictions already exist is not sent again: a retried iteration or a
re-run of the same input costs no inference.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from .common import RunLocation, client, dump_line, exists, iter_jsonl, spooled_upload

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)


class InvalidPredictionError(Exception):
    """The endpoint's answer does not follow the classifier contract."""


class EndpointError(Exception):
    """The endpoint rejected a request (for example, the model raised an error)."""


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Write the predictions of batch `event["batch"]` of run `event["run"]`."""
    run = event["run"]
    batch = event["batch"]
    index = int(batch["index"])
    location = RunLocation.of(run)
    s3 = client("s3")
    target = location.predictions_key(index)
    if exists(s3, location.bucket, target):
        LOG.info("batch %d already pre-labeled", index)
        return {"index": index, "cached": True}
    labels = set(json.loads(os.environ["LABELS"]))
    data_key = "source" if os.environ["DATA_TYPE"] == "text" else "source-ref"
    per_request = int(os.environ["INSTANCES_PER_REQUEST"])
    runtime = client("sagemaker-runtime")
    endpoint = run["endpoint_name"]
    predicted_at = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat()
    rows = iter_jsonl(s3, location.bucket, location.chunk_key(index))
    count = 0
    with spooled_upload(s3, location.bucket, target) as out:
        for group in _groups(rows, per_request):
            instances = [{data_key: row["record"][data_key]} for row in group]
            predictions = _invoke(runtime, endpoint, instances, group)
            for row, prediction in zip(group, predictions, strict=True):
                label, confidence = _check(prediction, labels, endpoint, row["line"])
                out.write(
                    dump_line(
                        {
                            "line": row["line"],
                            "record": row["record"],
                            "label": label,
                            "confidence": confidence,
                            "predicted_at": predicted_at,
                        }
                    )
                )
                count += 1
    LOG.info("batch %d: %d objects pre-labeled by %s", index, count, endpoint)
    return {"index": index, "cached": False, "count": count}


def _groups(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    group: list[dict[str, Any]] = []
    for row in rows:
        group.append(row)
        if len(group) == size:
            yield group
            group = []
    if group:
        yield group


def _invoke(
    runtime: Any, endpoint: str, instances: list[dict[str, str]], group: list[dict[str, Any]]
) -> list[Any]:
    lines = f"lines {group[0]['line']}-{group[-1]['line']}"
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps({"instances": instances}).encode(),
        )
    except runtime.exceptions.ModelError as err:
        raise EndpointError(f"endpoint {endpoint} failed on {lines}: {err}") from None
    except runtime.exceptions.ValidationError as err:
        raise EndpointError(f"endpoint {endpoint} rejected {lines}: {err}") from None
    body = response["Body"].read()
    try:
        predictions = json.loads(body)["predictions"]
    except (ValueError, KeyError, TypeError):
        raise InvalidPredictionError(
            f"endpoint {endpoint} answered {lines} without a JSON "
            f'{{"predictions": [...]}} (got {body[:200]!r})'
        ) from None
    if not isinstance(predictions, list) or len(predictions) != len(instances):
        got = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
        raise InvalidPredictionError(
            f"endpoint {endpoint} returned {got} predictions for {len(instances)} instances "
            f"({lines})"
        )
    return predictions


def _check(prediction: Any, labels: set[str], endpoint: str, line: int) -> tuple[str, float]:
    where = f"endpoint {endpoint}, line {line}"
    if not isinstance(prediction, dict):
        raise InvalidPredictionError(
            f"{where}: a prediction must be a JSON object (got {prediction!r})"
        )
    label = prediction.get("label")
    confidence = prediction.get("confidence")
    if label not in labels:
        raise InvalidPredictionError(
            f"{where}: label {label!r} is not one of the workflow's labels "
            f"({', '.join(sorted(labels))})"
        )
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise InvalidPredictionError(f"{where}: confidence must be a number (got {confidence!r})")
    if not 0 <= confidence <= 1:
        raise InvalidPredictionError(f"{where}: confidence must be from 0 to 1 (got {confidence})")
    return str(label), float(confidence)
