"""Estimated monthly cost of an assembly, idle and at the usage the config implies.

Data-driven: each CloudFormation resource type has a rule (or is listed as free);
prices come from `prices.yaml`; whatever a rule cannot know from the template or
the config is a named usage assumption, and every assumption used is reported.
Training, tuning, batch transform and Model Monitor baseline jobs are not CloudFormation
resources: their cost comes from the settings sections' `resource_usages()`. Scheduled
monitoring jobs are priced from their `AWS::SageMaker::MonitoringSchedule`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.assembly import Assembly, Stack, references, render

PRICES_FILE = Path(__file__).with_name("prices.yaml")

# Types that cost nothing by themselves (their cost, if any, shows up elsewhere: a flow
# log's in its log group, a model's in its endpoint).
FREE_TYPES = frozenset(
    {
        "AWS::CDK::Metadata",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::OIDCProvider",
        "AWS::IAM::InstanceProfile",
        "AWS::KMS::Alias",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::FlowLog",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::Lambda::Permission",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Logs::SubscriptionFilter",
        "AWS::Logs::ResourcePolicy",
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::Cognito::UserPoolClient",
        "AWS::Cognito::UserPoolDomain",
        "AWS::Cognito::UserPoolGroup",
        "AWS::Cognito::UserPoolUser",
        "AWS::Cognito::UserPoolUserToGroupAttachment",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::NotebookInstanceLifecycleConfig",
        "AWS::SageMaker::CodeRepository",
        "AWS::SageMaker::ModelPackageGroup",
        "AWS::SageMaker::Workforce",
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::Budgets::BudgetsAction",
        "AWS::SSM::Parameter",
        "AWS::CloudFormation::WaitConditionHandle",
    }
)

# Base64 of at least 40 characters, possibly wrapped into lines (base64 wraps at 76).
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4,}\n)*[A-Za-z0-9+/]{40,}={0,2}")
_AUTO_STOP_MARKERS = ("stop_notebook_instance", "stop-notebook-instance", "StopNotebookInstance")


@dataclass(frozen=True)
class Price:
    value: float
    approximate: bool = False


@dataclass(frozen=True)
class Assumption:
    key: str
    value: float
    note: str


@dataclass(frozen=True)
class PriceTable:
    """prices.yaml, read."""

    as_of: str
    currency: str
    base_region: str
    hours_per_month: float
    sources: tuple[str, ...]
    general_assumptions: tuple[str, ...]
    prices: dict[str, dict[str, Any]]
    instance_hour: dict[str, dict[str, Any]]
    regions: dict[str, dict[str, Any]]
    usage: dict[str, Assumption]

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> PriceTable:
        data = yaml.safe_load(path.read_text())
        return cls(
            as_of=str(data["as_of"]),
            currency=data["currency"],
            base_region=data["base_region"],
            hours_per_month=float(data["hours_per_month"]),
            sources=tuple(data["sources"]),
            general_assumptions=tuple(data["general_assumptions"]),
            prices=data["prices"],
            instance_hour=data["instance_hour"],
            regions=data["regions"],
            usage={
                key: Assumption(key, float(item["value"]), item["note"])
                for key, item in data["usage"].items()
            },
        )

    def region_factor(self, region: str) -> Price:
        entry = self.regions[region]
        return Price(float(entry["factor"]), bool(entry.get("approximate", False)))

    def price(self, key: str, region: str) -> Price:
        entry = self.prices[key]
        base = float(entry["price"])
        approximate = bool(entry.get("approximate", False))
        if entry.get("flat"):
            return Price(base, approximate)
        factor = self.region_factor(region)
        return Price(base * factor.value, approximate or factor.approximate)

    def instance(self, instance_type: str, region: str) -> Price | None:
        entry = self.instance_hour.get(instance_type)
        if entry is None:
            return None
        factor = self.region_factor(region)
        return Price(
            float(entry["price"]) * factor.value,
            bool(entry.get("approximate", False)) or factor.approximate,
        )


@dataclass(frozen=True)
class CostLine:
    """One priced item: what it is, its monthly cost idle and at usage, and how."""

    stack: str
    resource: str
    item: str
    idle: float
    usage: float
    basis: str
    approximate: bool = False


@dataclass(frozen=True)
class Unpriced:
    stack: str
    resource: str
    resource_type: str
    reason: str


@dataclass
class Estimate:
    """The cost estimate of one assembly."""

    region: str
    region_note: str
    table: PriceTable
    lines: list[CostLine] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    assumptions_used: dict[str, Assumption] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def idle(self) -> float:
        return sum(line.idle for line in self.lines)

    @property
    def usage(self) -> float:
        return sum(line.usage for line in self.lines)

    @property
    def approximate(self) -> bool:
        return any(line.approximate for line in self.lines)


@dataclass(frozen=True)
class UsageItem:
    """Compute that a config runs outside CloudFormation (training, tuning), in the
    shape of `stacks.settings.base.ResourceUsage` (duck-typed: no settings import)."""

    kind: str
    path: str
    instance_type: str | None
    instance_count: int = 1
    max_runtime_seconds: int | None = None
    max_parallel_jobs: int | None = None


class _Context:
    """What a rule sees: the estimate being built, the stack and resource."""

    def __init__(self, estimate: Estimate, stack: Stack, logical_id: str) -> None:
        self.estimate = estimate
        self.stack = stack
        self.logical_id = logical_id
        self.resource = stack.resources[logical_id]
        self.props: dict[str, Any] = self.resource.get("Properties", {}) or {}

    @property
    def hours(self) -> float:
        return self.estimate.table.hours_per_month

    def price(self, key: str) -> Price:
        return self.estimate.table.price(key, self.estimate.region)

    def assume(self, key: str) -> float:
        assumption = self.estimate.table.usage[key]
        self.estimate.assumptions_used[key] = assumption
        return assumption.value

    def line(self, item: str, idle: float, usage: float, basis: str, *prices: Price) -> None:
        self.estimate.lines.append(
            CostLine(
                stack=self.stack.name,
                resource=self.logical_id,
                item=item,
                idle=idle,
                usage=usage,
                basis=basis,
                approximate=any(p.approximate for p in prices),
            )
        )

    def unpriced(self, reason: str) -> None:
        self.estimate.unpriced.append(
            Unpriced(self.stack.name, self.logical_id, self.resource.get("Type", ""), reason)
        )

    def target(self, value: Any) -> tuple[str, dict[str, Any]] | None:
        """The resource of this stack that `value` refers to (Ref / GetAtt)."""
        for name in references(value):
            if name in self.stack.resources:
                return name, self.stack.resources[name]
        return None


Rule = Callable[[_Context], None]


def _kms_key(ctx: _Context) -> None:
    key = ctx.price("kms_key_month")
    requests = ctx.assume("kms_requests_per_key")
    request_price = ctx.price("kms_requests_10k")
    usage = key.value + requests / 10_000 * request_price.value
    ctx.line(
        "KMS customer managed key",
        key.value,
        usage,
        f"${key.value:.2f}/key-month; at usage + {requests:,.0f} requests "
        f"x ${request_price.value}/10k",
        key,
        request_price,
    )


def _vpc_endpoint(ctx: _Context) -> None:
    if ctx.props.get("VpcEndpointType", "Gateway") != "Interface":
        ctx.line("VPC gateway endpoint (no charge)", 0.0, 0.0, "gateway endpoints are free")
        return
    subnets = ctx.props.get("SubnetIds")
    azs = len(subnets) if isinstance(subnets, list) else 2
    hourly = ctx.price("interface_endpoint_az_hour")
    data = ctx.price("endpoint_data_gb")
    gb = ctx.assume("endpoint_gb_per_interface_endpoint")
    idle = hourly.value * azs * ctx.hours
    service = re.sub(r"^com\.amazonaws\.[^.]+\.", "", render(ctx.props.get("ServiceName", "")))
    ctx.line(
        f"interface endpoint `{service}` x {azs} AZ",
        idle,
        idle + gb * data.value,
        f"{azs} AZ x {ctx.hours:.0f} h x ${hourly.value:.4f}; at usage + {gb:g} GB x "
        f"${data.value}/GB",
        hourly,
        data,
    )


def _nat_gateway(ctx: _Context) -> None:
    hourly = ctx.price("nat_gateway_hour")
    data = ctx.price("nat_gateway_data_gb")
    gb = ctx.assume("nat_gb_per_gateway")
    idle = hourly.value * ctx.hours
    ctx.line(
        "NAT gateway",
        idle,
        idle + gb * data.value,
        f"{ctx.hours:.0f} h x ${hourly.value:.4f}; at usage + {gb:g} GB x ${data.value}/GB",
        hourly,
        data,
    )


def _eip(ctx: _Context) -> None:
    hourly = ctx.price("public_ipv4_hour")
    cost = hourly.value * ctx.hours
    ctx.line("public IPv4 address", cost, cost, f"{ctx.hours:.0f} h x ${hourly.value}", hourly)


def _bucket(ctx: _Context) -> None:
    gb = ctx.assume("s3_gb_per_bucket")
    price = ctx.price("s3_standard_gb_month")
    ctx.line(
        "S3 Standard storage",
        0.0,
        gb * price.value,
        f"idle: empty; at usage {gb:g} GB x ${price.value}/GB-month",
        price,
    )


def _log_group(ctx: _Context) -> None:
    gb = ctx.assume("log_ingest_gb_per_group")
    ingest = ctx.price("logs_ingest_gb")
    store = ctx.price("logs_storage_gb_month")
    retention = ctx.props.get("RetentionInDays")
    months = min(float(retention) / 30, 12.0) if isinstance(retention, int) else 12.0
    usage = gb * ingest.value + gb * months * store.value
    ctx.line(
        "CloudWatch Logs",
        0.0,
        usage,
        f"{gb:g} GB/month x ${ingest.value}/GB ingested + ~{gb * months:g} GB kept "
        f"x ${store.value}/GB-month",
        ingest,
        store,
    )


def _alarm(ctx: _Context) -> None:
    metrics = ctx.props.get("Metrics")
    count = len([m for m in metrics if m.get("MetricStat")]) if isinstance(metrics, list) else 1
    high_res = ctx.props.get("Period") in (10, 30)
    price = ctx.price("alarm_high_resolution_month" if high_res else "alarm_metric_month")
    cost = max(count, 1) * price.value
    ctx.line(
        "CloudWatch alarm",
        cost,
        cost,
        f"{max(count, 1)} metric(s) x ${price.value}/month",
        price,
    )


def _metric_filter(ctx: _Context) -> None:
    # The filter is free; each metric it writes is a custom metric, billed only in the
    # hours it gets data (a filter that never matches costs nothing).
    transformations = ctx.props.get("MetricTransformations")
    count = len(transformations) if isinstance(transformations, list) else 1
    price = ctx.price("custom_metric_month")
    ctx.line(
        "CloudWatch Logs metric filter",
        0.0,
        count * price.value,
        f"{count} custom metric(s) x ${price.value}/month when the filter matches",
        price,
    )


def _composite_alarm(ctx: _Context) -> None:
    price = ctx.price("composite_alarm_month")
    ctx.line("CloudWatch composite alarm", price.value, price.value, "per alarm-month", price)


def _state_machine(ctx: _Context) -> None:
    executions = ctx.assume("state_machine_executions_per_month")
    if ctx.props.get("StateMachineType") == "EXPRESS":
        requests = ctx.price("sfn_express_1m_requests")
        ctx.line(
            "Step Functions express workflow",
            0.0,
            executions / 1e6 * requests.value,
            f"{executions:g} executions x ${requests.value}/million (duration not counted)",
            requests,
        )
        return
    transitions = ctx.assume("transitions_per_execution")
    price = ctx.price("sfn_standard_1k_transitions")
    ctx.line(
        "Step Functions standard workflow",
        0.0,
        executions * transitions / 1000 * price.value,
        f"{executions:g} executions x {transitions:g} transitions x ${price.value}/1,000",
        price,
    )


def _lambda(ctx: _Context) -> None:
    if _is_custom_resource_handler(ctx):
        ctx.line(
            "Lambda function (custom resource handler)",
            0.0,
            0.0,
            "invoked by CloudFormation on deploys only",
        )
        return
    invocations = ctx.assume("lambda_invocations_per_month")
    seconds = ctx.assume("lambda_seconds_per_invocation")
    memory_mb = ctx.props.get("MemorySize", 128)
    memory_gb = float(memory_mb) / 1024 if isinstance(memory_mb, int) else 0.125
    requests = ctx.price("lambda_1m_requests")
    compute = ctx.price("lambda_gb_second")
    usage = invocations / 1e6 * requests.value + invocations * seconds * memory_gb * compute.value
    ctx.line(
        "Lambda function",
        0.0,
        usage,
        f"{invocations:,.0f} invocations x {seconds:g} s x {memory_gb:g} GB",
        requests,
        compute,
    )


def _is_custom_resource_handler(ctx: _Context) -> bool:
    """Whether a custom resource of the stack names this function as its ServiceToken."""
    return any(
        ctx.logical_id in references(r.get("Properties", {}).get("ServiceToken"))
        for r in ctx.stack.resources.values()
        if str(r.get("Type", "")).startswith("Custom::")
        or r.get("Type") == "AWS::CloudFormation::CustomResource"
    )


def _user_pool(ctx: _Context) -> None:
    users = [
        r
        for r in ctx.stack.of_type("AWS::Cognito::UserPoolUser").values()
        if ctx.logical_id in references(r.get("Properties", {}).get("UserPoolId"))
    ]
    mau = float(len(users)) if users else ctx.assume("cognito_users_default")
    tier = str(ctx.props.get("UserPoolTier", "ESSENTIALS")).lower()
    price = ctx.price(f"cognito_mau_{tier}")
    ctx.line(
        f"Cognito user pool ({tier.title()})",
        0.0,
        mau * price.value,
        f"{mau:g} monthly active users x ${price.value} "
        + ("(the users the template creates)" if users else "(assumed)"),
        price,
    )


def _budget(ctx: _Context) -> None:
    actions = [
        r
        for r in ctx.stack.of_type("AWS::Budgets::BudgetsAction").values()
        if ctx.logical_id in references(r.get("Properties", {}).get("BudgetName"))
    ]
    if not actions:
        ctx.line("AWS Budgets budget (no actions)", 0.0, 0.0, "budgets without actions are free")
        return
    price = ctx.price("budget_action_day")
    cost = price.value * 30.4
    ctx.line("AWS Budgets action-enabled budget", cost, cost, f"${price.value}/day", price)


def _secret(ctx: _Context) -> None:
    price = ctx.price("secret_month")
    ctx.line("Secrets Manager secret", price.value, price.value, "per secret-month", price)


def _ecr_repository(ctx: _Context) -> None:
    gb = ctx.assume("image_gb_per_docker_asset")
    price = ctx.price("ecr_storage_gb_month")
    ctx.line(
        "ECR repository storage",
        gb * price.value,
        gb * price.value,
        f"{gb:g} GB x ${price.value}",
        price,
    )


def _notebook(ctx: _Context) -> None:
    instance_type = str(ctx.props.get("InstanceType"))
    hourly = ctx.estimate.table.instance(instance_type, ctx.estimate.region)
    volume_gb = ctx.props.get("VolumeSizeInGB", 5)
    storage = ctx.price("ml_storage_gb_month")
    storage_cost = float(volume_gb) * storage.value if isinstance(volume_gb, int) else 0.0
    if hourly is None:
        ctx.unpriced(f"{instance_type} is not in the price table")
        return
    auto_stop = _has_auto_stop(ctx)
    if auto_stop:
        hours = ctx.assume("notebook_hours_per_month")
        idle, how = storage_cost, "idle: stopped by its idle auto-stop, only the volume is billed"
    else:
        hours = ctx.hours
        idle, how = hourly.value * hours + storage_cost, "no idle auto-stop found: runs all month"
    ctx.line(
        f"notebook instance {instance_type}",
        idle,
        hourly.value * hours + storage_cost,
        f"{how}; at usage {hours:g} h x ${hourly.value:.4f} + {volume_gb} GB volume",
        hourly,
        storage,
    )


def _has_auto_stop(ctx: _Context) -> bool:
    """Whether the notebook's lifecycle configuration stops the instance when idle
    (its scripts call StopNotebookInstance)."""
    name = ctx.props.get("LifecycleConfigName")
    found = ctx.target(name)
    if found is None and isinstance(name, str):  # named, not referenced
        found = next(
            (
                (logical_id, config)
                for logical_id, config in ctx.stack.of_type(
                    "AWS::SageMaker::NotebookInstanceLifecycleConfig"
                ).items()
                if config.get("Properties", {}).get("NotebookInstanceLifecycleConfigName") == name
            ),
            None,
        )
    if found is None:
        return False
    _, config = found
    texts = list(_strings_in(config.get("Properties", {})))
    readable = "".join(texts)
    for _ in range(3):  # a script may embed an encoded script that embeds another
        texts = [_decoded(blob) for text in texts for blob in _BASE64.findall(text)]
        readable += "".join(texts)
    return any(marker in readable for marker in _AUTO_STOP_MARKERS)


def _decoded(blob: str) -> str:
    """A base64 blob's text, gunzipped if it is gzip (scripts embed compressed code to
    stay within the lifecycle script's size limit); empty if it is not base64."""
    try:
        data = base64.b64decode(blob.replace("\n", ""), validate=True)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (binascii.Error, ValueError, OSError, EOFError):
        return ""
    return data.decode("utf-8", "replace")


def _strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def _endpoint(ctx: _Context) -> None:
    found = ctx.target(ctx.props.get("EndpointConfigName"))
    if found is None:
        ctx.unpriced("its endpoint configuration is not in this stack")
        return
    _, config = found
    config_props = config.get("Properties", {})
    is_async = bool(config_props.get("AsyncInferenceConfig"))
    for variant in config_props.get("ProductionVariants", []):
        name = render(variant.get("VariantName", "variant"))
        serverless = variant.get("ServerlessConfig")
        if serverless:
            _serverless_variant(ctx, name, serverless)
        else:
            _instance_variant(ctx, name, variant, is_async)


def _scaling_bounds(ctx: _Context, variant: str) -> tuple[int, int] | None:
    """(min, max) of the Application Auto Scaling target on this endpoint's variant."""
    for target in ctx.stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values():
        props = target.get("Properties", {})
        resource_id = props.get("ResourceId")
        if ctx.logical_id in references(resource_id) and render(resource_id).endswith(
            f"/variant/{variant}"
        ):
            return int(props.get("MinCapacity", 1)), int(props.get("MaxCapacity", 1))
    return None


def _instance_variant(ctx: _Context, name: str, variant: dict[str, Any], is_async: bool) -> None:
    instance_type = str(variant.get("InstanceType"))
    hourly = ctx.estimate.table.instance(instance_type, ctx.estimate.region)
    if hourly is None:
        ctx.unpriced(f"variant {name}: {instance_type} is not in the price table")
        return
    initial = int(variant.get("InitialInstanceCount", 1))
    bounds = _scaling_bounds(ctx, name)
    minimum = bounds[0] if bounds else initial
    label = f"{'async' if is_async else 'real-time'} endpoint {name} {instance_type}"
    if is_async and minimum == 0:
        hours = ctx.assume("async_busy_hours_per_month")
        ctx.line(
            label,
            0.0,
            hours * hourly.value,
            f"scales to zero when idle; at usage {hours:g} h x ${hourly.value:.4f}",
            hourly,
        )
        return
    usage_count = max(initial, minimum)
    scaling = f" (autoscaling {bounds[0]}-{bounds[1]})" if bounds else ""
    ctx.line(
        label,
        minimum * hourly.value * ctx.hours,
        usage_count * hourly.value * ctx.hours,
        f"always on: idle {minimum}, at usage {usage_count} instance(s){scaling} x "
        f"{ctx.hours:.0f} h x ${hourly.value:.4f}",
        hourly,
    )


def _serverless_variant(ctx: _Context, name: str, serverless: dict[str, Any]) -> None:
    memory_gb = int(serverless.get("MemorySizeInMB", 1024)) / 1024
    provisioned = int(serverless.get("ProvisionedConcurrency", 0) or 0)
    requests = ctx.assume("serverless_requests_per_month")
    seconds = ctx.assume("serverless_seconds_per_request")
    kb = ctx.assume("inference_kb_per_request")
    compute = ctx.price("serverless_gb_second")
    data = ctx.price("inference_data_gb")
    warm = ctx.price("serverless_provisioned_gb_second")
    idle = provisioned * memory_gb * ctx.hours * 3600 * warm.value
    usage = idle + requests * seconds * memory_gb * compute.value + requests * kb / 1e6 * data.value
    ctx.line(
        f"serverless endpoint {name} ({memory_gb:g} GB)",
        idle,
        usage,
        f"idle: {provisioned} provisioned concurrency; at usage + {requests:,.0f} requests x "
        f"{seconds:g} s x {memory_gb:g} GB",
        compute,
        data,
        *([warm] if provisioned else []),
    )


_CRON = re.compile(r"^cron\(0 (?P<hour>\*|\d{1,2})(?:/(?P<step>\d{1,2}))? \? \* \* \*\)$")


def runs_per_day(expression: str) -> float | None:
    """Executions a day of a Model Monitor schedule expression (hourly, every n hours,
    daily); None for one the rule does not know."""
    match = _CRON.match(expression.strip())
    if not match:
        return None
    if match.group("hour") == "*":
        return 24.0
    if match.group("step"):
        start, step = int(match.group("hour")), int(match.group("step"))
        return float(len(range(start, 24, step)))
    return 1.0


def _monitoring_schedule(ctx: _Context) -> None:
    config = ctx.props.get("MonitoringScheduleConfig", {}) or {}
    found = ctx.target(config.get("MonitoringJobDefinitionName"))
    if found is None:
        ctx.unpriced("its monitoring job definition is not in this stack")
        return
    _, definition = found
    props = definition.get("Properties", {})
    cluster: dict[str, Any] = next(
        (
            value["ClusterConfig"]
            for key, value in props.items()
            if key.endswith("JobResources") and isinstance(value, dict)
        ),
        {},
    )
    instance_type = str(cluster.get("InstanceType"))
    count = int(cluster.get("InstanceCount", 1))
    hourly = ctx.estimate.table.instance(instance_type, ctx.estimate.region)
    if hourly is None:
        ctx.unpriced(f"{instance_type} is not in the price table")
        return
    expression = str(config.get("ScheduleConfig", {}).get("ScheduleExpression", ""))
    per_day = runs_per_day(expression)
    if per_day is None:
        ctx.unpriced(f"schedule {expression!r} is not one Model Monitor accepts")
        return
    limit_min = float(props.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 3600)) / 60
    minutes = min(ctx.assume("monitoring_minutes_per_run"), limit_min)
    runs = per_day * 30.4
    usage = runs * minutes / 60 * count * hourly.value
    ctx.line(
        f"monitoring schedule {instance_type} x {count}",
        0.0,
        usage,
        f"idle: nothing captured, no monitoring job runs; at usage {runs:g} runs a month "
        f"({expression}) x {minutes:g} min x ${hourly.value:.4f}/h",
        hourly,
    )


def _workteam(ctx: _Context) -> None:
    objects = ctx.assume("labeled_objects_per_month")
    price = ctx.price("ground_truth_object")
    ctx.line(
        "Ground Truth labeling (private work team)",
        0.0,
        objects * price.value,
        f"{objects:,.0f} objects x ${price.value}",
        price,
    )


RULES: dict[str, Rule] = {
    "AWS::KMS::Key": _kms_key,
    "AWS::EC2::VPCEndpoint": _vpc_endpoint,
    "AWS::EC2::NatGateway": _nat_gateway,
    "AWS::EC2::EIP": _eip,
    "AWS::S3::Bucket": _bucket,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite_alarm,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Lambda::Function": _lambda,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Budgets::Budget": _budget,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::ECR::Repository": _ecr_repository,
    "AWS::SageMaker::NotebookInstance": _notebook,
    "AWS::SageMaker::Endpoint": _endpoint,
    "AWS::SageMaker::Workteam": _workteam,
    "AWS::SageMaker::MonitoringSchedule": _monitoring_schedule,
}


def estimate(
    assembly: Assembly,
    usages: Iterable[UsageItem] = (),
    *,
    region: str | None = None,
    table: PriceTable | None = None,
) -> Estimate:
    """Price every resource of `assembly` and the config's training / tuning usage."""
    table = table or PriceTable.load()
    chosen, note = _region(assembly, region, table)
    result = Estimate(region=chosen, region_note=note, table=table)
    if "excluded" in table.regions.get(chosen, {}):
        result.notes.append(f"{chosen} is not priced: {table.regions[chosen]['excluded']}")
        return result
    for stack in assembly:
        for logical_id, resource in stack.resources.items():
            resource_type = resource.get("Type", "")
            rule = RULES.get(resource_type)
            if rule is not None:
                rule(_Context(result, stack, logical_id))
            elif resource_type.startswith("Custom::") or resource_type in (
                "AWS::CloudFormation::CustomResource",
            ):
                continue  # its backing Lambda function is priced
            elif resource_type not in FREE_TYPES:
                result.unpriced.append(
                    Unpriced(stack.name, logical_id, resource_type, "no price rule for this type")
                )
        _docker_assets(result, stack)
    for item in usages:
        _job_usage(result, item)
    return result


def _region(assembly: Assembly, region: str | None, table: PriceTable) -> tuple[str, str]:
    if region:
        return region, f"{region} (chosen for the estimate)"
    regions = sorted({s.region for s in assembly if s.region})
    if len(regions) == 1:
        return regions[0], f"{regions[0]} (the stacks' region)"
    if regions:
        return regions[0], f"{regions[0]} (first of the stacks' regions {', '.join(regions)})"
    return (
        table.base_region,
        f"{table.base_region} (the stacks are environment-agnostic; priced in the base region)",
    )


def _docker_assets(result: Estimate, stack: Stack) -> None:
    images = stack.assets().get("dockerImages", {})
    if not images:
        return
    gb = result.table.usage["image_gb_per_docker_asset"]
    result.assumptions_used[gb.key] = gb
    price = result.table.price("ecr_storage_gb_month", result.region)
    cost = len(images) * gb.value * price.value
    result.lines.append(
        CostLine(
            stack=stack.name,
            resource="(Docker image assets)",
            item=f"{len(images)} image(s) in the CDK bootstrap ECR repository",
            idle=cost,
            usage=cost,
            basis=f"{len(images)} x {gb.value:g} GB x ${price.value}/GB-month",
            approximate=price.approximate,
        )
    )


_RUNS_PER_MONTH = {
    "training": "training_runs_per_month",
    "tuning": "tuning_runs_per_month",
    "transform": "transform_runs_per_month",
    "processing": "baseline_runs_per_month",
}


def _job_usage(result: Estimate, item: UsageItem) -> None:
    if item.kind not in _RUNS_PER_MONTH:
        return  # notebooks, endpoints and monitoring schedules: CloudFormation, priced above
    if item.instance_type is None:
        return
    hourly = result.table.instance(item.instance_type, result.region)
    if hourly is None:
        result.unpriced.append(
            Unpriced("(config)", item.path, item.kind, f"{item.instance_type} not in the table")
        )
        return
    hours = (item.max_runtime_seconds or 86_400) / 3600
    parallel = (item.max_parallel_jobs or 1) if item.kind == "tuning" else 1
    runs = result.table.usage[_RUNS_PER_MONTH[item.kind]]
    result.assumptions_used[runs.key] = runs
    per_run = parallel * item.instance_count * hours * hourly.value
    result.lines.append(
        CostLine(
            stack="(config)",
            resource=item.path,
            item=f"{item.kind} {item.instance_type} x {item.instance_count}"
            + (f" x {parallel} parallel" if item.kind == "tuning" else ""),
            idle=0.0,
            usage=runs.value * per_run,
            basis=f"{runs.value:g} runs x up to ${per_run:,.2f} per run "
            f"({hours:g} h max runtime x ${hourly.value:.4f})",
            approximate=hourly.approximate,
        )
    )
