"""People's labels: one check for every tool (all problems at once), Ground Truth's
creation-date format in every output line, and answers that always fit an SNS message."""

from __future__ import annotations

import datetime
import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from sagemaker_constructs.labeling.runtime.autolabel import (
    common,
    labels,
    merge,
    predict,
    review,
    route,
)

from .conftest import BUCKET, LABELS, TEXTS, Aws, pre_label, write_manifest

GROUND_TRUTH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


def arrive(aws: Aws, run: dict[str, Any], lines: list[Any]) -> dict[str, Any]:
    """People put back a labels file (JSON values, or raw text lines) for a waiting run."""
    key = f"{run['prefix']}human/labels.manifest"
    body = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    aws.put(key, body)
    return review.labels_arrived_handler(
        {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    )


def waiting_run(aws: Aws) -> tuple[dict[str, Any], dict[str, Any]]:
    """An external-review run waiting for people's labels of lines 3, 5 and 7."""
    run = pre_label(aws, {"manifest_uri": write_manifest(aws, TEXTS), "human_mode": "external"})
    routed = route.handler({"run": run})
    review.request_handler({"token": "token-1", "run": run, "route": routed})
    aws.messages()
    return run, routed


def test_creation_dates_always_carry_microseconds(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    class WholeSecond(datetime.datetime):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> WholeSecond:
            return cls(2026, 8, 1, 10, 0, 0, tzinfo=tz)

    # The model's labels are made at a whole second; people's short-form labels take the
    # labels file's time (S3 keeps whole seconds); an augmented line names its own.
    monkeypatch.setattr(
        predict, "datetime", SimpleNamespace(datetime=WholeSecond, UTC=datetime.UTC)
    )
    run, routed = waiting_run(aws)
    dated = {
        "smkit-line": 7,
        "label": 2,
        "label-metadata": {"class-name": "neutral", "creation-date": "2026-08-02T10:30:00+02:00"},
    }
    assert arrive(
        aws,
        run,
        [{"smkit-line": 3, "label": "neutral"}, {"smkit-line": 5, "label": "negative"}, dated],
    ) == {"status": "resumed"}
    merge.handler(
        {
            "run": run,
            "route": routed,
            "human": {"labels_uri": f"s3://{BUCKET}/{run['prefix']}human/labels.manifest"},
        }
    )
    output = aws.lines(f"{run['prefix']}output/output.manifest")
    dates = [line["label-metadata"]["creation-date"] for line in output]
    assert all(GROUND_TRUTH_DATE.match(date) for date in dates), dates
    assert dates[0] == "2026-08-01T10:00:00.000000"  # the model's
    assert dates[6] == "2026-08-02T08:30:00.000000"  # in UTC, like Ground Truth's


def test_a_creation_date_that_is_not_a_time_is_a_problem_of_its_line() -> None:
    form = labels.LabelFormat(
        attribute="label", labels=LABELS, default_job_name="job", default_date="2026-08-01"
    )
    line = {"smkit-line": 3, "label": 0, "label-metadata": {"creation-date": "yesterday"}}
    with pytest.raises(ValueError, match=r"creation-date must be an ISO 8601 time .*'yesterday'"):
        labels.parse_label(json.dumps(line).encode(), form)
    _target, label = labels.parse_label(b'{"smkit-line": 3, "label": 0}', form)
    assert label["creation_date"] == "2026-08-01T00:00:00.000000"


def test_a_rejection_echoing_huge_values_still_reaches_people(aws: Aws) -> None:
    run, _routed = waiting_run(aws)
    huge = "x" * 300_000
    result = arrive(
        aws,
        run,
        [
            {"smkit-line": 3, "label": huge},
            {"smkit-line": 5, "label": 1, "label-metadata": {"class-name": huge}},
            {"smkit-line": 7, "label": "neutral", "confidence": huge},
            {"smkit-line": 7, "label": [huge]},
        ],
    )
    assert result["status"] == "rejected"
    (message,) = aws.messages()
    assert len(message["Message"].encode()) < common.SNS_MESSAGE_MAX_BYTES
    text = message["Message"]
    assert f"line 1: label '{'x' * 79}... (300000 characters) is not one of" in text
    assert "line 2: class id 1 is 'negative' but class-name says 'xxx" in text
    assert "line 3: confidence must be a number (got 'xxx" in text
    assert "line 4: 'label' must be a class name or id (got ['xxx" in text
    assert len(text) < 2_000


def test_every_message_fits_sns_whatever_it_says() -> None:
    assert common.sns_message("short") == "short"
    long = "é" * 200_000  # 400,000 bytes
    cut = common.sns_message(long)
    assert len(cut.encode()) <= common.SNS_MESSAGE_MAX_BYTES - 1024
    assert cut.endswith("bytes; the rest is in the log)") and cut.startswith("éé")
    subject = common.sns_subject("Labels rejected: " + "r" * 200 + "\nsecond line")
    assert len(subject) == common.SNS_SUBJECT_MAX_CHARS and "\n" not in subject


def test_a_labels_file_with_bad_lines_and_missing_objects_reports_both(aws: Aws) -> None:
    run, _routed = waiting_run(aws)
    result = arrive(aws, run, [{"smkit-line": 3, "label": "meh"}, "not json"])
    assert result["status"] == "rejected"
    uri = f"s3://{BUCKET}/{run['prefix']}human/labels.manifest"
    assert result["problems"] == (
        f"{uri} has 2 problems: line 1: label 'meh' is not one of positive, negative, neutral; "
        "line 2: not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        "and it labels 0 of 3 objects; still missing smkit-line 3, 5, 7"
    )
    (message,) = aws.messages()
    assert result["problems"] in message["Message"]


def test_one_check_of_peoples_labels_serves_every_tool() -> None:
    """`check_labels` needs no S3: another tool's converter hands it lines."""
    form = labels.LabelFormat(
        attribute="label",
        labels=LABELS,
        default_job_name="labeling-job/x",
        default_date="2026-08-01T10:00:00.000000",
    )
    with labels.handed_out(enumerate([b'{"smkit-line": 3}', b'{"smkit-line": 5}'], 1)) as out:
        good = labels.check_labels(
            [(1, b'{"smkit-line": 5, "label": "negative"}'), (2, b'{"smkit-line": 3, "label": 2}')],
            form,
            out,
            uri="labels.jsonl",
        )
        assert good.ok and good.message() == ""
        assert good.labels.get(3)["class_name"] == "neutral"
        good.close()
        bad = labels.check_labels(
            [
                (1, b'{"smkit-line": 9, "label": 0}'),
                (2, b'{"smkit-line": 3, "label": 0}'),
                (3, b'{"smkit-line": 3, "label": 1}'),
            ],
            form,
            out,
            uri="labels.jsonl",
        )
        assert not bad.ok
        assert bad.message() == (
            "labels.jsonl has 2 problems: line 1: smkit-line 9 was not handed to people; "
            "line 3: a second label for smkit-line 3; and it labels 1 of 2 objects; still "
            "missing smkit-line 5"
        )
        bad.close()


def test_multi_label_labels_take_ground_truths_form_or_a_list_of_names() -> None:
    form = labels.LabelFormat(
        attribute="label",
        labels=LABELS,
        default_job_name="labeling-job/run",
        default_date="2026-08-01T10:00:00",
        multi_label=True,
    )
    ground_truth = {
        "smkit-line": 2,
        "label": [1, 0],
        "label-metadata": {
            "class-map": {"1": "negative", "0": "positive"},
            "confidence-map": {"1": 0.8, "0": 0.7},
            "job-name": "labeling-job/tags",
            "creation-date": "2026-08-02T08:30:00.000001",
            "human-annotated": "yes",
            "type": "groundtruth/text-classification-multilabel",
        },
    }
    target, label = labels.parse_label(json.dumps(ground_truth).encode(), form)
    assert (target, label["class_ids"], label["class_names"]) == (
        2,
        [1, 0],
        ["negative", "positive"],
    )
    assert label["confidences"] == [0.8, 0.7] and label["job_name"] == "labeling-job/tags"
    _target, short = labels.parse_label(b'{"smkit-line": 3, "label": ["neutral"]}', form)
    assert (short["class_ids"], short["confidences"]) == ([2], [1.0])

    def why(line: dict[str, Any]) -> str:
        with pytest.raises(ValueError) as caught:
            labels.parse_label(json.dumps(line).encode(), form)
        return str(caught.value)

    assert why({"smkit-line": 3, "label": "neutral"}) == (
        "'label' must be a list of at least one class name or id (got 'neutral')"
    )
    assert why({"smkit-line": 3, "label": []}).startswith("'label' must be a list of at least")
    assert why({"smkit-line": 3, "label": ["neutral", 2]}) == "'neutral' given more than once"
    assert why({"smkit-line": 3, "label": ["meh"]}) == (
        "label 'meh' is not one of positive, negative, neutral"
    )
    wrong_map = {**ground_truth, "label-metadata": {"class-map": {"1": "neutral"}}}
    assert why(wrong_map) == "class id 1 is 'negative' but class-map says 'neutral'"
