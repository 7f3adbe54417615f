"""The `label_studio` human step: hand the low-confidence objects to Label Studio and
resume the run when every object has an accepted annotation.

`write_tasks` (called by `review.request_handler`) writes the run's objects as Label
Studio tasks under `<run>/label-studio/tasks/`, which a Label Studio S3 source storage
imports.

`annotations_handler` runs when Label Studio's S3 target storage writes under
`<run>/label-studio/annotations/` (S3 -> EventBridge). It converts every annotation
file of the run (`studio`), keeps the latest accepted annotation of each object and
checks the labels exactly as `external` labels are checked (`labels.check_labels`).
It records and reports the progress ("412 of 600 labelled"); bad annotations are
published (once per new set of problems) and the run keeps waiting. When every object
has a valid label it writes `<run>/human/labels.manifest`, whose arrival resumes the
run through `review.labels_arrived_handler`, the same path as `external` labels.

Each call reads the whole state again (a listing, plus only the files whose ETag
changed since the last call), so a lost or repeated event costs nothing: the next one,
or syncing the target storage again, catches up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import (
    LINE_KEY,
    RunLocation,
    client,
    describe_lines,
    dump_line,
    exists,
    iter_lines,
    read_json,
    shown,
    sns_message,
    sns_subject,
    spooled_upload,
    utc_now,
    write_json,
)
from .labels import LabelFormat, check_labels, handed_out
from .studio import (
    ANNOTATIONS_DIR,
    INDEX_FILE,
    PROGRESS_FILE,
    TASKS_PER_FILE,
    NotAnExportError,
    StudioAnnotation,
    annotations_in,
    label_line,
    latest_accepted,
    recency,
    task,
    tasks_key,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

REQUEST_FILE = "human/request.json"
LABELS_FILE = "human/labels.manifest"
TO_LABEL_FILE = "human/to-label.manifest"
_READERS = 16
_INDEX_VERSION = 1
MILESTONES = (25, 50, 75)
"""Percentages of objects labelled at which progress is published."""


def write_tasks(s3: Any, location: RunLocation, run_name: str, data_type: str) -> int:
    """Write the objects of the run's to-label manifest as Label Studio tasks; returns
    how many files. Same run, same files: Label Studio skips keys it imported before."""
    files = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal files
        files += 1
        body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
        s3.put_object(
            Bucket=location.bucket,
            Key=location.key(tasks_key(files)),
            Body=body,
            ContentType="application/json",
        )
        batch.clear()

    for _number, raw in iter_lines(s3, location.bucket, location.key(TO_LABEL_FILE)):
        if not raw.strip():
            continue
        record = json.loads(raw)
        line = record.pop(LINE_KEY)
        batch.append(task(record, line, run_name, data_type))
        if len(batch) == TASKS_PER_FILE:
            flush()
    if batch:
        flush()
    return files


def annotations_handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Convert and check a run's Label Studio annotations after one of them arrived."""
    detail = event.get("detail", {})
    bucket = detail.get("bucket", {}).get("name")
    key = str(detail.get("object", {}).get("key", ""))
    marker = key.find("/" + ANNOTATIONS_DIR)
    if (
        bucket != os.environ["DATA_BUCKET"]
        or marker < 0
        or not key.startswith(os.environ["RUN_PREFIX"])
    ):
        return {"status": "ignored"}
    location = RunLocation(bucket, key[: marker + 1])
    s3 = client("s3")
    if not exists(s3, bucket, location.key(REQUEST_FILE)):
        return {"status": "no-request"}
    request = read_json(s3, bucket, location.key(REQUEST_FILE))
    if request.get("mode") != "label_studio":
        return {"status": "ignored"}
    if request.get("resumed_at"):
        return {"status": "already-resumed"}
    return review(s3, location, request)


def review(s3: Any, location: RunLocation, request: dict[str, Any]) -> dict[str, Any]:
    """Convert, check and report the run's annotations; write the labels file when
    every object has a valid label."""
    annotations, file_problems = _annotations(s3, location)
    form = LabelFormat(
        attribute=request["label_attribute"],
        labels=request["labels"],
        default_job_name=f"labeling-job/{request['run_name']}",
        default_date=request["requested_at"],
        multi_label=bool(request.get("multi_label")),
    )
    lines: list[tuple[int, bytes]] = []
    task_problems: list[tuple[int, str]] = []
    run_name = request["run_name"]
    # A task of another run (storages of two runs in one project) cannot be matched to
    # an object of this one, and must not hide this run's annotation of the same line.
    ours = [a for a in annotations if a.run == run_name]
    for task_id in sorted({a.task_id for a in annotations if a.run != run_name}):
        foreign = next(a for a in annotations if a.task_id == task_id)
        task_problems.append(
            (
                task_id,
                f"is not a task of run {run_name} (its smkit-run is {shown(foreign.run)}): "
                "give each run's storages a project of their own",
            )
        )
    chosen = latest_accepted(ours)
    for annotation in sorted(chosen.values(), key=lambda a: a.task_id):
        try:
            lines.append(
                (
                    annotation.task_id,
                    label_line(
                        annotation,
                        attribute=form.attribute,
                        multi_label=form.multi_label,
                        run_name=run_name,
                    ),
                )
            )
        except ValueError as err:
            task_problems.append((annotation.task_id, str(err)))
    accepted = {a.line for a in ours if not a.cancelled}
    skipped = sorted({a.task_id for a in ours if a.cancelled and a.line not in accepted})
    uri = location.uri(ANNOTATIONS_DIR)
    to_label = iter_lines(s3, location.bucket, location.key(TO_LABEL_FILE))
    with handed_out(to_label) as expected:
        check = check_labels(lines, form, expected, uri=uri, item="task")
    try:
        done = len(check.labels)
        total = check.handed_out
        problems = _problems(file_problems, task_problems, check.problems, check.problem_count)
        progress = {
            "labelled": done,
            "total": total,
            "skipped_tasks": skipped,
            "annotation_files": len(annotations),
            "problems": problems,
            "updated_at": utc_now(),
        }
        complete = check.ok and not file_problems and not task_problems
        if complete:
            _write_labels(s3, location, lines)
    finally:
        check.close()
    _report(s3, location, request, progress, complete)
    status = "complete" if complete else ("rejected" if problems else "waiting")
    LOG.info("run %s: %d of %d labelled (%s)", request["run_id"], done, total, status)
    return {"status": status, "labelled": done, "total": total, "problems": problems}


def _problems(
    file_problems: list[str],
    task_problems: list[tuple[int, str]],
    checked: list[tuple[int, str]],
    checked_count: int,
) -> str | None:
    """Every problem with the annotations at once: files that are not Label Studio's,
    annotations that cannot be labels, and what the label check found (`checked_count`
    in all, the first of them in `checked`). Objects not labelled yet are progress."""
    count = len(file_problems) + len(task_problems) + checked_count
    if not count:
        return None
    parts = list(file_problems)
    if task_problems or checked:
        parts.append(describe_lines(sorted(task_problems + checked), item="task"))
    return f"{count} problem{'s' if count != 1 else ''}: " + "; ".join(parts)


def _annotations(s3: Any, location: RunLocation) -> tuple[list[StudioAnnotation], list[str]]:
    """Every annotation in the run's annotation files (converted files are cached by
    ETag), and the files that are not Label Studio's."""
    prefix = location.key(ANNOTATIONS_DIR)
    listed: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                listed[item["Key"]] = item["ETag"]
    index_key = location.key(INDEX_FILE)
    cached: dict[str, Any] = {}
    if exists(s3, location.bucket, index_key):
        stored = read_json(s3, location.bucket, index_key)
        if stored.get("version") == _INDEX_VERSION:
            cached = stored.get("files", {})
    stale = [key for key, etag in listed.items() if cached.get(key, {}).get("etag") != etag]

    def convert(key: str) -> tuple[str, dict[str, Any]]:
        answer = s3.get_object(Bucket=location.bucket, Key=key)
        try:
            found = [a.to_json() for a in annotations_in(answer["Body"].read())]
            return key, {"etag": answer["ETag"], "annotations": found}
        except NotAnExportError as err:
            return key, {"etag": answer["ETag"], "problem": str(err)}

    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        fresh = dict(pool.map(convert, stale))
    files = {key: fresh.get(key) or cached[key] for key in listed}
    if fresh or len(files) != len(cached):
        write_json(s3, location.bucket, index_key, {"version": _INDEX_VERSION, "files": files})
    # One annotation may sit in several files (both of Label Studio's formats): its
    # latest state counts.
    by_id: dict[int, StudioAnnotation] = {}
    problems = []
    for key in sorted(files):
        entry = files[key]
        if "problem" in entry:
            problems.append(f"s3://{location.bucket}/{key}: {entry['problem']}")
            continue
        for value in entry["annotations"]:
            annotation = StudioAnnotation.from_json(value)
            held = by_id.get(annotation.annotation_id)
            if held is None or recency(annotation) > recency(held):
                by_id[annotation.annotation_id] = annotation
    return list(by_id.values()), problems


def _write_labels(s3: Any, location: RunLocation, lines: list[tuple[int, bytes]]) -> None:
    """The labels file, written once: its arrival resumes the run (`review`)."""
    key = location.key(LABELS_FILE)
    if exists(s3, location.bucket, key):
        return
    with spooled_upload(s3, location.bucket, key) as out:
        for _task, raw in lines:
            out.write(dump_line(json.loads(raw)))


def _report(
    s3: Any,
    location: RunLocation,
    request: dict[str, Any],
    progress: dict[str, Any],
    complete: bool,
) -> None:
    """Record the progress; publish new problems, milestones and completion once each."""
    key = location.key(PROGRESS_FILE)
    before = read_json(s3, location.bucket, key) if exists(s3, location.bucket, key) else {}
    done, total = progress["labelled"], progress["total"]
    line = f"{done} of {total} labelled"
    skipped = progress["skipped_tasks"]
    if skipped:
        listed = ", ".join(map(str, skipped[:50])) + (" ..." if len(skipped) > 50 else "")
        one = len(skipped) == 1
        line += (
            f"; {len(skipped)} skipped task{'' if one else 's'} still "
            f"need{'s' if one else ''} an annotation ({listed})"
        )
    problems = progress["problems"]
    digest = hashlib.sha256(problems.encode()).hexdigest() if problems else None
    percent = 100 * done // total if total else 100
    milestone = max((m for m in MILESTONES if percent >= m), default=0)
    progress.update(summary=line, problems_digest=digest, milestone=milestone)
    run_name = request["run_name"]
    if complete and not before.get("completed"):
        progress["completed"] = True
        _publish(
            f"Labelled in Label Studio: {run_name}",
            f"{line}. Every object has an accepted annotation: run {run_name} resumes.",
        )
    elif problems and digest != before.get("problems_digest"):
        _publish(
            f"Label Studio annotations need fixing: {run_name}",
            f"{line}. The run keeps waiting until these annotations are corrected in Label "
            f"Studio (the latest accepted annotation of each task counts):\n\n{problems}",
        )
    elif milestone > int(before.get("milestone", 0)) and not complete:
        _publish(f"Label Studio progress: {run_name}", f"{line} ({percent}%).")
    progress["completed"] = complete or bool(before.get("completed"))
    write_json(s3, location.bucket, key, progress)


def _publish(subject: str, message: str) -> None:
    client("sns").publish(
        TopicArn=os.environ["REVIEW_TOPIC_ARN"],
        Subject=sns_subject(subject),
        Message=sns_message(message),
    )
