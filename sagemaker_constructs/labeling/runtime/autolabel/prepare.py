"""First step of an auto-labeling run: check the execution input, derive the run id
from it (same input, same id, same output keys), bind the run id to its input, and
split the manifest into batches for the parallel pre-labeling, checking every line on
the way.

A run id names exactly one input: the manifest and its version, the threshold, the
endpoint, the human mode, the batch size, the label attribute and the labels, recorded
in `run.json` the first time the id is used. The same id with any other input is
refused, naming what differs, so two inputs never mix their files. A derived run id is
a digest of that input.

A manifest with malformed lines, or with no object at all, fails the run here, naming
every bad line; the batches written before the failure are removed and nothing is
written under the run's `output/`.

Execution input (all but `manifest_uri` optional):

    {"manifest_uri": "s3://<data bucket>/path/input.manifest",
     "threshold": 0.9, "endpoint_name": "...", "human_mode": "external", "run_id": "..."}
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from .common import (
    LINE_KEY,
    InvalidInputError,
    MalformedManifestError,
    RunLocation,
    client,
    describe_lines,
    dump_line,
    exists,
    iter_lines,
    parse_s3_uri,
    read_json,
    shown,
    spooled_upload,
    write_json,
)

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

INPUT_KEYS = ("manifest_uri", "threshold", "endpoint_name", "human_mode", "run_id")
IDENTITY_FILE = "run.json"
_RUN_ID = re.compile(r"^[a-z0-9](-?[a-z0-9]){0,39}$")
# Problems kept in memory for the message; all are counted.
_MAX_KEPT_PROBLEMS = 1000


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Check the input and split the manifest; returns the run (see `common`)."""
    settings = _Settings.from_environment()
    run = _resolve_input(event.get("input"), settings)
    s3 = client("s3")
    bucket, key = parse_s3_uri(run["manifest_uri"])
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as err:
        raise InvalidInputError(
            f"manifest_uri {run['manifest_uri']} cannot be read "
            f"({err.response['Error'].get('Code')})"
        ) from None
    version = head.get("VersionId") or head["ETag"]
    identity = _identity(run, version, settings)
    if run["human_mode"] == "label_studio" and settings.data_key == "source-ref":
        settings.images_prefix = settings.studio_images
    chosen = run.pop("run_id")
    run_id = chosen or _digest(identity)
    location = RunLocation(settings.bucket, f"{settings.prefix}{run_id}/")
    run.update(
        run_id=run_id,
        run_name=f"{settings.workflow}-{run_id}",
        bucket=location.bucket,
        prefix=location.prefix,
        manifest_version=version,
        execution=str(event.get("execution_name") or "unnamed"),
    )
    _bind(s3, location, run_id, identity)
    summary_key = location.key("output/summary.json")
    if exists(s3, location.bucket, summary_key):
        LOG.info("run %s already finished; reusing its output", run_id)
        return {**run, "completed": True, "summary": read_json(s3, location.bucket, summary_key)}
    # Read the very object checked above: a manifest replaced meanwhile fails the read.
    total, batches = _split(
        s3, (bucket, key, head["ETag"]), location, run["manifest_uri"], settings
    )
    run.update(
        completed=False, total=total, batches=batches, chunks_key=location.key("work/chunks.json")
    )
    LOG.info("run %s: %d objects in %d batches", run_id, total, batches)
    return run


class _Settings:
    def __init__(self, env: dict[str, str]) -> None:
        self.bucket = env["DATA_BUCKET"]
        self.prefix = env["RUN_PREFIX"]
        self.workflow = env["WORKFLOW"]
        self.data_key = "source" if env["DATA_TYPE"] == "text" else "source-ref"
        self.labels: list[str] = json.loads(env["LABELS"])
        self.endpoints: list[str] = json.loads(env["ENDPOINTS"])
        self.default_threshold = float(env["DEFAULT_THRESHOLD"])
        self.attribute = env["LABEL_ATTRIBUTE"]
        self.human_modes: list[str] = json.loads(env["HUMAN_MODES"])
        self.batch_size = int(env["OBJECTS_PER_BATCH"])
        self.multi_label = env.get("MULTI_LABEL") == "true"
        # Label Studio presigns images through its source storage, which is the data
        # bucket's: a label_studio run's images must be there (under this prefix).
        self.studio_images = f"s3://{self.bucket}/{env.get('LABEL_STUDIO_IMAGES_PREFIX', '')}"
        self.images_prefix: str | None = None

    @classmethod
    def from_environment(cls) -> _Settings:
        return cls(dict(os.environ))


def _resolve_input(raw: object, settings: _Settings) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInputError(
            'the execution input must be a JSON object such as {"manifest_uri": "s3://..."}'
        )
    problems = []
    unknown = sorted(set(raw) - set(INPUT_KEYS))
    if unknown:
        problems.append(f"unknown keys {shown(unknown)}; allowed: {', '.join(INPUT_KEYS)}")
    manifest_uri = raw.get("manifest_uri")
    try:
        bucket, _key = parse_s3_uri(manifest_uri)
        if bucket != settings.bucket:
            problems.append(
                f"manifest_uri must be in the data bucket {settings.bucket} "
                f"(got {shown(manifest_uri)})"
            )
    except InvalidInputError as err:
        problems.append(f"manifest_uri: {err}")
    threshold = raw.get("threshold", settings.default_threshold)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not (0 <= threshold <= 1)
    ):
        problems.append(f"threshold must be a number from 0 to 1 (got {shown(threshold)})")
    endpoint = raw.get("endpoint_name", settings.endpoints[0])
    known = {name.lower(): name for name in settings.endpoints}
    if not isinstance(endpoint, str) or endpoint.lower() not in known:
        problems.append(
            f"endpoint_name must be one of {', '.join(settings.endpoints)} (got {shown(endpoint)})"
        )
    human_mode = raw.get("human_mode", settings.human_modes[0])
    if human_mode not in settings.human_modes:
        problems.append(
            f"human_mode must be one of {', '.join(settings.human_modes)} (got {shown(human_mode)})"
        )
    run_id = raw.get("run_id")
    id_problem = run_id_problem(run_id) if run_id is not None else None
    if id_problem:
        problems.append(id_problem)
    if problems:
        raise InvalidInputError("invalid execution input: " + "; ".join(problems))
    return {
        "manifest_uri": manifest_uri,
        "threshold": float(threshold),
        "endpoint_name": known[str(endpoint).lower()],
        "human_mode": human_mode,
        "label_attribute": settings.attribute,
        "run_id": run_id,
    }


def run_id_problem(run_id: object) -> str | None:
    """Why `run_id` cannot name a run (None where it can): the check this function makes,
    for callers that start runs (`smkit label auto --run-id`)."""
    if isinstance(run_id, str) and _RUN_ID.match(run_id):
        return None
    return (
        f"run_id must be 1-40 lower-case letters, digits and single hyphens (got {shown(run_id)})"
    )


def _identity(run: dict[str, Any], version: str, settings: _Settings) -> dict[str, Any]:
    """Everything that decides a run's files: a run id names exactly one of these."""
    return {
        "manifest_uri": run["manifest_uri"],
        "manifest_version": version,
        "threshold": run["threshold"],
        "endpoint_name": run["endpoint_name"],
        "human_mode": run["human_mode"],
        "objects_per_batch": settings.batch_size,
        "label_attribute": settings.attribute,
        "labels": settings.labels,
        # Only when set: the run ids of single-label workflows stay what they were.
        **({"multi_label": True} if settings.multi_label else {}),
    }


def _digest(identity: dict[str, Any]) -> str:
    """The derived run id: same input, same run id."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _bind(s3: Any, location: RunLocation, run_id: str, identity: dict[str, Any]) -> None:
    """Record the input `run_id` names the first time it is used; refuse another input."""
    key = location.key(IDENTITY_FILE)
    if not exists(s3, location.bucket, key):
        if _has_files(s3, location):
            raise InvalidInputError(
                f"run_id {run_id!r} already holds a run whose input was not recorded (made "
                "before run ids were bound to their input), so this input cannot be checked "
                "against it: choose another run_id"
            )
        try:
            # Only the first of two concurrent runs records its input.
            s3.put_object(
                Bucket=location.bucket,
                Key=key,
                Body=json.dumps(identity, indent=2, sort_keys=True).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
            return
        except s3.exceptions.ClientError as err:
            if err.response["Error"].get("Code") != "PreconditionFailed":
                raise
    bound = read_json(s3, location.bucket, key)
    differences = [
        f"{name} {shown(bound.get(name))} (this run: {shown(value)})"
        for name, value in identity.items()
        if bound.get(name) != value
    ]
    if differences:
        raise InvalidInputError(
            f"run_id {run_id!r} belongs to another input: "
            + "; ".join(differences)
            + ". A run id names one input (manifest and its version, threshold, endpoint, "
            "human mode, and the workflow's objects_per_batch, label attribute and labels): "
            "choose another run_id, or leave it out to get one derived from the input"
        )


def _has_files(s3: Any, location: RunLocation) -> bool:
    return any(
        exists(s3, location.bucket, location.key(name))
        for name in ("work/chunks.json", "output/summary.json")
    )


def _split(
    s3: Any,
    source: tuple[str, str, str],
    location: RunLocation,
    uri: str,
    settings: _Settings,
) -> tuple[int, int]:
    """Check every line and write the batches; returns (objects, batches). On any
    failure the batches this call wrote are removed again."""
    written: list[str] = []
    try:
        return _write_batches(s3, source, location, uri, settings, written)
    except BaseException:
        _remove(s3, location.bucket, written)
        raise


def _write_batches(
    s3: Any,
    source: tuple[str, str, str],
    location: RunLocation,
    uri: str,
    settings: _Settings,
    written: list[str],
) -> tuple[int, int]:
    bucket, key, etag = source
    problems: list[tuple[int, str]] = []
    bad_lines = 0
    batches: list[dict[str, int]] = []
    pending: list[bytes] = []
    first_line = last_line = 0
    total = lines = 0

    def flush() -> None:
        index = len(batches)
        chunk_key = location.chunk_key(index)
        written.append(chunk_key)
        with spooled_upload(s3, location.bucket, chunk_key) as out:
            out.writelines(pending)
        batches.append(
            {
                "index": index,
                "first_line": first_line,
                "last_line": last_line,
                "count": len(pending),
            }
        )
        pending.clear()

    for number, raw in _manifest_lines(s3, bucket, key, etag, uri):
        lines = number
        if not raw.strip():
            continue  # blank lines carry no object; line numbers still count them
        record, why = _check_line(raw, settings)
        if why is not None:
            bad_lines += 1
            if len(problems) < _MAX_KEPT_PROBLEMS:
                problems.append((number, why))
            continue
        total += 1
        if bad_lines:
            continue  # the run will fail: only keep checking
        if not pending:
            first_line = number
        last_line = number
        pending.append(dump_line({"line": number, "record": record}))
        if len(pending) >= settings.batch_size:
            flush()
    if bad_lines:
        raise MalformedManifestError(
            f"{uri} has {bad_lines} malformed line{'s' if bad_lines != 1 else ''}: "
            + describe_lines(problems)
        )
    if not total:
        raise InvalidInputError(
            f"{uri} holds no object to label "
            + (f"({lines} lines, all blank)" if lines else "(it is empty)")
        )
    if pending:
        flush()
    write_json(s3, location.bucket, location.key("work/chunks.json"), batches)
    return total, len(batches)


def _manifest_lines(
    s3: Any, bucket: str, key: str, etag: str, uri: str
) -> Iterator[tuple[int, bytes]]:
    try:
        yield from iter_lines(s3, bucket, key, IfMatch=etag)
    except s3.exceptions.ClientError as err:
        if err.response["Error"].get("Code") != "PreconditionFailed":
            raise
        raise InvalidInputError(
            f"{uri} was replaced while the run read it: start the run again"
        ) from None


def _remove(s3: Any, bucket: str, keys: list[str]) -> None:
    """Remove the batches of a failed split (best effort: the failure itself is what the
    run reports)."""
    for start in range(0, len(keys), 1000):
        objects = [{"Key": k} for k in keys[start : start + 1000]]
        try:
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        except Exception:  # the split's own failure is what the run must report
            LOG.exception("could not remove %d batches of the failed split", len(objects))
            continue
        for error in answer.get("Errors", []):
            LOG.error("could not remove %s: %s", error.get("Key"), error.get("Message"))


def _check_line(raw: bytes, settings: _Settings) -> tuple[dict[str, Any] | None, str | None]:
    try:
        record = json.loads(raw)
    except ValueError as err:
        return None, f"not valid JSON ({err})"
    if not isinstance(record, dict):
        return None, f"not a JSON object (got {type(record).__name__})"
    value = record.get(settings.data_key)
    if not isinstance(value, str) or not value:
        return None, f"needs a non-empty string '{settings.data_key}'"
    if settings.data_key == "source-ref" and not value.startswith("s3://"):
        return None, f"'source-ref' must be an s3:// URI (got {shown(value)})"
    if settings.images_prefix is not None and not value.startswith(settings.images_prefix):
        return None, (
            f"'source-ref' must be under {settings.images_prefix} for Label Studio, which "
            f"reads images through the data bucket's storage (got {shown(value)})"
        )
    taken = [
        name
        for name in (settings.attribute, f"{settings.attribute}-metadata", LINE_KEY)
        if name in record
    ]
    if taken:
        return None, (
            f"already has {', '.join(repr(t) for t in taken)}; the run would overwrite it "
            "(use another label_attribute, or remove it)"
        )
    return record, None
