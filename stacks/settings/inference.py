"""Settings of the inference endpoints: model source, variant, autoscaling, data
capture, blue/green deployment and alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from sagemaker_constructs.common.builtin_images_data import BUILTIN_IMAGES
from sagemaker_constructs.common.instance_types import (
    ENDPOINT_INSTANCE_TYPES,
    describe_allowed,
    is_gpu_instance_type,
)
from sagemaker_constructs.inference.algorithms import CPU_ONLY_ALGORITHMS
from sagemaker_constructs.inference.limits import is_burstable, lacks_deployment_guardrails

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, _matches
from .monitoring import MonitoringSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Asset images are built where the kit is synthesized: a checkout of it. An operator
# install of `smkit` (`pip install .`, docs/install.md) has the settings model but not the
# containers, and builds no image, so it does not look for their Dockerfiles.
IN_CHECKOUT = (PROJECT_ROOT / "cdk.json").is_file()


def _endpoint_instance_type(value: str) -> str:
    if value not in ENDPOINT_INSTANCE_TYPES:
        family = value.rsplit(".", 1)[0] + "."
        hint = [t for t in ENDPOINT_INSTANCE_TYPES if t.startswith(family)]
        raise ValueError(
            "must be an instance type SageMaker endpoints accept, e.g. "
            + describe_allowed(hint or ENDPOINT_INSTANCE_TYPES)
        )
    return value


EndpointInstanceType = Annotated[str, AfterValidator(_endpoint_instance_type)]
"""An ML instance type SageMaker endpoints accept (generated from botocore)."""

EndpointKey = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,38}[a-z0-9]",
        "must be 2-40 lower-case letters, digits and hyphens, starting with a letter and "
        "not ending with a hyphen",
    ),
]
"""Name of one endpoint in the config: 2-40 lower-case letters, digits and hyphens."""


# --- images and model sources ---------------------------------------------------------------


class AssetImageSettings(StrictModel):
    """An image built from a Dockerfile of this repository by `cdk deploy` and pushed to
    the CDK bootstrap repository (synthesis needs no Docker)."""

    type: Literal["asset"]
    """`asset`: built from a folder of this repository."""

    directory: str
    """Folder holding the Dockerfile, relative to the project root, e.g. containers/inference."""

    @field_validator("directory")
    @classmethod
    def _has_dockerfile(cls, value: str) -> str:
        if IN_CHECKOUT and not (PROJECT_ROOT / value / "Dockerfile").is_file():
            raise ValueError("must be a folder of the project that holds a Dockerfile")
        return value


class UriImageSettings(StrictModel):
    """An image by URI (an ECR image of this account is granted pull on its repository)."""

    type: Literal["uri"]
    """`uri`: an image URI."""

    uri: Annotated[
        str,
        _matches(
            r"[\w.-]+(:\d+)?/[\w./-]+([:@][\w.:-]+)?",
            "must look like <registry>/<repository>:<tag>",
        ),
    ]
    """`<registry>/<repository>:<tag>` (or `@sha256:<digest>`)."""


class BuiltinImageSettings(StrictModel):
    """A SageMaker built-in algorithm's image, resolved per region at deploy time."""

    type: Literal["builtin"]
    """`builtin`: a SageMaker built-in algorithm."""

    algorithm: str
    """Algorithm name, e.g. forecasting-deepar (DeepAR), xgboost, blazingtext."""

    @field_validator("algorithm")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BUILTIN_IMAGES:
            raise ValueError(f"must be one of {', '.join(sorted(BUILTIN_IMAGES))}")
        return value


ImageSettings = Annotated[
    AssetImageSettings | UriImageSettings | BuiltinImageSettings, Field(discriminator="type")
]


class ArtifactModelSettings(StrictModel):
    """A model artifact in S3 served by an image."""

    source: Literal["artifact"]
    """`artifact`: an image plus a model.tar.gz."""

    image: ImageSettings
    """The serving image: `asset`, `uri` or `builtin`."""

    model_data: Annotated[
        str,
        _matches(
            r"(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/)?[^/].*\.tar\.gz",
            "must be an s3://bucket/key URI or a key of the artifacts bucket, ending in .tar.gz",
        ),
    ]
    """The model.tar.gz: a key in the platform's artifacts bucket (where training writes
    models), e.g. `training/demand/output/model.tar.gz`, or an `s3://bucket/key` URI (the
    endpoint may read that object; a bucket encrypted with another KMS key must also let
    the endpoint's role decrypt)."""

    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables of the serving container. Default: none."""


class ModelPackageSettings(StrictModel):
    """A versioned model package from the model registry (approved)."""

    source: Literal["model_package"]
    """`model_package`: a model package version; its inference specification names the
    image and the artifact."""

    arn: Annotated[
        str,
        _matches(
            r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+",
            "must be the ARN of a model package version: "
            "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
        ),
    ]
    """ARN of the version:
    `arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`."""

    image: ImageSettings | None = None
    """The image the package names, so the endpoint's role may pull it (and, for a
    built-in algorithm, so the kit knows what it serves). Default: for a package of this
    platform's registry (group `<name_prefix>-<definition>`), the image that training
    definition registers; otherwise none (AWS-owned built-in images need no grant)."""

    model_data_prefix: str = ""
    """Key prefix of the package's artifacts in the artifacts bucket; the endpoint may
    read below it. Default: the whole artifacts bucket."""

    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables of the serving container. Default: none."""


class ModelPackageGroupSettings(StrictModel):
    """The latest Approved version of a model package group of this platform's registry.
    Approving a version deploys it through the endpoint's blue/green deployment; rejecting
    or deleting one moves the endpoint to the latest version still approved, never to
    nothing (docs/model-approval.md)."""

    source: Literal["model_package_group"]
    """`model_package_group`: follow a group; the approval workflow deploys each version."""

    group: Annotated[
        str,
        _matches(
            r"[a-z][a-z0-9-]{0,30}[a-z0-9]",
            "must be the name of a training definition (2-32 lower-case letters, digits "
            "and hyphens)",
        ),
    ]
    """A training definition of this config, e.g. `text-classifier`: the endpoint follows
    its group `<name_prefix>-<definition>` and serves the image that definition registers."""

    promote_from: EndpointKey | None = None
    """Another endpoint of this config that follows the same group (a staging endpoint):
    this one serves only versions promoted from there with `smkit model promote`, a second
    approval. Default: none (every approved version is deployed here)."""

    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables of the serving container. Default: none."""

    @property
    def image(self) -> None:
        """The image comes from the training definition (the stack resolves it)."""
        return None


ModelSettings = Annotated[
    ArtifactModelSettings | ModelPackageSettings | ModelPackageGroupSettings,
    Field(discriminator="source"),
]


# --- variants -------------------------------------------------------------------------------


class InstanceScalingSettings(StrictModel):
    """Target tracking on invocations per instance."""

    # ENDPOINT-10 (endpoint-auto-scaling-zero-instances page).
    min_capacity: Annotated[int, Field(ge=1)] = 1
    """Fewest instances. Default: 1. Minimum: 1 (only async endpoints scale to zero)."""

    max_capacity: Annotated[int, Field(ge=1)]
    """Most instances. Required. At least min_capacity."""

    target_invocations_per_instance: Annotated[float, Field(gt=0)] = 100
    """Invocations per instance per minute the policy keeps the variant at. Default: 100."""

    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Seconds after a scale-in before the next one. Default: 300. Valid range: 0-3600."""

    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one. Default: 60. Valid range: 0-3600."""

    @model_validator(mode="after")
    def _ordered(self) -> InstanceScalingSettings:
        _check_ordered(self.min_capacity, self.max_capacity)
        return self


class AsyncScalingSettings(StrictModel):
    """Target tracking on the request backlog per instance; with min_capacity 0 the
    endpoint scales to zero and starts an instance as soon as a request waits."""

    min_capacity: Annotated[int, Field(ge=0)] = 0
    """Fewest instances. Default: 0 (nothing billed while the queue is empty)."""

    max_capacity: Annotated[int, Field(ge=1)]
    """Most instances. Required. At least 1 and at least min_capacity."""

    target_backlog_per_instance: Annotated[float, Field(gt=0)] = 5
    """Queued requests per instance the policy keeps the variant at. Default: 5."""

    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 600
    """Seconds after a scale-in before the next one. Default: 600. Valid range: 0-3600."""

    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    """Seconds after a scale-out before the next one. Default: 60. Valid range: 0-3600."""

    @model_validator(mode="after")
    def _ordered(self) -> AsyncScalingSettings:
        _check_ordered(self.min_capacity, self.max_capacity)
        return self


def _check_ordered(min_capacity: int, max_capacity: int) -> None:
    if max_capacity < min_capacity:
        raise InvalidFieldsError(
            [
                (
                    ("max_capacity",),
                    f"max_capacity ({max_capacity}) must be at least min_capacity ({min_capacity})",
                )
            ]
        )


class InstanceVariantSettings(StrictModel):
    """Real-time inference on instances you choose (billed per instance-hour)."""

    kind: Literal["instance"]
    """`instance`: real-time, on provisioned instances."""

    instance_type: EndpointInstanceType
    """ML instance type, e.g. ml.c5.xlarge. DeepAR needs a CPU type."""

    initial_instance_count: Annotated[int, Field(ge=1)] = 1
    """Instances at creation and after each deployment. Default: 1. With autoscaling:
    within min_capacity-max_capacity."""

    autoscaling: InstanceScalingSettings | None = None
    """Scale on invocations per instance. Default: none (fixed count)."""


class ServerlessVariantSettings(StrictModel):
    """Serverless inference: pay per request, scales to zero by itself. CPU only; no VPC,
    no network isolation, no data capture."""

    kind: Literal["serverless"]
    """`serverless`: pay per use."""

    # ENDPOINT-5, ENDPOINT-6 (ProductionVariantServerlessConfig API page).
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    """Memory per concurrent invocation (vCPUs grow with it). Default: 2048."""

    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 20
    """Most invocations at once. Default: 20. Valid range: 1-200."""

    provisioned_concurrency: Annotated[int, Field(ge=1, le=200)] | None = None
    """Invocations kept warm, billed while idle (no cold starts). Default: none. At most
    max_concurrency."""

    @model_validator(mode="after")
    def _provisioned_within_max(self) -> ServerlessVariantSettings:
        provisioned = self.provisioned_concurrency
        if provisioned is not None and provisioned > self.max_concurrency:
            raise InvalidFieldsError(
                [
                    (
                        ("provisioned_concurrency",),
                        f"provisioned_concurrency ({provisioned}) must be at most "
                        f"max_concurrency ({self.max_concurrency})",
                    )
                ]
            )
        return self


class AsyncVariantSettings(StrictModel):
    """Asynchronous inference: requests queue up, payloads and results live in the data
    bucket, outcomes go to SNS topics; can scale to zero."""

    kind: Literal["async"]
    """`async`: queued requests, results in S3."""

    instance_type: EndpointInstanceType
    """ML instance type, e.g. ml.m5.xlarge."""

    initial_instance_count: Annotated[int, Field(ge=1)] = 1
    """Instances at creation. Default: 1 (autoscaling may then go to zero)."""

    max_concurrent_invocations_per_instance: Annotated[int, Field(ge=1, le=1000)] = 4
    """Requests one instance works on at once. Default: 4. Valid range: 1-1000."""

    autoscaling: AsyncScalingSettings | None = None
    """Scale on the backlog, to zero when min_capacity is 0. Default: none."""


VariantSettings = Annotated[
    InstanceVariantSettings | ServerlessVariantSettings | AsyncVariantSettings,
    Field(discriminator="kind"),
]


# --- capture, deployment, alarms ------------------------------------------------------------


class DataCaptureSettings(StrictModel):
    """Sampled requests and responses written to the data bucket (KMS-encrypted) under
    `inference/<endpoint>/data-capture/`."""

    sampling_percentage: Annotated[int, Field(ge=1, le=100)] = 100
    """Share of invocations captured. Default: 100. Valid range: 1-100."""

    capture_request: bool = True
    """Capture request payloads. Default: true."""

    capture_response: bool = True
    """Capture response payloads. Default: true."""

    @model_validator(mode="after")
    def _something(self) -> DataCaptureSettings:
        if not (self.capture_request or self.capture_response):
            raise InvalidFieldsError(
                [(("capture_request",), "capture_request, capture_response or both must be true")]
            )
        return self


class DeploymentSettings(StrictModel):
    """Blue/green rollout of every update, rolled back automatically when the endpoint's
    error or latency alarm fires."""

    traffic_shift: Literal["all_at_once", "canary", "linear"] = "all_at_once"
    """`all_at_once`, `canary` (step_percent first, then the rest) or `linear` (steps of
    step_percent). Default: all_at_once."""

    step_percent: Annotated[int, Field(ge=1, le=50)] | None = None
    """Capacity share of the canary (1-50) or of each linear step (10-50). Required for
    canary and linear, not allowed for all_at_once."""

    wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Baking time after each traffic step while the alarms watch. Default: 300.
    Valid range: 0-3600."""

    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """Seconds the old fleet is kept after all traffic moved. Default: 300. Valid range: 0-3600."""

    maximum_execution_timeout_seconds: Annotated[int, Field(ge=600, le=14400)] = 3600
    """Time limit of a deployment; past it SageMaker rolls back. Default: 3600. Valid
    range: 600-14400, and at least all waits added up."""

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentSettings:
        shift, percent = self.traffic_shift, self.step_percent
        step: Location = ("step_percent",)
        if shift == "all_at_once" and percent is not None:
            raise InvalidFieldsError(
                [(step, f"step_percent is for canary and linear shifts (got {percent})")]
            )
        if shift == "canary" and percent is None:
            raise InvalidFieldsError([(("traffic_shift",), "canary needs step_percent (1-50)")])
        if shift == "linear" and (percent is None or percent < 10):
            raise InvalidFieldsError(
                [
                    (
                        step if percent is not None else ("traffic_shift",),
                        f"linear needs step_percent 10-50 (got {percent})",
                    )
                ]
            )
        # ENDPOINT-12 (BlueGreenUpdatePolicy API page).
        steps = {"all_at_once": 1, "canary": 2}.get(shift) or -(-100 // (percent or 100))
        needed = steps * self.wait_seconds + self.termination_wait_seconds
        if self.maximum_execution_timeout_seconds < needed:
            raise InvalidFieldsError(
                [
                    (
                        ("maximum_execution_timeout_seconds",),
                        f"maximum_execution_timeout_seconds "
                        f"({self.maximum_execution_timeout_seconds}) is shorter than the waits "
                        f"({steps} x {self.wait_seconds} + {self.termination_wait_seconds} = "
                        f"{needed})",
                    )
                ]
            )
        return self


class AlarmSettings(StrictModel):
    """The endpoint's alarms: they roll deployments back and notify the alerts topic."""

    server_errors: Annotated[int, Field(ge=1)] = 5
    """5xx errors per period at or above which the error alarm fires. Default: 5."""

    p99_model_latency_ms: Annotated[int, Field(ge=1)] = 2000
    """p99 model latency (milliseconds) above which the latency alarm fires. Default: 2000."""

    period_seconds: Literal[10, 30, 60, 120, 300, 600, 900, 3600] = 60
    """Length of one evaluation period. Default: 60."""

    evaluation_periods: Annotated[int, Field(ge=1, le=30)] = 3
    """Consecutive breaching periods before an alarm fires. Default: 3. Valid range: 1-30."""


# --- endpoints ------------------------------------------------------------------------------


class EndpointSettings(StrictModel):
    """One endpoint, named `<name_prefix>-<key>` (the name clients invoke)."""

    model: ModelSettings
    """What it serves: `source: artifact` (image + model.tar.gz), `source: model_package`
    (a model registry version) or `source: model_package_group` (the latest approved
    version of a group, deployed on each approval)."""

    variant: VariantSettings
    """How it runs: `kind: instance`, `serverless` or `async`."""

    data_capture: DataCaptureSettings | None = None
    """Capture requests and responses. Default: off. Not for serverless endpoints."""

    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    """Blue/green rollout of updates. Default: all at once with rollback on alarm."""

    alarms: AlarmSettings = Field(default_factory=AlarmSettings)
    """Error and latency alarm thresholds."""

    monitoring: MonitoringSettings | None = None
    """Model Monitor over the captured requests (needs data_capture with
    capture_request). Default: none."""

    @model_validator(mode="after")
    def _monitoring_has_captured_data(self) -> EndpointSettings:
        # MONITOR-4 (model-monitor-data-capture page): Model Monitor reads captured data.
        capture = self.data_capture
        if self.monitoring is not None and (capture is None or not capture.capture_request):
            raise InvalidFieldsError(
                [
                    (
                        ("monitoring",),
                        "Model Monitor analyses the endpoint's captured requests: set "
                        "data_capture (with capture_request: true)"
                        + (
                            "; serverless endpoints capture nothing, use an instance variant"
                            if isinstance(self.variant, ServerlessVariantSettings)
                            else ""
                        ),
                    )
                ]
            )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> EndpointSettings:
        variant = self.variant
        image = self.model.image
        algorithm = image.algorithm if isinstance(image, BuiltinImageSettings) else None
        problems: list[tuple[Location, str]] = []
        if isinstance(variant, ServerlessVariantSettings):
            # ENDPOINT-7 (serverless-endpoints page: feature exclusions).
            if self.data_capture is not None:
                problems.append(
                    (("data_capture",), "serverless endpoints do not support data capture")
                )
            if problems:
                raise InvalidFieldsError(problems)
            return self
        # ENDPOINT-8 (deepar page: instance recommendations).
        if algorithm in CPU_ONLY_ALGORITHMS and is_gpu_instance_type(variant.instance_type):
            problems.append(
                (
                    ("variant", "instance_type"),
                    f"{algorithm} serves on CPUs only: variant.instance_type must be a CPU "
                    f"type such as ml.c5.xlarge (got {variant.instance_type!r})",
                )
            )
        scaling = variant.autoscaling
        if scaling is not None and not (
            scaling.min_capacity <= variant.initial_instance_count <= scaling.max_capacity
        ):
            problems.append(
                (
                    ("variant", "initial_instance_count"),
                    f"variant.initial_instance_count ({variant.initial_instance_count}) must "
                    f"lie within autoscaling min_capacity-max_capacity "
                    f"({scaling.min_capacity}-{scaling.max_capacity})",
                )
            )
        # ENDPOINT-11 (TrafficRoutingConfig API page).
        if self.deployment.traffic_shift != "all_at_once" and variant.initial_instance_count < 2:
            problems.append(
                (
                    ("deployment", "traffic_shift"),
                    f"{self.deployment.traffic_shift} traffic shifting needs "
                    "variant.initial_instance_count of at least 2 (a step of at most 50% is at "
                    "least one instance)",
                )
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @model_validator(mode="after")
    def _supported_by_the_instance_type(self) -> EndpointSettings:
        variant = self.variant
        if isinstance(variant, ServerlessVariantSettings):
            return self
        problems: list[tuple[Location, str]] = []
        # ENDPOINT-9 (endpoint-auto-scaling-add-console page).
        if variant.autoscaling is not None and is_burstable(variant.instance_type):
            problems.append(
                (
                    ("variant", "instance_type"),
                    f"autoscaling does not support burstable instance types "
                    f"({variant.instance_type}): Application Auto Scaling refuses to register "
                    "them; choose a non-burstable type such as ml.c5.large or remove "
                    "variant.autoscaling",
                )
            )
        # ENDPOINT-13 (deployment-guardrails-exclusions page).
        shift = self.deployment.traffic_shift
        if shift != "all_at_once" and lacks_deployment_guardrails(variant.instance_type):
            problems.append(
                (
                    ("deployment", "traffic_shift"),
                    f"{shift} traffic shifting is not available on Inf1 instances "
                    f"({variant.instance_type}): SageMaker deploys them all at once without "
                    "baking; use all_at_once or another instance type",
                )
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self


class InferenceSettings(StrictModel):
    """Inference endpoints (stack `<prefix>-Inference`). An endpoint serves a model that
    exists (an artifact or a model package version), or follows the model package group
    of a training definition and appears with its first approved version
    (docs/model-approval.md)."""

    endpoints: Annotated[dict[EndpointKey, EndpointSettings], Field(min_length=1)]
    """Endpoints by name; each becomes `<name_prefix>-<name>`."""

    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731] = 90
    """Days the endpoints' container logs are kept. Default: 90."""

    @model_validator(mode="after")
    def _promotions(self) -> InferenceSettings:
        """`promote_from` names a staging endpoint that follows the same group directly."""
        problems: list[tuple[Location, str]] = []
        for key, endpoint in self.endpoints.items():
            model = endpoint.model
            if not isinstance(model, ModelPackageGroupSettings) or model.promote_from is None:
                continue
            where: Location = ("endpoints", key, "model", "promote_from")
            source = self.endpoints.get(model.promote_from)
            source_model = source.model if source is not None else None
            if model.promote_from == key:
                problems.append((where, f"an endpoint cannot be promoted from itself ({key!r})"))
            elif not isinstance(source_model, ModelPackageGroupSettings):
                problems.append(
                    (
                        where,
                        f"promote_from must name another endpoint with model.source "
                        f"model_package_group (got {model.promote_from!r}; following groups: "
                        f"{', '.join(_followers(self.endpoints)) or 'none'})",
                    )
                )
            elif source_model.group != model.group:
                problems.append(
                    (
                        where,
                        f"promote_from endpoint {model.promote_from!r} follows group "
                        f"{source_model.group!r}, not {model.group!r}: a version is promoted "
                        "within its group",
                    )
                )
            elif source_model.promote_from is not None:
                problems.append(
                    (
                        where,
                        f"promote_from endpoint {model.promote_from!r} is itself promoted from "
                        f"{source_model.promote_from!r}: promote from the endpoint that "
                        "follows the group directly",
                    )
                )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def followed_groups(self) -> dict[str, ModelPackageGroupSettings]:
        """The endpoints that follow a model package group, by key, in config order."""
        return {
            key: endpoint.model
            for key, endpoint in self.endpoints.items()
            if isinstance(endpoint.model, ModelPackageGroupSettings)
        }

    def resource_usages(self) -> list[ResourceUsage]:
        """One usage per endpoint: its instance type and most instances (serverless
        endpoints choose no instance type; they count their most concurrent invocations)."""
        usages = []
        for name, endpoint in self.endpoints.items():
            variant = endpoint.variant
            path = f"inference.endpoints.{name}"
            if isinstance(variant, ServerlessVariantSettings):
                usages.append(
                    ResourceUsage(
                        kind="endpoint",
                        path=path,
                        instance_type=None,
                        max_concurrency=variant.max_concurrency,
                    )
                )
                continue
            most = variant.autoscaling.max_capacity if variant.autoscaling else 0
            usages.append(
                ResourceUsage(
                    kind="endpoint",
                    path=path,
                    instance_type=variant.instance_type,
                    instance_count=max(most, variant.initial_instance_count),
                )
            )
            if endpoint.monitoring is not None:
                usages.extend(endpoint.monitoring.resource_usages(path))
        return usages


def _followers(endpoints: dict[str, EndpointSettings]) -> list[str]:
    return [k for k, e in endpoints.items() if isinstance(e.model, ModelPackageGroupSettings)]
