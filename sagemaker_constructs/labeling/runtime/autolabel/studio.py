"""Label Studio's side of the `label_studio` human step: the tasks the kit writes for
it, the labeling config and storage settings it needs, and the converter from what its
S3 target storage writes back to the kit's labels. Plain Python: the functions, the CLI
(`smkit label studio-setup`) and the tests share it.

Run layout (under the run's prefix, see `common`):

    label-studio/tasks/<n>.json        tasks for Label Studio's S3 source storage: JSON
                                       arrays of at most 1,000 tasks, each
                                       {"data": {"text" | "image": ..., "smkit-line": n,
                                       "smkit-run": "<run name>"}}
    label-studio/annotations/<key>     what Label Studio's S3 target storage writes: one
                                       annotation per object (its default) or one task
                                       with its annotations (FUTURE_SAVE_TASK_TO_STORAGE)
    label-studio/index.json            the converted annotation files by key and ETag (a
                                       cache: a file is read again only when it changed)
    label-studio/progress.json         "412 of 600 labelled", skipped tasks, problems

Which annotation counts (documented in docs/label-studio.md): for each object, the
latest accepted annotation wins, latest by `updated_at` (then by annotation id). An
annotation is accepted unless it was cancelled (a skipped task). A skipped object
still needs an annotation; an annotation saved after another one, or edited later,
replaces it. Label Studio's review and agreement features (Enterprise) are not used.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

from .common import LINE_KEY, shown

TASKS_DIR = "label-studio/tasks/"
ANNOTATIONS_DIR = "label-studio/annotations/"
INDEX_FILE = "label-studio/index.json"
PROGRESS_FILE = "label-studio/progress.json"
TASKS_PER_FILE = 1000
"""Tasks in one tasks file (Label Studio reads a whole file into memory)."""
RUN_KEY = "smkit-run"
"""Task data key naming the run a task belongs to."""
CONTROL = "label"
"""Name of the labeling config's `<Choices>` control (`from_name` in results)."""
DATA_KEYS = {"text": "text", "image": "image"}
"""Task data key of the object, by data type (`$text`, `$image` in the config)."""
MANIFEST_KEYS = {"text": "source", "image": "source-ref"}
PRESIGN_TTL_MINUTES = 15
"""How long an image's presigned URL lives (Label Studio signs a new one per view)."""
TITLE_MAX = 50
"""Label Studio's longest project title (PROJECT_TITLE_MAX_LEN)."""


# --- what the kit writes for Label Studio ----------------------------------------------------


def task(record: dict[str, Any], line: int, run_name: str, data_type: str) -> dict[str, Any]:
    """The Label Studio task of one object handed to people."""
    return {
        "data": {
            DATA_KEYS[data_type]: record[MANIFEST_KEYS[data_type]],
            LINE_KEY: line,
            RUN_KEY: run_name,
        }
    }


def tasks_key(index: int) -> str:
    """Run-relative key of tasks file `index` (from 1)."""
    return f"{TASKS_DIR}{index:06d}.json"


def project_title(run_name: str) -> str:
    """The Label Studio project of a run: its name, or a digest-suffixed cut of it when
    longer than Label Studio allows (the description names the run in full)."""
    if len(run_name) <= TITLE_MAX:
        return run_name
    digest = hashlib.sha256(run_name.encode()).hexdigest()[:8]
    return f"{run_name[: TITLE_MAX - 9]}-{digest}"


def labeling_config(data_type: str, labels: list[str], *, multi_label: bool) -> str:
    """Label Studio's labeling config for classifying `data_type` into `labels`."""
    data = DATA_KEYS[data_type]
    tag = "Text" if data_type == "text" else "Image"
    choice = "multiple" if multi_label else "single-radio"
    choices = "\n".join(f"    <Choice value={quoteattr(label)}/>" for label in labels)
    return (
        "<View>\n"
        f'  <{tag} name="{data}" value="${data}"/>\n'
        f'  <Choices name="{CONTROL}" toName="{data}" choice="{choice}" required="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        # No line break at the end: Label Studio stores the config without one, and an
        # unchanged config must compare equal (`studio-setup --url` applies only changes).
        "</View>"
    )


def storage_settings(
    *,
    bucket: str,
    run_prefix: str,
    run_name: str,
    region: str,
    kms_key_arn: str,
    s3_endpoint: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The bodies of Label Studio's S3 source storage (`POST /api/storages/s3`) and S3
    target storage (`POST /api/storages/export/s3`) of one run, without credentials:
    Label Studio's host takes them from its AWS profile (the kit's role)."""
    common: dict[str, Any] = {"bucket": bucket, "region_name": region}
    if s3_endpoint:
        common["s3_endpoint"] = s3_endpoint
    return {
        "source": {
            "title": f"{run_name} tasks",
            **common,
            "prefix": f"{run_prefix}{TASKS_DIR}".rstrip("/"),
            "regex_filter": r".*\.json",
            "use_blob_urls": False,
            "recursive_scan": False,
            "presign": True,
            "presign_ttl": PRESIGN_TTL_MINUTES,
        },
        "target": {
            "title": f"{run_name} annotations",
            **common,
            "prefix": f"{run_prefix}{ANNOTATIONS_DIR}".rstrip("/"),
            # Annotations deleted in Label Studio stay in S3: the kit never loses labels.
            "can_delete_objects": False,
            "aws_sse_kms_key_id": kms_key_arn,
        },
    }


# --- what Label Studio writes back -----------------------------------------------------------


class NotAnExportError(ValueError):
    """A file under the annotations prefix is not a Label Studio annotation or task."""


@dataclass(frozen=True)
class StudioAnnotation:
    """One annotation of one Label Studio task, as the converter needs it."""

    annotation_id: int
    task_id: int
    line: object
    """The task's `smkit-line` (anything: checked by `label_line`)."""
    run: object
    """The task's `smkit-run`."""
    cancelled: bool
    """Skipped (Label Studio's `was_cancelled`)."""
    choices: list[Any] | None
    """The choices of the kit's control, None when the result has none."""
    annotator: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        """For the index of converted files."""
        return self.__dict__.copy()

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StudioAnnotation:
        """Back from `to_json`."""
        return cls(**value)


def annotations_in(body: bytes) -> list[StudioAnnotation]:
    """The annotations in one file of Label Studio's S3 target storage: an annotation
    (with its task under `task`) or a task (with its `annotations`)."""
    try:
        value = json.loads(body)
    except ValueError as err:
        raise NotAnExportError(f"not valid JSON ({err})") from None
    if not isinstance(value, dict):
        raise NotAnExportError("not a JSON object")
    if isinstance(value.get("annotations"), list) and isinstance(value.get("data"), dict):
        return [_annotation(item, value) for item in value["annotations"]]
    if "result" in value and isinstance(value.get("task"), dict):
        return [_annotation(value, value["task"])]
    raise NotAnExportError(
        "neither a Label Studio annotation ('result' and 'task') nor a task ('data' and "
        "'annotations')"
    )


def _annotation(item: Any, task_: dict[str, Any]) -> StudioAnnotation:
    if not isinstance(item, dict):
        raise NotAnExportError(f"an annotation must be a JSON object (got {shown(item)})")
    data = task_.get("data") if isinstance(task_.get("data"), dict) else {}
    assert isinstance(data, dict)
    task_id, annotation_id = task_.get("id"), item.get("id")
    if not isinstance(task_id, int) or not isinstance(annotation_id, int):
        raise NotAnExportError(
            f"the task and the annotation need integer ids (got {shown(task_id)} and "
            f"{shown(annotation_id)})"
        )
    return StudioAnnotation(
        annotation_id=annotation_id,
        task_id=task_id,
        line=data.get(LINE_KEY),
        run=data.get(RUN_KEY),
        cancelled=bool(item.get("was_cancelled")),
        choices=_choices(item.get("result")),
        annotator=_annotator(item.get("completed_by")),
        updated_at=str(item.get("updated_at") or item.get("created_at") or ""),
    )


def _choices(result: Any) -> list[Any] | None:
    """The choices of the kit's control in an annotation's result, None if none."""
    if not isinstance(result, list):
        return None
    found: list[Any] | None = None
    for region in result:
        if not isinstance(region, dict) or region.get("from_name") != CONTROL:
            continue
        value = region.get("value")
        picked = value.get("choices") if isinstance(value, dict) else None
        if isinstance(picked, list):
            found = (found or []) + picked
    return found


def _annotator(completed_by: Any) -> str:
    """Who annotated: Label Studio's user e-mail, or its id."""
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or f"user {completed_by.get('id')}")
    return f"user {completed_by}" if completed_by is not None else "unknown"


def recency(annotation: StudioAnnotation) -> tuple[datetime.datetime, int]:
    """What orders two annotations: `updated_at`, then the annotation id."""
    try:
        when = datetime.datetime.fromisoformat(annotation.updated_at.replace("Z", "+00:00"))
    except ValueError:
        when = datetime.datetime.min
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when, annotation.annotation_id


def latest_accepted(annotations: Iterable[StudioAnnotation]) -> dict[object, StudioAnnotation]:
    """For each object (`smkit-line`), the annotation that counts: the latest accepted
    one (not cancelled), latest by `updated_at`, then by annotation id. Objects whose
    annotations were all cancelled are left out: they still need an annotation."""
    chosen: dict[object, StudioAnnotation] = {}
    for annotation in annotations:
        if annotation.cancelled:
            continue
        held = chosen.get(annotation.line)
        if held is None or recency(annotation) > recency(held):
            chosen[annotation.line] = annotation
    return chosen


def label_line(
    annotation: StudioAnnotation, *, attribute: str, multi_label: bool, run_name: str
) -> bytes:
    """The kit's label line (the short form `labels.check_labels` reads) of an accepted
    annotation; ValueError says why the annotation cannot be one. The class names are
    passed on as chosen: an unknown one is the check's problem, like any tool's."""
    if annotation.run != run_name or isinstance(annotation.line, bool):
        raise ValueError(
            f"is not a task of run {run_name} (its {RUN_KEY} is {shown(annotation.run)}): "
            "connect this run's storages to a project of its own"
        )
    if not isinstance(annotation.line, int):
        raise ValueError(f"has no integer {LINE_KEY} in its data (got {shown(annotation.line)})")
    by = f"annotation {annotation.annotation_id} by {annotation.annotator}"
    choices = annotation.choices or []
    if not choices:
        raise ValueError(f"{by} chose nothing in '{CONTROL}'")
    if not multi_label and len(choices) > 1:
        raise ValueError(f"{by} chose {len(choices)} labels ({shown(choices)}); choose one")
    return json.dumps(
        {
            LINE_KEY: annotation.line,
            attribute: list(choices) if multi_label else choices[0],
            f"{attribute}-metadata": {
                "creation-date": annotation.updated_at,
                "annotator": annotation.annotator,
                "label-studio-task": annotation.task_id,
                "label-studio-annotation": annotation.annotation_id,
            },
        },
        ensure_ascii=False,
    ).encode()
