"""What the endpoint answers after the SDK's own retries decides how a batch fails:
retryable (the state machine tries the batch again) or not, each naming the endpoint,
the batch and its manifest lines; a failed pre-labeling is restated with the batches
that failed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from sagemaker_constructs.labeling.runtime.autolabel import common, predict, prepare

from .conftest import BUCKET, TEXTS, Aws, serve_predictions, write_manifest

CAUGHT = {
    "Error": "States.ExceedToleratedFailureThreshold",
    "Cause": "The specified tolerated failure threshold was exceeded",
}


@pytest.fixture
def endpoint() -> Iterator[Stubber]:
    """The functions' sagemaker-runtime client answering from a stub."""
    with Stubber(common.client("sagemaker-runtime")) as stub:
        yield stub


def answer_batch(endpoint: Stubber, sizes: list[int]) -> None:
    """Queue one valid answer per request, of these sizes."""
    for size in sizes:
        body = json.dumps({"predictions": [{"label": "positive", "confidence": 0.99}] * size})
        stream = StreamingBody(io.BytesIO(body.encode()), len(body))
        endpoint.add_response("invoke_endpoint", {"Body": stream})


def prepared(aws: Aws) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run = prepare.handler(
        {"input": {"manifest_uri": write_manifest(aws, TEXTS)}, "execution_name": "exec-1"}
    )
    return run, json.loads(aws.text(run["chunks_key"]))


@pytest.mark.parametrize(
    ("code", "status", "fields", "error", "says"),
    [
        ("ThrottlingException", 400, None, "EndpointUnavailableError", "ThrottlingException ("),
        ("ModelNotReadyException", 429, None, "EndpointUnavailableError", "ModelNotReady"),
        ("InternalFailure", 500, None, "EndpointUnavailableError", "InternalFailure ("),
        ("ServiceUnavailable", 503, None, "EndpointUnavailableError", "ServiceUnavailable ("),
        (
            "ModelError",
            424,
            {"OriginalStatusCode": 503},
            "EndpointUnavailableError",
            "the model answered 503: ",
        ),
        ("ModelError", 424, {"OriginalStatusCode": 400}, "EndpointError", "the model answered 400"),
        ("ValidationError", 400, None, "EndpointError", "refused with ValidationError ("),
    ],
)
def test_endpoint_errors_are_classified_and_name_the_endpoint_batch_and_lines(
    aws: Aws,
    endpoint: Stubber,
    code: str,
    status: int,
    fields: dict[str, Any] | None,
    error: str,
    says: str,
) -> None:
    run, batches = prepared(aws)
    endpoint.add_client_error(
        "invoke_endpoint",
        service_error_code=code,
        service_message="x" * 5000,
        http_status_code=status,
        modeled_fields=fields,
    )
    with pytest.raises(Exception) as raised:
        predict.handler({"run": run, "batch": batches[1]})
    assert type(raised.value).__name__ == error
    message = str(raised.value)
    assert message.startswith(
        "endpoint text-classifier, batch 1 (manifest lines 4-6, 3 objects), request for lines 4-5: "
    )
    assert says in message
    assert "(5000 characters)" in message and len(message) < 600  # the answer is cut
    assert aws.keys(f"{run['prefix']}work/predictions/") == []
    record = json.loads(aws.text(f"{run['prefix']}work/failures/exec-1/000001.json"))
    assert record == {"batch": 1, "error": error, "message": message}


def test_a_failed_pre_labeling_is_restated_with_the_batches_that_failed(
    aws: Aws, endpoint: Stubber
) -> None:
    run, batches = prepared(aws)
    answer_batch(endpoint, [2, 1])
    predict.handler({"run": run, "batch": batches[0]})
    endpoint.add_client_error("invoke_endpoint", "ThrottlingException", "Rate exceeded")
    with pytest.raises(predict.EndpointUnavailableError):
        predict.handler({"run": run, "batch": batches[1]})
    endpoint.add_client_error("invoke_endpoint", "ValidationError", "Endpoint is updating")
    with pytest.raises(predict.EndpointError):
        predict.handler({"run": run, "batch": batches[2]})

    told = predict.failure_handler({"run": run, "error": CAUGHT})
    assert told["Error"] == "EndpointUnavailableError"
    uri = f"s3://{BUCKET}/datasets/reviews.manifest"
    assert told["Cause"] == (
        f"2 of 3 batches failed to pre-label with endpoint text-classifier (manifest {uri}): "
        "endpoint text-classifier, batch 1 (manifest lines 4-6, 3 objects), request for "
        "lines 4-5: ThrottlingException (Rate exceeded); endpoint text-classifier, batch 2 "
        "(manifest lines 7-7, 1 object), request for lines 7-7: refused with ValidationError "
        "(Endpoint is updating). The map stopped with States.ExceedToleratedFailureThreshold."
    )

    # A batch that passed on a retry is no longer a failure; another execution's
    # failures are not this one's.
    answer_batch(endpoint, [2, 1])
    predict.handler({"run": run, "batch": batches[1]})
    told = predict.failure_handler({"run": run, "error": CAUGHT})
    assert told["Error"] == "EndpointError" and told["Cause"].startswith("1 of 3 batches")
    assert predict.failure_handler({"run": {**run, "execution": "exec-2"}, "error": CAUGHT}) == (
        CAUGHT
    )


def test_answers_outside_the_contract_are_recorded_too(aws: Aws) -> None:
    run, batches = prepared(aws)
    serve_predictions([[{"label": "sarcastic", "confidence": 0.9}] * 2])
    with pytest.raises(predict.InvalidPredictionError):
        predict.handler({"run": run, "batch": batches[0]})
    told = predict.failure_handler({"run": run, "error": CAUGHT})
    assert told["Error"] == "InvalidPredictionError"
    assert (
        "endpoint text-classifier, batch 0 (manifest lines 1-3, 3 objects), line 1: label "
        "'sarcastic' is not one of" in told["Cause"]
    )
