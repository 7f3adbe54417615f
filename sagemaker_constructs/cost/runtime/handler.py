"""Budget guard: when the platform's SageMaker budget is breached, stop what of the
platform is running and report exactly what happened to the alerts topic.

- Checks the event first and acts only on an AWS Budgets notification of ACTUAL spend for
  one of its budgets (`BUDGET_NAMES`). Anything else (an empty event, no records, an
  empty, null or JSON message, a CloudWatch alarm, a forecast, another budget of the
  account) is logged as "budget guard ignored a message" with the reason, and nothing is
  stopped; a metric filter on that record raises an alarm.
- Acts on SageMaker resources carrying the platform tag (`PLATFORM_TAG_KEY` =
  `PLATFORM_TAG_VALUE`) only: in-progress tuning, training, processing and transform
  jobs, and notebook instances in service or starting. Everything else is counted as
  "left alone". It also stops the running apps of the platform's Studio domains
  (`STUDIO_DOMAIN_IDS`), which it knows by id.
- Never deletes data: it stops (notebooks keep their volume; jobs keep what they wrote;
  a Studio app is stopped with DeleteApp, which ends the app's compute only: its space and
  the space's volume stay, and the user starts it again in Studio) and, when
  `SCALE_ENDPOINTS` is on, caps autoscaled endpoint variants at their autoscaling minimum.
  Otherwise real-time endpoints keep running and are listed.
- Idempotent: it acts on the state it finds, so a repeated or duplicate notification
  finds nothing left to stop; a stop call refused because the resource is already
  stopping or finished counts as done, not as a failure.
- Keeps going when one call fails, reports the failure, and then fails the invocation
  (`GuardRunError`), so Lambda's Errors metric, retries and on-failure destination see it.
- `DRY_RUN` reports what it would do and changes nothing.

Plain Python and boto3; logs are JSON records (Lambda's JSON log format) via `logging`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Throttling is likely when many resources are stopped at once: retry with backoff.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

# A resource in one of these states needs no stop call (or has just been given one).
SETTLED_STATUSES = frozenset({"Stopping", "Stopped", "Completed", "Failed", "Deleting", "Deleted"})

# Studio apps that bill for an instance while in these states.
RUNNING_APPS = ("InService", "Pending")
# Apps on `system` run on no instance of the account's (Studio Classic's JupyterServer).
FREE_APP_INSTANCE = "system"

ENDPOINT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# Endpoints in these states are not billed for instances.
NOT_RUNNING_ENDPOINTS = frozenset({"Deleting", "Failed", "OutOfService"})

LIST_PAGE_SIZE = 100

# SNS limits a message to 256 KB and a subject to 100 characters.
MAX_MESSAGE_CHARS = 200_000
MAX_SUBJECT_CHARS = 100

IGNORED_MESSAGE = "budget guard ignored a message"
"""The log record of a message the guard does not act on (a metric filter counts it)."""

# AWS Budgets' SNS notifications are plain text, one "Field: value" line per field, e.g.
# "Budget Name: demo-sagemaker-monthly" and "Alert Type: ACTUAL".
# Blanks around a field are any whitespace but a line break (e-mail style CRLF included).
_FIELD = re.compile(
    r"^[^\S\n]*(budget name|alert type)[^\S\n]*:[^\S\n]*(.*?)[^\S\n]*$",
    re.IGNORECASE | re.MULTILINE,
)
ACTUAL = "ACTUAL"
EXCERPT_CHARS = 200


class GuardRunError(RuntimeError):
    """A run in which a call failed: raised after the report went out, so that Lambda
    counts an error, retries, and finally hands the event to the on-failure destination."""


@dataclass(frozen=True)
class Kind:
    """How to list, stop and describe one kind of SageMaker resource."""

    label: str
    list_operation: str
    list_key: str
    statuses: tuple[str, ...]
    name_key: str
    arn_key: str
    stop_operation: str
    describe_operation: str
    name_parameter: str
    status_key: str


# Tuning jobs first: stopping one also stops the training jobs it started.
KINDS: tuple[Kind, ...] = (
    Kind(
        "tuning job",
        "list_hyper_parameter_tuning_jobs",
        "HyperParameterTuningJobSummaries",
        ("InProgress",),
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobArn",
        "stop_hyper_parameter_tuning_job",
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningJobStatus",
    ),
    Kind(
        "training job",
        "list_training_jobs",
        "TrainingJobSummaries",
        ("InProgress",),
        "TrainingJobName",
        "TrainingJobArn",
        "stop_training_job",
        "describe_training_job",
        "TrainingJobName",
        "TrainingJobStatus",
    ),
    Kind(
        "processing job",
        "list_processing_jobs",
        "ProcessingJobSummaries",
        ("InProgress",),
        "ProcessingJobName",
        "ProcessingJobArn",
        "stop_processing_job",
        "describe_processing_job",
        "ProcessingJobName",
        "ProcessingJobStatus",
    ),
    Kind(
        "transform job",
        "list_transform_jobs",
        "TransformJobSummaries",
        ("InProgress",),
        "TransformJobName",
        "TransformJobArn",
        "stop_transform_job",
        "describe_transform_job",
        "TransformJobName",
        "TransformJobStatus",
    ),
    Kind(
        "notebook instance",
        "list_notebook_instances",
        "NotebookInstances",
        ("InService", "Pending"),
        "NotebookInstanceName",
        "NotebookInstanceArn",
        "stop_notebook_instance",
        "describe_notebook_instance",
        "NotebookInstanceName",
        "NotebookInstanceStatus",
    ),
)


STUDIO_APP = "Studio app"


@dataclass
class Report:
    """What one run of the guard found and did."""

    platform: str
    dry_run: bool
    stopped: list[dict[str, str]] = field(default_factory=list)
    """Resources stopped (or, in a dry run, that would be): kind, name."""
    already_stopping: list[dict[str, str]] = field(default_factory=list)
    """Resources whose stop call was refused because they were already settling."""
    failed: list[dict[str, str]] = field(default_factory=list)
    """Calls that failed: kind, name, error."""
    endpoints_left_running: list[str] = field(default_factory=list)
    """The platform's real-time endpoints left as they are."""
    endpoints_capped: list[dict[str, Any]] = field(default_factory=list)
    """Autoscaled variants capped at their minimum: endpoint, variant, min, previous_max."""
    endpoints_at_minimum: list[str] = field(default_factory=list)
    """Autoscaled variants already capped at their minimum (`endpoint/variant`)."""
    left_alone: int = 0
    """Running resources of other deployments (no platform tag) left alone."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Guard:
    """Stops the platform's running SageMaker resources; see the module docstring."""

    def __init__(
        self,
        *,
        sagemaker: Any,
        autoscaling: Any,
        tag_key: str,
        tag_value: str,
        dry_run: bool,
        scale_endpoints: bool,
        studio_domain_ids: Collection[str] = (),
    ) -> None:
        self._sagemaker = sagemaker
        self._autoscaling = autoscaling
        self._tag = (tag_key, tag_value)
        self._dry_run = dry_run
        self._scale_endpoints = scale_endpoints
        self._domains = list(studio_domain_ids)

    def run(self) -> Report:
        report = Report(platform=self._tag[1], dry_run=self._dry_run)
        for kind in KINDS:
            self._stop_all(kind, report)
        for domain in self._domains:
            self._stop_apps(domain, report)
        self._endpoints(report)
        return report

    # --- Studio apps -------------------------------------------------------------------

    def _stop_apps(self, domain: str, report: Report) -> None:
        """Stop the domain's running apps (COST-6: DeleteApp keeps the space and its
        volume; the user starts the app again from the space)."""
        try:
            apps = self._list("list_apps", "Apps", DomainIdEquals=domain)
        except (ClientError, BotoCoreError) as err:
            report.failed.append(_failure(STUDIO_APP, f"{domain} (listing)", err))
            return
        for app in apps:
            if app.get("Status") not in RUNNING_APPS:
                continue
            if app.get("ResourceSpec", {}).get("InstanceType") == FREE_APP_INSTANCE:
                continue
            self._stop_app(domain, app, report)

    def _stop_app(self, domain: str, app: Mapping[str, Any], report: Report) -> None:
        owner = (
            {"SpaceName": app["SpaceName"]}
            if app.get("SpaceName")
            else {"UserProfileName": app["UserProfileName"]}
        )
        key = {"DomainId": domain, **owner, "AppType": app["AppType"], "AppName": app["AppName"]}
        name = f"{next(iter(owner.values()))}/{app['AppType']}/{app['AppName']}"
        instance = app.get("ResourceSpec", {}).get("InstanceType", "")
        entry = {"kind": STUDIO_APP, "name": f"{name} ({instance})" if instance else name}
        if self._dry_run:
            report.stopped.append(entry)
            return
        try:
            self._sagemaker.delete_app(**key)
        except ClientError as err:
            status = self._app_status_after_refusal(key, err)
            if status in SETTLED_STATUSES:
                report.already_stopping.append({**entry, "status": status})
            else:
                report.failed.append(_failure(STUDIO_APP, name, err))
            return
        except BotoCoreError as err:
            report.failed.append(_failure(STUDIO_APP, name, err))
            return
        logger.info("stopped", extra={"kind": STUDIO_APP, "resource": name})
        report.stopped.append(entry)

    def _app_status_after_refusal(self, key: Mapping[str, str], err: ClientError) -> str | None:
        """The app's status when SageMaker refused to delete it because of its state (it
        is already being deleted, or was deleted meanwhile); None otherwise."""
        code = err.response.get("Error", {}).get("Code")
        if code == "ResourceNotFound":
            return "Deleted"
        if code not in ("ValidationException", "ResourceInUse"):
            return None
        try:
            described = self._sagemaker.describe_app(**key)
        except (ClientError, BotoCoreError):
            return None
        status = described.get("Status")
        return status if isinstance(status, str) else None

    # --- jobs and notebooks --------------------------------------------------------------

    def _stop_all(self, kind: Kind, report: Report) -> None:
        for status in kind.statuses:
            try:
                summaries = self._list(kind.list_operation, kind.list_key, StatusEquals=status)
            except (ClientError, BotoCoreError) as err:
                report.failed.append(_failure(kind.label, f"(listing {status})", err))
                continue
            for summary in summaries:
                self._stop_one(kind, summary[kind.name_key], summary[kind.arn_key], report)

    def _stop_one(self, kind: Kind, name: str, arn: str, report: Report) -> None:
        try:
            if not self._owned(arn):
                report.left_alone += 1
                return
        except (ClientError, BotoCoreError) as err:
            report.failed.append(_failure(kind.label, name, err, "reading its tags"))
            return
        entry = {"kind": kind.label, "name": name}
        if self._dry_run:
            report.stopped.append(entry)
            return
        try:
            getattr(self._sagemaker, kind.stop_operation)(**{kind.name_parameter: name})
        except ClientError as err:
            status = self._status_after_refusal(kind, name, err)
            if status in SETTLED_STATUSES:
                report.already_stopping.append({**entry, "status": status})
            else:
                report.failed.append(_failure(kind.label, name, err))
            return
        except BotoCoreError as err:
            report.failed.append(_failure(kind.label, name, err))
            return
        logger.info("stopped", extra={"kind": kind.label, "resource": name})
        report.stopped.append(entry)

    def _status_after_refusal(self, kind: Kind, name: str, err: ClientError) -> str | None:
        """The resource's status when SageMaker refused to stop it because of its state
        (a duplicate notification, or it finished meanwhile); None otherwise."""
        if err.response.get("Error", {}).get("Code") != "ValidationException":
            return None
        try:
            described = getattr(self._sagemaker, kind.describe_operation)(
                **{kind.name_parameter: name}
            )
        except (ClientError, BotoCoreError):
            return None
        status = described.get(kind.status_key)
        return status if isinstance(status, str) else None

    def _owned(self, arn: str) -> bool:
        key, value = self._tag
        for tag in self._pages(self._sagemaker, "list_tags", "Tags", ResourceArn=arn):
            if tag.get("Key") == key:
                return bool(tag.get("Value") == value)
        return False

    # --- endpoints -----------------------------------------------------------------------

    def _endpoints(self, report: Report) -> None:
        try:
            endpoints = self._list("list_endpoints", "Endpoints")
        except (ClientError, BotoCoreError) as err:
            report.failed.append(_failure("endpoint", "(listing)", err))
            return
        names = []
        for endpoint in endpoints:
            if endpoint.get("EndpointStatus") in NOT_RUNNING_ENDPOINTS:
                continue
            try:
                owned = self._owned(endpoint["EndpointArn"])
            except (ClientError, BotoCoreError) as err:
                report.failed.append(
                    _failure("endpoint", endpoint["EndpointName"], err, "reading its tags")
                )
                continue
            if owned:
                names.append(endpoint["EndpointName"])
            else:
                report.left_alone += 1
        if not self._scale_endpoints:
            report.endpoints_left_running.extend(names)
            return
        try:
            targets = [
                t
                for t in self._pages(
                    self._autoscaling,
                    "describe_scalable_targets",
                    "ScalableTargets",
                    ServiceNamespace="sagemaker",
                )
                if t.get("ScalableDimension") == ENDPOINT_DIMENSION
            ]
        except (ClientError, BotoCoreError) as err:
            report.failed.append(_failure("endpoint", "(listing scalable targets)", err))
            report.endpoints_left_running.extend(names)
            return
        for name in names:
            own = [t for t in targets if t["ResourceId"].startswith(f"endpoint/{name}/variant/")]
            if not own:
                report.endpoints_left_running.append(name)
            for target in own:
                self._cap(name, target, report)

    def _cap(self, endpoint: str, target: Mapping[str, Any], report: Report) -> None:
        variant = target["ResourceId"].rsplit("/", 1)[-1]
        minimum, maximum = target["MinCapacity"], target["MaxCapacity"]
        if maximum <= minimum:
            report.endpoints_at_minimum.append(f"{endpoint}/{variant}")
            return
        entry = {"endpoint": endpoint, "variant": variant, "min": minimum, "previous_max": maximum}
        if not self._dry_run:
            try:
                self._autoscaling.register_scalable_target(
                    ServiceNamespace="sagemaker",
                    ResourceId=target["ResourceId"],
                    ScalableDimension=ENDPOINT_DIMENSION,
                    MinCapacity=minimum,
                    MaxCapacity=minimum,
                )
            except (ClientError, BotoCoreError) as err:
                report.failed.append(_failure("endpoint variant", f"{endpoint}/{variant}", err))
                return
        report.endpoints_capped.append(entry)

    @staticmethod
    def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[Any]:
        for page in client.get_paginator(operation).paginate(**params):
            yield from page.get(key, [])

    def _list(self, operation: str, key: str, **params: Any) -> list[Any]:
        """Every item of a SageMaker list operation, 100 a page (its maximum)."""
        config = {"PageSize": LIST_PAGE_SIZE}
        return list(self._pages(self._sagemaker, operation, key, PaginationConfig=config, **params))


def _failure(kind: str, name: str, err: Exception, doing: str = "") -> dict[str, str]:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        text = f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    else:
        text = f"{type(err).__name__}: {err}"
    if doing:
        text = f"{doing}: {text}"
    logger.error("guard call failed", extra={"kind": kind, "resource": name, "error": text})
    return {"kind": kind, "name": name, "error": text}


# --- report ------------------------------------------------------------------------------


def subject(report: Report) -> str:
    """The alert's subject line."""
    if report.dry_run:
        text = f"Budget guard {report.platform} (dry run): would stop {len(report.stopped)}"
    else:
        text = f"Budget guard {report.platform}: stopped {len(report.stopped)}"
    if report.endpoints_capped:
        text += f", capped {len(report.endpoints_capped)} endpoint variants"
    if report.failed:
        text += f", {len(report.failed)} FAILED"
    return text[:MAX_SUBJECT_CHARS]


def message(report: Report, notifications: list[str]) -> str:
    """The alert's body: everything the guard did, then the budget notification."""
    would = "Would stop" if report.dry_run else "Stopped"
    lines = [
        f"The budget guard of {report.platform} ran "
        + ("as a DRY RUN: nothing was changed." if report.dry_run else "and acted."),
        "",
    ]

    def section(title: str, items: list[str]) -> None:
        lines.append(f"{title} ({len(items)}):")
        lines.extend(f"  - {item}" for item in items)
        lines.append("")

    section(would, [f"{e['kind']} {e['name']}" for e in report.stopped])
    if any(e["kind"] == STUDIO_APP for e in report.stopped):
        lines.extend(
            [
                "Studio apps are stopped, not their spaces: each space and its volume (the "
                "user's files) stay, and the user starts the app again in Studio.",
                "",
            ]
        )
    if report.already_stopping:
        section(
            "Already stopping or finished",
            [f"{e['kind']} {e['name']} ({e['status']})" for e in report.already_stopping],
        )
    if report.failed:
        section(
            "FAILED (act on these yourself)",
            [f"{e['kind']} {e['name']}: {e['error']}" for e in report.failed],
        )
    if report.endpoints_capped:
        verb = "Would cap" if report.dry_run else "Capped"
        section(
            f"{verb} endpoint variants at their autoscaling minimum",
            [
                f"{e['endpoint']}/{e['variant']}: max capacity {e['previous_max']} -> {e['min']}; "
                "restore with: aws application-autoscaling register-scalable-target "
                "--service-namespace sagemaker --scalable-dimension "
                f"{ENDPOINT_DIMENSION} --resource-id endpoint/{e['endpoint']}/variant/"
                f"{e['variant']} --max-capacity {e['previous_max']}"
                for e in report.endpoints_capped
            ],
        )
    if report.endpoints_at_minimum:
        section("Endpoint variants already at their minimum", report.endpoints_at_minimum)
    if report.endpoints_left_running:
        section("Real-time endpoints left running", report.endpoints_left_running)
    lines.append(f"Running resources of other deployments left alone: {report.left_alone}")
    lines.append("")
    lines.append("Budget notification:")
    lines.extend(f"  {line}" for n in notifications for line in n.splitlines())
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "\n... (cut; the function's log has the full report)"
    return text


# --- the event --------------------------------------------------------------------------


def parse(event: object, budget_names: Collection[str]) -> tuple[list[str], list[str]]:
    """The notifications in `event` the guard acts on (their text), and why each other
    part of it is ignored. Nothing is acted on before this has looked at all of it."""
    if not isinstance(event, Mapping):
        return [], [f"the event is not an object: {_excerpt(event)}"]
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        return [], [f"the event has no SNS records: {_excerpt(event)}"]
    accepted: list[str] = []
    ignored: list[str] = []
    for index, record in enumerate(records):
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        if not isinstance(sns, Mapping):
            ignored.append(f"record {index} is not an SNS record: {_excerpt(record)}")
            continue
        text = sns.get("Message")
        reason = _reason_to_ignore(text, budget_names)
        if reason is None and isinstance(text, str):
            accepted.append(text)
        else:
            ignored.append(f"record {index}: {reason}")
    return accepted, ignored


def _reason_to_ignore(text: object, budget_names: Collection[str]) -> str | None:
    """Why the message `text` is not a notification the guard acts on; None if it is."""
    # COST-4: any budget of the account may publish to the topic (budgets-sns-policy.html
    # documents no narrower source ARN), so the budget name is checked here.
    if not isinstance(text, str) or not text.strip():
        return f"the message is empty or not text: {_excerpt(text)}"
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, Mapping) and "AlarmName" in data:
        return f"a CloudWatch alarm ({_excerpt(data['AlarmName'])}), not a budget notification"
    if data is not None:
        return f"a JSON message, not a budget notification: {_excerpt(text)}"
    fields = {key.lower(): value for key, value in _FIELD.findall(text)}
    name = fields.get("budget name")
    if name is None:
        return f"not a budget notification (no 'Budget Name:' line): {_excerpt(text)}"
    if name not in budget_names:
        return (
            f"a notification of budget {name!r}, not of the guard's "
            f"({', '.join(map(repr, sorted(budget_names)))})"
        )
    alert_type = fields.get("alert type", "").upper()
    if alert_type != ACTUAL:
        kind = f"a {alert_type}" if alert_type else "an untyped"
        return f"{kind} notification of budget {name!r}: the guard acts on actual spend only"
    return None


def _excerpt(value: object) -> str:
    text = repr(value)
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


# --- entry point -------------------------------------------------------------------------


def run(
    event: object,
    *,
    sagemaker: Any,
    autoscaling: Any,
    sns: Any,
    environment: Mapping[str, str],
) -> dict[str, Any]:
    """One run for one SNS event, with the given clients and settings: check the event,
    then act, report, and raise `GuardRunError` if any call failed."""
    platform = environment["PLATFORM_TAG_VALUE"]
    notifications, ignored = parse(event, json.loads(environment["BUDGET_NAMES"]))
    for reason in ignored:
        logger.warning(IGNORED_MESSAGE, extra={"platform": platform, "reason": reason})
    if not notifications:
        return {"acted": False, "ignored": ignored}

    guard = Guard(
        sagemaker=sagemaker,
        autoscaling=autoscaling,
        tag_key=environment["PLATFORM_TAG_KEY"],
        tag_value=platform,
        dry_run=environment.get("DRY_RUN", "false") == "true",
        scale_endpoints=environment.get("SCALE_ENDPOINTS", "false") == "true",
        studio_domain_ids=json.loads(environment.get("STUDIO_DOMAIN_IDS", "[]")),
    )
    report = guard.run()
    logger.info("budget guard report", extra={"report": report.as_dict()})
    sns.publish(
        TopicArn=environment["ALERTS_TOPIC_ARN"],
        Subject=subject(report),
        Message=message(report, notifications),
    )
    if report.failed:
        failed = ", ".join(f"{e['kind']} {e['name']}" for e in report.failed[:5])
        raise GuardRunError(
            f"budget guard of {platform}: {len(report.failed)} call(s) failed ({failed}"
            f"{', ...' if len(report.failed) > 5 else ''}); the alert lists them"
        )
    return {"acted": True, "ignored": ignored, **report.as_dict()}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point, subscribed to the budget guard's SNS topic."""
    return run(
        event,
        sagemaker=boto3.client("sagemaker", config=CLIENT_CONFIG),
        autoscaling=boto3.client("application-autoscaling", config=CLIENT_CONFIG),
        sns=boto3.client("sns", config=CLIENT_CONFIG),
        environment=os.environ,
    )
