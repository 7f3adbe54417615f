"""Inputs to try the playground with: a DeepAR series file on disk for `smkit forecast`,
and a manifest of reviews in the data bucket for `smkit label run` and `label auto`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import boto3

MANIFEST_KEY = "datasets/reviews.manifest"
"""Key of the sample manifest in the data bucket: the one README's one-liners name."""
REVIEWS = (
    "The battery lasts for days",
    "Broke after a week",
    "Arrived on Tuesday in a brown box",
    "Best headphones I have owned",
    "The strap is too short and the clasp rattles",
    # The canned classifier is at least 90% sure of these three: with `label auto
    # --threshold 0.9` the model labels them and the stand-in workers the rest.
    "Easy to clean",
    "Does what it says on the box",
    "Louder than my old speaker",
)


def write_series(folder: Path) -> Path:
    """Two daily series of eight weeks with a weekly pattern, in DeepAR's format."""
    path = folder / "series.jsonl"
    lines = []
    for number, level in ((1, 40.0), (2, 12.0)):
        target = [
            round(level * (1 + 0.3 * math.sin(2 * math.pi * day / 7)) + day * 0.1, 1)
            for day in range(56)
        ]
        lines.append(
            json.dumps({"id": f"store-{number}", "start": "2026-01-05 00:00:00", "target": target})
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def upload_manifest(session: boto3.Session, bucket: str) -> str:
    """The reviews as a Ground Truth input manifest (`source` per line) in `bucket`."""
    body = "".join(json.dumps({"source": review}) + "\n" for review in REVIEWS)
    session.client("s3").put_object(Bucket=bucket, Key=MANIFEST_KEY, Body=body.encode())
    return MANIFEST_KEY
