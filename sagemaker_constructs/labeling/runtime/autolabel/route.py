"""Route a run's predictions: confidence at or above the threshold keeps the model's
label; everything below goes to people, written to `human/to-label.manifest` with the
kit's `smkit-line` key so its label can be matched up again.

Also tells whether people's labels for this run already exist (a re-run of the same
input after the human step finished), so the run does not ask people twice.
"""

from __future__ import annotations

import logging
from typing import Any

from .common import (
    LINE_KEY,
    RunLocation,
    check_count,
    client,
    dump_line,
    exists,
    iter_jsonl,
    read_json,
    spooled_upload,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# Where people's labels end up, per human mode (see `common`).
LABELS_FILES = {
    "external": "human/labels.manifest",
    "label_studio": "human/labels.manifest",
    "ground_truth": "human/ground-truth.manifest",
}


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Write the to-label manifest of run `event["run"]`; returns the counts."""
    run = event["run"]
    location = RunLocation.of(run)
    s3 = client("s3")
    counts = route(s3, location, float(run["threshold"]), int(run["total"]))
    labels_key = location.key(LABELS_FILES[run["human_mode"]])
    ready = counts["human_count"] > 0 and exists(s3, location.bucket, labels_key)
    LOG.info(
        "run %s: %d auto-labeled, %d to people%s",
        run["run_id"],
        counts["auto_count"],
        counts["human_count"],
        " (their labels already exist)" if ready else "",
    )
    return {
        **counts,
        "to_label_uri": location.uri("human/to-label.manifest"),
        "labels_uri": location.uri(LABELS_FILES[run["human_mode"]]),
        "labels_ready": ready,
    }


def route(s3: Any, location: RunLocation, threshold: float, total: int) -> dict[str, int]:
    """Stream the predictions in manifest order and write the to-label manifest; fails
    (writing nothing) unless every one of the run's `total` objects has its prediction."""
    auto = human = 0
    batches = read_json(s3, location.bucket, location.key("work/chunks.json"))
    with spooled_upload(s3, location.bucket, location.key("human/to-label.manifest")) as out:
        for batch in batches:
            for row in iter_jsonl(s3, location.bucket, location.predictions_key(batch)):
                if row["confidence"] >= threshold:
                    auto += 1
                else:
                    human += 1
                    out.write(dump_line({**row["record"], LINE_KEY: row["line"]}))
        check_count(auto + human, total, "routed")
    return {"total": auto + human, "auto_count": auto, "human_count": human}
