"""Ground Truth labeling jobs in the playground: moto 5.2.5 has no labeling job API.

The playground answers CreateLabelingJob and DescribeLabelingJob itself (on moto's
SageMaker, as moto_gaps.py answers Studio's listings), so that the labeling workflows'
`createLabelingJob.sync` task runs as tools/sfn_moto.py runs the other `.sync` jobs:
Create, then Describe. A job completes at once: `STAND_IN_WORKERS` label every object of
the input manifest with a class among the job's label categories, a stable function of
the object (the same object always gets the same class), not a person's judgement; the
output manifest is written where Ground Truth writes it,
`<S3OutputPath>/<job>/manifests/output/output.manifest`, in Ground Truth's augmented
form (the object, `<attribute>`: its class id, `<attribute>-metadata`), which the
auto-labeling merge step reads (sagemaker_constructs/labeling/runtime/autolabel/labels.py).

Only classification tasks (single- and multi-label, text and image: the pre-annotation
Lambda names the task) are answered; a job of another task type ends Failed, saying so.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
from typing import Any

import boto3
from moto.sagemaker.responses import SageMakerResponse

STAND_IN_WORKERS = "playground stand-in workers"
"""Who labels in the playground (the FailureReason and docs name them)."""
CONFIDENCE = 0.95
"""The confidence Ground Truth's consolidation gives the stand-in workers' answers."""
TASK_TYPES = {
    "TextMultiClass": ("groundtruth/text-classification", False),
    "ImageMultiClass": ("groundtruth/image-classification", False),
    "TextMultiClassMultiLabel": ("groundtruth/text-classification-multilabel", True),
    "ImageMultiClassMultiLabel": ("groundtruth/image-classification-multilabel", True),
}
"""Pre-annotation Lambda's task (`...:function:PRE-<task>`) -> output `type`, multi-label."""

_JOBS: dict[tuple[str, str, str], dict[str, Any]] = {}
"""(account, region, job name) -> DescribeLabelingJob's answer."""
_LOCK = threading.Lock()


def answer_labeling_jobs() -> None:
    """Answer CreateLabelingJob and DescribeLabelingJob on moto's SageMaker."""
    SageMakerResponse.create_labeling_job = _create  # type: ignore[attr-defined]
    SageMakerResponse.describe_labeling_job = _describe  # type: ignore[attr-defined]


def _error(code: str, message: str) -> tuple[int, dict[str, str], str]:
    return 400, {"x-amzn-ErrorType": code}, json.dumps({"__type": code, "message": message})


def _create(self: SageMakerResponse) -> Any:
    request: dict[str, Any] = json.loads(self.body)
    name = str(request["LabelingJobName"])
    key = (self.current_account, self.region, name)
    arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:labeling-job/{name}"
    with _LOCK:
        if key in _JOBS:
            # Ground Truth's answer to a name in use.
            return _error("ResourceInUse", f"Labeling job {arn} already exists")
        now = datetime.datetime.now(datetime.UTC)
        job: dict[str, Any] = {
            **request,
            "LabelingJobArn": arn,
            "JobReferenceCode": hashlib.sha256(arn.encode()).hexdigest()[:16],
            "CreationTime": now.timestamp(),
            "LastModifiedTime": now.timestamp(),
        }
        job.update(_label(request, now))
        _JOBS[key] = job
    return json.dumps({"LabelingJobArn": arn})


def _describe(self: SageMakerResponse) -> Any:
    name = str(json.loads(self.body)["LabelingJobName"])
    job = _JOBS.get((self.current_account, self.region, name))
    if job is None:
        return _error("ResourceNotFound", f"Could not find labeling job {name!r}.")
    return json.dumps(job)


def _label(request: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """The job's outcome: status, counters and output, the output manifest written."""
    name = request["LabelingJobName"]
    attribute = request["LabelAttributeName"]
    task = str(request.get("HumanTaskConfig", {}).get("PreHumanTaskLambdaArn", ""))
    task = task.rsplit(":function:PRE-", 1)[-1]
    if task not in TASK_TYPES:
        return _failed(f"the {STAND_IN_WORKERS} answer classification tasks only, not {task}")
    output_type, multi_label = TASK_TYPES[task]
    s3 = boto3.client("s3")
    try:
        categories = json.loads(_read(s3, request["LabelCategoryConfigS3Uri"]))
        labels = [str(entry["label"]) for entry in categories["labels"]]
        lines = _read(s3, request["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"])
    except s3.exceptions.NoSuchKey as err:
        return _failed(f"ClientError: {err.response['Error']['Message']}")
    objects = [json.loads(line) for line in lines.splitlines() if line.strip()]
    metadata = {
        "type": output_type,
        "job-name": f"labeling-job/{name}",
        "human-annotated": "yes",
        "creation-date": now.replace(tzinfo=None).isoformat(timespec="microseconds"),
    }
    output = []
    for record in objects:
        first = _stand_in_answer(record, len(labels))
        if multi_label:
            chosen = sorted({first, (first + 1) % len(labels)})[: 1 + first % 2]
            answer: Any = chosen
            detail: dict[str, Any] = {
                "class-map": {str(i): labels[i] for i in chosen},
                "confidence-map": {str(i): CONFIDENCE for i in chosen},
            }
        else:
            answer = first
            detail = {"class-name": labels[first], "confidence": CONFIDENCE}
        output.append({**record, attribute: answer, f"{attribute}-metadata": detail | metadata})
    uri = f"{request['OutputConfig']['S3OutputPath'].rstrip('/')}/{name}/manifests/output/"
    uri += "output.manifest"
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3.put_object(
        Bucket=bucket, Key=key, Body="".join(json.dumps(line) + "\n" for line in output).encode()
    )
    return {
        "LabelingJobStatus": "Completed",
        "LabelCounters": {
            "TotalLabeled": len(output),
            "HumanLabeled": len(output),
            "MachineLabeled": 0,
            "FailedNonRetryableError": 0,
            "Unlabeled": 0,
        },
        "LabelingJobOutput": {"OutputDatasetS3Uri": uri},
    }


def _stand_in_answer(record: dict[str, Any], classes: int) -> int:
    """The stand-in workers' class id for one object: a stable function of its data."""
    data = record.get("source", record.get("source-ref", json.dumps(record, sort_keys=True)))
    return int(hashlib.sha256(str(data).encode()).hexdigest(), 16) % classes


def _failed(reason: str) -> dict[str, Any]:
    return {
        "LabelingJobStatus": "Failed",
        "FailureReason": reason,
        "LabelCounters": {
            "TotalLabeled": 0,
            "HumanLabeled": 0,
            "MachineLabeled": 0,
            "FailedNonRetryableError": 0,
            "Unlabeled": 0,
        },
    }


def _read(s3: Any, uri: str) -> str:
    bucket, _, key = str(uri).removeprefix("s3://").partition("/")
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode("utf-8")
