"""The WSGI application in process (no server): routes, formats and every client error."""

from __future__ import annotations

import io
import json
import logging
from typing import Any
from wsgiref.util import setup_testing_defaults

import numpy as np
import pytest
from textclf_serve.app import MEGABYTE, InferenceApp
from textclf_serve.model import TextClassifierModel


def sentiment_model() -> TextClassifierModel:
    """Two classes, two words: "good" points to positive, "bad" to negative."""
    return TextClassifierModel(
        labels=["negative", "positive"],
        vocabulary=["good", "bad"],
        embedding=np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
        weight=np.array([[-4.0, 4.0], [4.0, -4.0]], dtype=np.float32),
        bias=np.zeros(2, dtype=np.float32),
        max_length=100,
        ngram_size=1,
    )


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.reason = status.split(" ", 1)[1]
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    app: InferenceApp,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = None,
    *,
    accept: str | None = None,
    declare_length: bool = True,
) -> Response:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if declare_length else "",
    }
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if accept is not None:
        environ["HTTP_ACCEPT"] = accept
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured.update(status=status, headers=headers)

    chunks = app(environ, start_response)
    return Response(captured["status"], captured["headers"], b"".join(chunks))


@pytest.fixture
def app() -> InferenceApp:
    return InferenceApp(sentiment_model(), max_payload_bytes=MEGABYTE)


def test_ping_is_healthy_once_the_model_is_loaded(app: InferenceApp) -> None:
    response = call(app, "GET", "/ping")
    assert (response.status, response.json()) == (200, {"status": "healthy"})


def test_ping_is_unavailable_while_no_model_is_loaded() -> None:
    loading = InferenceApp(None)
    assert call(loading, "GET", "/ping").status == 503
    response = call(loading, "POST", "/invocations", b'{"source": "x"}', "application/json")
    assert (response.status, response.json()) == (503, {"error": "the model is still loading"})


def test_single_instance(app: InferenceApp) -> None:
    response = call(app, "POST", "/invocations", b'{"source": "good good"}', "application/json")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    [prediction] = response.json()["predictions"]
    assert prediction["label"] == "positive"
    assert prediction["confidence"] == prediction["probabilities"]["positive"] > 0.99
    assert set(prediction["probabilities"]) == {"negative", "positive"}


def test_batch_of_instances_keeps_the_order(app: InferenceApp) -> None:
    body = json.dumps({"instances": [{"source": "bad"}, {"source": "good"}, {"source": ""}]})
    response = call(app, "POST", "/invocations", body.encode(), "application/json; charset=utf-8")
    labels = [p["label"] for p in response.json()["predictions"]]
    assert labels[:2] == ["negative", "positive"]
    # No known word: both classes equally likely.
    assert response.json()["predictions"][2]["probabilities"] == {"negative": 0.5, "positive": 0.5}


def test_json_lines_in_json_lines_out(app: InferenceApp) -> None:
    body = b'{"source": "good"}\n\n{"source": "bad"}\r\n{"source": "good bad bad"}\n'
    response = call(app, "POST", "/invocations", body, "application/jsonlines")
    assert response.headers["Content-Type"] == "application/jsonlines"
    lines = response.body.decode().splitlines()
    assert [json.loads(line)["label"] for line in lines] == ["positive", "negative", "negative"]
    assert response.body.endswith(b"\n")


def test_accept_header_chooses_the_response_format(app: InferenceApp) -> None:
    body = b'{"source": "good"}\n'
    as_json = call(
        app, "POST", "/invocations", body, "application/jsonlines", accept="application/json"
    )
    assert as_json.headers["Content-Type"] == "application/json"
    assert len(as_json.json()["predictions"]) == 1
    anything = call(app, "POST", "/invocations", body, "application/x-jsonlines", accept="*/*")
    assert anything.headers["Content-Type"] == "application/jsonlines"
    refused = call(app, "POST", "/invocations", body, "application/jsonlines", accept="text/csv")
    assert (refused.status, refused.json()["error"]) == (
        406,
        "cannot answer in 'text/csv'; accepted: application/json, application/jsonlines",
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (
            b"{not json",
            "application/json",
            400,
            "the body is not valid JSON: Expecting property name enclosed in double quotes "
            "(line 1, column 2)",
        ),
        (b'{"text": "good"}', "application/json", 400, 'the body has no "source" field'),
        (
            b'{"instances": [{"source": "good"}, {"src": "x"}]}',
            "application/json",
            400,
            'instances[1] has no "source" field',
        ),
        (
            b'{"instances": {"source": "good"}}',
            "application/json",
            400,
            '"instances" must be a list, got an object',
        ),
        (b'{"instances": []}', "application/json", 400, "the request holds no instances"),
        (
            b'{"source": 42}',
            "application/json",
            400,
            'the body: "source" must be a string, got a number',
        ),
        (
            b'["good"]',
            "application/json",
            400,
            'expected a JSON object ({"source": ...} or {"instances": [...]}), got a list',
        ),
        (
            b'{"source": "good"}\n{"source": ',
            "application/jsonlines",
            400,
            "line 2 is not valid JSON: Expecting value (line 1, column 12)",
        ),
        (
            b'{"source": "\xff"}',
            "application/json",
            400,
            "the body is not UTF-8 (invalid start byte at byte 12)",
        ),
        (
            b"good,bad",
            "text/csv",
            415,
            "unsupported content type 'text/csv'; send application/json or application/jsonlines",
        ),
        (
            b'{"source": "good"}',
            None,
            415,
            "unsupported content type '(none)'; send application/json or application/jsonlines",
        ),
    ],
)
def test_client_mistakes_get_a_4xx_with_a_message(
    app: InferenceApp, body: bytes, content_type: str | None, status: int, message: str
) -> None:
    response = call(app, "POST", "/invocations", body, content_type)
    assert (response.status, response.json()) == (status, {"error": message})
    assert response.headers["Content-Type"] == "application/json"


def test_payload_over_the_limit_is_413_declared_or_chunked(app: InferenceApp) -> None:
    body = json.dumps({"instances": [{"source": "good " * 100}] * 2100}).encode()
    message = (
        f"the payload of {len(body)} bytes is over this endpoint's limit of 1048576 bytes "
        "(1 MB); send fewer instances per request"
    )
    declared = call(app, "POST", "/invocations", body, "application/json")
    assert (declared.status, declared.json()) == (413, {"error": message})
    chunked = call(app, "POST", "/invocations", body, "application/json", declare_length=False)
    assert chunked.status == 413
    assert chunked.json()["error"].startswith("the payload of 1048577 bytes is over")


def test_unknown_path_and_wrong_method(app: InferenceApp) -> None:
    missing = call(app, "GET", "/predict")
    assert missing.status == 404
    wrong = call(app, "GET", "/invocations")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")
    assert wrong.json() == {"error": "/invocations accepts POST, not GET"}


def test_execution_parameters_for_batch_transform() -> None:
    app = InferenceApp(sentiment_model(), max_concurrent_transforms=8)
    response = call(app, "GET", "/execution-parameters")
    assert response.json() == {
        "MaxConcurrentTransforms": 8,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


def test_a_fault_of_the_server_is_500_and_logged(
    app: InferenceApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(texts: list[str]) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(app.model, "predict", fail)
    with caplog.at_level(logging.ERROR, logger="textclf_serve"):
        response = call(app, "POST", "/invocations", b'{"source": "good"}', "application/json")
    assert (response.status, response.json()) == (500, {"error": "internal server error"})
    assert "out of memory" in caplog.text


def test_a_body_that_stops_arriving_is_408() -> None:
    class Stalled(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise TimeoutError

    app = InferenceApp(sentiment_model(), read_timeout=2)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/invocations",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "100",
        "wsgi.input": Stalled(),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["408 Request Timeout"]
    assert json.loads(body) == {"error": "the request body did not arrive within 2 s"}
