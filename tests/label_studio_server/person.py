"""What a person (and Label Studio's UI on their behalf) does, through label-studio-sdk.

Runs in the Label Studio virtual environment (.venv-labelstudio), apart from the kit's:
the test sends one JSON request per line on stdin and reads one JSON answer per line on
stdout ({"ok": true, "result": ...} or {"ok": false, "error": "..."}).

    {"op": "create_project", "title": ..., "label_config": ..., "description": ...}
    {"op": "connect_storages", "project": id, "source": {...}, "target": {...}}
    {"op": "sync_source", "storage": id}   {"op": "sync_target", "storage": id}
    {"op": "tasks", "project": id}
    {"op": "annotate", "task": id, "choices": [...], "to_name": "text", "cancelled": false}
    {"op": "correct", "annotation": id, "choices": [...], "to_name": "text"}
    {"op": "image", "task": id}            the bytes a browser gets for the task's image
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import urllib.error
import urllib.request
from typing import Any

from label_studio_sdk import LabelStudio

URL = os.environ["LABEL_STUDIO_URL"]
TOKEN = os.environ["LABEL_STUDIO_API_KEY"]
CLIENT = LabelStudio(base_url=URL, api_key=TOKEN, timeout=120)
# The kit's storage settings use the REST API's names; the SDK spells one differently.
SDK_NAMES = {"s3_endpoint": "s3endpoint"}


def _sdk(settings: dict[str, Any]) -> dict[str, Any]:
    return {SDK_NAMES.get(key, key): value for key, value in settings.items()}


def _result(choices: list[str], to_name: str) -> list[dict[str, Any]]:
    return [
        {
            "from_name": "label",
            "to_name": to_name,
            "type": "choices",
            "value": {"choices": choices},
        }
    ]


def handle(request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "create_project":
        project = CLIENT.projects.create(
            title=request["title"],
            label_config=request["label_config"],
            description=request.get("description", ""),
        )
        return project.id
    if op == "connect_storages":
        source = CLIENT.import_storage.s3.create(
            project=request["project"], **_sdk(request["source"])
        )
        target = CLIENT.export_storage.s3.create(
            project=request["project"], **_sdk(request["target"])
        )
        return {"source": source.id, "target": target.id}
    if op == "sync_source":
        synced = CLIENT.import_storage.s3.sync(id=request["storage"])
        return {"status": synced.status, "count": synced.last_sync_count}
    if op == "sync_target":
        synced = CLIENT.export_storage.s3.sync(id=request["storage"])
        return {"status": synced.status}
    if op == "tasks":
        return [
            {"id": task.id, "data": task.data}
            for task in CLIENT.tasks.list(project=request["project"], page_size=100)
        ]
    if op == "annotate":
        cancelled = bool(request.get("cancelled"))
        annotation = CLIENT.annotations.create(
            id=request["task"],
            result=[] if cancelled else _result(request["choices"], request["to_name"]),
            was_cancelled=cancelled,
        )
        return annotation.id
    if op == "correct":
        CLIENT.annotations.update(
            id=request["annotation"], result=_result(request["choices"], request["to_name"])
        )
        return request["annotation"]
    if op == "image":
        return _image(request["task"])
    raise ValueError(f"unknown op {op!r}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _image(task_id: int) -> dict[str, Any]:
    """Follow the task's image as Label Studio's UI does: its resolve URL answers with a
    redirect to a presigned S3 URL, which the browser fetches."""
    task = CLIENT.tasks.get(id=task_id)
    resolve = task.data["image"]
    opener = urllib.request.build_opener(_NoRedirect)
    headers = {"Authorization": f"Token {TOKEN}"}
    request = urllib.request.Request(URL + resolve, headers=headers)  # noqa: S310 (http URL)
    try:
        opener.open(request, timeout=30)
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
        status = redirect.code
    else:
        raise AssertionError(f"{resolve} did not redirect")
    with urllib.request.urlopen(location, timeout=30) as answer:  # noqa: S310
        body = answer.read()
    return {"status": status, "location": location, "body": body.decode("latin-1")}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = {"ok": True, "result": handle(json.loads(line))}
        except Exception as err:  # the test reads what went wrong
            answer = {
                "ok": False,
                "error": f"{type(err).__name__}: {err}",
                "trace": traceback.format_exc(),
            }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
