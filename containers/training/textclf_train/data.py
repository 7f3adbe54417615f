"""Reading the labelled texts of the train and validation channels.

Two record shapes, one JSON object per line (files may be gzip-compressed):

- a Ground Truth text-classification output (augmented) manifest:
  `{"source": "...", "<label>": 2, "<label>-metadata": {"class-name": "spam", ...}}`
  (objects Ground Truth could not label carry `failure-reason` in their metadata and no
  label: they are skipped and counted);
- plain JSON lines: `{"source": "...", "<label>": "spam"}`.

`<label>` is the `label_attribute` hyperparameter, `source` the `text_attribute`.

File and FastFile mode read every file under the channel's folder. Pipe mode reads the
FIFO `<channel>_0`: with RecordWrapperType RecordIO it expects an augmented manifest
channel whose AttributeNames are [text, label, label-metadata] (three records per
object); without a record wrapper the stream is read as JSON lines.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .environment import TRAIN_CHANNEL, VALIDATION_CHANNEL, ChannelConfig, Paths
from .errors import TrainingError
from .hyperparameters import Hyperparameters
from .recordio import RecordIOError, read_records

MAX_REPORTED_PROBLEMS = 5
METADATA_SUFFIX = "-metadata"
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass
class ChannelData:
    """What one channel held."""

    examples: list[Example] = field(default_factory=list)
    class_indices: dict[str, int] = field(default_factory=dict)
    skipped: int = 0


@dataclass(frozen=True)
class TrainingData:
    """The examples to train and validate on, and the classes in model order."""

    train: list[Example]
    validation: list[Example]
    labels: list[str]
    validation_source: str
    skipped: int


class _BadRecordError(ValueError):
    pass


class _Reader:
    """Parses one channel's records, collecting problems instead of stopping at the first."""

    def __init__(self, channel: str, hp: Hyperparameters) -> None:
        self.channel = channel
        self.hp = hp
        self.data = ChannelData()
        self.problems: list[str] = []
        self.problem_count = 0
        self._index_of_name: dict[str, int] = {}
        self._name_of_index: dict[int, str] = {}
        self.hint = ""

    def problem(self, where: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(f"{where}: {message}")

    def add(self, where: str, record: Any) -> None:
        try:
            parsed = self._parse(record)
        except _BadRecordError as error:
            self.problem(where, str(error))
            return
        if parsed is None:
            self.data.skipped += 1
            return
        example, index = parsed
        if index is not None:
            try:
                self._remember_index(example.label, index)
            except _BadRecordError as error:
                self.problem(where, str(error))
                return
        self.data.examples.append(example)

    def finish(self) -> ChannelData:
        if self.problem_count:
            more = self.problem_count - len(self.problems)
            tail = f" (and {more} more)" if more else ""
            raise TrainingError(
                f"channel {self.channel!r}: {self.problem_count} bad record(s): "
                + "; ".join(self.problems)
                + tail
                + self.hint
            )
        self.data.class_indices = dict(self._index_of_name)
        return self.data

    def _parse(self, record: Any) -> tuple[Example, int | None] | None:
        hp = self.hp
        if not isinstance(record, dict):
            raise _BadRecordError(f"expected a JSON object, got {type(record).__name__}")
        text = record.get(hp.text_attribute)
        if text is None:
            if f"{hp.text_attribute}-ref" in record:
                raise _BadRecordError(
                    f"text stored in S3 ({hp.text_attribute}-ref) is not supported; "
                    f"put the text inline under {hp.text_attribute!r}"
                )
            raise _BadRecordError(
                f"no {hp.text_attribute!r} attribute (the text_attribute hyperparameter)"
            )
        if not isinstance(text, str):
            raise _BadRecordError(f"{hp.text_attribute!r} must be a string")
        metadata = record.get(f"{hp.label_attribute}-metadata")
        if hp.label_attribute not in record:
            if isinstance(metadata, dict) and "failure-reason" in metadata:
                return None
            raise _BadRecordError(_missing_label(record, hp))
        label = record[hp.label_attribute]
        if isinstance(label, bool):
            raise _BadRecordError(f"{hp.label_attribute!r} must be a class name or a class index")
        if isinstance(label, int):
            if label < 0:
                raise _BadRecordError(f"class index must not be negative (got {label})")
            name = metadata.get("class-name") if isinstance(metadata, dict) else None
            if name is None:
                return Example(text, str(label)), label
            if not isinstance(name, str) or not name.strip():
                raise _BadRecordError(
                    f"{hp.label_attribute}-metadata.class-name must be a non-empty string"
                )
            return Example(text, name), label
        if isinstance(label, str):
            if not label.strip():
                raise _BadRecordError(f"{hp.label_attribute!r} must not be empty")
            return Example(text, label), None
        if isinstance(label, list):
            raise _BadRecordError(
                f"{hp.label_attribute!r} holds several labels; multi-label data is not "
                "supported (the classifier predicts one class per text)"
            )
        raise _BadRecordError(
            f"{hp.label_attribute!r} must be a class name or a class index "
            f"(got {type(label).__name__})"
        )

    def _remember_index(self, name: str, index: int) -> None:
        known_index = self._index_of_name.setdefault(name, index)
        known_name = self._name_of_index.setdefault(index, name)
        if known_index != index or known_name != name:
            raise _BadRecordError(
                f"class {name!r} has index {index} here but the data also pairs index "
                f"{known_index} with {name!r} and index {index} with {known_name!r}"
            )


def _missing_label(record: dict[Any, Any], hp: Hyperparameters) -> str:
    """Why a record has no label, and, for a Ground Truth manifest labelled under another
    attribute, the hyperparameter value that reads it."""
    missing = f"no {hp.label_attribute!r} attribute (the label_attribute hyperparameter)"
    # Ground Truth writes the label under the job's LabelAttributeName `x` and its details
    # under `x-metadata`: each such pair (or a lone `x-metadata` of an object it could not
    # label) names an attribute the data is labelled under.
    named = [
        str(key).removesuffix(METADATA_SUFFIX)
        for key in record
        if str(key).endswith(METADATA_SUFFIX)
        and str(key).removesuffix(METADATA_SUFFIX)
        not in ("", hp.label_attribute, hp.text_attribute)
    ]
    labelled = [name for name in named if name in record] or named
    if len(labelled) == 1:
        name = labelled[0]
        return f"{missing}; this Ground Truth manifest labels {name!r}: set label_attribute={name}"
    if labelled:
        return (
            f"{missing}; this Ground Truth manifest labels "
            + ", ".join(repr(name) for name in sorted(labelled))
            + ": set label_attribute to the one to train on"
        )
    return f"{missing}; keys here: {', '.join(sorted(map(str, record))) or 'none'}"


def read_channel(paths: Paths, config: ChannelConfig, hp: Hyperparameters) -> ChannelData:
    """Every example of one channel."""
    reader = _Reader(config.name, hp)
    if config.is_pipe:
        _read_pipe(paths.channel_pipe(config.name), config, reader)
    else:
        _read_folder(paths.channel_dir(config.name), reader)
    return reader.finish()


def _read_folder(folder: Path, reader: _Reader) -> None:
    if not folder.is_dir():
        raise TrainingError(f"channel {reader.channel!r}: folder {folder} does not exist")
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not files:
        raise TrainingError(f"channel {reader.channel!r}: no files under {folder}")
    for path in files:
        name = path.relative_to(folder).as_posix()
        with path.open("rb") as raw:
            _read_json_lines(_text_stream(raw), name, reader)


def _read_pipe(fifo: Path, config: ChannelConfig, reader: _Reader) -> None:
    if not fifo.exists():
        raise TrainingError(f"channel {config.name!r} is in Pipe mode but {fifo} does not exist")
    with fifo.open("rb") as raw:
        if config.record_wrapper == "RecordIO":
            _read_augmented_records(raw, fifo.name, reader)
        else:
            hp = reader.hp
            names = [hp.text_attribute, hp.label_attribute, f"{hp.label_attribute}-metadata"]
            reader.hint = (
                ". (A Pipe-mode channel without a record wrapper is read as JSON lines; for "
                "an AugmentedManifestFile channel set RecordWrapperType to RecordIO and "
                f"AttributeNames to {names})"
            )
            _read_json_lines(_text_stream(raw), fifo.name, reader)


def _text_stream(raw: io.BufferedReader) -> TextIO:
    binary: BinaryIO = raw
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        binary = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline=None)


def _read_json_lines(stream: TextIO, name: str, reader: _Reader) -> None:
    try:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"{name} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                reader.problem(where, f"not valid JSON ({error.msg} at column {error.colno})")
                continue
            reader.add(where, record)
    except UnicodeDecodeError as error:
        reader.problem(name, f"not UTF-8 text ({error.reason} at byte {error.start})")
    except (OSError, EOFError) as error:
        reader.problem(name, f"unreadable ({error})")


def _read_augmented_records(raw: BinaryIO, name: str, reader: _Reader) -> None:
    hp = reader.hp
    attributes = (hp.text_attribute, hp.label_attribute, f"{hp.label_attribute}-metadata")
    try:
        records = list(read_records(raw))
    except RecordIOError as error:
        raise TrainingError(f"channel {reader.channel!r}: {name}: {error}") from error
    if len(records) % len(attributes):
        raise TrainingError(
            f"channel {reader.channel!r}: {len(records)} RecordIO records is not a multiple "
            f"of 3; the channel's AttributeNames must be {list(attributes)}"
        )
    for number, group in enumerate(_groups(records, len(attributes)), start=1):
        where = f"{name} object {number}"
        text, label, metadata = group
        try:
            record = {
                attributes[0]: _text_value(text),
                attributes[1]: _label_value(label),
                attributes[2]: _metadata_value(metadata, attributes),
            }
        except _BadRecordError as error:
            reader.problem(where, str(error))
            continue
        reader.add(where, record)


def _groups(records: list[bytes], size: int) -> Iterator[list[bytes]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _BadRecordError(f"not UTF-8 text ({error.reason})") from error


def _text_value(value: bytes) -> str:
    # SageMaker streams a string attribute either bare or as its JSON text: accept both.
    text = _decode(value)
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(decoded, str):
            return decoded
    return text


def _label_value(value: bytes) -> Any:
    text = _decode(value).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _metadata_value(value: bytes, attributes: tuple[str, ...]) -> Any:
    try:
        decoded = json.loads(_decode(value))
    except json.JSONDecodeError as error:
        raise _BadRecordError(
            f"third record is not the JSON object of {attributes[2]!r}; the channel's "
            f"AttributeNames must be {list(attributes)}"
        ) from error
    if not isinstance(decoded, dict):
        raise _BadRecordError(
            f"third record is not the JSON object of {attributes[2]!r}; the channel's "
            f"AttributeNames must be {list(attributes)}"
        )
    return decoded


def load_training_data(
    paths: Paths, channels: dict[str, ChannelConfig], hp: Hyperparameters
) -> TrainingData:
    """The train and validation examples (a seeded split of the train channel when there
    is no validation channel) and the classes, in Ground Truth's index order when the data
    carries indices, otherwise sorted by name."""
    if TRAIN_CHANNEL not in channels:
        raise TrainingError(
            f"the {TRAIN_CHANNEL!r} channel is required; this job has: "
            + (", ".join(sorted(channels)) or "no channels")
        )
    train = read_channel(paths, channels[TRAIN_CHANNEL], hp)
    if not train.examples:
        raise TrainingError(f"channel {TRAIN_CHANNEL!r} holds no labelled examples")
    validation: ChannelData | None = None
    if VALIDATION_CHANNEL in channels:
        validation = read_channel(paths, channels[VALIDATION_CHANNEL], hp)
    labels = _class_order(train, validation)
    if validation is not None:
        return TrainingData(
            train=train.examples,
            validation=validation.examples,
            labels=labels,
            validation_source="channel",
            skipped=train.skipped + validation.skipped,
        )
    held_out, kept = _split(train.examples, hp.validation_fraction, hp.seed)
    return TrainingData(
        train=kept,
        validation=held_out,
        labels=labels,
        validation_source="split" if held_out else "none",
        skipped=train.skipped,
    )


def _class_order(train: ChannelData, validation: ChannelData | None) -> list[str]:
    indices = dict(train.class_indices)
    names = {example.label for example in train.examples}
    if validation is not None:
        names.update(example.label for example in validation.examples)
        for name, index in validation.class_indices.items():
            if indices.setdefault(name, index) != index:
                raise TrainingError(
                    f"class {name!r} has index {indices[name]} in the train channel "
                    f"and {index} in the validation channel"
                )
    if len(names) < 2:
        raise TrainingError(
            f"a classifier needs at least 2 classes; the data has {len(names)}: "
            + ", ".join(repr(name) for name in sorted(names))
        )
    # Indexed classes first, in Ground Truth's order; any others after them, by name.
    return sorted(
        names, key=lambda name: (0, indices[name], name) if name in indices else (1, 0, name)
    )


def _split(
    examples: list[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    if fraction <= 0 or len(examples) < 2:
        return [], list(examples)
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)  # noqa: S311 (a reproducible split, no secret)
    count = min(len(examples) - 1, max(1, round(len(examples) * fraction)))
    held = set(order[:count])
    return (
        [examples[i] for i in sorted(held)],
        [example for i, example in enumerate(examples) if i not in held],
    )


def describe(data: TrainingData) -> Iterable[str]:
    """Log lines about the data read."""
    yield (
        f"{len(data.train)} training and {len(data.validation)} validation examples "
        f"(validation: {data.validation_source}); {len(data.labels)} classes: "
        + ", ".join(data.labels)
    )
    if data.skipped:
        yield f"skipped {data.skipped} object(s) that Ground Truth could not label"
