"""Auto-labeling's steps run for real against moto, the way the state machine chains
them: prepare -> predict (each batch) -> route -> people -> merge."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from moto.moto_api._internal import moto_api_backend

from sagemaker_constructs.labeling.runtime.autolabel import (
    merge,
    predict,
    prepare,
    review,
    route,
)
from sagemaker_constructs.labeling.runtime.autolabel.common import (
    InvalidInputError,
    MalformedManifestError,
)

from .conftest import (
    ACCOUNT,
    BUCKET,
    LABELS,
    REGION,
    RUNS,
    TEXTS,
    Aws,
    pre_label,
    serve_predictions,
    write_manifest,
)


def ground_truth_output(aws: Aws, to_label_key: str, job: str, labels: dict[int, str]) -> str:
    """What a Ground Truth text classification job writes: each input line (with its
    smkit-line) plus the label attribute and its metadata."""
    lines = []
    for line in aws.lines(to_label_key):
        name = labels[line["smkit-line"]]
        lines.append(
            {
                **line,
                "label": LABELS.index(name),
                "label-metadata": {
                    "class-name": name,
                    "job-name": f"labeling-job/{job}",
                    "confidence": 0.93,
                    "type": "groundtruth/text-classification",
                    "human-annotated": "yes",
                    "creation-date": "2026-08-01T10:00:00.123456",
                },
            }
        )
    key = f"labeling/sentiment/output/{job}/manifests/output/output.manifest"
    return aws.put(key, "".join(json.dumps(line) + "\n" for line in reversed(lines)))


def test_ground_truth_review_merges_one_augmented_manifest_in_input_order(
    aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    uri = write_manifest(aws, TEXTS)
    run = pre_label(aws, {"manifest_uri": uri, "human_mode": "ground_truth"})
    assert (run["total"], run["batches"], run["threshold"]) == (7, 3, 0.9)
    assert run["prefix"] == f"{RUNS}{run['run_id']}/"

    requests = capture_calls("InvokeEndpoint")
    assert len(requests) == 5  # batches of 3, 3 and 1 objects, two objects per request
    assert requests[0]["EndpointName"] == "text-classifier"
    assert requests[0]["ContentType"] == requests[0]["Accept"] == "application/json"
    assert json.loads(requests[0]["Body"]) == {
        "instances": [{"source": TEXTS[0]}, {"source": TEXTS[1]}]
    }

    routed = route.handler({"run": run})
    assert routed["total"] == 7
    assert (routed["auto_count"], routed["human_count"], routed["labels_ready"]) == (4, 3, False)
    to_label = aws.lines(f"{run['prefix']}human/to-label.manifest")
    assert [(r["smkit-line"], r["source"], r["id"]) for r in to_label] == [
        (3, TEXTS[2], 2),
        (5, TEXTS[4], 4),
        (7, TEXTS[6], 6),
    ]

    labels_uri = ground_truth_output(
        aws,
        f"{run['prefix']}human/to-label.manifest",
        "smkit-sentiment-x1",
        {3: "neutral", 5: "negative", 7: "neutral"},
    )
    summary = merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})

    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert [line["source"] for line in output] == TEXTS
    assert output[0] == {
        "source": TEXTS[0],
        "id": 0,
        "label": 0,
        "label-metadata": {
            "class-name": "positive",
            "confidence": 0.97,
            "type": "groundtruth/text-classification",
            "job-name": f"labeling-job/reviews-{run['run_id']}",
            "human-annotated": "no",
            "creation-date": output[0]["label-metadata"]["creation-date"],
        },
    }
    assert output[2]["label"] == 2 and output[2]["label-metadata"] == {
        "class-name": "neutral",
        "confidence": 0.93,
        "type": "groundtruth/text-classification",
        "job-name": "labeling-job/smkit-sentiment-x1",
        "human-annotated": "yes",
        "creation-date": "2026-08-01T10:00:00.123456",
    }
    assert output[4]["label-metadata"]["class-name"] == "negative"  # people overrule the model
    assert all("smkit-line" not in line for line in output)
    assert [line["label-metadata"]["human-annotated"] for line in output] == [
        "no",
        "no",
        "yes",
        "no",
        "yes",
        "no",
        "yes",
    ]
    assert summary == json.loads(aws.text(f"{run['prefix']}output/summary.json"))
    assert summary["total"] == 7
    assert (summary["auto_labeled"], summary["human_labeled"]) == (4, 3)
    assert summary["threshold"] == 0.9
    assert summary["fraction_auto_labeled"] == round(4 / 7, 6)
    assert summary["estimated_human_cost_saved_usd"] == pytest.approx(0.32)
    assert summary["per_class"] == {
        "positive": {"auto": 2, "human": 0},
        "negative": {"auto": 2, "human": 1},
        "neutral": {"auto": 0, "human": 2},
    }
    # Ground Truth's output is kept with the run so that a re-run does not ask again.
    assert aws.text(f"{run['prefix']}human/ground-truth.manifest") == aws.text(
        labels_uri.removeprefix(f"s3://{BUCKET}/")
    )


def test_rerun_of_the_same_input_reuses_everything_and_duplicates_nothing(aws: Aws) -> None:
    uri = write_manifest(aws, TEXTS)
    execution_input = {"manifest_uri": uri, "human_mode": "ground_truth"}
    run = pre_label(aws, execution_input)
    routed = route.handler({"run": run})
    labels_uri = ground_truth_output(
        aws,
        f"{run['prefix']}human/to-label.manifest",
        "job-a",
        {3: "neutral", 5: "neutral", 7: "neutral"},
    )
    first = merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})
    files = aws.keys(RUNS)
    manifest = aws.text(f"{run['prefix']}output/output.manifest")

    # Finished: the same input finds the summary and does no work.
    again = prepare.handler({"input": execution_input, "execution_name": "exec-2"})
    assert again["completed"] is True and again["run_id"] == run["run_id"]
    assert again["summary"] == first

    # Interrupted after people labeled (no summary yet): the next run reuses the
    # predictions and people's labels, and writes the same files again.
    aws.s3.delete_object(Bucket=BUCKET, Key=f"{run['prefix']}output/summary.json")
    rerun = pre_label(aws, execution_input)
    assert rerun["run_id"] == run["run_id"] and rerun["completed"] is False
    rerouted = route.handler({"run": rerun})
    assert rerouted["labels_ready"] is True
    assert rerouted["labels_uri"] == f"s3://{BUCKET}/{run['prefix']}human/ground-truth.manifest"
    second = merge.handler(
        {"run": rerun, "route": rerouted, "human": {"labels_uri": rerouted["labels_uri"]}}
    )
    assert second == first
    assert aws.keys(RUNS) == files
    assert aws.text(f"{run['prefix']}output/output.manifest") == manifest


def test_another_threshold_is_another_run(aws: Aws) -> None:
    uri = write_manifest(aws, TEXTS)
    first = pre_label(aws, {"manifest_uri": uri})
    second = prepare.handler({"input": {"manifest_uri": uri, "threshold": 0.5}})
    assert second["run_id"] != first["run_id"]


def test_threshold_zero_labels_everything_automatically(aws: Aws) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "threshold": 0})
    routed = route.handler({"run": run})
    assert (routed["auto_count"], routed["human_count"]) == (7, 0)
    assert aws.text(f"{run['prefix']}human/to-label.manifest") == ""
    summary = merge.handler({"run": run, "route": routed, "human": {}})
    assert summary["fraction_auto_labeled"] == 1.0 and summary["human_labels_uri"] is None
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert {line["label-metadata"]["human-annotated"] for line in output} == {"no"}


def test_threshold_one_sends_everything_to_people_with_external_review(
    aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    run = pre_label(
        aws, {"manifest_uri": write_manifest(aws, TEXTS), "threshold": 1, "human_mode": "external"}
    )
    routed = route.handler({"run": run})
    assert (routed["auto_count"], routed["human_count"]) == (0, 7)

    review.request_handler({"token": "token-1", "run": run, "route": routed})
    request = json.loads(aws.text(f"{run['prefix']}human/request.json"))
    assert request["task_token"] == "token-1" and request["objects"] == 7
    (message,) = aws.messages()
    assert message["Subject"] == f"Labels needed: {run['run_name']}"
    assert routed["to_label_uri"] in message["Message"]
    assert f"s3://{BUCKET}/{run['prefix']}human/labels.manifest" in message["Message"]

    # An external tool puts back the short form, in its own order.
    labels = [{"smkit-line": n, "label": "neutral"} for n in range(7, 0, -1)]
    key = f"{run['prefix']}human/labels.manifest"
    aws.put(key, "".join(json.dumps(line) + "\n" for line in labels))
    result = review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )
    assert result == {"status": "resumed"}
    (sent,) = capture_calls("SendTaskSuccess")
    assert sent["taskToken"] == "token-1"
    assert json.loads(sent["output"]) == {"labels_uri": f"s3://{BUCKET}/{key}"}
    assert json.loads(aws.text(f"{run['prefix']}human/request.json"))["resumed_at"]

    summary = merge.handler({"run": run, "route": routed, "human": json.loads(sent["output"])})
    assert (summary["auto_labeled"], summary["human_labeled"]) == (0, 7)
    assert summary["estimated_human_cost_saved_usd"] == 0.0
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert [line["source"] for line in output] == TEXTS
    assert output[0]["label-metadata"]["job-name"] == f"labeling-job/{run['run_name']}"
    assert output[0]["label-metadata"]["confidence"] == 1.0

    # A second arrival of the same file does not resume twice.
    assert review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    ) == {"status": "already-resumed"}


def test_incomplete_or_wrong_labels_are_rejected_and_the_run_keeps_waiting(
    aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "human_mode": "external"})
    routed = route.handler({"run": run})
    review.request_handler({"token": "token-2", "run": run, "route": routed})
    aws.messages()
    key = f"{run['prefix']}human/labels.manifest"
    aws.put(
        key,
        '{"smkit-line": 3, "label": "meh"}\nnot json\n{"smkit-line": 1, "label": "positive"}\n',
    )
    result = review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )
    assert result["status"] == "rejected"
    problems = result["problems"]
    assert "has 3 problems" in problems
    assert "line 1: label 'meh' is not one of positive, negative, neutral" in problems
    assert "line 2: not valid JSON" in problems
    assert "line 3: smkit-line 1 was not handed to people" in problems
    assert capture_calls("SendTaskSuccess") == []
    (message,) = aws.messages()
    assert message["Subject"] == f"Labels rejected: {run['run_name']}"

    aws.put(key, '{"smkit-line": 3, "label": "neutral"}\n')
    result = review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )
    assert result["status"] == "rejected"
    assert "labels 1 of 3 objects; still missing smkit-line 5, 7" in result["problems"]


def test_labels_arriving_elsewhere_or_before_a_request_are_left_alone(aws: Aws) -> None:
    event = {
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": f"{RUNS}r1/human/labels.manifest"}}
    }
    assert review.labels_arrived_handler(event) == {"status": "no-request"}
    other = {"detail": {"bucket": {"name": "other"}, "object": {"key": "x/human/labels.manifest"}}}
    assert review.labels_arrived_handler(other) == {"status": "ignored"}


def test_malformed_lines_fail_the_run_listing_every_line_and_publish_nothing(aws: Aws) -> None:
    uri = aws.put(
        "datasets/bad.manifest",
        "\n".join(
            [
                '{"source": "fine"}',
                "this is not json",
                '["a", "list"]',
                '{"text": "no source key"}',
                "",
                '{"source": "already labeled", "label": 1}',
                '{"source": ""}',
                '{"source": "fine too"}',
            ]
        ),
    )
    with pytest.raises(MalformedManifestError) as raised:
        prepare.handler({"input": {"manifest_uri": uri}})
    message = str(raised.value)
    assert message.startswith(f"{uri} has 5 malformed lines: line 2: not valid JSON")
    assert "line 3: not a JSON object (got list)" in message
    assert "line 4: needs a non-empty string 'source'" in message
    assert "line 6: already has 'label'; the run would overwrite it" in message
    assert "line 7: needs a non-empty string 'source'" in message
    assert "line 1:" not in message and "line 5:" not in message and "line 8:" not in message
    assert [k for k in aws.keys(RUNS) if "/output/" in k or "/human/" in k] == []


def test_image_manifests_need_s3_references(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_TYPE", "image")
    uri = aws.put(
        "datasets/photos.manifest",
        '{"source-ref": "s3://photos/1.jpg"}\n{"source-ref": "https://example.com/2.jpg"}\n',
    )
    with pytest.raises(MalformedManifestError, match=r"line 2: 'source-ref' must be an s3:// URI"):
        prepare.handler({"input": {"manifest_uri": uri}})


def test_image_run_sends_references_and_merges_ground_truth_image_output(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    for name, value in {
        "DATA_TYPE": "image",
        "LABELS": json.dumps(["shoe", "bag"]),
        "OUTPUT_TYPE": "groundtruth/image-classification",
    }.items():
        monkeypatch.setenv(name, value)
    refs = [f"s3://{BUCKET}/photos/{n}.jpg" for n in range(3)]
    uri = aws.put(
        "datasets/photos.manifest", "".join(json.dumps({"source-ref": r}) + "\n" for r in refs)
    )
    run = prepare.handler({"input": {"manifest_uri": uri, "human_mode": "ground_truth"}})
    serve_predictions(
        [
            [{"label": "shoe", "confidence": 0.99}, {"label": "bag", "confidence": 0.3}],
            [{"label": "bag", "confidence": 0.95}],
        ]
    )
    predict.handler({"run": run, "batch": json.loads(aws.text(run["chunks_key"]))[0]})
    assert json.loads(capture_calls("InvokeEndpoint")[0]["Body"]) == {
        "instances": [{"source-ref": refs[0]}, {"source-ref": refs[1]}]
    }
    routed = route.handler({"run": run})
    assert routed["human_count"] == 1
    output_line = {
        "source-ref": refs[1],
        "smkit-line": 2,
        "label": 0,
        "label-metadata": {
            "class-name": "shoe",
            "job-name": "labeling-job/smkit-product-photos-1",
            "confidence": 0.88,
            "type": "groundtruth/image-classification",
            "human-annotated": "yes",
            "creation-date": "2026-08-02T08:30:00.000001",
        },
    }
    labels_uri = aws.put(
        "labeling/photos/output/job/manifests/output/output.manifest", json.dumps(output_line)
    )
    merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert [line["label-metadata"]["class-name"] for line in output] == ["shoe", "shoe", "bag"]
    assert output[1]["label-metadata"]["type"] == "groundtruth/image-classification"
    assert output[1]["label-metadata"]["human-annotated"] == "yes"


def test_people_leaving_an_object_unlabeled_fails_the_merge_without_output(aws: Aws) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "human_mode": "ground_truth"})
    routed = route.handler({"run": run})
    failed_line = {
        "source": TEXTS[4],
        "smkit-line": 5,
        "label-metadata": {"failure-reason": "ClientError: task expired"},
    }
    good = {
        "source": TEXTS[2],
        "smkit-line": 3,
        "label": 2,
        "label-metadata": {"class-name": "neutral"},
    }
    labels_uri = aws.put(
        "labeling/x/out.manifest", json.dumps(good) + "\n" + json.dumps(failed_line) + "\n"
    )
    with pytest.raises(merge.InvalidLabelsError) as raised:
        merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})
    assert "line 2: no 'label' (labeling failed: ClientError: task expired)" in str(raised.value)
    assert [k for k in aws.keys(RUNS) if "/output/" in k] == []

    aws.put("labeling/x/out.manifest", json.dumps(good) + "\n")
    with pytest.raises(merge.InvalidLabelsError) as raised:
        merge.handler({"run": run, "route": routed, "human": {"labels_uri": labels_uri}})
    assert str(raised.value).endswith("labels 1 of 3 objects; still missing smkit-line 5, 7")
    assert [k for k in aws.keys(RUNS) if "/output/" in k] == []


@pytest.mark.parametrize(
    ("body", "why"), [("", "(it is empty)"), ("\n  \n\r\n", "(3 lines, all blank)")]
)
def test_a_manifest_without_objects_is_refused(aws: Aws, body: str, why: str) -> None:
    uri = aws.put("datasets/empty.manifest", body)
    with pytest.raises(InvalidInputError) as raised:
        prepare.handler({"input": {"manifest_uri": uri}})
    assert str(raised.value) == f"{uri} holds no object to label {why}"
    assert [k for k in aws.keys(RUNS) if "/work/" in k or "/output/" in k] == []


def test_execution_input_is_checked_with_every_problem_named(aws: Aws) -> None:
    with pytest.raises(InvalidInputError) as raised:
        prepare.handler(
            {
                "input": {
                    "manifest_uri": "s3://someone-elses-bucket/x.manifest",
                    "threshold": 1.5,
                    "endpoint_name": "other-model",
                    "human_mode": "crowd",
                    "run_id": "Bad_ID",
                    "treshold": 0.5,
                }
            }
        )
    message = str(raised.value)
    assert message.startswith("invalid execution input: unknown keys ['treshold']; allowed: ")
    assert f"manifest_uri must be in the data bucket {BUCKET}" in message
    assert "threshold must be a number from 0 to 1 (got 1.5)" in message
    assert (
        "endpoint_name must be one of text-classifier, text-classifier-v2 (got 'other-model')"
        in message
    )
    assert "human_mode must be one of ground_truth, external (got 'crowd')" in message
    assert "run_id must be 1-40 lower-case letters" in message

    with pytest.raises(InvalidInputError, match="cannot be read"):
        prepare.handler({"input": {"manifest_uri": f"s3://{BUCKET}/missing.manifest"}})


def test_chosen_endpoint_and_run_id_are_used(
    aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    uri = write_manifest(aws, TEXTS[:1])
    run = prepare.handler(
        {
            "input": {
                "manifest_uri": uri,
                "endpoint_name": "TEXT-CLASSIFIER-V2",
                "run_id": "nightly-7",
            }
        }
    )
    assert (run["run_id"], run["endpoint_name"]) == ("nightly-7", "text-classifier-v2")
    serve_predictions([[{"label": "positive", "confidence": 0.9}]])
    predict.handler({"run": run, "batch": json.loads(aws.text(run["chunks_key"]))[0]})
    assert capture_calls("InvokeEndpoint")[0]["EndpointName"] == "text-classifier-v2"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"predictions": [{"label": "sarcastic", "confidence": 0.9}]},
            "line 1: label 'sarcastic' is not one of",
        ),
        (
            {"predictions": [{"label": "positive", "confidence": 1.2}]},
            "line 1: confidence must be from 0 to 1 (got 1.2)",
        ),
        (
            {"predictions": [{"label": "positive", "confidence": "high"}]},
            "line 1: confidence must be a number",
        ),
        ({"predictions": []}, "returned 0 predictions for 1 instances (lines 1-1)"),
        ({"outputs": []}, 'answered lines 1-1 without a JSON {"predictions": [...]}'),
    ],
)
def test_answers_outside_the_classifier_contract_fail_the_batch(
    aws: Aws, answer: dict[str, Any], message: str
) -> None:
    run = prepare.handler({"input": {"manifest_uri": write_manifest(aws, TEXTS[:1])}})
    serve_predictions([answer["predictions"]] if "predictions" in answer else [])
    if "predictions" not in answer:
        moto_api_backend.set_sagemaker_result(
            json.dumps(answer), "application/json", "AllTraffic", "", ACCOUNT, REGION
        )
    with pytest.raises(predict.InvalidPredictionError, match=re.escape(message)):
        predict.handler({"run": run, "batch": json.loads(aws.text(run["chunks_key"]))[0]})
    assert aws.keys(f"{run['prefix']}work/predictions/") == []


def test_a_batch_already_pre_labeled_is_not_sent_again(
    aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS)})
    calls = len(capture_calls("InvokeEndpoint"))
    batch = json.loads(aws.text(run["chunks_key"]))[1]
    assert predict.handler({"run": run, "batch": batch}) == {"index": 1, "cached": True}
    assert len(capture_calls("InvokeEndpoint")) == calls
