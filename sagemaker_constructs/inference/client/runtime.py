"""Invoke an endpoint with JSON: real time (InvokeEndpoint) or asynchronously (the
payload goes to S3, InvokeEndpointAsync queues it, the result lands in S3).

Errors the endpoint or SageMaker report (a 4xx from the model, throttling once boto3's
retries are spent) surface as botocore's ClientError; an answer that breaks the JSON
contract raises `InferenceError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from botocore.exceptions import ClientError

JSON = "application/json"


class InferenceError(RuntimeError):
    """An endpoint's answer that the client cannot use."""


class RuntimeClient(Protocol):
    """The part of boto3's `sagemaker-runtime` client used here."""

    def invoke_endpoint(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def invoke_endpoint_async(self, **kwargs: Any) -> Mapping[str, Any]: ...


class S3Client(Protocol):
    """The part of boto3's `s3` client used here."""

    def put_object(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_object(self, **kwargs: Any) -> Mapping[str, Any]: ...


def runtime_client(region_name: str | None = None) -> RuntimeClient:
    """A `sagemaker-runtime` client with adaptive retries (throttling backs off)."""
    import boto3
    from botocore.config import Config

    client: RuntimeClient = boto3.client(
        "sagemaker-runtime",
        region_name=region_name,
        config=Config(retries={"mode": "adaptive", "max_attempts": 6}),
    )
    return client


def encode(payload: Any) -> bytes:
    """Compact JSON; NaN and infinities are refused (JSON has no such numbers)."""
    try:
        return json.dumps(payload, allow_nan=False, separators=(",", ":")).encode()
    except ValueError as err:
        raise InferenceError(f"request is not valid JSON: {err}") from None


def decode(endpoint_name: str, body: bytes | str) -> Any:
    """The JSON an endpoint answered with."""
    try:
        return json.loads(body)
    except ValueError:
        shown = body[:200] if isinstance(body, str) else body[:200].decode(errors="replace")
        raise InferenceError(
            f"{endpoint_name} answered with something other than JSON: {shown!r}"
        ) from None


def invoke_json(
    client: RuntimeClient,
    endpoint_name: str,
    payload: Any,
    *,
    target_variant: str | None = None,
) -> Any:
    """Send `payload` as application/json to a real-time or serverless endpoint and
    return its decoded JSON answer."""
    request: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "ContentType": JSON,
        "Accept": JSON,
        "Body": encode(payload),
    }
    if target_variant:
        request["TargetVariant"] = target_variant
    response = client.invoke_endpoint(**request)
    return decode(endpoint_name, response["Body"].read())


@dataclass(frozen=True)
class AsyncInvocation:
    """A request queued on an async endpoint."""

    inference_id: str
    """SageMaker's id of the request."""
    input_location: str
    """s3:// URI of the request payload."""
    output_location: str
    """s3:// URI where the result will appear."""
    failure_location: str | None
    """s3:// URI where a failure's reason will appear."""


def submit_async(
    client: RuntimeClient,
    s3: S3Client,
    endpoint_name: str,
    payload: Any,
    *,
    bucket: str,
    key: str,
    inference_id: str | None = None,
) -> AsyncInvocation:
    """Write `payload` to s3://bucket/key (the endpoint's input prefix) and queue it.

    The key names the request: submitting the same key again re-queues the same payload
    rather than losing or duplicating data.
    """
    s3.put_object(Bucket=bucket, Key=key, Body=encode(payload), ContentType=JSON)
    location = f"s3://{bucket}/{key}"
    request: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "InputLocation": location,
        "ContentType": JSON,
        "Accept": JSON,
    }
    if inference_id:
        request["InferenceId"] = inference_id
    response = client.invoke_endpoint_async(**request)
    return AsyncInvocation(
        inference_id=response["InferenceId"],
        input_location=location,
        output_location=response["OutputLocation"],
        failure_location=response.get("FailureLocation"),
    )


def read_async_result(s3: S3Client, invocation: AsyncInvocation) -> Any | None:
    """The decoded result of an async request, None while it is still queued or running.

    Raises `InferenceError` with the endpoint's reason when the request failed.
    """
    failure = _read(s3, invocation.failure_location) if invocation.failure_location else None
    if failure is not None:
        reason = failure.decode(errors="replace")
        raise InferenceError(f"async request {invocation.inference_id} failed: {reason}")
    output = _read(s3, invocation.output_location)
    if output is None:
        return None
    return decode(invocation.output_location, output)


def _read(s3: S3Client, uri: str) -> bytes | None:
    parsed = urlparse(uri)
    try:
        response = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    body: bytes = response["Body"].read()
    return body
