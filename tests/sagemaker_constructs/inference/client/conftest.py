"""moto's sagemaker-runtime, answering from a queue of configured responses (the way
moto documents it: `/moto-api/static/sagemaker/endpoint-results`, here through its
backend API since the mock runs in process)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal import moto_api_backend
from moto.sagemakerruntime.models import sagemakerruntime_backends

REGION = "us-east-1"


@dataclass
class Runtime:
    """A mocked sagemaker-runtime: queue answers, invoke, read what was sent."""

    client: Any
    s3: Any

    def answer(self, body: Any, *, content_type: str = "application/json") -> None:
        """Queue the next InvokeEndpoint answer (JSON-encoded unless already text)."""
        text = body if isinstance(body, str) else json.dumps(body)
        moto_api_backend.set_sagemaker_result(
            body=text,
            content_type=content_type,
            prod_variant="AllTraffic",
            custom_attrs="",
            account_id=DEFAULT_ACCOUNT_ID,
            region=REGION,
        )

    def answer_async(self, data: Any, *, failure: bool = False) -> None:
        """Queue the next InvokeEndpointAsync outcome (moto writes it to S3)."""
        moto_api_backend.set_sagemaker_async_result(
            is_failure=failure,
            data=data if isinstance(data, str) else json.dumps(data),
            account_id=DEFAULT_ACCOUNT_ID,
            region=REGION,
        )

    def sent(self) -> list[dict[str, Any]]:
        """The JSON bodies of the InvokeEndpoint requests made, in order."""
        backend = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION]
        requests = [
            json.loads(base64.b64decode(key))
            for per_endpoint in backend.results.values()
            for key in per_endpoint
        ]
        return [json.loads(request["Body"]) for request in requests]


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    with mock_aws():
        yield Runtime(
            client=boto3.client("sagemaker-runtime", region_name=REGION),
            s3=boto3.client("s3", region_name=REGION),
        )
