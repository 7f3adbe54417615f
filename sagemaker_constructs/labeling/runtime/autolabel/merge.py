"""Last step of an auto-labeling run: merge the model's labels (at or above the
threshold) and people's labels (the rest) into one Ground Truth style augmented
manifest, in the input manifest's order, and write the summary.

Both files are written only when every object has a valid label and the manifest holds
exactly the run's objects: the manifest first, then `summary.json`, whose presence
marks the run finished. Keys depend only on the run
id, so a re-run of the same input overwrites them with the same content.
"""

from __future__ import annotations

import json
import logging
import os
from decimal import Decimal
from typing import Any

from .common import (
    LineIndex,
    RunLocation,
    check_count,
    client,
    creation_date,
    describe_lines,
    dump_line,
    ground_truth_multilabel_record,
    ground_truth_record,
    iso_time,
    iter_jsonl,
    iter_lines,
    parse_s3_uri,
    read_json,
    spooled_upload,
    write_json,
)
from .labels import LabelFormat, check_labels, handed_out

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)


class InvalidLabelsError(Exception):
    """People's labels are incomplete or malformed; the message lists the lines."""


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Merge run `event["run"]`; returns its summary."""
    run, route = event["run"], event["route"]
    location = RunLocation.of(run)
    s3 = client("s3")
    labels: list[str] = json.loads(os.environ["LABELS"])
    human_labels_uri = None
    people: LineIndex | None = None
    if route["human_count"]:
        human = event.get("human") or {}
        human_labels_uri = _canonical_labels(s3, human.get("labels_uri"), route["labels_uri"])
        people = _people_labels(s3, location, run, labels, human_labels_uri)
    try:
        counts = _merge(s3, location, run, labels, people)
    finally:
        if people is not None:
            people.close()
    summary = _summary(run, labels, counts, location, human_labels_uri)
    write_json(s3, location.bucket, location.key("output/summary.json"), summary)
    LOG.info("run %s merged: %s", run["run_id"], json.dumps(summary))
    return summary


def _canonical_labels(s3: Any, given: object, canonical: str) -> str:
    """Where the run keeps people's labels; a Ground Truth job's output is copied there
    so a re-run of the same input reuses it instead of asking people again."""
    if not isinstance(given, str):
        raise InvalidLabelsError("the human step returned no labels_uri")
    if given != canonical:
        source_bucket, source_key = parse_s3_uri(given)
        bucket, key = parse_s3_uri(canonical)
        s3.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key)
    return canonical


def _people_labels(
    s3: Any, location: RunLocation, run: dict[str, Any], labels: list[str], uri: str
) -> LineIndex:
    bucket, key = parse_s3_uri(uri)
    written = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
    form = LabelFormat(
        attribute=run["label_attribute"],
        labels=labels,
        default_job_name=f"labeling-job/{run['run_name']}",
        default_date=iso_time(written),
        multi_label=_multi_label(),
    )
    to_label = iter_lines(s3, location.bucket, location.key("human/to-label.manifest"))
    with handed_out(to_label) as expected:
        check = check_labels(iter_lines(s3, bucket, key), form, expected, uri=uri)
    if not check.ok:
        check.close()
        raise InvalidLabelsError(check.message())
    return check.labels


def _multi_label() -> bool:
    return os.environ.get("MULTI_LABEL") == "true"


def _merge(
    s3: Any,
    location: RunLocation,
    run: dict[str, Any],
    labels: list[str],
    people: LineIndex | None,
) -> dict[str, Any]:
    threshold = float(run["threshold"])
    attribute = run["label_attribute"]
    output_type = os.environ["OUTPUT_TYPE"]
    multi_label = _multi_label()
    # Multi-label: an object counts once for each of its classes.
    per_class = {label: {"auto": 0, "human": 0} for label in labels}
    auto = human = 0
    missing: list[tuple[int, str]] = []
    missing_count = 0
    batches = read_json(s3, location.bucket, location.key("work/chunks.json"))
    model_job = f"labeling-job/{run['run_name']}"
    with spooled_upload(s3, location.bucket, location.key("output/output.manifest")) as out:
        for batch in batches:
            for row in iter_jsonl(s3, location.bucket, location.predictions_key(batch)):
                if row["confidence"] >= threshold:
                    auto += 1
                    if multi_label:
                        for name in row["labels"]:
                            per_class[name]["auto"] += 1
                        line = ground_truth_multilabel_record(
                            row["record"],
                            attribute=attribute,
                            class_ids=[labels.index(name) for name in row["labels"]],
                            class_names=list(row["labels"]),
                            confidences=[row["probabilities"][name] for name in row["labels"]],
                            human=False,
                            output_type=output_type,
                            job_name=model_job,
                            creation_date=creation_date(row["predicted_at"]),
                        )
                    else:
                        per_class[row["label"]]["auto"] += 1
                        line = ground_truth_record(
                            row["record"],
                            attribute=attribute,
                            class_id=labels.index(row["label"]),
                            class_name=row["label"],
                            confidence=row["confidence"],
                            human=False,
                            output_type=output_type,
                            job_name=model_job,
                            creation_date=creation_date(row["predicted_at"]),
                        )
                else:
                    label = people.get(row["line"]) if people is not None else None
                    if label is None:
                        missing_count += 1
                        if len(missing) < 1000:
                            missing.append((row["line"], "no label from people"))
                        continue
                    human += 1
                    if multi_label:
                        for name in label["class_names"]:
                            per_class[name]["human"] += 1
                        line = ground_truth_multilabel_record(
                            row["record"],
                            attribute=attribute,
                            class_ids=label["class_ids"],
                            class_names=label["class_names"],
                            confidences=label["confidences"],
                            human=True,
                            output_type=output_type,
                            job_name=label["job_name"],
                            creation_date=label["creation_date"],
                        )
                    else:
                        per_class[label["class_name"]]["human"] += 1
                        line = ground_truth_record(
                            row["record"],
                            attribute=attribute,
                            class_id=label["class_id"],
                            class_name=label["class_name"],
                            confidence=label["confidence"],
                            human=True,
                            output_type=output_type,
                            job_name=label["job_name"],
                            creation_date=label["creation_date"],
                        )
                out.write(dump_line(line))
        # Raised inside the block: a partial manifest is never uploaded.
        if missing_count:
            raise InvalidLabelsError(
                f"{missing_count} object{'s' if missing_count != 1 else ''} below the threshold "
                f"have no label from people (input manifest {describe_lines(missing)})"
            )
        check_count(auto + human, int(run["total"]), "merged")
    return {"auto": auto, "human": human, "per_class": per_class}


def _summary(
    run: dict[str, Any],
    labels: list[str],
    counts: dict[str, Any],
    location: RunLocation,
    human_labels_uri: str | None,
) -> dict[str, Any]:
    total = counts["auto"] + counts["human"]
    cost = Decimal(os.environ["HUMAN_COST_PER_OBJECT"])
    return {
        "workflow": os.environ["WORKFLOW"],
        "run_id": run["run_id"],
        "manifest_uri": run["manifest_uri"],
        "endpoint_name": run["endpoint_name"],
        "threshold": run["threshold"],
        "label_attribute": run["label_attribute"],
        "labels": labels,
        "human_mode": run["human_mode"],
        "total": total,
        "auto_labeled": counts["auto"],
        "human_labeled": counts["human"],
        "fraction_auto_labeled": round(counts["auto"] / total, 6) if total else 0.0,
        "per_class": counts["per_class"],
        "human_cost_per_object_usd": float(cost),
        "estimated_human_cost_saved_usd": float(cost * counts["auto"]),
        "output_manifest_uri": location.uri("output/output.manifest"),
        "human_labels_uri": human_labels_uri,
    }
