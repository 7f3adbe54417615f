"""Re-runs of auto-labeling: a run id names exactly one input, predictions made for
another batching are never reused, steps write nothing unless they hold every object of
the run, and a split that fails leaves no batches behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sagemaker_constructs.labeling.runtime.autolabel import common, merge, predict, prepare, route
from sagemaker_constructs.labeling.runtime.autolabel.common import (
    InvalidInputError,
    MalformedManifestError,
)

from .conftest import BUCKET, RUNS, TEXTS, Aws, pre_label, serve_predictions, write_manifest


def finish(run: dict[str, Any]) -> dict[str, Any]:
    """Route and merge a run whose threshold leaves nothing to people."""
    routed = route.handler({"run": run})
    assert routed["human_count"] == 0
    return merge.handler({"run": run, "route": routed, "human": {}})


def test_a_chosen_run_id_with_another_manifest_is_refused_and_mixes_nothing(aws: Aws) -> None:
    a = write_manifest(aws, TEXTS, "datasets/a.manifest")
    b = write_manifest(aws, TEXTS[:4], "datasets/b.manifest")
    run = pre_label(aws, {"manifest_uri": a, "run_id": "weekly", "threshold": 0})
    files = aws.keys(run["prefix"])

    def run_b() -> str:
        with pytest.raises(InvalidInputError) as raised:
            prepare.handler(
                {"input": {"manifest_uri": b, "run_id": "weekly", "threshold": 0}},
            )
        return str(raised.value)

    message = run_b()
    assert message.startswith(f"run_id 'weekly' belongs to another input: manifest_uri '{a}' ")
    assert f"(this run: '{b}')" in message
    assert "choose another run_id, or leave it out" in message
    assert aws.keys(run["prefix"]) == files  # nothing of B's was written

    # A finished: B is still refused, never handed A's summary; A itself is.
    summary = finish(run)
    assert "belongs to another input" in run_b()
    again = prepare.handler({"input": {"manifest_uri": a, "run_id": "weekly", "threshold": 0}})
    assert again["completed"] is True and again["summary"] == summary


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"threshold": 0.5}, "threshold 0.9 (this run: 0.5)"),
        (
            {"endpoint_name": "text-classifier-v2"},
            "endpoint_name 'text-classifier' (this run: 'text-classifier-v2')",
        ),
        ({"human_mode": "external"}, "human_mode 'ground_truth' (this run: 'external')"),
        ("OBJECTS_PER_BATCH", "objects_per_batch 3 (this run: 25)"),
        ("new manifest version", "manifest_version "),
    ],
)
def test_every_part_of_a_run_ids_input_is_bound_to_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, change: Any, named: str
) -> None:
    uri = write_manifest(aws, TEXTS)
    execution_input = {"manifest_uri": uri, "run_id": "nightly", "human_mode": "ground_truth"}
    prepare.handler({"input": execution_input})
    if change == "OBJECTS_PER_BATCH":
        monkeypatch.setenv("OBJECTS_PER_BATCH", "25")
    elif change == "new manifest version":
        write_manifest(aws, TEXTS[::-1])
    else:
        execution_input = {**execution_input, **change}
    with pytest.raises(InvalidInputError) as raised:
        prepare.handler({"input": execution_input})
    assert named in str(raised.value)
    assert str(raised.value).count("(this run:") == 1  # only what differs is named


def test_a_run_id_holding_files_of_an_unrecorded_input_is_refused(aws: Aws) -> None:
    aws.put(f"{RUNS}weekly/output/summary.json", json.dumps({"total": 3}))
    with pytest.raises(InvalidInputError) as raised:
        prepare.handler({"input": {"manifest_uri": write_manifest(aws, TEXTS), "run_id": "weekly"}})
    assert "run_id 'weekly' already holds a run whose input was not recorded" in str(raised.value)
    assert aws.keys(f"{RUNS}weekly/") == [f"{RUNS}weekly/output/summary.json"]


def test_another_batch_size_pre_labels_again_instead_of_reusing_other_batches(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"review number {n}" for n in range(60)]
    scores = {text: ("positive", 0.95) for text in texts}
    uri = write_manifest(aws, texts)
    monkeypatch.setenv("OBJECTS_PER_BATCH", "10")
    first = pre_label(aws, {"manifest_uri": uri, "threshold": 0.5}, texts, scores)
    assert first["batches"] == 6

    monkeypatch.setenv("OBJECTS_PER_BATCH", "25")
    # moto answers a request body it saw before from its cache: send other groups.
    monkeypatch.setenv("INSTANCES_PER_REQUEST", "3")
    run = pre_label(aws, {"manifest_uri": uri, "threshold": 0.5}, texts, scores)
    assert (run["total"], run["batches"]) == (60, 3)
    summary = finish(run)
    assert summary["total"] == 60
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert [line["source"] for line in output] == texts


def test_predictions_are_found_only_by_the_batch_they_were_made_for(aws: Aws) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS)})
    batch = json.loads(aws.text(run["chunks_key"]))[0]
    assert batch == {"index": 0, "first_line": 1, "last_line": 3, "count": 3}
    assert predict.handler({"run": run, "batch": batch})["cached"] is True

    # Batch 0 of another batching (2 objects from line 1) is not answered from the cache;
    # its chunk, split for 3, cannot stand for it either.
    answer = {"label": "positive", "confidence": 0.9}
    serve_predictions([[answer, answer], [answer]])
    other = {"index": 0, "first_line": 1, "last_line": 2, "count": 2}
    with pytest.raises(Exception, match="should hold 2 objects but its chunk holds 3") as raised:
        predict.handler({"run": run, "batch": other})
    assert type(raised.value).__name__ == "StaleBatchError"
    assert not [k for k in aws.keys(f"{run['prefix']}work/predictions/") if k.endswith("-2.jsonl")]


def test_route_and_merge_write_nothing_unless_they_hold_every_object_of_the_run(
    aws: Aws,
) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "threshold": 0})
    with pytest.raises(Exception, match="routed 7 objects but the run holds 8") as raised:
        route.handler({"run": {**run, "total": 8}})
    assert type(raised.value).__name__ == "IncompleteRunError"
    assert aws.keys(f"{run['prefix']}human/") == []

    routed = route.handler({"run": run})
    with pytest.raises(
        Exception, match=r"merged 7 objects but the run holds 8: .*nothing was written"
    ):
        merge.handler({"run": {**run, "total": 8}, "route": routed, "human": {}})
    assert aws.keys(f"{run['prefix']}output/") == []


def test_a_split_failing_on_a_bad_line_removes_the_batches_it_wrote(aws: Aws) -> None:
    lines = [json.dumps({"source": text}) for text in TEXTS[:4]] + ["not json"]
    uri = aws.put("datasets/late-error.manifest", "\n".join(lines))
    with pytest.raises(MalformedManifestError, match="line 5: not valid JSON"):
        prepare.handler({"input": {"manifest_uri": uri}})
    assert [k for k in aws.keys(RUNS) if "/work/" in k or "/output/" in k] == []


def test_a_split_failing_midway_removes_the_batches_it_wrote(aws: Aws) -> None:
    s3 = common.client("s3")

    def fail_second_batch(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", "").endswith("/work/chunks/000001.jsonl"):
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                "PutObject",
            )

    s3.meta.events.register("provide-client-params.s3.PutObject", fail_second_batch)
    try:
        with pytest.raises(ClientError, match="SlowDown"):
            prepare.handler({"input": {"manifest_uri": write_manifest(aws, TEXTS)}})
    finally:
        s3.meta.events.unregister("provide-client-params.s3.PutObject", fail_second_batch)
    assert [k for k in aws.keys(RUNS) if "/work/" in k] == []
    assert all(k.endswith("/run.json") for k in aws.keys(RUNS))


def test_a_manifest_replaced_while_it_is_read_is_refused(aws: Aws) -> None:
    uri = write_manifest(aws, TEXTS)
    s3 = common.client("s3")

    def replace_first(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == "datasets/reviews.manifest" and "IfMatch" in params:
            s3.meta.events.unregister("provide-client-params.s3.GetObject", replace_first)
            s3.put_object(Bucket=BUCKET, Key="datasets/reviews.manifest", Body=b'{"source": "x"}')

    s3.meta.events.register("provide-client-params.s3.GetObject", replace_first)
    with pytest.raises(InvalidInputError, match="was replaced while the run read it"):
        prepare.handler({"input": {"manifest_uri": uri}})
    assert [k for k in aws.keys(RUNS) if "/work/" in k] == []
