"""After a run's merge: the labels people gave, as Model Monitor ground-truth records
for the model-quality monitoring of the endpoint the run used.

Only objects whose final label came from people are ground truth: the model's own
confident labels would only measure the model against itself. Each record is matched
with the captured request by the InferenceId the pre-label step sent for that object
(`common.inference_id`); objects pre-labeled without one (before monitoring was on)
are left out.

    {"groundTruthData": {"data": "<class name>", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<inference id>"}, "eventVersion": "0"}

The records go, as JSON lines, to `<ground truth prefix>yyyy/mm/dd/hh/<workflow>-<run
id>.jsonl` (the hour they were collected). Where they go is decided once and kept in
`output/ground-truth.json` before they are written: a retried or re-run step writes the
same records to the same key, never a second copy under another hour, and removes
nothing.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from typing import Any

from .common import (
    RunLocation,
    client,
    dump_line,
    exists,
    iter_jsonl,
    read_json,
    spooled_upload,
    write_json,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

MARKER = "output/ground-truth.json"
"""Where a run keeps the key of its ground-truth records."""


def ground_truth_key(prefix: str, workflow: str, run_id: str, at: datetime.datetime) -> str:
    """Key of a run's records: under the hour they were collected (UTC)."""
    # MONITOR-10 (model-monitor-model-quality-merge page): ground truth lies under
    # <prefix>/yyyy/mm/dd/hh/, the hour the labels were collected, as JSON lines.
    hour = at.astimezone(datetime.UTC).strftime("%Y/%m/%d/%H")
    return f"{prefix}{hour}/{workflow}-{run_id}.jsonl"


def record(label: str, event_id: str) -> dict[str, Any]:
    """One ground-truth record."""
    return {
        "groundTruthData": {"data": label, "encoding": "CSV"},
        "eventMetadata": {"eventId": event_id},
        "eventVersion": "0",
    }


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Write the ground-truth records of run `event["run"]` (merged before)."""
    run = event["run"]
    location = RunLocation.of(run)
    prefixes: dict[str, str] = json.loads(os.environ["GROUND_TRUTH_PREFIXES"])
    prefix = prefixes.get(run["endpoint_name"])
    if prefix is None:
        return {"records": 0, "reason": f"endpoint {run['endpoint_name']} is not monitored"}
    s3 = client("s3")
    marker = location.key(MARKER)
    if exists(s3, location.bucket, marker):
        planned = read_json(s3, location.bucket, marker)
    else:
        planned = {
            "key": ground_truth_key(
                prefix,
                os.environ["WORKFLOW"],
                str(run["run_id"]),
                datetime.datetime.now(datetime.UTC),
            )
        }
        write_json(s3, location.bucket, marker, planned)
    key = planned["key"]
    count = _write(s3, location, run, key)
    LOG.info("run %s: %d ground-truth records at %s", run["run_id"], count, key)
    return {"records": count, "ground_truth_uri": f"s3://{location.bucket}/{key}"}


class _NoRecordsError(Exception):
    """No object of the run has a label from people and an InferenceId."""


def _write(s3: Any, location: RunLocation, run: dict[str, Any], key: str) -> int:
    try:
        return _upload(s3, location, run, key)
    except _NoRecordsError:
        return 0


def _upload(s3: Any, location: RunLocation, run: dict[str, Any], key: str) -> int:
    attribute = run["label_attribute"]
    batches = read_json(s3, location.bucket, location.key("work/chunks.json"))
    merged = iter_jsonl(s3, location.bucket, location.key("output/output.manifest"))
    count = 0
    with spooled_upload(s3, location.bucket, key) as out:
        # The merged manifest holds the predictions' objects in the same order.
        for batch in batches:
            for row in iter_jsonl(s3, location.bucket, location.predictions_key(batch)):
                line = next(merged)
                metadata = line.get(f"{attribute}-metadata") or {}
                event_id = row.get("inference_id")
                if metadata.get("human-annotated") != "yes" or not event_id:
                    continue
                out.write(dump_line(record(str(metadata["class-name"]), str(event_id))))
                count += 1
        if not count:
            # Raised inside the block: nothing is uploaded.
            raise _NoRecordsError
    return count
