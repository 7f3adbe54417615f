"""The serving image under batch transform's contract, on loopback: the real `serve`
started the way a transform job starts it (SAGEMAKER_MAX_PAYLOAD_IN_MB, which the kit's
transform workflow sets to the job's MaxPayloadInMB), asked for its execution parameters
and sent mini-batches of JSON lines as SageMaker cuts them (SplitType Line, MultiRecord)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.containers.conftest import TrainedModel
from tests.containers.inference.test_serve import Server

PAYLOAD_MB = 20


@pytest.fixture(scope="module")
def transform_server(
    trained_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    running = Server(
        trained_model.base,
        tmp_path_factory.mktemp("transform") / "serve.log",
        SAGEMAKER_MAX_PAYLOAD_IN_MB=str(PAYLOAD_MB),
    )
    running.wait_ready()
    yield running
    running.stop()


def test_execution_parameters_tell_sagemaker_the_jobs_payload_and_concurrency(
    transform_server: Server,
) -> None:
    status, headers, body = transform_server.request("GET", "/execution-parameters")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    # Two workers of two threads each (the test server's settings).
    assert json.loads(body) == {
        "MaxConcurrentTransforms": 4,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": PAYLOAD_MB,
    }


def test_a_mini_batch_of_lines_gets_one_result_line_per_record_in_order(
    transform_server: Server, trained_model: TrainedModel
) -> None:
    records = trained_model.validation[:25]
    # SageMaker joins the records of a mini-batch with the newlines it split them at; the
    # last record of an object may come without one.
    body = "\n".join(json.dumps({"source": text, "id": i}) for i, (text, _) in enumerate(records))
    status, headers, data = transform_server.request(
        "POST",
        "/invocations",
        body.encode(),
        {"Content-Type": "application/jsonlines", "Accept": "application/jsonlines"},
    )
    assert (status, headers["Content-Type"]) == (200, "application/jsonlines")
    text = data.decode()
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert len(lines) == len(records)
    predictions = [json.loads(line) for line in lines]
    assert all(set(p) == {"label", "confidence", "probabilities"} for p in predictions)
    correct = sum(p["label"] == truth for p, (_, truth) in zip(predictions, records, strict=True))
    assert correct >= 22


def test_windows_line_ends_and_a_trailing_newline_change_nothing(
    transform_server: Server,
) -> None:
    texts = ["The parcel arrived late", "Refund my invoice"]
    for separator, tail in (("\r\n", "\r\n"), ("\n", "\n")):
        body = separator.join(json.dumps({"source": t}) for t in texts) + tail
        status, _, lines = transform_server.invoke(body.encode(), "application/jsonlines")
        assert status == 200
        assert [line["label"] for line in lines] == ["delivery", "billing"]


def test_a_payload_up_to_the_jobs_limit_is_accepted(transform_server: Server) -> None:
    # Over real time's 6 MB, within the job's 20 MB: a transform mini-batch of that size
    # is answered, not refused with 413.
    line = json.dumps({"source": "parcel " * 1000})
    body = "\n".join([line] * 1200).encode()
    assert 6 * 1024 * 1024 < len(body) < PAYLOAD_MB * 1024 * 1024
    status, kind, lines = transform_server.invoke(body, "application/jsonlines")
    assert (status, kind) == (200, "application/jsonlines")
    assert len(lines) == 1200
    over = b"\n".join([line.encode()] * 3100)
    assert len(over) > PAYLOAD_MB * 1024 * 1024
    status, _, answer = transform_server.invoke(over, "application/jsonlines")
    assert status == 413
    assert f"limit of {PAYLOAD_MB * 1024 * 1024} bytes ({PAYLOAD_MB} MB)" in answer["error"]


def test_a_bad_record_names_its_line(transform_server: Server) -> None:
    body = b'{"source": "late parcel"}\n{"text": "no source"}\n'
    status, _, answer = transform_server.invoke(body, "application/jsonlines")
    assert (status, answer) == (400, {"error": 'line 2 has no "source" field'})
