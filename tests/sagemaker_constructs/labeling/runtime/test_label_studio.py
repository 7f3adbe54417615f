"""Label Studio as auto-labeling's human step: the tasks the run writes, the converter
of what Label Studio's target storage writes back (each task type, both of its file
formats), and the run waiting, reporting progress and resuming on moto."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from sagemaker_constructs.labeling.runtime.autolabel import (
    common,
    labels,
    merge,
    predict,
    prepare,
    review,
    route,
    studio,
    studio_review,
)

from . import label_studio_exports as export
from .conftest import BUCKET, LABELS, TEXTS, Aws, pre_label, serve_predictions, write_manifest

RUN = "reviews-run1"
TEXT = {"text": "Arrived on Tuesday"}
IMAGE = {"image": f"s3://{BUCKET}/photos/1.jpg"}
CLASSES = {"text": ["positive", "negative", "neutral"], "image": ["shoe", "bag", "watch"]}


@pytest.fixture
def studio_aws(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """The mocked account, with functions of a workflow whose review is Label Studio."""
    monkeypatch.setenv("HUMAN_MODES", json.dumps(["label_studio", "external"]))
    return aws


def body(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def files_of_one_person(
    data_type: str, fmt: str, wrong: str, right: list[str]
) -> list[dict[str, Any]]:
    """Label Studio files of four tasks of run RUN (lines 3, 5, 7, 9), as its target
    storage writes them in format `fmt`:

    task 11 (line 3): first answered `wrong`, then a second annotation says `right`;
    task 12 (line 5): skipped (a cancelled annotation only);
    task 13 (line 7): answered `right`, later skipped by someone else (cancelled);
    task 14 (line 9): answered 'cat', a class the workflow does not have.
    """
    data = TEXT if data_type == "text" else IMAGE
    to_name = studio.DATA_KEYS[data_type]

    def item(annotation_id: int, choices: list[str], minute: int, **kw: Any) -> dict[str, Any]:
        at = f"2026-12-05T05:{minute:02d}:00.123456Z"
        return export.annotation(annotation_id, choices, updated_at=at, to_name=to_name, **kw)

    tasks = {
        11: (3, [item(101, [wrong], 10), item(105, right, 20, email="lead@example.com")]),
        12: (5, [item(102, [], 11, cancelled=True)]),
        13: (7, [item(103, right, 12), item(106, [], 30, cancelled=True)]),
        14: (9, [item(104, ["cat"], 13)]),
    }
    files = []
    for task_id, (line, items) in tasks.items():
        task_data = export.task_data(line, RUN, data)
        if fmt == "task":
            files.append(export.task_file(task_id, task_data, items))
        else:
            files.extend(export.annotation_file(task_id, task_data, i) for i in items)
    return files


@pytest.mark.parametrize("fmt", ["annotation", "task"])
@pytest.mark.parametrize(
    ("data_type", "multi_label"),
    [("text", False), ("text", True), ("image", False), ("image", True)],
)
def test_converter_reads_each_task_type_and_the_latest_accepted_annotation_wins(
    fmt: str, data_type: str, multi_label: bool
) -> None:
    classes = CLASSES[data_type]
    right = classes[:2] if multi_label else [classes[1]]
    files = files_of_one_person(data_type, fmt, classes[0], right)
    random.Random(7).shuffle(files)  # S3 lists files in key order, not in time order
    found = [a for f in files for a in studio.annotations_in(body(f))]
    assert {a.annotation_id for a in found} == {101, 102, 103, 104, 105, 106}

    chosen = studio.latest_accepted(found)
    # Line 5 was only skipped: it still needs an annotation. Line 7's later skip does
    # not undo its accepted annotation.
    assert sorted(chosen) == [3, 7, 9]
    assert chosen[3].annotation_id == 105 and chosen[3].annotator == "lead@example.com"
    assert chosen[7].annotation_id == 103

    lines = [
        (a.task_id, studio.label_line(a, attribute="label", multi_label=multi_label, run_name=RUN))
        for a in chosen.values()
    ]
    form = labels.LabelFormat(
        attribute="label",
        labels=classes,
        default_job_name=f"labeling-job/{RUN}",
        default_date="2026-12-05T06:00:00",
        multi_label=multi_label,
    )
    expected = common.LineIndex()
    for line in (3, 5, 7, 9):
        expected.add(line, True)
    check = labels.check_labels(lines, form, expected, uri="s3://b/annotations/", item="task")
    try:
        assert check.problems == [
            (14, f"label 'cat' is not one of {', '.join(classes)}"),
        ]
        assert check.missing == [5, 9]
        label = check.labels.get(3)
        if multi_label:
            assert label["class_names"] == right and label["class_ids"] == [0, 1]
        else:
            assert (label["class_name"], label["class_id"]) == (classes[1], 1)
        # Label Studio's time of the winning annotation, in Ground Truth's form.
        assert label["creation_date"] == "2026-12-05T05:20:00.123456"
    finally:
        check.close()
        expected.close()


def test_annotations_that_cannot_be_labels_say_why() -> None:
    def one(choices: list[str], data: dict[str, Any]) -> studio.StudioAnnotation:
        item = export.annotation(7, choices, updated_at="2026-12-05T05:00:00Z")
        (found,) = studio.annotations_in(body(export.annotation_file(70, data, item)))
        return found

    def why(found: studio.StudioAnnotation, multi_label: bool = False) -> str:
        with pytest.raises(ValueError) as caught:
            studio.label_line(found, attribute="label", multi_label=multi_label, run_name=RUN)
        return str(caught.value)

    ours = export.task_data(3, RUN, TEXT)
    assert why(one([], ours)) == "annotation 7 by ann@example.com chose nothing in 'label'"
    assert why(one([], ours), multi_label=True).endswith("chose nothing in 'label'")
    assert why(one(["positive", "neutral"], ours)) == (
        "annotation 7 by ann@example.com chose 2 labels (['positive', 'neutral']); choose one"
    )
    assert why(one(["positive"], export.task_data(3, "reviews-other", TEXT))).startswith(
        "is not a task of run reviews-run1 (its smkit-run is 'reviews-other')"
    )
    assert why(one(["positive"], {**TEXT, "smkit-run": RUN})) == (
        "has no integer smkit-line in its data (got None)"
    )
    # A result of another control (a config edited in Label Studio) is no choice.
    item = export.annotation(8, ["positive"], updated_at="2026-12-05T05:00:00Z")
    item["result"][0]["from_name"] = "sentiment"
    (found,) = studio.annotations_in(body(export.annotation_file(80, ours, item)))
    assert found.choices is None

    for raw, message in (
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"id": 1}', "neither a Label Studio annotation"),
        (body({"id": 1, "data": {}, "annotations": [{"id": "x"}]}), "need integer ids"),
    ):
        with pytest.raises(studio.NotAnExportError, match=message):
            studio.annotations_in(raw)


def test_labeling_config_and_storages_follow_the_workflow() -> None:
    config = studio.labeling_config("image", ["shoe", 'bag "XL"', "watch"], multi_label=True)
    assert '<Image name="image" value="$image"/>' in config
    assert '<Choices name="label" toName="image" choice="multiple" required="true">' in config
    assert "<Choice value='bag \"XL\"'/>" in config
    single = studio.labeling_config("text", ["a", "b"], multi_label=False)
    assert '<Text name="text" value="$text"/>' in single and 'choice="single-radio"' in single

    settings = studio.storage_settings(
        bucket=BUCKET,
        run_prefix="auto-labeling/reviews/run1/",
        run_name=RUN,
        region="eu-west-1",
        kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/k",
    )
    assert settings["source"] == {
        "title": "reviews-run1 tasks",
        "bucket": BUCKET,
        "region_name": "eu-west-1",
        "prefix": "auto-labeling/reviews/run1/label-studio/tasks",
        "regex_filter": r".*\.json",
        "use_blob_urls": False,
        "recursive_scan": False,
        "presign": True,
        "presign_ttl": 15,
    }
    assert settings["target"]["prefix"] == "auto-labeling/reviews/run1/label-studio/annotations"
    assert settings["target"]["can_delete_objects"] is False
    assert "s3_endpoint" not in settings["target"]
    assert "aws_access_key_id" not in settings["source"]
    long_name = "w" * 20 + "-" + "r" * 40
    title = studio.project_title(long_name)
    assert len(title) == 50 and title.startswith("w" * 20 + "-") and title != long_name[:50]


# --- the run on moto ------------------------------------------------------------------------


def waiting_run(aws: Aws) -> tuple[dict[str, Any], dict[str, Any]]:
    """A label_studio run waiting for lines 3, 5 and 7 (see conftest's TEXTS)."""
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS)})
    assert run["human_mode"] == "label_studio"
    routed = route.handler({"run": run})
    review.request_handler({"token": "token-ls", "run": run, "route": routed})
    return run, routed


def put_annotation(aws: Aws, run: dict[str, Any], name: str, value: dict[str, Any]) -> str:
    key = f"{run['prefix']}{studio.ANNOTATIONS_DIR}{name}"
    aws.put(key, json.dumps(value))
    return key


def arrived(key: str) -> dict[str, Any]:
    return studio_review.annotations_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )


def test_tasks_hold_each_object_with_its_line_and_run(
    studio_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = studio_aws
    monkeypatch.setattr(studio_review, "TASKS_PER_FILE", 2)
    run, routed = waiting_run(aws)
    prefix = f"{run['prefix']}label-studio/tasks/"
    assert aws.keys(prefix) == [f"{prefix}000001.json", f"{prefix}000002.json"]
    tasks = [t for key in aws.keys(prefix) for t in json.loads(aws.text(key))]
    assert tasks == [
        {"data": {"text": TEXTS[line - 1], "smkit-line": line, "smkit-run": run["run_name"]}}
        for line in (3, 5, 7)
    ]
    request = json.loads(aws.text(f"{run['prefix']}human/request.json"))
    assert request["mode"] == "label_studio" and request["task_files"] == 2
    assert request["annotations_uri"] == f"s3://{BUCKET}/{run['prefix']}label-studio/annotations/"
    (message,) = aws.messages()
    assert message["Subject"] == f"Labels needed in Label Studio: {run['run_name']}"
    assert f"smkit label studio-setup reviews --run {run['run_id']}" in message["Message"]
    assert f"s3://{BUCKET}/{prefix}" in message["Message"]
    # Asking again (a re-run while people label) writes the same files again.
    before = {key: aws.text(key) for key in aws.keys(prefix)}
    review.request_handler({"token": "token-2", "run": run, "route": routed})
    assert {key: aws.text(key) for key in aws.keys(prefix)} == before


def test_label_studio_image_runs_need_images_in_the_data_bucket(
    studio_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = studio_aws
    monkeypatch.setenv("DATA_TYPE", "image")
    monkeypatch.setenv("LABEL_STUDIO_IMAGES_PREFIX", "photos/")
    uri = aws.put(
        "datasets/photos.manifest",
        "".join(
            json.dumps({"source-ref": ref}) + "\n"
            for ref in (
                f"s3://{BUCKET}/photos/1.jpg",
                "s3://elsewhere/photos/2.jpg",
                f"s3://{BUCKET}/other/3.jpg",
            )
        ),
    )
    with pytest.raises(common.MalformedManifestError) as caught:
        prepare.handler({"input": {"manifest_uri": uri}})
    message = str(caught.value)
    assert "has 2 malformed lines" in message
    assert f"line 2: 'source-ref' must be under s3://{BUCKET}/photos/ for Label Studio" in message
    assert "line 3:" in message
    # The same manifest is fine for an external tool.
    assert prepare.handler({"input": {"manifest_uri": uri, "human_mode": "external"}})["total"] == 3


def test_the_run_waits_reports_progress_and_resumes_on_valid_annotations(
    studio_aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    aws = studio_aws
    run, routed = waiting_run(aws)
    aws.messages()
    name = run["run_name"]

    def ann(task_id: int, line: int, annotation_id: int, choice: str, minute: int) -> str:
        item = export.annotation(
            annotation_id,
            [choice] if choice else [],
            updated_at=f"2026-12-05T06:{minute:02d}:00.000001Z",
            cancelled=not choice,
        )
        data = export.task_data(line, name, {"text": TEXTS[line - 1]})
        return put_annotation(
            aws, run, str(annotation_id), export.annotation_file(task_id, data, item)
        )

    # First annotation: progress only (one of three is below the first milestone).
    result = arrived(ann(21, 3, 201, "neutral", 1))
    assert result == {"status": "waiting", "labelled": 1, "total": 3, "problems": None}
    (message,) = aws.messages()
    assert message["Subject"] == f"Label Studio progress: {name}"
    assert message["Message"] == "1 of 3 labelled (33%)."

    # A wrong class: published once, and the run keeps waiting.
    result = arrived(ann(22, 5, 202, "meh", 2))
    assert result["status"] == "rejected"
    assert result["problems"] == "1 problem: task 22: label 'meh' is not one of " + ", ".join(
        LABELS
    )
    (message,) = aws.messages()
    assert message["Subject"] == f"Label Studio annotations need fixing: {name}"
    assert message["Message"].startswith("1 of 3 labelled. The run keeps waiting")
    assert "task 22: label 'meh'" in message["Message"]
    # The same problem again (another file arrives) is not published twice.
    assert arrived(ann(23, 7, 203, "", 3))["status"] == "rejected"
    assert aws.messages() == []
    progress = json.loads(aws.text(f"{run['prefix']}label-studio/progress.json"))
    assert progress["summary"] == "1 of 3 labelled; 1 skipped task still needs an annotation (23)"
    assert capture_calls("SendTaskSuccess") == []
    assert not aws.keys(f"{run['prefix']}human/labels.manifest")

    # Corrections: a newer annotation on task 22, and someone labels the skipped task.
    assert arrived(ann(22, 5, 204, "negative", 4))["status"] == "waiting"
    (message,) = aws.messages()
    assert message["Message"] == (
        "2 of 3 labelled; 1 skipped task still needs an annotation (23) (66%)."
    )
    result = arrived(ann(23, 7, 205, "positive", 5))
    assert result == {"status": "complete", "labelled": 3, "total": 3, "problems": None}
    (message,) = aws.messages()
    assert message["Subject"] == f"Labelled in Label Studio: {name}"
    assert "3 of 3 labelled" in message["Message"]

    # The labels file resumes the run through the same check as external labels.
    key = f"{run['prefix']}human/labels.manifest"
    written = aws.lines(key)
    assert [(line["smkit-line"], line["label"]) for line in written] == [
        (3, "neutral"),
        (5, "negative"),
        (7, "positive"),
    ]
    assert written[1]["label-metadata"]["label-studio-annotation"] == 204
    assert written[1]["label-metadata"]["annotator"] == "ann@example.com"
    resumed = review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )
    assert resumed == {"status": "resumed"}
    (sent,) = capture_calls("SendTaskSuccess")
    assert sent["taskToken"] == "token-ls"
    # Later edits in Label Studio do not touch the resumed run.
    assert arrived(ann(21, 3, 206, "positive", 9)) == {"status": "already-resumed"}

    summary = merge.handler({"run": run, "route": routed, "human": json.loads(sent["output"])})
    assert (summary["auto_labeled"], summary["human_labeled"]) == (4, 3)
    assert summary["human_mode"] == "label_studio"
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    assert [line["source"] for line in output] == TEXTS
    assert output[4]["label"] == 1
    assert output[4]["label-metadata"] == {
        "class-name": "negative",
        "confidence": 1.0,
        "type": "groundtruth/text-classification",
        "job-name": f"labeling-job/{name}",
        "human-annotated": "yes",
        "creation-date": "2026-12-05T06:04:00.000001",
    }


def test_converted_files_are_read_once_and_strangers_are_named(
    studio_aws: Aws, capture_calls: Callable[[str], list[dict[str, Any]]]
) -> None:
    aws = studio_aws
    run, _routed = waiting_run(aws)
    name = run["run_name"]
    item = export.annotation(301, ["neutral"], updated_at="2026-12-05T06:00:00Z")
    data = export.task_data(3, name, {"text": TEXTS[2]})
    first = put_annotation(aws, run, "301", export.annotation_file(31, data, item))
    arrived(first)
    reads = len(capture_calls("GetObject"))
    stranger = export.task_data(5, "reviews-other", {"text": TEXTS[4]})
    put_annotation(
        aws,
        run,
        "302",
        export.annotation_file(
            32, stranger, export.annotation(302, ["neutral"], updated_at="2026-12-05T06:09:00Z")
        ),
    )
    put_annotation(aws, run, "notes.txt", {"hello": "world"})
    result = arrived(first)
    # Request, progress, index, to-label manifest and the two new files: not file 301.
    new_reads = [c["Key"] for c in capture_calls("GetObject")[reads:]]
    assert f"{run['prefix']}{studio.ANNOTATIONS_DIR}301" not in new_reads
    assert result["status"] == "rejected" and result["labelled"] == 1
    assert result["problems"] == (
        f"2 problems: s3://{BUCKET}/{run['prefix']}{studio.ANNOTATIONS_DIR}notes.txt: neither "
        "a Label Studio annotation ('result' and 'task') nor a task ('data' and 'annotations'); "
        "task 32: is not a task of run "
        f"{name} (its smkit-run is 'reviews-other'): give each run's storages a project of "
        "their own"
    )


def test_arrivals_elsewhere_or_for_other_modes_are_left_alone(studio_aws: Aws) -> None:
    aws = studio_aws

    def event(key: str, bucket: str = BUCKET) -> dict[str, Any]:
        return {"detail": {"bucket": {"name": bucket}, "object": {"key": key}}}

    key = f"auto-labeling/reviews/r1/{studio.ANNOTATIONS_DIR}1"
    assert studio_review.annotations_handler(event(key)) == {"status": "no-request"}
    assert studio_review.annotations_handler(event(key, "other")) == {"status": "ignored"}
    assert studio_review.annotations_handler(event("elsewhere/label-studio/annotations/1")) == {
        "status": "ignored"
    }
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "human_mode": "external"})
    routed = route.handler({"run": run})
    review.request_handler({"token": "t", "run": run, "route": routed})
    assert not aws.keys(f"{run['prefix']}label-studio/")
    assert studio_review.annotations_handler(
        event(f"{run['prefix']}{studio.ANNOTATIONS_DIR}1")
    ) == {"status": "ignored"}


def test_a_multi_label_run_merges_ground_truth_multi_label_lines(
    studio_aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    capture_calls: Callable[[str], list[dict[str, Any]]],
) -> None:
    aws = studio_aws
    monkeypatch.setenv("MULTI_LABEL", "true")
    monkeypatch.setenv("OUTPUT_TYPE", "groundtruth/text-classification-multilabel")
    texts = ["Great and calm", "Hmm", "Awful", "So-so"]
    run = prepare.handler({"input": {"manifest_uri": write_manifest(aws, texts)}})
    serve_predictions(
        [
            [
                {
                    "labels": ["positive", "neutral"],
                    "confidence": 0.95,
                    "probabilities": {"positive": 0.99, "neutral": 0.95, "negative": 0.01},
                },
                {"labels": ["neutral"], "confidence": 0.5},
            ],
            [{"labels": ["negative"], "confidence": 0.97}],
            [{"labels": ["neutral", "negative"], "confidence": 0.3}],
        ]
    )
    for batch in json.loads(aws.text(run["chunks_key"])):
        predict.handler({"run": run, "batch": batch})
    routed = route.handler({"run": run})
    assert (routed["auto_count"], routed["human_count"]) == (2, 2)
    review.request_handler({"token": "token-ml", "run": run, "route": routed})
    assert json.loads(aws.text(f"{run['prefix']}human/request.json"))["multi_label"] is True

    name = run["run_name"]
    for task_id, line, choices in ((41, 2, ["neutral", "positive"]), (42, 4, ["negative"])):
        item = export.annotation(task_id * 10, choices, updated_at="2026-12-05T07:00:00Z")
        data = export.task_data(line, name, {"text": texts[line - 1]})
        key = put_annotation(aws, run, str(task_id), export.annotation_file(task_id, data, item))
        result = arrived(key)
    assert result["status"] == "complete"
    labels_key = f"{run['prefix']}human/labels.manifest"
    assert review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": labels_key}}}
    ) == {"status": "resumed"}
    (sent,) = capture_calls("SendTaskSuccess")
    summary = merge.handler({"run": run, "route": routed, "human": json.loads(sent["output"])})
    assert summary["per_class"] == {
        "positive": {"auto": 1, "human": 1},
        "negative": {"auto": 1, "human": 1},
        "neutral": {"auto": 1, "human": 1},
    }
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    predicted_at = output[0]["label-metadata"]["creation-date"]
    # LABEL-7 (sms-data-output, multi-label): class ids under the attribute, their names in
    # class-map and confidences in confidence-map, keyed by the id as a string.
    assert output == [
        {
            "source": texts[0],
            "id": 0,
            "label": [0, 2],
            "label-metadata": {
                "job-name": f"labeling-job/{name}",
                "class-map": {"0": "positive", "2": "neutral"},
                "human-annotated": "no",
                "creation-date": predicted_at,
                "confidence-map": {"0": 0.99, "2": 0.95},
                "type": "groundtruth/text-classification-multilabel",
            },
        },
        {
            "source": texts[1],
            "id": 1,
            "label": [2, 0],
            "label-metadata": {
                "job-name": f"labeling-job/{name}",
                "class-map": {"2": "neutral", "0": "positive"},
                "human-annotated": "yes",
                "creation-date": "2026-12-05T07:00:00.000000",
                "confidence-map": {"2": 1.0, "0": 1.0},
                "type": "groundtruth/text-classification-multilabel",
            },
        },
        {
            "source": texts[2],
            "id": 2,
            "label": [1],
            "label-metadata": {
                "job-name": f"labeling-job/{name}",
                "class-map": {"1": "negative"},
                "human-annotated": "no",
                "creation-date": predicted_at,
                "confidence-map": {"1": 0.97},
                "type": "groundtruth/text-classification-multilabel",
            },
        },
        {
            "source": texts[3],
            "id": 3,
            "label": [1],
            "label-metadata": {
                "job-name": f"labeling-job/{name}",
                "class-map": {"1": "negative"},
                "human-annotated": "yes",
                "creation-date": "2026-12-05T07:00:00.000000",
                "confidence-map": {"1": 1.0},
                "type": "groundtruth/text-classification-multilabel",
            },
        },
    ]


def test_multi_label_answers_outside_the_contract_fail_the_batch(
    studio_aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = studio_aws
    monkeypatch.setenv("MULTI_LABEL", "true")
    run = prepare.handler({"input": {"manifest_uri": write_manifest(aws, ["a", "b"])}})
    serve_predictions(
        [[{"labels": ["positive", "positive"], "confidence": 0.9}, {"label": "neutral"}]]
    )
    batch = json.loads(aws.text(run["chunks_key"]))[0]
    with pytest.raises(predict.InvalidPredictionError) as caught:
        predict.handler({"run": run, "batch": batch})
    assert "line 1: labels must be a list of at least one of the workflow's labels, each once" in (
        str(caught.value)
    )
    assert "got ['positive', 'positive']" in str(caught.value)
