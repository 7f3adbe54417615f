"""First step of a labeling workflow run: check the execution input and name the job.

Execution input (all but `manifest_uri` optional; the rest override the workflow's
settings for this run):

    {"manifest_uri": "s3://<data bucket>/path/input.manifest", "job_name": "batch-7",
     "title": "...", "description": "...", "workers_per_object": 3,
     "task_time_limit_seconds": 600, "task_availability_seconds": 86400,
     "label_attribute": "sentiment"}

A run started by another workflow (auto-labeling's Ground Truth step) also carries
`AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`, which Step Functions puts in the input of
a nested execution to link it to its parent: accepted and ignored.

The job is named `<job prefix><job_name>`, or `<job prefix><execution name>` made to fit
SageMaker's rules (labeling job names are unique in an account and region for good).
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

import boto3

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ATTRIBUTE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$")
MAX_JOB_NAME = 63


class InvalidInputError(Exception):
    """The execution input cannot be used; the message says why."""


@functools.cache
def _s3() -> Any:
    return boto3.client("s3")


STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
"""The key a parent execution adds to a nested execution's input (CDK's
`associate_with_parent`): https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html"""


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """The job's settings for this run, checked."""
    raw = event.get("input")
    if not isinstance(raw, dict):
        raise InvalidInputError(
            'the execution input must be a JSON object such as {"manifest_uri": "s3://..."}'
        )
    defaults: dict[str, Any] = json.loads(os.environ["DEFAULTS"])
    limits: dict[str, int] = json.loads(os.environ["LIMITS"])
    prefix = os.environ["JOB_PREFIX"]
    bucket = os.environ["DATA_BUCKET"]
    allowed = ["manifest_uri", "job_name", *defaults]
    problems = []
    unknown = sorted(set(raw) - set(allowed) - {STARTED_BY})
    if unknown:
        problems.append(f"unknown keys {unknown}; allowed: {', '.join(allowed)}")
    job = {**defaults, **{k: v for k, v in raw.items() if k in defaults}}
    manifest_uri = raw.get("manifest_uri")
    match = _S3_URI.match(manifest_uri) if isinstance(manifest_uri, str) else None
    if not match:
        problems.append(f"manifest_uri must be an s3://bucket/key URI (got {manifest_uri!r})")
    elif match.group("bucket") != bucket:
        problems.append(f"manifest_uri must be in the data bucket {bucket} (got {manifest_uri})")
    problems += _check_values(job, limits)
    execution_name = str(event.get("execution_name", ""))
    job_name = _job_name(prefix, raw.get("job_name"), execution_name)
    name_problem = _name_problem(
        prefix, job_name, raw.get("job_name", f"from the execution name {execution_name!r}")
    )
    if name_problem:
        problems.append(name_problem)
    if problems:
        raise InvalidInputError("invalid execution input: " + "; ".join(problems))
    assert match is not None
    s3 = _s3()
    try:
        s3.head_object(Bucket=match.group("bucket"), Key=match.group("key"))
    except s3.exceptions.ClientError as err:
        raise InvalidInputError(
            f"manifest_uri {manifest_uri} cannot be read ({err.response['Error'].get('Code')})"
        ) from None
    return {**job, "job_name": job_name, "manifest_uri": manifest_uri}


def _check_values(job: dict[str, Any], limits: dict[str, int]) -> list[str]:
    problems = []
    for key, low in (
        ("workers_per_object", 1),
        ("task_time_limit_seconds", 30),
        ("task_availability_seconds", 60),
    ):
        value, high = job[key], limits[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{key} must be an integer from {low} to {high} (got {value!r})")
    for key, most in (("title", 128), ("description", 255)):
        value = job[key]
        if not isinstance(value, str) or not 1 <= len(value) <= most:
            problems.append(f"{key} must be 1-{most} characters (got {value!r})")
    attribute = job["label_attribute"]
    if (
        not isinstance(attribute, str)
        or not _ATTRIBUTE.match(attribute)
        or attribute.endswith(("-metadata", "-ref"))
    ):
        problems.append(
            "label_attribute must be letters, digits and hyphens, not ending in -metadata or "
            f"-ref (got {attribute!r})"
        )
    return problems


def job_name_problem(prefix: str, given: str) -> str | None:
    """Why `given` cannot be a run's job_name under `prefix` (None where it can): the
    check this function makes, for callers that start runs (`smkit label run`)."""
    return _name_problem(prefix, _job_name(prefix, given, ""), given)


def _name_problem(prefix: str, job_name: str, given: object) -> str | None:
    if _JOB_NAME.match(job_name) and len(job_name) > len(prefix):
        return None
    return (
        f"job_name must be letters, digits and hyphens making a job name of at most "
        f"{MAX_JOB_NAME} characters with the prefix {prefix!r} (got {given!r})"
    )


def _job_name(prefix: str, given: object, execution_name: str) -> str:
    if given is not None:
        return f"{prefix}{given}" if isinstance(given, str) else ""
    suffix = re.sub(r"[^a-z0-9]+", "-", execution_name.lower()).strip("-")
    return (prefix + suffix)[:MAX_JOB_NAME].rstrip("-")
