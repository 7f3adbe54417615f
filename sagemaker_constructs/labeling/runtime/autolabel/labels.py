"""People's labels, read from a Ground Truth output manifest or from the file an
external labeling tool puts back. One line per object, JSON, in any order:

    Ground Truth's augmented form (what a labeling job writes):
      {"smkit-line": 7, ..., "label": 1, "label-metadata": {"class-name": "positive",
       "confidence": 0.93, "job-name": "labeling-job/...", "creation-date": "..."}}
    the short form (for other tools):
      {"smkit-line": 7, "label": "positive"}            optional: "confidence": 0.8

`label` stands for the workflow's label attribute; `smkit-line` is copied from the
to-label manifest. Lines are checked, indexed by `smkit-line` on disk, and every
problem is reported with its line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .common import LINE_KEY, LineIndex, describe_lines


@dataclass(frozen=True)
class LabelFormat:
    """What a valid label looks like in one workflow."""

    attribute: str
    labels: list[str]
    default_job_name: str
    """`job-name` for labels that do not name a job."""
    default_date: str
    """`creation-date` for labels that carry none (the labels file's time)."""


def parse_label(raw: bytes, form: LabelFormat) -> tuple[int, dict[str, Any]]:
    """(smkit-line, normalized label) of one line; ValueError says what is wrong."""
    try:
        line = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"not valid JSON ({err})") from None
    if not isinstance(line, dict):
        raise ValueError("not a JSON object")
    target = line.get(LINE_KEY)
    if isinstance(target, bool) or not isinstance(target, int):
        raise ValueError(f"needs the integer '{LINE_KEY}' copied from the to-label manifest")
    metadata = line.get(f"{form.attribute}-metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if form.attribute not in line:
        reason = metadata.get("failure-reason")
        raise ValueError(
            f"no '{form.attribute}'" + (f" (labeling failed: {reason})" if reason else "")
        )
    value = line[form.attribute]
    if isinstance(value, str):
        if value not in form.labels:
            raise ValueError(f"label {value!r} is not one of {', '.join(form.labels)}")
        class_id = form.labels.index(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < len(form.labels):
            raise ValueError(f"class id {value} is not 0-{len(form.labels) - 1}")
        class_id = value
    else:
        raise ValueError(f"'{form.attribute}' must be a class name or id (got {value!r})")
    class_name = form.labels[class_id]
    named = metadata.get("class-name")
    if named is not None and named != class_name:
        raise ValueError(f"class id {class_id} is {class_name!r} but class-name says {named!r}")
    confidence = metadata.get("confidence", line.get("confidence", 1.0))
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise ValueError(f"confidence must be a number (got {confidence!r})")
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence must be from 0 to 1 (got {confidence})")
    return target, {
        "class_id": class_id,
        "class_name": class_name,
        "confidence": float(confidence),
        "job_name": str(metadata.get("job-name") or form.default_job_name),
        "creation_date": str(metadata.get("creation-date") or form.default_date),
    }


def index_labels(
    lines: Iterator[tuple[int, bytes]], form: LabelFormat, expected: LineIndex | None = None
) -> tuple[LineIndex, list[tuple[int, str]], int]:
    """Index the labels by `smkit-line`. Returns (index, kept problems, problem count);
    with `expected`, labels for objects that were not handed to people are problems."""
    index = LineIndex()
    problems: list[tuple[int, str]] = []
    count = 0

    def problem(number: int, why: str) -> None:
        nonlocal count
        count += 1
        if len(problems) < 1000:
            problems.append((number, why))

    for number, raw in lines:
        if not raw.strip():
            continue
        try:
            target, label = parse_label(raw, form)
        except ValueError as err:
            problem(number, str(err))
            continue
        if expected is not None and expected.get(target) is None:
            problem(number, f"{LINE_KEY} {target} was not handed to people")
        elif not index.add(target, label):
            problem(number, f"a second label for {LINE_KEY} {target}")
    return index, problems, count


def problems_message(what: str, problems: list[tuple[int, str]], count: int) -> str:
    """`<what> has N problems: line 3: ...`."""
    return f"{what} has {count} problem{'s' if count != 1 else ''}: " + describe_lines(problems)
