"""Model-quality monitoring of auto-labeling's endpoint: one request per object with a
deterministic InferenceId, and people's labels as Model Monitor ground-truth records."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from sagemaker_constructs.labeling.runtime.autolabel import (
    merge,
    monitor_labels,
    predict,
    prepare,
    route,
)
from sagemaker_constructs.labeling.runtime.autolabel.common import RunLocation, inference_id

from .conftest import BUCKET, RUNS, TEXTS, Aws, pre_label, write_manifest
from .test_autolabel import ground_truth_output

GROUND_TRUTH = "monitoring/smkit-text-classifier/model-quality/ground-truth/"
PEOPLE = {3: "neutral", 5: "negative", 7: "neutral"}


@pytest.fixture
def monitored(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """The functions' environment with model-quality monitoring of `text-classifier`."""
    monkeypatch.setenv("INFERENCE_IDS", "true")
    # answers() batches the endpoint's replies as the functions send them: one per request.
    monkeypatch.setenv("INSTANCES_PER_REQUEST", "1")
    monkeypatch.setenv("GROUND_TRUTH_PREFIXES", json.dumps({"text-classifier": GROUND_TRUTH}))
    return aws


def _merged_run(aws: Aws) -> dict[str, Any]:
    uri = write_manifest(aws, TEXTS)
    run = pre_label(aws, {"manifest_uri": uri, "human_mode": "ground_truth"})
    routed = route.handler({"run": run})
    labels_uri = ground_truth_output(
        aws, f"{run['prefix']}human/to-label.manifest", "smkit-sentiment-x1", PEOPLE
    )
    merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})
    return run


def test_inference_ids_are_deterministic_per_run_and_line() -> None:
    run = RunLocation(bucket=BUCKET, prefix=f"{RUNS}run-1/")
    first = inference_id(run, 3)
    assert first == inference_id(RunLocation(bucket=BUCKET, prefix=f"{RUNS}run-1/"), 3)
    assert re.fullmatch(r"smkit-[0-9a-f]{32}", first)
    assert first != inference_id(run, 4)
    assert first != inference_id(RunLocation(bucket=BUCKET, prefix=f"{RUNS}run-2/"), 3)


def test_each_object_is_sent_alone_with_its_inference_id(
    monitored: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    uri = write_manifest(monitored, TEXTS)
    run = pre_label(monitored, {"manifest_uri": uri, "human_mode": "ground_truth"})
    requests = capture_calls("InvokeEndpoint")
    location = RunLocation.of(run)
    assert len(requests) == len(TEXTS)
    assert [json.loads(r["Body"])["instances"] for r in requests] == [
        [{"source": text}] for text in TEXTS
    ]
    assert [r["InferenceId"] for r in requests] == [
        inference_id(location, line) for line in range(1, len(TEXTS) + 1)
    ]
    rows = monitored.lines(location.key("work/predictions/000000001-3.jsonl"))
    assert [row["inference_id"] for row in rows] == [r["InferenceId"] for r in requests[:3]]


def test_invoke_request_with_an_inference_id_fits_the_runtime_api() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker-runtime")
    shape = model.operation_model("InvokeEndpoint").input_shape
    location = RunLocation(bucket=BUCKET, prefix=f"{RUNS}{'r' * 64}/")
    request = predict.invoke_request(
        "smkit-full-text-classifier", [{"source": "Love it"}], inference_id(location, 10**9)
    )
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert request["InferenceId"].startswith("smkit-")


def test_people_labels_become_ground_truth_records_under_the_hour(monitored: Aws) -> None:
    run = _merged_run(monitored)
    result = monitor_labels.handler({"run": run})
    keys = monitored.keys(GROUND_TRUTH)
    assert len(keys) == 1
    hour = datetime.datetime.now(datetime.UTC)
    assert re.fullmatch(
        rf"{GROUND_TRUTH}\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/reviews-{run['run_id']}\.jsonl", keys[0]
    )
    assert keys[0].startswith(f"{GROUND_TRUTH}{hour:%Y}/")
    location = RunLocation.of(run)
    assert monitored.lines(keys[0]) == [
        {
            "groundTruthData": {"data": label, "encoding": "CSV"},
            "eventMetadata": {"eventId": inference_id(location, line)},
            "eventVersion": "0",
        }
        for line, label in PEOPLE.items()
    ]
    assert result == {"records": 3, "ground_truth_uri": f"s3://{BUCKET}/{keys[0]}"}


def test_a_rerun_writes_the_same_records_to_the_same_key_and_removes_nothing(
    monitored: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _merged_run(monitored)
    first = monitor_labels.handler({"run": run})
    body = monitored.text(first["ground_truth_uri"].removeprefix(f"s3://{BUCKET}/"))
    before = monitored.keys("")

    # An hour later, a retried step: the key decided the first time is kept.
    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> Later:  # type: ignore[override]
            return cls(2031, 1, 1, 5, tzinfo=datetime.UTC)

    monkeypatch.setattr(monitor_labels.datetime, "datetime", Later)
    again = monitor_labels.handler({"run": run})
    assert again == first
    assert monitored.keys("") == before
    assert monitored.text(first["ground_truth_uri"].removeprefix(f"s3://{BUCKET}/")) == body


def test_runs_of_unmonitored_endpoints_or_without_ids_write_nothing(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pre-labeled without InferenceIds (monitoring switched on afterwards).
    run = _merged_run(aws)
    monkeypatch.setenv("GROUND_TRUTH_PREFIXES", json.dumps({"text-classifier": GROUND_TRUTH}))
    assert monitor_labels.handler({"run": run})["records"] == 0
    assert aws.keys(GROUND_TRUTH) == []
    monkeypatch.setenv("GROUND_TRUTH_PREFIXES", json.dumps({"other-endpoint": GROUND_TRUTH}))
    assert monitor_labels.handler({"run": run}) == {
        "records": 0,
        "reason": "endpoint text-classifier is not monitored",
    }


def test_a_finished_run_started_again_writes_its_ground_truth_again_unchanged(
    monitored: Aws,
) -> None:
    run = _merged_run(monitored)
    first = monitor_labels.handler({"run": run})
    before = {key: monitored.text(key) for key in monitored.keys("")}
    # The state machine's AlreadyFinished branch: prepare finds the summary, then the
    # ground-truth step runs on the finished run.
    again = prepare.handler(
        {
            "input": {"manifest_uri": run["manifest_uri"], "human_mode": "ground_truth"},
            "execution_name": "exec-2",
        }
    )
    assert again["completed"] is True
    assert monitor_labels.handler({"run": again}) == first
    assert {key: monitored.text(key) for key in monitored.keys("")} == before
