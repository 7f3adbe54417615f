"""What Label Studio 1.23's S3 target storage writes, field for field as the real server
wrote it (tests/label_studio checks the converter against the server itself):

- by default one file per annotation, keyed by the annotation id, holding the
  annotation with its task (without the task's other annotations) under `task`;
- with FUTURE_SAVE_TASK_TO_STORAGE, one file per task (`<task id>.json`) holding the
  task with all its annotations.
"""

from __future__ import annotations

from typing import Any

CONTROL = "label"


def result(choices: list[str], to_name: str = "text") -> list[dict[str, Any]]:
    """An annotation's result choosing `choices` in the kit's control."""
    if not choices:
        return []
    return [
        {
            "id": "r1",
            "from_name": CONTROL,
            "to_name": to_name,
            "type": "choices",
            "origin": "manual",
            "value": {"choices": choices},
        }
    ]


def annotation(
    annotation_id: int,
    choices: list[str],
    *,
    updated_at: str,
    cancelled: bool = False,
    email: str = "ann@example.com",
    to_name: str = "text",
) -> dict[str, Any]:
    """An annotation as the task format nests it."""
    return {
        "id": annotation_id,
        "completed_by": {"id": 1, "email": email, "first_name": "", "last_name": ""},
        "result": result(choices, to_name),
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": updated_at,
        "updated_at": updated_at,
        "draft_created_at": None,
        "lead_time": 4.2,
        "prediction": {},
        "result_count": len(choices),
        "unique_id": f"00000000-0000-0000-0000-{annotation_id:012d}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "project": 1,
        "updated_by": 1,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def task_data(line: int, run_name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "smkit-line": line, "smkit-run": run_name}


def annotation_file(task_id: int, data: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Label Studio's default target-storage file: one annotation and its task."""
    body = {key: value for key, value in item.items() if key not in ("task", "prediction")}
    body.update(
        created_username=f" {item['completed_by']['email']}, 1",
        created_ago="0\u00a0minutes",
        task={
            "id": task_id,
            "data": data,
            "meta": {},
            "created_at": "2026-12-05T05:15:34.325753Z",
            "updated_at": item["updated_at"],
            "is_labeled": not item["was_cancelled"],
            "allow_skip": True,
            "overlap": 1,
            "inner_id": task_id,
            "total_annotations": 0 if item["was_cancelled"] else 1,
            "cancelled_annotations": 1 if item["was_cancelled"] else 0,
            "total_predictions": 0,
            "precomputed_agreement": None,
            "comment_count": 0,
            "unresolved_comment_count": 0,
            "last_comment_updated_at": None,
            "project": 1,
            "updated_by": 1,
            "file_upload": None,
            "comment_authors": [],
        },
    )
    return body


def task_file(task_id: int, data: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Label Studio's task-format target-storage file: the task and all its annotations."""
    return {
        "id": task_id,
        "annotations": [{**item, "task": task_id} for item in items],
        "drafts": [],
        "predictions": [],
        "data": data,
        "meta": {},
        "created_at": "2026-12-05T05:15:34.325753Z",
        "updated_at": "2026-12-05T05:15:53.773768Z",
        "allow_skip": True,
        "inner_id": task_id,
        "total_annotations": sum(not i["was_cancelled"] for i in items),
        "cancelled_annotations": sum(bool(i["was_cancelled"]) for i in items),
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 1,
        "updated_by": 1,
        "comment_authors": [],
    }
