"""Pre-label one batch of a run with the endpoint (one Distributed Map iteration).

Speaks the classifier contract (docs/classifier-contract.md):

    request   {"instances": [{"source": "<text>"}, ...]}   (images: {"source-ref": "s3://..."})
    response  {"predictions": [{"label": "<class>", "confidence": 0.97,
                                "probabilities": {"<class>": 0.97, ...}}, ...]}
    multi-label workflows: {"predictions": [{"labels": ["<class>", ...],
                                "confidence": 0.93, "probabilities": {...}}, ...]}

With model-quality monitoring of the endpoint (`INFERENCE_IDS=true`), each object is
sent alone with its own `InferenceId` (`common.inference_id`): Model Monitor captures one
record per request and merges ground truth by that id, so a request of several objects
could not be matched with their labels.

A batch whose predictions already exist is not sent again: a retried iteration or a
re-run of the same input costs no inference.

What the endpoint answers after the SDK's own retries decides how the batch fails:

- `EndpointUnavailableError` (throttling, 5xx, a model not ready, a container answering
  429/502/503/504, no connection): may pass; the state machine retries the batch with
  bounded backoff and jitter before the run fails.
- `EndpointError` (the endpoint refused the request or the model failed on it) and
  `InvalidPredictionError` (an answer outside the contract): the same request fails the
  same way again; the run fails at once.

Each names the endpoint, the batch and its manifest lines, and is recorded under
`work/failures/<execution>/` so that the run's failure alert can say which batches
failed and why (`failure_handler`): a Distributed Map reports a failed iteration only
as `States.ExceedToleratedFailureThreshold`.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from botocore import exceptions as botocore_errors

from .common import (
    RunLocation,
    client,
    cut,
    dump_line,
    exists,
    inference_id,
    iso_time,
    iter_jsonl,
    read_json,
    shown,
    spooled_upload,
    write_json,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# InvokeEndpoint's errors that may pass on a later try (API_runtime_InvokeEndpoint).
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "InternalFailure",
        "ServiceUnavailable",
        "InternalDependencyException",
        "ModelNotReadyException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# What a container answers when it is busy or starting, as passed on in ModelError.
RETRYABLE_MODEL_STATUS = frozenset({429, 502, 503, 504})
_MAX_CAUSE_CHARS = 30_000
_MAX_FAILURES_SHOWN = 10


class InvalidPredictionError(Exception):
    """The endpoint's answer does not follow the classifier contract."""


class EndpointError(Exception):
    """The endpoint refused a request or the model failed on it; trying again would fail
    the same way."""


class EndpointUnavailableError(Exception):
    """The endpoint could not answer (throttled, unavailable, not ready); the state
    machine retries the batch."""


class StaleBatchError(Exception):
    """A batch's chunk no longer holds what the run's batch index says."""


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Write the predictions of batch `event["batch"]` of run `event["run"]`."""
    run = event["run"]
    batch = event["batch"]
    index = int(batch["index"])
    location = RunLocation.of(run)
    s3 = client("s3")
    target = location.predictions_key(batch)
    if exists(s3, location.bucket, target):
        LOG.info("batch %d already pre-labeled", index)
        return {"index": index, "cached": True}
    try:
        count = _predict(s3, location, run, batch, target)
    except (EndpointError, EndpointUnavailableError, InvalidPredictionError) as err:
        _record_failure(s3, location, run, index, err)
        raise
    LOG.info("batch %d: %d objects pre-labeled by %s", index, count, run["endpoint_name"])
    return {"index": index, "cached": False, "count": count}


def _predict(
    s3: Any, location: RunLocation, run: dict[str, Any], batch: dict[str, Any], target: str
) -> int:
    labels = set(json.loads(os.environ["LABELS"]))
    multi_label = os.environ.get("MULTI_LABEL") == "true"
    data_key = "source" if os.environ["DATA_TYPE"] == "text" else "source-ref"
    with_ids = os.environ.get("INFERENCE_IDS") == "true"
    # MONITOR-9: one object per request, so that one captured record is one object.
    per_request = 1 if with_ids else int(os.environ["INSTANCES_PER_REQUEST"])
    runtime = client("sagemaker-runtime")
    endpoint = run["endpoint_name"]
    where = _batch_lines(batch)
    predicted_at = iso_time(datetime.datetime.now(datetime.UTC))
    rows = iter_jsonl(s3, location.bucket, location.chunk_key(int(batch["index"])))
    count = 0
    with spooled_upload(s3, location.bucket, target) as out:
        for group in _groups(rows, per_request):
            instances = [{data_key: row["record"][data_key]} for row in group]
            ids = [inference_id(location, row["line"]) for row in group] if with_ids else []
            predictions = _invoke(
                runtime, endpoint, instances, group, where, ids[0] if ids else None
            )
            for position, (row, prediction) in enumerate(zip(group, predictions, strict=True)):
                at = f"endpoint {endpoint}, {where}, line {row['line']}"
                answer = (
                    _check_multi(prediction, labels, at)
                    if multi_label
                    else _check(prediction, labels, at)
                )
                out.write(
                    dump_line(
                        {
                            "line": row["line"],
                            "record": row["record"],
                            **answer,
                            "predicted_at": predicted_at,
                            **({"inference_id": ids[position]} if ids else {}),
                        }
                    )
                )
                count += 1
        if count != int(batch["count"]):
            # Raised inside the block: predictions of another split are never kept.
            raise StaleBatchError(
                f"{where} should hold {batch['count']} objects but its chunk holds {count}: "
                "the manifest was split again meanwhile; start the run again"
            )
    return count


def _record_failure(
    s3: Any, location: RunLocation, run: dict[str, Any], index: int, err: Exception
) -> None:
    """Keep why the batch failed for the run's alert; the failure itself, which decides
    whether the state machine retries, is raised whatever happens here."""
    record = {"batch": index, "error": type(err).__name__, "message": str(err)}
    try:
        write_json(s3, location.bucket, location.failure_key(_execution(run), index), record)
    except Exception:
        LOG.exception("could not record the failure of batch %d", index)


def _batch_lines(batch: dict[str, Any]) -> str:
    last = batch.get("last_line")
    lines = f"lines {batch['first_line']}-{last}" if last else f"from line {batch['first_line']}"
    count = int(batch["count"])
    return f"batch {batch['index']} (manifest {lines}, {count} object{'s' if count != 1 else ''})"


def _execution(run: dict[str, Any]) -> str:
    return str(run.get("execution") or "unnamed")


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
    runtime: Any,
    endpoint: str,
    instances: list[dict[str, str]],
    group: list[dict[str, Any]],
    where: str,
    request_id: str | None = None,
) -> list[Any]:
    lines = f"lines {group[0]['line']}-{group[-1]['line']}"
    request = invoke_request(endpoint, instances, request_id)
    try:
        response = runtime.invoke_endpoint(**request)
    except botocore_errors.ClientError as err:
        raise _classify(err, f"endpoint {endpoint}, {where}, request for {lines}") from None
    except (botocore_errors.ConnectionError, botocore_errors.HTTPClientError) as err:
        raise EndpointUnavailableError(
            f"endpoint {endpoint}, {where}, request for {lines}: no answer "
            f"({type(err).__name__}: {cut(str(err), 300)})"
        ) from None
    body = response["Body"].read()
    try:
        predictions = json.loads(body)["predictions"]
    except (ValueError, KeyError, TypeError):
        raise InvalidPredictionError(
            f"endpoint {endpoint}, {where}: answered {lines} without a JSON "
            f'{{"predictions": [...]}} (got {shown(body[:200])})'
        ) from None
    if not isinstance(predictions, list) or len(predictions) != len(instances):
        got = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
        raise InvalidPredictionError(
            f"endpoint {endpoint}, {where}: returned {got} predictions for {len(instances)} "
            f"instances ({lines})"
        )
    return predictions


def invoke_request(
    endpoint: str, instances: list[dict[str, str]], request_id: str | None = None
) -> dict[str, Any]:
    """The InvokeEndpoint request of one group of objects (with its InferenceId, if any)."""
    request: dict[str, Any] = {
        "EndpointName": endpoint,
        "ContentType": "application/json",
        "Accept": "application/json",
        "Body": json.dumps({"instances": instances}).encode(),
    }
    if request_id is not None:
        request["InferenceId"] = request_id
    return request


def _classify(err: botocore_errors.ClientError, where: str) -> Exception:
    """The error a failed InvokeEndpoint call becomes, after the SDK's own retries."""
    error = err.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    message = cut(str(error.get("Message", "")), 300)
    model_status = err.response.get("OriginalStatusCode")
    if code == "ModelError":
        said = f"the model answered {model_status or 'an error'}: {message}"
        if model_status in RETRYABLE_MODEL_STATUS:
            return EndpointUnavailableError(f"{where}: {said}")
        return EndpointError(f"{where}: {said}")
    if code in RETRYABLE_CODES or status >= 500:
        return EndpointUnavailableError(f"{where}: {code} ({message})")
    return EndpointError(f"{where}: refused with {code} ({message})")


def _check(prediction: Any, labels: set[str], where: str) -> dict[str, Any]:
    """`label` and `confidence` of a single-label prediction."""
    if not isinstance(prediction, dict):
        raise InvalidPredictionError(
            f"{where}: a prediction must be a JSON object (got {shown(prediction)})"
        )
    label = prediction.get("label")
    if label not in labels:
        raise InvalidPredictionError(
            f"{where}: label {shown(label)} is not one of the workflow's labels "
            f"({', '.join(sorted(labels))})"
        )
    return {"label": str(label), "confidence": _confidence(prediction.get("confidence"), where)}


def _check_multi(prediction: Any, labels: set[str], where: str) -> dict[str, Any]:
    """`labels`, `confidence` and the chosen classes' `probabilities` of a multi-label
    prediction (docs/classifier-contract.md)."""
    if not isinstance(prediction, dict):
        raise InvalidPredictionError(
            f"{where}: a prediction must be a JSON object (got {shown(prediction)})"
        )
    chosen = prediction.get("labels")
    if (
        not isinstance(chosen, list)
        or not chosen
        or any(label not in labels for label in chosen)
        or len(set(chosen)) != len(chosen)
    ):
        raise InvalidPredictionError(
            f"{where}: labels must be a list of at least one of the workflow's labels, each "
            f"once ({', '.join(sorted(labels))}; got {shown(chosen)})"
        )
    confidence = _confidence(prediction.get("confidence"), where)
    given = prediction.get("probabilities")
    probabilities = {}
    for label in chosen:
        value = given.get(label) if isinstance(given, dict) else None
        probabilities[label] = (
            _confidence(value, f"{where}, probability of {label!r}")
            if value is not None
            else confidence
        )
    return {"labels": list(chosen), "confidence": confidence, "probabilities": probabilities}


def _confidence(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidPredictionError(f"{where}: confidence must be a number (got {shown(value)})")
    if not 0 <= value <= 1:
        raise InvalidPredictionError(f"{where}: confidence must be from 0 to 1 (got {value})")
    return float(value)


def failure_handler(event: dict[str, Any], _context: object = None) -> dict[str, str]:
    """The error of a failed pre-labeling (`event["error"]`, as the state machine caught
    it) restated with the batches that failed in this execution and why; the caught
    error itself when no batch recorded one."""
    run, caught = event["run"], event.get("error") or {}
    location = RunLocation.of(run)
    s3 = client("s3")
    prefix = location.key(f"work/failures/{_execution(run)}/")
    batches = {int(b["index"]): b for b in read_json(s3, location.bucket, run["chunks_key"])}
    failures = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            record = read_json(s3, location.bucket, item["Key"])
            batch = batches.get(int(record["batch"]))
            # A batch that failed once and passed on a retry is not a failure.
            if batch is None or exists(s3, location.bucket, location.predictions_key(batch)):
                continue
            failures.append(record)
    if not failures:
        return {
            "Error": str(caught.get("Error", "States.TaskFailed")),
            "Cause": str(caught.get("Cause", "")),
        }
    failures.sort(key=lambda r: int(r["batch"]))
    listed = "; ".join(r["message"] for r in failures[:_MAX_FAILURES_SHOWN])
    more = len(failures) - _MAX_FAILURES_SHOWN
    cause = (
        f"{len(failures)} of {len(batches)} batches failed to pre-label with endpoint "
        f"{run['endpoint_name']} (manifest {run['manifest_uri']}): {listed}"
        + (f"; and {more} more batches (under {prefix})" if more > 0 else "")
        + f". The map stopped with {caught.get('Error', 'an error')}."
    )
    if len(cause) > _MAX_CAUSE_CHARS:
        cause = cause[: _MAX_CAUSE_CHARS - 3] + "..."
    return {"Error": str(failures[0]["error"]), "Cause": cause}
