"""What every auto-labeling step shares: the run's S3 layout, streaming JSON-lines
I/O (memory stays bounded whatever the manifest's size) and Ground Truth's output
format.

Run layout under `s3://<data bucket>/<prefix><workflow>/<run id>/`:

    run.json                    the input the run id is bound to (another input is refused)
    work/chunks.json            index of the batches (the Distributed Map's items):
                                {"index", "first_line", "last_line", "count"}
    work/chunks/<n>.jsonl       the manifest's lines of batch n: {"line", "record"}
    work/predictions/<first line>-<count>.jsonl
                                the model's answer for each object of the batch that starts
                                at that line: {"line", "record", "label", "confidence",
                                "predicted_at"}, and "inference_id" when the request
                                carried one (model-quality monitoring); keyed by what
                                the batch holds, so another batching never finds it
    work/failures/<execution>/<n>.json
                                why batch n failed to pre-label in that execution
    human/to-label.manifest     objects below the threshold, each with "smkit-line"
    human/request.json          external review: what was asked and the task token
    human/labels.manifest       external review: the labels people put back
    human/ground-truth.manifest Ground Truth review: the labeling job's output
    output/output.manifest      the merged, augmented manifest (written last but one)
    output/summary.json         counts and savings; its presence marks a finished run
    output/ground-truth.json    model-quality monitoring: where the run's ground-truth
                                records were written (written before them)
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import boto3
from botocore.config import Config

INFERENCE_ID_PREFIX = "smkit-"
"""Start of the InferenceId of each object a run pre-labels with model-quality monitoring."""
LINE_KEY = "smkit-line"
"""Key the kit adds to each object it hands to people, to find its label again."""

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})
_READ_SIZE = 1 << 20

# LABEL-2 (SNS Publish API): a message is at most 262,144 bytes of UTF-8 and a subject
# fewer than 100 characters with no line breaks; longer ones fail the Publish call.
SNS_MESSAGE_MAX_BYTES = 262_144
SNS_SUBJECT_MAX_CHARS = 99
_SNS_SAFETY_BYTES = 1024
SHOWN_CHARS = 80
"""Longest echo of a value from a file or an answer in a message."""


class InvalidInputError(Exception):
    """The execution input or a file it names cannot be used; the message says why."""


class MalformedManifestError(Exception):
    """Lines of a manifest cannot be used; the message lists them by line number."""


class IncompleteRunError(Exception):
    """A step found fewer or more objects than the run holds; it writes nothing."""


def check_count(found: int, total: int, what: str) -> None:
    """Raise IncompleteRunError unless a step met exactly the run's `total` objects."""
    if found != total:
        raise IncompleteRunError(
            f"{what} {found} objects but the run holds {total}: its predictions do not "
            "cover the manifest (a batch is missing or comes from another run); nothing was "
            "written. Start the run again with the same input."
        )


@functools.cache
def client(service: str) -> Any:
    """A boto3 client with standard retries (throttling is retried with backoff), made
    once per process so warm invocations reuse its connections."""
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def parse_s3_uri(uri: object) -> tuple[str, str]:
    """(bucket, key) of an `s3://bucket/key` URI."""
    match = _S3_URI.match(uri) if isinstance(uri, str) else None
    if not match:
        raise InvalidInputError(f"expected an s3://bucket/key URI (got {shown(uri)})")
    return match.group("bucket"), match.group("key")


@dataclass(frozen=True)
class RunLocation:
    """Where one run keeps its files."""

    bucket: str
    prefix: str
    """`<prefix><workflow>/<run id>/`, ending in a slash."""

    def key(self, name: str) -> str:
        """Key of a file of the run, e.g. `work/chunks.json`."""
        return f"{self.prefix}{name}"

    def uri(self, name: str) -> str:
        """S3 URI of a file of the run."""
        return f"s3://{self.bucket}/{self.key(name)}"

    def chunk_key(self, index: int) -> str:
        """Key of batch `index`."""
        return self.key(f"work/chunks/{index:06d}.jsonl")

    def predictions_key(self, batch: Mapping[str, Any]) -> str:
        """Key of the predictions of `batch` (an entry of `work/chunks.json`): named after
        its first line and its size, so predictions made for another batching of the
        manifest are never taken for this one's."""
        return self.key(
            f"work/predictions/{int(batch['first_line']):09d}-{int(batch['count'])}.jsonl"
        )

    def failure_key(self, execution: str, index: int) -> str:
        """Key of the record of why batch `index` failed in `execution`."""
        return self.key(f"work/failures/{execution}/{index:06d}.json")

    @classmethod
    def of(cls, run: dict[str, Any]) -> RunLocation:
        """The location of the run described by the prepare step's output."""
        return cls(bucket=run["bucket"], prefix=run["prefix"])


def inference_id(location: RunLocation, line: int) -> str:
    """The InferenceId the pre-label step sends for manifest line `line` of a run, and the
    eventId the ground-truth records of that object carry: the same for every retry and
    re-run of the run (same bucket, prefix and line), another for another run. 38 of
    InvokeEndpoint's 64 printable characters."""
    # MONITOR-9 (model-monitor-model-quality-merge page): Model Monitor merges ground truth
    # with captured requests by the caller's inferenceId.
    digest = hashlib.sha256(f"{location.bucket}/{location.prefix}#{int(line)}".encode())
    return INFERENCE_ID_PREFIX + digest.hexdigest()[:32]


def iter_lines(s3: Any, bucket: str, key: str, **get: str) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line without its line break) of an S3 object, streamed;
    `get` adds GetObject parameters (`IfMatch` pins the object read to the one checked).

    Splits on LF only (a CR before it is dropped): JSON text cannot contain a raw line
    break, so this matches what a JSON-lines writer meant, however the object is
    chunked on the wire.
    """
    body = s3.get_object(Bucket=bucket, Key=key, **get)["Body"]
    yield from _split_lines(iter(lambda: body.read(_READ_SIZE), b""))


def iter_file_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """`iter_lines` for a local binary stream."""
    yield from _split_lines(iter(lambda: stream.read(_READ_SIZE), b""))


def _split_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    pending = b""
    number = 0
    for chunk in chunks:
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        for part in parts:
            number += 1
            yield number, part.removesuffix(b"\r")
    if pending:
        yield number + 1, pending.removesuffix(b"\r")


def iter_jsonl(s3: Any, bucket: str, key: str) -> Iterator[dict[str, Any]]:
    """Objects of a JSON-lines file the kit wrote itself (trusted, one object per line)."""
    for _number, line in iter_lines(s3, bucket, key):
        if line.strip():
            yield json.loads(line)


def exists(s3: Any, bucket: str, key: str) -> bool:
    """Whether an object exists (a missing one is not an error)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as err:
        if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def read_json(s3: Any, bucket: str, key: str) -> Any:
    """A small JSON object."""
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def write_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    """Write a small JSON object (deterministic bytes, so re-runs write the same)."""
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )


def dump_line(value: Any) -> bytes:
    """One JSON-lines line (compact, keys in insertion order)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


@contextmanager
def spooled_upload(s3: Any, bucket: str, key: str) -> Iterator[IO[bytes]]:
    """A local temporary file that is uploaded to `key` only if the block succeeds, so
    a failure never leaves a partial object behind."""
    with tempfile.TemporaryFile(dir=_tmp_dir()) as handle:
        yield handle
        handle.seek(0)
        s3.upload_fileobj(handle, bucket, key)


def _tmp_dir() -> str | None:
    return os.environ.get("SMKIT_TMP_DIR") or None


class LineIndex:
    """A disk-backed map of line number -> JSON object (SQLite in a temporary file),
    so joining the labels of any number of objects keeps memory bounded."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(dir=_tmp_dir())
        self._db = sqlite3.connect(os.path.join(self._dir.name, "index.sqlite"))
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE entries (line INTEGER PRIMARY KEY, value TEXT)")

    def add(self, line: int, value: Any) -> bool:
        """Store `value` for `line`; False if the line already has one."""
        try:
            self._db.execute(
                "INSERT INTO entries VALUES (?, ?)", (line, json.dumps(value, ensure_ascii=False))
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get(self, line: int) -> Any:
        """The value stored for `line`, or None."""
        row = self._db.execute("SELECT value FROM entries WHERE line = ?", (line,)).fetchone()
        return json.loads(row[0]) if row else None

    def lines(self) -> Iterator[int]:
        """Stored line numbers, ascending."""
        for (line,) in self._db.execute("SELECT line FROM entries ORDER BY line"):
            yield line

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        """Remove the temporary database."""
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> LineIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """`repr(value)`, cut to about `limit` characters with the full length named, so a
    message that echoes a value from a file or an answer stays short."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str) else len(text)
    return f"{text[:limit]}... ({size} characters)"


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """Free text (an error message, a failure reason) cut to about `limit` characters."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def iso_time(moment: datetime.datetime) -> str:
    """A time as Ground Truth writes `creation-date`: UTC without an offset, always with
    microseconds (`2026-08-01T10:00:00.000000`)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    # LABEL-3 (sms-data-output): creation-date carries microseconds, even when they are 0.
    return moment.isoformat(timespec="microseconds")


def utc_now() -> str:
    """Now, as `iso_time` writes it."""
    return iso_time(datetime.datetime.now(datetime.UTC))


def creation_date(value: object) -> str:
    """A `creation-date` from a labels file or an earlier run in `iso_time`'s form;
    ValueError if it is not an ISO 8601 time."""
    try:
        return iso_time(datetime.datetime.fromisoformat(str(value)))
    except ValueError:
        raise ValueError(
            f"creation-date must be an ISO 8601 time such as 2026-08-01T10:00:00.000000 "
            f"(got {shown(value)})"
        ) from None


def sns_subject(text: str) -> str:
    """`text` as a valid SNS subject: one line, fewer than 100 characters."""
    line = " ".join(text.split())
    return line if len(line) <= SNS_SUBJECT_MAX_CHARS else line[: SNS_SUBJECT_MAX_CHARS - 3] + "..."


def sns_message(text: str) -> str:
    """`text` within SNS's message size, cut at a character boundary with a note when it
    is longer (the full problem list is in the function's log)."""
    data = text.encode()
    budget = SNS_MESSAGE_MAX_BYTES - _SNS_SAFETY_BYTES
    if len(data) <= budget:
        return text
    note = f"\n... (message cut at {budget} of {len(data)} bytes; the rest is in the log)"
    return data[: budget - len(note.encode())].decode(errors="ignore") + note


def describe_lines(problems: list[tuple[int, str]], *, first: int = 20, item: str = "line") -> str:
    """`line 3: not JSON; line 9: ...` for the `first` problems, then the remaining line
    numbers (up to 200) and how many there are in all. `item` names what the numbers
    count (`task` for Label Studio's task ids)."""
    text = "; ".join(f"{item} {line}: {why}" for line, why in problems[:first])
    rest = [line for line, _ in problems[first:]]
    if rest:
        listed = ", ".join(map(str, rest[:200]))
        more = f" and {len(rest) - 200} more" if len(rest) > 200 else ""
        text += f"; also {item}s {listed}{more}"
    return text


def ground_truth_record(
    record: dict[str, Any],
    *,
    attribute: str,
    class_id: int,
    class_name: str,
    confidence: float,
    human: bool,
    output_type: str,
    job_name: str,
    creation_date: str,
) -> dict[str, Any]:
    """A line of a Ground Truth augmented manifest for single-label classification:
    the object, its class id under `attribute`, and `<attribute>-metadata`."""
    return {
        **record,
        attribute: class_id,
        f"{attribute}-metadata": {
            "class-name": class_name,
            "confidence": confidence,
            "type": output_type,
            "job-name": job_name,
            "human-annotated": "yes" if human else "no",
            "creation-date": creation_date,
        },
    }


def ground_truth_multilabel_record(
    record: dict[str, Any],
    *,
    attribute: str,
    class_ids: list[int],
    class_names: list[str],
    confidences: list[float],
    human: bool,
    output_type: str,
    job_name: str,
    creation_date: str,
) -> dict[str, Any]:
    """A line of a Ground Truth augmented manifest for multi-label classification: the
    object, its class ids under `attribute`, and `<attribute>-metadata` with the
    `class-map` and `confidence-map` of those ids."""
    # LABEL-7 (sms-data-output, multi-label): ids in a list, maps keyed by the id as text.
    return {
        **record,
        attribute: list(class_ids),
        f"{attribute}-metadata": {
            "job-name": job_name,
            "class-map": {str(i): n for i, n in zip(class_ids, class_names, strict=True)},
            "human-annotated": "yes" if human else "no",
            "creation-date": creation_date,
            "confidence-map": {str(i): c for i, c in zip(class_ids, confidences, strict=True)},
            "type": output_type,
        },
    }
