"""Model Monitor violations as CloudWatch metrics.

EventBridge sends every "SageMaker Processing Job State Change" of the account that has
ended (Completed, Failed, Stopped). The handler:

- describes the job and keeps only those a monitoring schedule of this platform started
  (`SCHEDULES`: schedule name -> endpoint name; the job's MonitoringScheduleArn, or the
  schedule name Model Monitor puts in its environment), ignoring everything else;
- for a completed job, reads `constraint_violations.json` from the job's output and counts
  its violations by check type; a job whose exit message says it completed with
  violations but whose report cannot be read counts one (`unreadable-report`), so the
  alarm still fires;
- puts `Violations` (and one `Violations` per check type) and `ExecutionFailed` (1 for a
  failed or stopped job, else 0) in `NAMESPACE`, dimensions Endpoint and
  MonitoringSchedule, timestamped at the job's end. The alarms watch their Maximum, so an
  event EventBridge delivers twice changes nothing.

It changes nothing else: no job, schedule or object is touched. Plain Python and boto3.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

ENDED = frozenset({"Completed", "Failed", "Stopped"})
VIOLATIONS_FILE = "constraint_violations.json"


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Publish the metrics of one ended monitoring job; returns what it did."""
    detail = event.get("detail") or {}
    name = detail.get("ProcessingJobName")
    status = detail.get("ProcessingJobStatus")
    if not name or status not in ENDED:
        return _ignored(f"not an ended processing job (status {status!r})", name)
    schedules: dict[str, str] = json.loads(os.environ["SCHEDULES"])
    sagemaker = boto3.client("sagemaker")
    job = sagemaker.describe_processing_job(ProcessingJobName=name)
    schedule = _schedule_of(job)
    if schedule not in schedules:
        return _ignored("not a job of this platform's monitoring schedules", name)
    endpoint = schedules[schedule]
    status = str(job["ProcessingJobStatus"])
    by_check: Counter[str] = Counter()
    if status == "Completed":
        by_check = _violations(job)
        exit_message = str(job.get("ExitMessage") or "")
        if not by_check and exit_message.startswith("CompletedWithViolations"):
            by_check["unreadable-report"] = 1
    when = job.get("ProcessingEndTime") or datetime.now(UTC)
    dimensions = [
        {"Name": "Endpoint", "Value": endpoint},
        {"Name": "MonitoringSchedule", "Value": schedule},
    ]
    data = [
        _datum("Violations", dimensions, sum(by_check.values()), when),
        _datum("ExecutionFailed", dimensions, 0 if status == "Completed" else 1, when),
    ]
    data += [
        _datum("Violations", [*dimensions, {"Name": "Check", "Value": check}], count, when)
        for check, count in sorted(by_check.items())
    ]
    boto3.client("cloudwatch").put_metric_data(Namespace=os.environ["NAMESPACE"], MetricData=data)
    outcome = {
        "job": name,
        "schedule": schedule,
        "endpoint": endpoint,
        "status": status,
        "violations": sum(by_check.values()),
        "by_check": dict(sorted(by_check.items())),
    }
    logger.info("monitoring job metrics published", extra={"outcome": outcome})
    return outcome


def _ignored(reason: str, name: Any) -> dict[str, Any]:
    logger.info("monitoring metrics ignored an event", extra={"reason": reason, "job": name})
    return {"ignored": reason, "job": name}


def _schedule_of(job: dict[str, Any]) -> str | None:
    """The monitoring schedule that started the job, if one did."""
    arn = job.get("MonitoringScheduleArn")
    if arn:
        return str(arn).rsplit("/", 1)[-1]
    environment = job.get("Environment") or {}
    name = environment.get("sagemaker_monitoring_schedule_name")
    return str(name) if name else None


def _violations(job: dict[str, Any]) -> Counter[str]:
    """Violations per constraint check type in the job's output (MONITOR-5,
    model-monitor-interpreting-violations page: constraint_violations.json)."""
    outputs = job.get("ProcessingOutputConfig", {}).get("Outputs", [])
    counts: Counter[str] = Counter()
    for output in outputs:
        uri = str(output.get("S3Output", {}).get("S3Uri", ""))
        if not uri.startswith("s3://"):
            continue
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        key = f"{prefix.rstrip('/')}/{VIOLATIONS_FILE}" if prefix else VIOLATIONS_FILE
        try:
            body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                continue  # no report: the exit message decides (see handler)
            raise
        for violation in json.loads(body).get("violations", []):
            counts[str(violation.get("constraint_check_type") or "unknown")] += 1
    return counts


def _datum(
    name: str, dimensions: list[dict[str, str]], value: float, when: datetime
) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Dimensions": dimensions,
        "Timestamp": when,
        "Value": float(value),
        "Unit": "Count",
    }
