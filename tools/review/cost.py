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
        "AWS::SageMaker::UserProfile",
        "AWS::SageMaker::StudioLifecycleConfig",
        "AWS::SageMaker::Image",
        "AWS::SageMaker::ImageVersion",
        "AWS::SageMaker::AppImageConfig",
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
        # libyaml's loader where PyYAML has it: the pure-Python one takes ~70 ms here.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 - a safe loader
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
    ceiling: float | None = None
    """For training and tuning: the month's cost if every job ran to its max runtime."""
    run_ceiling: float | None = None
    """For training and tuning: the most one run may cost (with the usual instance type)."""
    run_range: tuple[float, float] | None = None
    """For training and tuning: the most one run may cost, over every instance type a
    run may pick (None where it cannot pick another)."""


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

    @property
    def jobs(self) -> list[CostLine]:
        """The training and tuning lines (from the config, not the templates)."""
        return [line for line in self.lines if line.ceiling is not None]

    @property
    def job_ceiling(self) -> float:
        """Training and tuning a month if every job ran to its max runtime."""
        return sum(line.ceiling or 0.0 for line in self.jobs)


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
    max_jobs: int | None = None
    max_tuning_seconds: int | None = None
    overridable: bool = False
    """An instance type a run may pick instead of the definition's."""


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


def _studio_domain(ctx: _Context) -> None:
    """The home EFS (idle and at usage) and the users' JupyterLab apps (at usage): each
    user runs one app on the domain's default instance type, in a space of the kit's or,
    for a user without one, a space they create (its volume priced here too)."""
    users = [
        props
        for props in _props_of(ctx, "AWS::SageMaker::UserProfile")
        if ctx.logical_id in references(props.get("DomainId"))
    ]
    kit_space_owners = {
        str(props.get("OwnershipSettings", {}).get("OwnerUserProfileName"))
        for props in _props_of(ctx, "AWS::SageMaker::Space")
        if ctx.logical_id in references(props.get("DomainId"))
    }
    settings = ctx.props.get("DefaultUserSettings", {}) or {}
    jupyter_lab = settings.get("JupyterLabAppSettings", {}) or {}
    instance_type = str(jupyter_lab.get("DefaultResourceSpec", {}).get("InstanceType"))
    idle = jupyter_lab.get("AppLifecycleManagement", {}).get("IdleSettings", {})
    storage = settings.get("SpaceStorageSettings", {}).get("DefaultEbsStorageSettings", {})
    default_gb = int(storage.get("DefaultEbsVolumeSizeInGb", 5))

    efs = ctx.price("efs_standard_gb_month")
    gb_per_user = ctx.assume("studio_efs_gb_per_user")
    efs_cost = len(users) * gb_per_user * efs.value
    ctx.line(
        "Studio home EFS",
        efs_cost,
        efs_cost,
        f"{len(users)} user(s) x {gb_per_user:g} GB x ${efs.value}/GB-month",
        efs,
    )
    hourly = ctx.estimate.table.instance(instance_type, ctx.estimate.region)
    if hourly is None:
        ctx.unpriced(f"Studio apps: {instance_type} is not in the price table")
        return
    if idle.get("LifecycleManagement") == "ENABLED":
        hours = ctx.assume("studio_app_hours_per_month")
        how = "stopped by idle shutdown"
    else:
        hours = ctx.hours
        how = "no idle shutdown: an app runs until its user stops it"
    ctx.line(
        f"Studio JupyterLab apps {instance_type}",
        0.0,
        len(users) * hours * hourly.value,
        f"idle: no app runs; at usage {len(users)} user(s) x {hours:g} h x "
        f"${hourly.value:.4f} ({how})",
        hourly,
    )
    own = [u for u in users if str(u.get("UserProfileName")) not in kit_space_owners]
    if own:
        storage_price = ctx.price("ml_storage_gb_month")
        ctx.line(
            "Studio spaces the users create",
            0.0,
            len(own) * default_gb * storage_price.value,
            f"idle: none yet; at usage one space each for {len(own)} user(s) without a kit "
            f"space x {default_gb} GB x ${storage_price.value}/GB-month",
            storage_price,
        )


def _studio_space(ctx: _Context) -> None:
    """A kit space's EBS volume, billed while the space exists (idle too)."""
    found = ctx.target(ctx.props.get("DomainId"))
    size = (
        ctx.props.get("SpaceSettings", {})
        .get("SpaceStorageSettings", {})
        .get("EbsStorageSettings", {})
        .get("EbsVolumeSizeInGb")
    )
    if size is None and found is not None:
        defaults = (
            found[1]
            .get("Properties", {})
            .get("DefaultUserSettings", {})
            .get("SpaceStorageSettings", {})
            .get("DefaultEbsStorageSettings", {})
        )
        size = defaults.get("DefaultEbsVolumeSizeInGb")
    gb = int(size) if isinstance(size, int) else 5
    price = ctx.price("ml_storage_gb_month")
    cost = gb * price.value
    ctx.line(
        f"Studio space volume {render(ctx.props.get('SpaceName', ''))}",
        cost,
        cost,
        f"{gb} GB x ${price.value}/GB-month while the space exists",
        price,
    )


def _props_of(ctx: _Context, resource_type: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) or {} for r in ctx.stack.of_type(resource_type).values()]


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
    "AWS::SageMaker::Domain": _studio_domain,
    "AWS::SageMaker::Space": _studio_space,
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
    _job_usages(result, usages)
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


def _job_usages(result: Estimate, usages: Iterable[UsageItem]) -> None:
    """One line per training definition and tuning workflow, priced with the instance
    type a run uses unless it picks another (the others give the range of a run); one per
    batch transform and Model Monitor baseline workflow. Notebooks, endpoints and
    monitoring schedules are CloudFormation resources, priced from the templates."""
    by_path: dict[tuple[str, str], list[UsageItem]] = {}
    for item in usages:
        if item.kind in ("training", "tuning") and item.instance_type is not None:
            by_path.setdefault((item.kind, item.path), []).append(item)
        elif item.kind in _OTHER_RUNS_PER_MONTH:
            _other_job_line(result, item)
    for items in by_path.values():
        _job_line(result, [i for i in items if not i.overridable] or items[:1], items)


def _job_line(result: Estimate, usual: list[UsageItem], items: list[UsageItem]) -> None:
    item = usual[0]
    hourly = _hourly(result, item)
    if hourly is None:
        return
    key = "training_runs_per_month" if item.kind == "training" else "tuning_runs_per_month"
    runs = result.table.usage[key]
    share = result.table.usage["job_runtime_share"]
    result.assumptions_used[key] = runs
    result.assumptions_used[share.key] = share
    run_ceiling, how = _run_ceiling(item, hourly.value)
    expected = run_ceiling * share.value
    ceilings = {i.instance_type: _run_ceiling(i, p.value)[0] for i, p in _priced(result, items)}
    others = [t for t in ceilings if t != item.instance_type]
    low, high = min(ceilings.values()), max(ceilings.values())
    item_text = f"{item.kind} {item.instance_type} x {item.instance_count}"
    if item.kind == "tuning":
        item_text += f", {item.max_jobs or 1} jobs ({item.max_parallel_jobs or 1} at a time)"
    if others:
        item_text += f"; a run may pick {', '.join(str(t) for t in others)}"
    result.lines.append(
        CostLine(
            stack="(config)",
            resource=item.path,
            item=item_text,
            idle=0.0,
            usage=runs.value * expected,
            basis=f"{runs.value:g} runs x ${expected:,.2f} expected ({share.value:.0%} of the "
            f"ceiling); ceiling ${run_ceiling:,.2f} a run ({how})"
            + (f"; ${low:,.2f}-${high:,.2f} a run over the types it may pick" if others else ""),
            approximate=hourly.approximate,
            ceiling=runs.value * run_ceiling,
            run_ceiling=run_ceiling,
            run_range=(low, high) if others else None,
        )
    )


# Jobs stopped at their max runtime (the transform workflow stops a job there; a baseline
# job has SageMaker's stopping condition): priced at it.
_OTHER_RUNS_PER_MONTH = {
    "transform": "transform_runs_per_month",
    "processing": "baseline_runs_per_month",
}


def _other_job_line(result: Estimate, item: UsageItem) -> None:
    hourly = _hourly(result, item)
    if hourly is None:
        return
    hours = (item.max_runtime_seconds or 86_400) / 3600
    runs = result.table.usage[_OTHER_RUNS_PER_MONTH[item.kind]]
    result.assumptions_used[runs.key] = runs
    per_run = item.instance_count * hours * hourly.value
    result.lines.append(
        CostLine(
            stack="(config)",
            resource=item.path,
            item=f"{item.kind} {item.instance_type} x {item.instance_count}",
            idle=0.0,
            usage=runs.value * per_run,
            basis=f"{runs.value:g} runs x up to ${per_run:,.2f} per run "
            f"({hours:g} h max runtime x ${hourly.value:.4f})",
            approximate=hourly.approximate,
        )
    )


def _hourly(result: Estimate, item: UsageItem) -> Price | None:
    hourly = result.table.instance(str(item.instance_type), result.region)
    if hourly is None:
        result.unpriced.append(
            Unpriced("(config)", item.path, item.kind, f"{item.instance_type} not in the table")
        )
    return hourly


def _priced(result: Estimate, items: list[UsageItem]) -> list[tuple[UsageItem, Price]]:
    found = []
    for item in items:
        price = result.table.instance(str(item.instance_type), result.region)
        if price is not None:
            found.append((item, price))
    return found


def _run_ceiling(item: UsageItem, hourly: float) -> tuple[float, str]:
    """The most one run may cost, and how: a training job to its max runtime, or every
    training job of a tuning run to its max runtime (fewer, if the tuning job's own
    runtime limit stops it first)."""
    hours = (item.max_runtime_seconds or 86_400) / 3600
    instances = f" x {item.instance_count} instances" if item.instance_count > 1 else ""
    if item.kind == "training":
        return (
            item.instance_count * hours * hourly,
            f"{hours:g} h max runtime{instances} x ${hourly:.4f}",
        )
    jobs = item.max_jobs or 1
    job_hours = jobs * hours
    how = f"{jobs} jobs x {hours:g} h max runtime{instances} x ${hourly:.4f}"
    if item.max_tuning_seconds:
        # The tuning job stops at its own limit: its parallel jobs run at most that long.
        limit_hours = (item.max_parallel_jobs or 1) * item.max_tuning_seconds / 3600
        if limit_hours < job_hours:
            job_hours = limit_hours
            how = (
                f"{item.max_parallel_jobs or 1} parallel jobs x "
                f"{item.max_tuning_seconds / 3600:g} h tuning limit{instances} x ${hourly:.4f}"
            )
    return item.instance_count * job_hours * hourly, how
