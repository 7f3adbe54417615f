"""End to end with a real Label Studio: a run of each `label_studio` workflow of
config.yaml hands its low-confidence objects to Label Studio; a person sets the project
up (with label-studio-sdk, or `smkit label studio-setup --url`), labels every task
through Label Studio's API, some wrongly first; Label Studio's target storage writes
the annotations to S3 (moto's server); the kit's handler converts and checks them as S3
events would deliver them; the run resumes and its merged manifest is Ground Truth's.

`make test-label-studio` runs this (it needs .venv-labelstudio); see docs/label-studio.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto.moto_api._internal import moto_api_backend
from moto.sns.models import sns_backends

from sagemaker_constructs.labeling.runtime.autolabel import (
    merge,
    predict,
    prepare,
    review,
    route,
    studio,
    studio_review,
)
from smkit_cli.context import Runtime
from smkit_cli.main import cli

from .conftest import CONFIG, REGION, LabelStudio, Person, World

ACCOUNT = "123456789012"
GROUND_TRUTH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
HANDLERS = (
    "autolabel.prepare.handler",
    "autolabel.predict.handler",
    "autolabel.route.handler",
    "autolabel.review.request_handler",
    "autolabel.review.labels_arrived_handler",
    "autolabel.studio_review.annotations_handler",
    "autolabel.merge.handler",
)
# Twenty reviews: the model's guess and confidence, and what a careful person says.
REVIEWS = [
    (f"Review {n}: " + text, guess, confidence, truth)
    for n, (text, guess, confidence, truth) in enumerate(
        [
            ("Works great", "positive", 0.97, "positive"),
            ("Broke in a day", "negative", 0.95, "negative"),
            ("It is blue", "neutral", 0.55, "neutral"),
            ("Love it", "positive", 0.99, "positive"),
            ("Not sure", "neutral", 0.40, "neutral"),
            ("Awful support", "negative", 0.91, "negative"),
            ("Arrived Tuesday", "neutral", 0.62, "neutral"),
            ("Could be better", "negative", 0.51, "negative"),
            ("Best purchase", "positive", 0.98, "positive"),
            ("Meh", "neutral", 0.35, "neutral"),
            ("Returned it", "negative", 0.70, "negative"),
            ("Fine I guess", "positive", 0.45, "neutral"),
            ("Superb", "positive", 0.96, "positive"),
            ("Stopped working", "negative", 0.93, "negative"),
            ("Okay for the price", "positive", 0.58, "positive"),
            ("Too small", "negative", 0.66, "negative"),
            ("Exactly as described", "positive", 0.92, "positive"),
            ("Color is off", "negative", 0.49, "negative"),
            ("Does the job", "positive", 0.77, "positive"),
            ("No opinion", "neutral", 0.30, "neutral"),
        ]
    )
]


@contextmanager
def functions_of(world: World, workflow: str) -> Iterator[None]:
    """The environment the stack gives `workflow`'s functions (one process plays all)."""
    merged: dict[str, str] = {}
    for handler in HANDLERS:
        for name, value in world.function_environment(handler, workflow).items():
            assert merged.setdefault(name, value) == value, f"{name} differs between functions"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in merged.items():
            patch.setenv(name, value)
        yield


def serve(predictions: list[list[dict[str, Any]]]) -> None:
    for answer in predictions:
        moto_api_backend.set_sagemaker_result(
            json.dumps({"predictions": answer}),
            "application/json",
            "AllTraffic",
            "",
            ACCOUNT,
            REGION,
        )


def pre_label(world: World, manifest: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The state machine's steps up to the human step, as it runs them."""
    world.s3.put_object(
        Bucket=world.bucket, Key=manifest, Body="".join(json.dumps(x) + "\n" for x in lines)
    )
    run = prepare.handler(
        {"input": {"manifest_uri": f"s3://{world.bucket}/{manifest}"}, "execution_name": "e2e"}
    )
    assert run["human_mode"] == "label_studio"
    for batch in json.loads(
        world.s3.get_object(Bucket=world.bucket, Key=run["chunks_key"])["Body"].read()
    ):
        predict.handler({"run": run, "batch": batch})
    return run


class Arrivals:
    """S3 -> EventBridge -> the annotations function: one event per object Label Studio
    wrote or rewrote since the last delivery."""

    def __init__(self, world: World, run: dict[str, Any]) -> None:
        self.world, self.prefix = world, f"{run['prefix']}{studio.ANNOTATIONS_DIR}"
        self.seen: dict[str, str] = {}

    def deliver(self) -> list[dict[str, Any]]:
        answers = []
        pages = self.world.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.world.bucket, Prefix=self.prefix
        )
        for item in (i for page in pages for i in page.get("Contents", [])):
            if self.seen.get(item["Key"]) != item["ETag"]:
                self.seen[item["Key"]] = item["ETag"]
                event = {
                    "detail": {
                        "bucket": {"name": self.world.bucket},
                        "object": {"key": item["Key"]},
                    }
                }
                answers.append(studio_review.annotations_handler(event))
        return answers


def published(world: World, since: int = 0) -> list[tuple[str, str]]:
    sent = sns_backends[ACCOUNT][REGION].topics[world.topic_arn].sent_notifications
    return [(str(subject), message) for _id, message, subject, *_ in sent[since:]]


def smkit(*args: str) -> Any:
    runtime = Runtime(
        session_factory=lambda _profile, region: boto3.Session(region_name=region or REGION)
    )
    result = CliRunner().invoke(
        cli, ["--config", str(CONFIG), *args], obj=runtime, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def resume_and_merge(
    world: World, run: dict[str, Any], routed: dict[str, Any]
) -> list[dict[str, Any]]:
    """The labels file's arrival resumes the run (the same path as external labels); the
    merge step writes the output manifest."""
    key = f"{run['prefix']}human/labels.manifest"
    resumed = review.labels_arrived_handler(
        {"detail": {"bucket": {"name": world.bucket}, "object": {"key": key}}}
    )
    assert resumed == {"status": "resumed"}
    summary = merge.handler(
        {"run": run, "route": routed, "human": {"labels_uri": f"s3://{world.bucket}/{key}"}}
    )
    assert summary["human_mode"] == "label_studio"
    body = world.s3.get_object(Bucket=world.bucket, Key=f"{run['prefix']}output/output.manifest")[
        "Body"
    ]
    return [json.loads(line) for line in body.read().decode().splitlines()]


def test_people_label_a_text_run_in_label_studio_and_it_resumes(
    world: World, label_studio: LabelStudio, person: Person
) -> None:
    with functions_of(world, "reviews"):
        serve(
            [
                [{"label": g, "confidence": c} for _t, g, c, _truth in REVIEWS[i : i + 5]]
                for i in range(0, 20, 5)
            ]
        )
        run = pre_label(world, "datasets/reviews.manifest", [{"source": t} for t, *_ in REVIEWS])
        routed = route.handler({"run": run})
        people = [n + 1 for n, (_t, _g, c, _truth) in enumerate(REVIEWS) if c < 0.9]
        assert routed["human_count"] == len(people) == 12
        before = len(published(world))
        review.request_handler({"token": "token-reviews", "run": run, "route": routed})
        ((subject, message),) = published(world, before)
        assert subject == f"Labels needed in Label Studio: {run['run_name']}"
        assert f"smkit label studio-setup reviews --run {run['run_id']}" in message

        # A person sets the project up with what smkit prints, through label-studio-sdk.
        setup = smkit("label", "studio-setup", "reviews", "--json")
        assert setup["run_id"] == run["run_id"]
        project = person(
            "create_project",
            title=setup["project"]["title"],
            label_config=setup["project"]["label_config"],
            description=setup["project"]["description"],
        )
        storages = person(
            "connect_storages",
            project=project,
            source=setup["source_storage"],
            target=setup["target_storage"],
        )
        assert person("sync_source", storage=storages["source"])["status"] == "completed"
        tasks = person("tasks", project=project)
        by_line = {t["data"]["smkit-line"]: t for t in tasks}
        assert sorted(by_line) == people
        assert all(t["data"]["smkit-run"] == run["run_name"] for t in tasks)
        assert by_line[3]["data"]["text"] == REVIEWS[2][0]

        # Every task is annotated; four of them wrongly at first.
        arrivals = Arrivals(world, run)
        truth = {n: REVIEWS[n - 1][3] for n in people}
        two_choices, unknown, skipped, wrong_class = people[:4]
        annotation_of: dict[int, int] = {}
        for line in people:
            task = by_line[line]["id"]
            if line == two_choices:
                choices = ["positive", "negative"]
            elif line == unknown:
                choices = ["sarcastic"]
            elif line == wrong_class:
                choices = ["positive" if truth[line] != "positive" else "negative"]
            else:
                choices = [truth[line]]
            annotation_of[line] = person(
                "annotate", task=task, choices=choices, to_name="text", cancelled=line == skipped
            )
        answers = arrivals.deliver()
        assert answers, "Label Studio wrote no annotation to S3"
        last = answers[-1]
        assert last["status"] == "rejected"
        assert (last["labelled"], last["total"]) == (9, 12)
        assert (
            f"task {by_line[two_choices]['id']}: annotation {annotation_of[two_choices]} by "
            in (last["problems"])
        )
        assert "chose 2 labels (['positive', 'negative']); choose one" in last["problems"]
        assert (
            f"task {by_line[unknown]['id']}: label 'sarcastic' is not one of positive, negative, "
            "neutral" in last["problems"]
        )
        progress = json.loads(
            world.s3.get_object(Bucket=world.bucket, Key=f"{run['prefix']}{studio.PROGRESS_FILE}")[
                "Body"
            ].read()
        )
        skipped_task = by_line[skipped]["id"]
        assert progress["summary"] == (
            f"9 of 12 labelled; 1 skipped task still needs an annotation ({skipped_task})"
        )
        assert not world.s3.list_objects_v2(
            Bucket=world.bucket, Prefix=f"{run['prefix']}human/labels.manifest"
        ).get("Contents")

        # Corrections: two annotations fixed in place, the skipped task and the wrong class
        # get a new annotation (the latest accepted one wins); then the target storage syncs.
        person(
            "correct",
            annotation=annotation_of[two_choices],
            choices=[truth[two_choices]],
            to_name="text",
        )
        person(
            "correct", annotation=annotation_of[unknown], choices=[truth[unknown]], to_name="text"
        )
        for line in (skipped, wrong_class):
            person("annotate", task=by_line[line]["id"], choices=[truth[line]], to_name="text")
        assert person("sync_target", storage=storages["target"])["status"] == "completed"
        answers = arrivals.deliver()
        assert answers[-1] == {"status": "complete", "labelled": 12, "total": 12, "problems": None}
        subjects = [s for s, _m in published(world, before)]
        assert f"Label Studio annotations need fixing: {run['run_name']}" in subjects
        assert subjects[-1] == f"Labelled in Label Studio: {run['run_name']}"

        output = resume_and_merge(world, run, routed)

    # The merged manifest, line by line, in Ground Truth's text classification format.
    labels = ["positive", "negative", "neutral"]
    assert len(output) == 20
    for n, (line, (text, guess, confidence, answer)) in enumerate(
        zip(output, REVIEWS, strict=True), 1
    ):
        human = n in people
        assert set(line) == {"source", "label", "label-metadata"}
        assert line["source"] == text
        metadata = line["label-metadata"]
        assert set(metadata) == {
            "class-name", "confidence", "type", "job-name", "human-annotated", "creation-date"
        }  # fmt: skip
        name = answer if human else guess
        assert (line["label"], metadata["class-name"]) == (labels.index(name), name)
        assert metadata["confidence"] == (1.0 if human else confidence)
        assert metadata["human-annotated"] == ("yes" if human else "no")
        assert metadata["type"] == "groundtruth/text-classification"
        assert metadata["job-name"] == f"labeling-job/{run['run_name']}"
        assert GROUND_TRUTH_DATE.match(metadata["creation-date"])


PHOTOS = [
    # (key, the model's labels, confidence, what a person says)
    ("catalog/1.png", ["shoe"], 0.95, None),
    ("catalog/2.png", ["bag"], 0.40, ["bag", "watch"]),
    ("catalog/3.png", ["watch"], 0.85, None),
    ("catalog/4.png", ["shoe", "bag"], 0.55, ["shoe"]),
    ("catalog/5.png", ["bag"], 0.30, ["bag"]),
    ("catalog/6.png", ["watch"], 0.60, ["watch", "shoe"]),
]


def test_an_image_run_set_up_by_smkit_resumes_with_multi_label_annotations(
    world: World, label_studio: LabelStudio, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, *_ in PHOTOS:
        world.s3.put_object(Bucket=world.bucket, Key=key, Body=f"PNG {key}".encode())
    with functions_of(world, "photos"):
        serve(
            [
                [
                    {"labels": labels, "confidence": c, "probabilities": {x: c for x in labels}}
                    for _k, labels, c, _truth in PHOTOS
                ]
            ]
        )
        run = pre_label(
            world,
            "datasets/photos.manifest",
            [{"source-ref": f"s3://{world.bucket}/{key}"} for key, *_ in PHOTOS],
        )
        routed = route.handler({"run": run})
        review.request_handler({"token": "token-photos", "run": run, "route": routed})

        # smkit applies the project and storages through Label Studio's API; a second
        # apply changes nothing.
        monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.token)
        applied = smkit("label", "studio-setup", "photos", "--url", label_studio.url, "--json")
        assert applied["created"] == ["project", "source storage", "target storage"]
        assert applied["imported_tasks"] == 4
        again = smkit("label", "studio-setup", "photos", "--url", label_studio.url, "--json")
        assert (again["project_id"], again["created"], again["updated"]) == (
            applied["project_id"], [], []
        )  # fmt: skip
        tasks = {t["data"]["smkit-line"]: t for t in person("tasks", project=applied["project_id"])}
        assert sorted(tasks) == [2, 4, 5, 6]

        # The browser gets each image through a presigned URL of the data bucket.
        image = person("image", task=tasks[2]["id"])
        assert image["status"] == 303
        assert image["location"].startswith(f"{world.moto_url}/{world.bucket}/catalog/2.png?")
        assert "X-Amz-Signature=" in image["location"]
        assert image["body"] == "PNG catalog/2.png"

        arrivals = Arrivals(world, run)
        for line, task in tasks.items():
            person("annotate", task=task["id"], choices=PHOTOS[line - 1][3], to_name="image")
        assert arrivals.deliver()[-1]["status"] == "complete"
        output = resume_and_merge(world, run, routed)

    labels = ["shoe", "bag", "watch"]
    for n, (line, (key, guess, confidence, answer)) in enumerate(
        zip(output, PHOTOS, strict=True), 1
    ):
        names = answer or guess
        metadata = line["label-metadata"]
        assert line["source-ref"] == f"s3://{world.bucket}/{key}"
        assert line["label"] == [labels.index(x) for x in names]
        assert metadata["class-map"] == {str(labels.index(x)): x for x in names}
        assert metadata["confidence-map"] == {
            str(labels.index(x)): 1.0 if answer else confidence for x in names
        }
        assert metadata["human-annotated"] == ("yes" if answer else "no"), n
        assert metadata["type"] == "groundtruth/image-classification-multilabel"
        assert GROUND_TRUTH_DATE.match(metadata["creation-date"])
