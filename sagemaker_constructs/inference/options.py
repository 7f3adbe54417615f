"""Value objects that describe an endpoint: how it runs (variant), how it scales, what it
captures, how updates roll out and when they roll back.

They hold plain values; `Endpoint` validates them together (a rule often depends on
more than one of them) and turns them into CloudFormation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration


@dataclass(frozen=True)
class InstanceVariant:
    """A real-time endpoint on instances you choose, billed per instance-hour."""

    instance_type: str
    """ML instance type, one of `ENDPOINT_INSTANCE_TYPES` (e.g. ml.c5.xlarge)."""
    initial_instance_count: int = 1
    """Instances at creation and after each deployment. Default: 1. Minimum: 1."""

    kind: Literal["instance"] = "instance"


@dataclass(frozen=True)
class ServerlessVariant:
    """A serverless endpoint: billed per request and per GB-second, scales to zero by
    itself. CPU only; no VPC, network isolation, data capture or autoscaling policies."""

    memory_size_mb: int = 2048
    """Memory of each concurrent invocation. Default: 2048. Valid: 1024-6144 in 1024 steps."""
    max_concurrency: int = 20
    """Most invocations at once. Default: 20. Valid range: 1-200."""
    provisioned_concurrency: int | None = None
    """Invocations kept warm (billed while idle). Default: none. Valid range:
    1-max_concurrency."""

    kind: Literal["serverless"] = "serverless"


@dataclass(frozen=True)
class AsyncVariant:
    """An asynchronous endpoint: requests wait in a queue, payloads and results live in
    S3, success and error notifications go to SNS topics; it can scale to zero."""

    instance_type: str
    """ML instance type, one of `ENDPOINT_INSTANCE_TYPES`."""
    initial_instance_count: int = 1
    """Instances at creation. Default: 1. Minimum: 1 (autoscaling may then go to zero)."""
    max_concurrent_invocations_per_instance: int = 4
    """Requests one instance works on at once. Default: 4. Valid range: 1-1000."""

    kind: Literal["async"] = "async"


EndpointVariant = InstanceVariant | ServerlessVariant | AsyncVariant


@dataclass(frozen=True)
class Autoscaling:
    """Application Auto Scaling of the variant's instance count.

    Instance variants track invocations per instance (per minute); async variants track
    the request backlog per instance, and may scale to zero (`min_capacity=0`), with a
    step policy that starts one instance as soon as requests wait without capacity.
    """

    max_capacity: int
    """Most instances. Minimum: 1 and at least min_capacity."""
    min_capacity: int = 1
    """Fewest instances. Default: 1. Minimum: 1 for instance variants, 0 for async ones."""
    target_value: float = 100.0
    """Instance variants: invocations per instance per minute. Async variants: queued
    requests per instance. Default: 100. Must be positive."""
    scale_in_cooldown: Duration = Duration.minutes(5)
    """Wait after scaling in before scaling in again. Default: 5 minutes."""
    scale_out_cooldown: Duration = Duration.minutes(1)
    """Wait after scaling out before scaling out again. Default: 1 minute."""


@dataclass(frozen=True)
class DataCapture:
    """Requests and responses sampled into the data bucket (for Model Monitor, audits and
    retraining), encrypted with the platform key."""

    sampling_percentage: int = 100
    """Share of invocations captured. Default: 100. Valid range: 1-100."""
    capture_request: bool = True
    """Capture request payloads. Default: true."""
    capture_response: bool = True
    """Capture response payloads. Default: true. At least one of the two must be on."""
    json_content_types: tuple[str, ...] = ("application/json",)
    """Content types stored as readable JSON rather than base64. Default:
    application/json. At most 10."""


TrafficShiftType = Literal["ALL_AT_ONCE", "CANARY", "LINEAR"]


@dataclass(frozen=True)
class Deployment:
    """How CloudFormation updates roll out: SageMaker's blue/green deployment, traffic
    shifted all at once, as a canary or linearly, rolled back automatically when one of
    the endpoint's alarms fires."""

    traffic_shift: TrafficShiftType = "ALL_AT_ONCE"
    """ALL_AT_ONCE, CANARY (one step of `step_percent`, then the rest) or LINEAR
    (steps of `step_percent`)."""
    step_percent: int | None = None
    """Capacity share of the canary (1-50) or of each linear step (10-50). None for
    ALL_AT_ONCE."""
    wait: Duration = Duration.minutes(5)
    """Baking time after each traffic step, while the alarms watch. Default: 5
    minutes. Valid range: 0-3600 seconds."""
    termination_wait: Duration = Duration.minutes(5)
    """Time the old fleet is kept after all traffic moved (a last chance to roll
    back). Default: 5 minutes. Valid range: 0-3600 seconds."""
    maximum_execution_timeout: Duration = Duration.hours(1)
    """The whole deployment's time limit; past it SageMaker rolls back. Default: 1
    hour. Valid range: 600-14400 seconds, and at least every wait added up."""

    @classmethod
    def all_at_once(
        cls,
        *,
        wait: Duration = Duration.minutes(5),
        termination_wait: Duration = Duration.minutes(5),
        maximum_execution_timeout: Duration = Duration.hours(1),
    ) -> Deployment:
        """All traffic moves to the new fleet in one step, then bakes for `wait`."""
        return cls("ALL_AT_ONCE", None, wait, termination_wait, maximum_execution_timeout)

    @classmethod
    def canary(
        cls,
        percent: int,
        *,
        wait: Duration = Duration.minutes(5),
        termination_wait: Duration = Duration.minutes(5),
        maximum_execution_timeout: Duration = Duration.hours(1),
    ) -> Deployment:
        """`percent` of capacity (1-50) takes traffic first, bakes for `wait`, then the rest."""
        return cls("CANARY", percent, wait, termination_wait, maximum_execution_timeout)

    @classmethod
    def linear(
        cls,
        percent: int,
        *,
        wait: Duration = Duration.minutes(5),
        termination_wait: Duration = Duration.minutes(5),
        maximum_execution_timeout: Duration = Duration.hours(1),
    ) -> Deployment:
        """Traffic moves in steps of `percent` of capacity (10-50), each baking for `wait`."""
        return cls("LINEAR", percent, wait, termination_wait, maximum_execution_timeout)

    @property
    def steps(self) -> int:
        """Traffic steps of one deployment."""
        if self.traffic_shift == "CANARY":
            return 2
        if self.traffic_shift == "LINEAR" and self.step_percent:
            return -(-100 // self.step_percent)
        return 1


@dataclass(frozen=True)
class AlarmThresholds:
    """When the endpoint's alarms fire: they roll a deployment back and notify the
    alerts topic."""

    server_errors: int = 5
    """Invocation 5xx errors per period at or above which the error alarm fires.
    Default: 5. Minimum: 1."""
    p99_model_latency: Duration = Duration.seconds(2)
    """p99 ModelLatency above which the latency alarm fires. Default: 2 seconds.
    Minimum: 1 millisecond."""
    period: Duration = Duration.minutes(1)
    """Length of one evaluation period. Default: 1 minute. 10 s, 30 s or a multiple
    of 60 s."""
    evaluation_periods: int = 3
    """Consecutive breaching periods before an alarm fires. Default: 3. Valid range: 1-30."""
