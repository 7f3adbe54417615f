"""SageMaker service quotas: what the config can start at once, from the settings'
`resource_usages()`, against what Service Quotas applies to the account (service code
`sagemaker`). New accounts often have 0 for GPU instance types: the most common reason a
first training job, endpoint or notebook fails.

Per instance type, SageMaker counts training jobs (spot ones on their own quota, and a
tuning job's parallel training jobs count as training jobs), endpoints, notebook
instances, transform jobs and processing jobs (Model Monitor's baseline and monitoring
jobs); account-wide, it also counts instances across all of them and serverless
concurrency. Everything the config can run counts at once: workflows may run together,
and an endpoint may scale to its most instances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stacks.settings import PlatformSettings

from ..deployment import Deployment
from .findings import Finding, UnsettledError, collect

SERVICE_CODE = "sagemaker"
TRAINING_INSTANCES = "Number of instances across all training jobs"
SPOT_TRAINING_INSTANCES = "Number of instances across all spot training jobs"
ENDPOINT_INSTANCES = "Number of instances across active endpoints"
NOTEBOOK_INSTANCES = "Total number of notebook instances"
SERVERLESS_ENDPOINTS = "Maximum number of serverless endpoints"
SERVERLESS_CONCURRENCY = (
    "Maximum total concurrency that can be allocated across all serverless endpoints"
)


@dataclass(frozen=True)
class Need:
    """What one config entry needs of one quota."""

    path: str
    """The config entry, e.g. `training.tuning.text-classifier-hpo`."""
    count: int
    """How much of the quota it needs."""
    how: str
    """How that is counted, e.g. `1 instance x 3 parallel jobs`."""


@dataclass(frozen=True)
class QuotaNeed:
    """Everything the config needs of one quota."""

    quota: str
    """The quota's name in Service Quotas, e.g. `ml.g5.xlarge for training job usage`."""
    needs: tuple[Need, ...]
    """Each entry that needs it."""

    @property
    def needed(self) -> int:
        """All of them at once."""
        return sum(n.count for n in self.needs)

    def describe(self) -> str:
        """`training.definitions.x: 1 (1 instance per job); ...`."""
        return "; ".join(f"{n.path}: {n.count} ({n.how})" for n in self.needs)


def _instances(count: int) -> str:
    return f"{count} instance{'s' if count != 1 else ''}"


class _Needs:
    """Collects needs per quota, in the order the config names them."""

    def __init__(self) -> None:
        self.by_quota: dict[str, dict[str, Need]] = {}

    def add(self, quota: str, need: Need) -> None:
        """`need` of `quota`; an entry counted twice (a run picks one of several instance
        types) keeps its largest need."""
        entries = self.by_quota.setdefault(quota, {})
        known = entries.get(need.path)
        if known is None or need.count > known.count:
            entries[need.path] = need

    def result(self) -> list[QuotaNeed]:
        return [
            QuotaNeed(quota, tuple(entries.values()))
            for quota, entries in self.by_quota.items()
            if entries
        ]


def quota_needs(settings: PlatformSettings) -> list[QuotaNeed]:
    """Every SageMaker quota the config's notebooks, jobs and endpoints need, with the
    entries that need it: instance-type quotas first, account-wide ones after."""
    per_type, account = _Needs(), _Needs()
    for usage in settings.resource_usages():
        if usage.kind in ("training", "tuning") and usage.instance_type:
            parallel = usage.max_parallel_jobs or 1
            count = usage.instance_count * parallel
            how = (
                f"{_instances(usage.instance_count)} x {parallel} parallel jobs"
                if usage.kind == "tuning"
                else f"{_instances(usage.instance_count)} per job"
            )
            kind = "spot training job usage" if usage.spot else "training job usage"
            per_type.add(f"{usage.instance_type} for {kind}", Need(usage.path, count, how))
            account.add(
                SPOT_TRAINING_INSTANCES if usage.spot else TRAINING_INSTANCES,
                Need(usage.path, count, how),
            )
        elif usage.kind == "endpoint" and usage.instance_type:
            count = usage.instance_count
            need = Need(
                usage.path, count, f"up to {_instances(count)}" if count > 1 else "1 instance"
            )
            per_type.add(f"{usage.instance_type} for endpoint usage", need)
            account.add(ENDPOINT_INSTANCES, need)
        elif usage.kind == "endpoint":
            concurrency = usage.max_concurrency or 0
            account.add(SERVERLESS_ENDPOINTS, Need(usage.path, 1, "a serverless endpoint"))
            account.add(
                SERVERLESS_CONCURRENCY,
                Need(usage.path, concurrency, f"max_concurrency {concurrency}"),
            )
        elif usage.kind in ("transform", "processing", "monitoring") and usage.instance_type:
            job = "transform" if usage.kind == "transform" else "processing"
            need = Need(
                usage.path, usage.instance_count, f"{_instances(usage.instance_count)} per job"
            )
            per_type.add(f"{usage.instance_type} for {job} job usage", need)
        elif usage.kind == "notebook" and usage.instance_type:
            need = Need(usage.path, 1, "a notebook instance")
            per_type.add(f"{usage.instance_type} for notebook instance usage", need)
            account.add(NOTEBOOK_INSTANCES, need)
    return per_type.result() + account.result()


def _value(quota: dict[str, Any]) -> float | None:
    value = quota.get("Value")
    return float(value) if value is not None else None


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _judge(need: QuotaNeed, quota: dict[str, Any] | None, source: str, region: str) -> Finding:
    data: dict[str, Any] = {
        "needed": need.needed,
        "applied": None,
        "source": None,
        "quota_code": None,
        "entries": [{"path": n.path, "count": n.count, "how": n.how} for n in need.needs],
    }
    if quota is None:
        return Finding(
            "quota",
            need.quota,
            "unknown",
            f"Service Quotas lists no such SageMaker quota in {region}; needed "
            f"{need.needed} by {need.describe()}",
            fix=f"Check that the instance type is offered in {region} for this use (SageMaker "
            "pricing page), or choose another type.",
            data=data,
        )
    value = _value(quota)
    code = str(quota.get("QuotaCode", ""))
    data.update(applied=value, source=source, quota_code=code)
    if value is None:
        reason = quota.get("ErrorReason", {}).get("ErrorMessage", "no value given")
        return Finding(
            "quota",
            need.quota,
            "unknown",
            f"Service Quotas gives no value ({reason}); needed {need.needed} by {need.describe()}",
            fix="Look the quota up in the Service Quotas console.",
            cause="error",
            data=data,
        )
    origin = "AWS default, no applied value listed" if source == "default" else source
    has = f"{_number(value)} ({origin})"
    detail = f"needs {need.needed}, has {has}: {need.describe()}"
    if value >= need.needed:
        return Finding("quota", need.quota, "pass", detail, data=data)
    fix = (
        f"aws service-quotas request-service-quota-increase --service-code {SERVICE_CODE} "
        f"--quota-code {code} --desired-value {need.needed} --region {region}"
        if quota.get("Adjustable", True)
        else f"Not adjustable: make {', '.join(n.path for n in need.needs)} need less."
    )
    return Finding("quota", need.quota, "fail", detail, fix=fix, data=data)


def _by_name(quotas: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(q["QuotaName"]): q for q in quotas if "QuotaName" in q}


def check_quotas(deployment: Deployment) -> list[Finding]:
    """One finding per quota the config needs (none when it starts no compute)."""
    needs = quota_needs(deployment.settings)
    if not needs:
        return []
    client = deployment.aws.client("service-quotas")
    region = deployment.aws.region
    try:
        applied = _by_name(collect(client, "ListServiceQuotas", "Quotas", ServiceCode=SERVICE_CODE))
    except UnsettledError as unsettled:
        return [unsettled.finding("quota", "SageMaker service quotas")]
    defaults: dict[str, dict[str, Any]] = {}
    unlisted: UnsettledError | None = None
    # Quotas without an applied value are left out of ListServiceQuotas; their AWS
    # default is what applies.
    if any(n.quota not in applied for n in needs):
        try:
            defaults = _by_name(
                collect(client, "ListAWSDefaultServiceQuotas", "Quotas", ServiceCode=SERVICE_CODE)
            )
        except UnsettledError as unsettled:
            unlisted = unsettled
    findings = []
    for need in needs:
        if need.quota in applied:
            findings.append(_judge(need, applied[need.quota], "applied", region))
        elif unlisted is not None:
            findings.append(unlisted.finding("quota", need.quota))
        else:
            findings.append(_judge(need, defaults.get(need.quota), "default", region))
    return findings
