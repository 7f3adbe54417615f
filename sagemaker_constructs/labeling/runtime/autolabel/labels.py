"""People's labels, read from a Ground Truth output manifest or from the file an
external labeling tool puts back. One line per object, JSON, in any order:

    Ground Truth's augmented form (what a labeling job writes):
      {"smkit-line": 7, ..., "label": 1, "label-metadata": {"class-name": "positive",
       "confidence": 0.93, "job-name": "labeling-job/...", "creation-date": "..."}}
    the short form (for other tools):
      {"smkit-line": 7, "label": "positive"}            optional: "confidence": 0.8

Multi-label workflows take a list instead: `"label": ["indoor", "people"]` (names or
class ids, at least one, each once), and Ground Truth's multi-label form with
`class-map` and `confidence-map` in the metadata.

`label` stands for the workflow's label attribute; `smkit-line` is copied from the
to-label manifest. Lines are checked, indexed by `smkit-line` on disk, and every
problem is reported with its line number.

`check_labels` is the one check of people's labels, whatever tool they used: each
line is valid, labels an object that was handed to people, once, and every object
handed out has its label; all problems are reported at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .common import LINE_KEY, LineIndex, creation_date, cut, describe_lines, shown

# Problems kept in memory for the message (all are counted), and objects listed unlabeled.
_KEPT = 1000
_MISSING_SHOWN = 50


@dataclass(frozen=True)
class LabelFormat:
    """What a valid label looks like in one workflow."""

    attribute: str
    labels: list[str]
    default_job_name: str
    """`job-name` for labels that do not name a job."""
    default_date: str
    """`creation-date` for labels that carry none (the labels file's time)."""
    multi_label: bool = False
    """Whether an object takes a list of classes (at least one) instead of one class."""


def parse_label(raw: bytes, form: LabelFormat) -> tuple[int, dict[str, Any]]:
    """(smkit-line, normalized label) of one line; ValueError says what is wrong.

    A normalized label holds `class_id`, `class_name` and `confidence` (single-label) or
    `class_ids`, `class_names` and `confidences` (multi-label), and `job_name` and
    `creation_date`."""
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
            f"no '{form.attribute}'" + (f" (labeling failed: {cut(str(reason))})" if reason else "")
        )
    value = line[form.attribute]
    common = {
        "job_name": str(metadata.get("job-name") or form.default_job_name),
        "creation_date": creation_date(metadata.get("creation-date") or form.default_date),
    }
    if form.multi_label:
        return target, {**_classes(value, metadata, line, form), **common}
    class_id = _class_id(value, form)
    class_name = form.labels[class_id]
    named = metadata.get("class-name")
    if named is not None and named != class_name:
        raise ValueError(
            f"class id {class_id} is {class_name!r} but class-name says {shown(named)}"
        )
    confidence = _confidence(metadata.get("confidence", line.get("confidence", 1.0)))
    return target, {
        "class_id": class_id,
        "class_name": class_name,
        "confidence": confidence,
        **common,
    }


def _class_id(value: object, form: LabelFormat) -> int:
    """The class id of a class name or id; ValueError if it is neither."""
    if isinstance(value, str):
        if value not in form.labels:
            raise ValueError(f"label {shown(value)} is not one of {', '.join(form.labels)}")
        return form.labels.index(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < len(form.labels):
            raise ValueError(f"class id {shown(value)} is not 0-{len(form.labels) - 1}")
        return value
    raise ValueError(f"'{form.attribute}' must be a class name or id (got {shown(value)})")


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"confidence must be a number (got {shown(value)})")
    if not 0 <= value <= 1:
        raise ValueError(f"confidence must be from 0 to 1 (got {shown(value)})")
    return float(value)


def _classes(
    value: object, metadata: dict[str, Any], line: dict[str, Any], form: LabelFormat
) -> dict[str, Any]:
    """The classes of a multi-label answer: a non-empty list of names or ids, each once,
    agreeing with Ground Truth's `class-map` where there is one."""
    if not isinstance(value, list) or not value:
        raise ValueError(
            f"'{form.attribute}' must be a list of at least one class name or id "
            f"(got {shown(value)})"
        )
    class_ids = [_class_id(item, form) for item in value]
    repeated = sorted({form.labels[i] for i in class_ids if class_ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{', '.join(map(repr, repeated))} given more than once")
    class_map = metadata.get("class-map")
    if isinstance(class_map, dict):
        for class_id in class_ids:
            named = class_map.get(str(class_id))
            if named is not None and named != form.labels[class_id]:
                raise ValueError(
                    f"class id {class_id} is {form.labels[class_id]!r} but class-map says "
                    f"{shown(named)}"
                )
    confidence_map = metadata.get("confidence-map")
    default = line.get("confidence", 1.0)
    confidences = [
        _confidence(
            confidence_map.get(str(class_id), default)
            if isinstance(confidence_map, dict)
            else default
        )
        for class_id in class_ids
    ]
    return {
        "class_ids": class_ids,
        "class_names": [form.labels[i] for i in class_ids],
        "confidences": confidences,
    }


def index_labels(
    lines: Iterable[tuple[int, bytes]], form: LabelFormat, expected: LineIndex | None = None
) -> tuple[LineIndex, list[tuple[int, str]], int]:
    """Index the labels by `smkit-line`. Returns (index, kept problems, problem count);
    with `expected`, labels for objects that were not handed to people are problems."""
    index = LineIndex()
    problems: list[tuple[int, str]] = []
    count = 0

    def problem(number: int, why: str) -> None:
        nonlocal count
        count += 1
        if len(problems) < _KEPT:
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


def handed_out(to_label: Iterable[tuple[int, bytes]]) -> LineIndex:
    """The `smkit-line`s of a to-label manifest (the objects handed to people)."""
    expected = LineIndex()
    for _number, raw in to_label:
        if raw.strip():
            expected.add(json.loads(raw)[LINE_KEY], True)
    return expected


@dataclass
class LabelCheck:
    """People's labels checked against the objects handed to them (`check_labels`)."""

    uri: str
    labels: LineIndex
    """The valid labels by `smkit-line`."""
    handed_out: int
    item: str = "line"
    """What the problems' numbers count: lines of a file, or Label Studio `task`s."""
    problems: list[tuple[int, str]] = field(default_factory=list)
    problem_count: int = 0
    missing: list[int] = field(default_factory=list)
    missing_count: int = 0

    @property
    def ok(self) -> bool:
        """Every line is valid and every object handed out has its label."""
        return not self.problem_count and not self.missing_count

    def message(self) -> str:
        """Every problem at once: bad lines, then the objects still without a label."""
        parts = []
        if self.problem_count:
            parts.append(
                f"{self.uri} has {self.problem_count} problem"
                f"{'s' if self.problem_count != 1 else ''}: "
                + describe_lines(self.problems, item=self.item)
            )
        if self.missing_count:
            listed = ", ".join(map(str, self.missing))
            if self.missing_count > len(self.missing):
                listed += f" and {self.missing_count - len(self.missing)} more"
            parts.append(
                f"{self.uri if not parts else 'it'} labels "
                f"{self.handed_out - self.missing_count} of {self.handed_out} objects; "
                f"still missing {LINE_KEY} {listed}"
            )
        return "; and ".join(parts)

    def close(self) -> None:
        """Remove the index's temporary database."""
        self.labels.close()


def check_labels(
    lines: Iterable[tuple[int, bytes]],
    form: LabelFormat,
    expected: LineIndex,
    *,
    uri: str,
    item: str = "line",
) -> LabelCheck:
    """Check people's labels (`lines` of a labels file at `uri`) against the objects
    handed to them (`expected`, see `handed_out`). The caller closes the result. `item`
    names what the numbers of `lines` count in messages (default: `line`)."""
    index, problems, count = index_labels(lines, form, expected)
    check = LabelCheck(
        uri=uri,
        labels=index,
        handed_out=len(expected),
        item=item,
        problems=problems,
        problem_count=count,
    )
    for line in expected.lines():
        if index.get(line) is None:
            check.missing_count += 1
            if len(check.missing) < _MISSING_SHOWN:
                check.missing.append(line)
    return check
