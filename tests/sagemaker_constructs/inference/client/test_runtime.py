"""JSON invocation, async requests through S3, and the import promise (no CDK)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sagemaker_constructs.inference.client.runtime import (
    InferenceError,
    encode,
    invoke_json,
    read_async_result,
    submit_async,
)
from tests.oracles.synth import ROOT

from .conftest import Runtime


def test_invoke_json_sends_and_reads_json(runtime: Runtime) -> None:
    runtime.answer({"ok": True})
    assert invoke_json(runtime.client, "smkit-any", {"x": [1, 2]}) == {"ok": True}
    assert runtime.sent() == [{"x": [1, 2]}]


def test_non_json_answer_is_an_inference_error(runtime: Runtime) -> None:
    runtime.answer("<html>oops</html>", content_type="text/html")
    with pytest.raises(
        InferenceError, match=r"^smkit-any answered with something other than JSON: "
    ):
        invoke_json(runtime.client, "smkit-any", {})


def test_nan_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(InferenceError, match=r"^request is not valid JSON: "):
        encode({"x": float("nan")})


def test_async_request_round_trip(runtime: Runtime) -> None:
    runtime.s3.create_bucket(Bucket="data")
    runtime.answer_async({"predictions": [{"mean": [1.0]}]})
    invocation = submit_async(
        runtime.client,
        runtime.s3,
        "smkit-batch-forecast",
        {"instances": [{"start": "2026-01-01", "target": [1.0]}]},
        bucket="data",
        key="inference/smkit-batch-forecast/async/input/run-1.json",
    )
    assert invocation.input_location == (
        "s3://data/inference/smkit-batch-forecast/async/input/run-1.json"
    )
    stored = runtime.s3.get_object(Bucket="data", Key=invocation.input_location[10:])
    assert json.loads(stored["Body"].read()) == {
        "instances": [{"start": "2026-01-01", "target": [1.0]}]
    }
    assert read_async_result(runtime.s3, invocation) == {"predictions": [{"mean": [1.0]}]}


def test_async_failure_raises_with_the_reason(runtime: Runtime) -> None:
    runtime.s3.create_bucket(Bucket="data")
    runtime.answer_async("model ran out of memory", failure=True)
    invocation = submit_async(
        runtime.client, runtime.s3, "smkit-batch", {}, bucket="data", key="in/2.json"
    )
    with pytest.raises(InferenceError, match=r"failed: model ran out of memory$"):
        read_async_result(runtime.s3, invocation)


def test_async_result_not_there_yet_is_none(runtime: Runtime) -> None:
    runtime.s3.create_bucket(Bucket="data")
    runtime.answer_async({"done": True})
    invocation = submit_async(
        runtime.client, runtime.s3, "smkit-batch", {}, bucket="data", key="in/3.json"
    )
    output_bucket = invocation.output_location.split("/")[2]
    runtime.s3.delete_object(Bucket=output_bucket, Key="response.json")
    assert read_async_result(runtime.s3, invocation) is None


def test_clients_import_without_cdk() -> None:
    code = (
        "import sys, sagemaker_constructs.inference.client.deepar, "
        "sagemaker_constructs.inference.client.classifier; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
