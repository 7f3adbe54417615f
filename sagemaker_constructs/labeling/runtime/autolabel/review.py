"""External review: hand the low-confidence objects to people working in any labeling
tool, and resume the run when their labels arrive.

`request_handler` runs as a `.waitForTaskToken` task: it records the request (with the
task token) in `human/request.json` and publishes where the objects are and where the
labels go. The run then waits. In `label_studio` mode it first writes the objects as
Label Studio tasks (`studio_review`), whose annotations end up in the same labels file.

`labels_arrived_handler` runs when an object lands at `<run>/human/labels.manifest`
(S3 -> EventBridge). It checks the labels against the request; if they are complete and
valid the run resumes (SendTaskSuccess), otherwise it publishes what is wrong, line by
line, and the run keeps waiting for a corrected file.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from .common import (
    LINE_KEY,
    RunLocation,
    client,
    exists,
    iter_lines,
    read_json,
    sns_message,
    sns_subject,
    utc_now,
    write_json,
)
from .labels import LabelFormat, check_labels, handed_out
from .studio import ANNOTATIONS_DIR, TASKS_DIR
from .studio_review import write_tasks

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

REQUEST_FILE = "human/request.json"
LABELS_FILE = "human/labels.manifest"


def request_handler(event: dict[str, Any], _context: object = None) -> None:
    """Record the review request of run `event["run"]` and tell people about it."""
    run, route = event["run"], event["route"]
    location = RunLocation.of(run)
    labels = json.loads(os.environ["LABELS"])
    mode = run.get("human_mode", "external")
    request = {
        "task_token": event["token"],
        "mode": mode,
        "run_id": run["run_id"],
        "run_name": run["run_name"],
        "to_label_uri": route["to_label_uri"],
        "labels_uri": location.uri(LABELS_FILE),
        "objects": route["human_count"],
        "label_attribute": run["label_attribute"],
        "labels": labels,
        "multi_label": os.environ.get("MULTI_LABEL") == "true",
        "requested_at": utc_now(),
    }
    s3 = client("s3")
    if mode == "label_studio":
        files = write_tasks(s3, location, run["run_name"], os.environ["DATA_TYPE"])
        request.update(
            tasks_uri=location.uri(TASKS_DIR),
            annotations_uri=location.uri(ANNOTATIONS_DIR),
            task_files=files,
        )
    write_json(s3, location.bucket, location.key(REQUEST_FILE), request)
    if mode == "label_studio":
        _publish(
            f"Labels needed in Label Studio: {run['run_name']}",
            f"{route['human_count']} objects of run {run['run_name']} need a person's label "
            f"(the model was less sure than the threshold {run['threshold']}).\n\n"
            f"Label Studio tasks (S3 source storage):         {request['tasks_uri']}\n"
            f"Annotations go to (S3 target storage):          {request['annotations_uri']}\n\n"
            "Set up the project and its storages (docs/label-studio.md):\n"
            f"  smkit label studio-setup {os.environ['WORKFLOW']} --run {run['run_id']} "
            "--url <Label Studio URL>\n\n"
            "The run resumes when every object has an accepted annotation (a skipped task "
            "still needs one).",
        )
        LOG.info("run %s waits for %d labels in Label Studio", run["run_id"], route["human_count"])
        return
    example = json.dumps({LINE_KEY: 1, run["label_attribute"]: labels[0]})
    _publish(
        f"Labels needed: {run['run_name']}",
        f"{route['human_count']} objects of run {run['run_name']} need a person's label "
        f"(the model was less sure than the threshold {run['threshold']}).\n\n"
        f"Objects to label (JSON lines):  {route['to_label_uri']}\n"
        f"Put the labels back at:         {location.uri(LABELS_FILE)}\n\n"
        f"One JSON line per object, in any order, copying its '{LINE_KEY}': {example}\n"
        f"Allowed labels: {', '.join(labels)}. The run resumes when the file is complete.",
    )
    LOG.info("run %s waits for %d labels", run["run_id"], route["human_count"])


def labels_arrived_handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Resume the waiting run if the labels just put back are complete and valid."""
    detail = event.get("detail", {})
    bucket = detail.get("bucket", {}).get("name")
    key = detail.get("object", {}).get("key", "")
    if bucket != os.environ["DATA_BUCKET"] or not key.endswith("/" + LABELS_FILE):
        return {"status": "ignored"}
    location = RunLocation(bucket, key[: -len(LABELS_FILE)])
    s3 = client("s3")
    if not exists(s3, bucket, location.key(REQUEST_FILE)):
        # Labels put back before any run asked (or for a finished run): the next run of
        # the same input finds them and does not ask again.
        return {"status": "no-request"}
    request = read_json(s3, bucket, location.key(REQUEST_FILE))
    if request.get("resumed_at"):
        return {"status": "already-resumed"}
    problems = _check(s3, location, request)
    if problems:
        _publish(
            f"Labels rejected: {request['run_name']}",
            f"The run keeps waiting for a corrected file.\n\n{problems}",
        )
        LOG.warning("labels for run %s rejected: %s", request["run_id"], problems)
        return {"status": "rejected", "problems": sns_message(problems)}
    sfn = client("stepfunctions")
    try:
        sfn.send_task_success(
            taskToken=request["task_token"],
            output=json.dumps({"labels_uri": location.uri(LABELS_FILE)}),
        )
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.TaskDoesNotExist) as err:
        _publish(
            f"Run no longer waiting: {request['run_name']}",
            f"The labels are valid but run {request['run_name']} stopped waiting ({err}). "
            "Start it again with the same input: it will use these labels.",
        )
        return {"status": "not-waiting"}
    write_json(s3, bucket, location.key(REQUEST_FILE), {**request, "resumed_at": utc_now()})
    LOG.info("run %s resumed with %d labels", request["run_id"], request["objects"])
    return {"status": "resumed"}


def _check(s3: Any, location: RunLocation, request: dict[str, Any]) -> str | None:
    """Why the labels cannot be used yet (every problem at once), or None."""
    form = LabelFormat(
        attribute=request["label_attribute"],
        labels=request["labels"],
        default_job_name=f"labeling-job/{request['run_name']}",
        default_date=request["requested_at"],
        multi_label=bool(request.get("multi_label")),
    )
    to_label = iter_lines(s3, location.bucket, location.key("human/to-label.manifest"))
    with handed_out(to_label) as expected:
        check = check_labels(
            iter_lines(s3, location.bucket, location.key(LABELS_FILE)),
            form,
            expected,
            uri=request["labels_uri"],
        )
    try:
        return None if check.ok else check.message()
    finally:
        check.close()


def _publish(subject: str, message: str) -> None:
    client("sns").publish(
        TopicArn=os.environ["REVIEW_TOPIC_ARN"],
        Subject=sns_subject(subject),
        Message=sns_message(message),
    )
