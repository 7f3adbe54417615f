"""The serving image's contract on loopback: the real `serve` executable (gunicorn, two
workers) serving a model trained by the real `train` executable."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.containers.conftest import SERVE, TrainedModel, free_port

LABELS = {"billing", "delivery", "product"}


class Server:
    """`serve` in a subprocess, its JSON log in a file."""

    def __init__(self, base: Path, log: Path, **env: str) -> None:
        self.port = free_port()
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(SERVE), "serve"],
            env={
                **os.environ,
                "SAGEMAKER_BASE_DIR": str(base),
                "SAGEMAKER_BIND_TO_PORT": str(self.port),
                "SMKIT_BIND_HOST": "127.0.0.1",
                "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
                "SMKIT_WORKER_THREADS": "2",
                **env,
            },
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text()}")
            try:
                if self.request("GET", "/ping")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"serve did not become ready: {self.log.read_text()}")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def invoke(self, body: bytes, content_type: str) -> tuple[int, str, Any]:
        status, headers, data = self.request(
            "POST", "/invocations", body, {"Content-Type": content_type}
        )
        kind = headers.get("Content-Type", "")
        if kind == "application/jsonlines":
            return status, kind, [json.loads(line) for line in data.decode().splitlines()]
        return status, kind, json.loads(data)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._log_file.close()
        return code

    def log_entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def server(
    trained_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    running = Server(trained_model.base, tmp_path_factory.mktemp("serve") / "serve.log")
    running.wait_ready()
    yield running
    running.stop()


def test_ping(server: Server) -> None:
    status, _, body = server.request("GET", "/ping")
    assert (status, json.loads(body)) == (200, {"status": "healthy"})


def test_single_instance(server: Server) -> None:
    status, kind, body = server.invoke(
        b'{"source": "I was charged twice, please refund"}', "application/json"
    )
    assert (status, kind) == (200, "application/json")
    [prediction] = body["predictions"]
    assert prediction["label"] == "billing"
    assert set(prediction["probabilities"]) == LABELS
    assert prediction["confidence"] == prediction["probabilities"]["billing"]


def test_batch_of_instances(server: Server, trained_model: TrainedModel) -> None:
    validation = trained_model.validation[:40]
    body = json.dumps({"instances": [{"source": text} for text, _ in validation]}).encode()
    status, _, answer = server.invoke(body, "application/json")
    assert status == 200
    labels = [prediction["label"] for prediction in answer["predictions"]]
    assert len(labels) == 40
    assert sum(label == truth for label, (_, truth) in zip(labels, validation, strict=True)) >= 36


def test_json_lines_one_prediction_per_line(server: Server) -> None:
    texts = ["The parcel arrived late", "Screen broken, battery weak", "Refund my invoice"]
    body = "".join(json.dumps({"source": text}) + "\n" for text in texts).encode()
    status, kind, lines = server.invoke(body, "application/jsonlines")
    assert (status, kind) == (200, "application/jsonlines")
    assert [line["label"] for line in lines] == ["delivery", "product", "billing"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (
            b'{"source": "late parcel"',
            "application/json",
            400,
            "the body is not valid JSON: Expecting ',' delimiter (line 1, column 25)",
        ),
        (
            b"late parcel",
            "text/plain",
            415,
            "unsupported content type 'text/plain'; send application/json or application/jsonlines",
        ),
        (
            b'{"instances": [{"text": "late parcel"}]}',
            "application/json",
            400,
            'instances[0] has no "source" field',
        ),
    ],
)
def test_client_mistakes(
    server: Server, body: bytes, content_type: str, status: int, message: str
) -> None:
    assert server.invoke(body, content_type) == (status, "application/json", {"error": message})


def test_payload_over_6_mb_is_413(server: Server) -> None:
    body = json.dumps({"instances": [{"source": "parcel " * 1000}] * 1000}).encode()
    assert len(body) > 6 * 1024 * 1024
    status, kind, answer = server.invoke(body, "application/json")
    assert (status, kind) == (413, "application/json")
    assert answer["error"].startswith(
        f"the payload of {len(body)} bytes is over this endpoint's limit of 6291456 bytes (6 MB)"
    )
    # The server is still fine afterwards.
    assert server.request("GET", "/ping")[0] == 200


def test_serve_refuses_to_start_without_a_model(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SERVE), "serve"],
        env={
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(tmp_path),
            "SAGEMAKER_BIND_TO_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    [entry] = [json.loads(line) for line in result.stdout.splitlines()]
    assert entry["level"] == "ERROR"
    assert entry["message"] == (
        f"cannot serve: {tmp_path / 'model' / 'model.json'} does not exist: "
        "is the model directory mounted?"
    )


def test_sigterm_lets_the_request_in_flight_finish(
    trained_model: TrainedModel, tmp_path: Path
) -> None:
    server = Server(
        trained_model.base,
        tmp_path / "serve.log",
        SMKIT_GRACEFUL_TIMEOUT="20",
        SMKIT_ACCESS_LOG_SAMPLE="1",
    )
    server.wait_ready()
    body = json.dumps({"instances": [{"source": "my parcel is late"}] * 20}).encode()
    head = (
        "POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    ).encode()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as client,
        client.makefile("rb") as reader,
    ):
        # A first request on the connection proves a worker holds it.
        client.sendall(head + b"\r\n" + body)
        assert reader.readline().startswith(b"HTTP/1.1 200")
        _skip_response(reader)
        # The second request is half sent when SIGTERM arrives.
        client.sendall(head + b"Connection: close\r\n\r\n" + body[:25])
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.process.poll() is None, "the server quit with a request in flight"
        client.sendall(body[25:])
        assert reader.readline().startswith(b"HTTP/1.1 200")
        answer = json.loads(_skip_response(reader))
        assert [p["label"] for p in answer["predictions"]] == ["delivery"] * 20
    assert server.stop() == 0
    entries = server.log_entries()
    assert {"time", "level", "logger", "message", "pid"} <= set(entries[0])
    messages = [entry["message"] for entry in entries]
    assert "Handling signal: term" in messages
    # Every request has its line (SMKIT_ACCESS_LOG_SAMPLE=1), and the worker that
    # served them wrote its summary on its way out.
    assert messages.count("POST /invocations 200") == 2
    [summary] = [entry for entry in entries if entry["message"] == "access summary"]
    assert (summary["requests"], summary["statuses"]) == (2, {"200": 2})
    assert messages[-1] == "Shutting down: Master"


def test_by_default_the_access_log_is_a_summary_and_a_line_per_failed_request(
    trained_model: TrainedModel, tmp_path: Path
) -> None:
    server = Server(trained_model.base, tmp_path / "serve.log")
    server.wait_ready()
    for text in ["my parcel is late", "refund my invoice", "the screen is broken"]:
        assert server.invoke(json.dumps({"source": text}).encode(), "application/json")[0] == 200
    assert server.invoke(b'{"instances": []}', "application/json")[0] == 400
    assert server.stop() == 0
    entries = server.log_entries()
    access = [entry for entry in entries if entry["logger"] == "textclf_serve.access"]
    [failure] = [entry for entry in access if entry["message"] != "access summary"]
    assert (failure["level"], failure["message"], failure["error"]) == (
        "WARNING",
        "POST /invocations 400",
        "the request holds no instances",
    )
    # Each worker's summary at exit (health checks not counted); two workers share the
    # requests.
    summaries = [entry for entry in access if entry["message"] == "access summary"]
    assert 1 <= len(summaries) <= 2
    assert sum(summary["requests"] for summary in summaries) == 4
    assert sum(summary["instances"] for summary in summaries) == 3
    assert sum(summary["errors"] for summary in summaries) == 1
    assert all(summary["level"] == "INFO" for summary in summaries)


def _skip_response(reader: Any) -> bytes:
    """Read headers and body of a response whose status line was read."""
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    data: bytes = reader.read(length)
    return data
