"""Settings of batch transform (stack `<name_prefix>-Transform`): one workflow per
definition, running a model over an S3 prefix of the data bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sagemaker_constructs.transform.rules import (
    MAX_JOB_NAME_PREFIX,
    TransformShape,
    transform_problems,
)

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, _matches
from .inference import (
    ArtifactModelSettings,
    BuiltinImageSettings,
    EndpointKey,
    ModelPackageGroupSettings,
    ModelPackageSettings,
)
from .training import DefinitionName, JobNamePrefix, S3Key, ScheduleExpression

if TYPE_CHECKING:
    from .platform import PlatformSettings

# TRANSFORM-11 (your-algorithms-batch-code page): the container must take MaxPayloadInMB.
PAYLOAD_ENVIRONMENT = "SAGEMAKER_MAX_PAYLOAD_IN_MB"
"""Set on every transform, so a container (the kit's serving image among them) accepts
requests up to the job's MaxPayloadInMB, not only real time's 6 MB."""


TransformInstanceType = Annotated[
    str, _matches(r"ml\.[a-z0-9-]+\.[a-z0-9]+", "must look like ml.<family>.<size>")
]
"""Checked against the transform instance types by TRANSFORM rules (with the field named)."""


class EndpointModelSettings(StrictModel):
    """The model an endpoint of the `inference` section serves: the transform builds the
    same model (image, artifact or package, environment) as a model of its own."""

    source: Literal["endpoint"]
    """`endpoint`: the model of an endpoint in `inference.endpoints`."""

    endpoint: EndpointKey
    """The endpoint's key in `inference.endpoints`, e.g. demand-forecast."""


TransformModelSettings = Annotated[
    ArtifactModelSettings | ModelPackageSettings | EndpointModelSettings,
    Field(discriminator="source"),
]


class TransformOverrides(StrictModel):
    """What the execution input of a run may change besides the input data (always
    allowed, under `input_prefix`)."""

    instance_types: list[TransformInstanceType] = Field(default_factory=list)
    """Instance types a run may choose besides `instance_type` (within cost.limits).
    Default: none."""


class TransformDefinition(StrictModel):
    """One batch transform: a model run over objects under a prefix of the data bucket.
    Each run writes under `<output_prefix><run id>/` (a run never overwrites another's
    output) and is stopped once it passes `max_runtime_minutes`."""

    model: TransformModelSettings
    """What runs: `source: endpoint` (an endpoint's model), `source: model_package` (a
    registry version) or `source: artifact` (an image and a model.tar.gz)."""

    input_prefix: S3Key
    """Key prefix in the data bucket whose objects a run transforms (a run may name a
    narrower prefix or one object under it), e.g. forecasting/demand/batch/input/. Must end
    with `/`."""

    output_prefix: S3Key | None = None
    """Key prefix in the data bucket for the results (each object `<input name>.out`).
    Default: `transform/<name>/output/`."""

    instance_type: TransformInstanceType
    """ML instance type, e.g. ml.m5.xlarge (DeepAR: a CPU type)."""

    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of a run. Default: 1. Valid range: 1-100."""

    max_runtime_minutes: Annotated[int, Field(ge=1, le=40320)] = 60
    """Past this the workflow stops the job (SageMaker sets no limit on transform jobs;
    a stopped job writes no output). Default: 60. Valid range: 1-40320 (28 days)."""

    content_type: str = "application/jsonlines"
    """MIME type of the input objects. Default: application/jsonlines."""

    accept: str = "application/jsonlines"
    """MIME type of the results. Default: application/jsonlines."""

    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = "Line"
    """How input objects are cut into records. Default: Line (one JSON object per line)."""

    batch_strategy: Literal["MultiRecord", "SingleRecord"] = "MultiRecord"
    """As many records per request as fit in max_payload_mb, or one. Default:
    MultiRecord (DeepAR needs SingleRecord)."""

    assemble_with: Literal["None", "Line"] = "Line"
    """How results are joined: Line keeps one result line per input line. Default: Line."""

    max_payload_mb: Annotated[int, Field(ge=1, le=100)] = 6
    """Largest request body in MB (at least one record). Default: 6. Valid range: 1-100."""

    max_concurrent_transforms: Annotated[int, Field(ge=1, le=100)] = 1
    """Requests in flight per instance; times max_payload_mb at most 100. Default: 1."""

    invocation_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 600
    """Time one request may take. Default: 600. Valid range: 1-3600."""

    invocation_max_retries: Annotated[int, Field(ge=0, le=3)] = 1
    """Retries of a failed request before the job fails. Default: 1. Valid range: 0-3."""

    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables of the container for this transform, e.g. DeepAR's
    DEEPAR_INFERENCE_CONFIG. At most 15 (the kit sets SAGEMAKER_MAX_PAYLOAD_IN_MB)."""

    network_isolation: bool = True
    """The container has no network access (SageMaker still reads the input and writes the
    results). Turn off only for a model that fetches what it needs itself, such as the
    classifier contract's images by `source-ref`. Default: on."""

    overridable: TransformOverrides = Field(default_factory=TransformOverrides)
    """What a run may change besides its input data."""

    schedule: ScheduleExpression | None = None
    """Start a run over the whole input prefix on this EventBridge schedule, e.g.
    cron(0 4 ? * MON *). Default: none."""

    job_name_prefix: JobNamePrefix | None = None
    """Lower-case prefix of the job names, at most 30 characters. Default:
    `<name_prefix>-<name>`."""

    @field_validator("input_prefix", "output_prefix")
    @classmethod
    def _a_folder(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith("/"):
            raise ValueError("must be a key prefix ending with '/'")
        return value

    @model_validator(mode="after")
    def _aws_rules(self) -> TransformDefinition:
        problems = list(transform_problems(self.shape(algorithm=None, job_prefix="")))
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def shape(self, *, algorithm: str | None, job_prefix: str) -> TransformShape:
        """This definition as the transform rules see it."""
        return TransformShape(
            instance_type=self.instance_type,
            allowed_instance_types=tuple(self.overridable.instance_types),
            split_type=self.split_type,
            batch_strategy=self.batch_strategy,
            assemble_with=self.assemble_with,
            max_payload_mb=self.max_payload_mb,
            max_concurrent_transforms=self.max_concurrent_transforms,
            environment=self.container_environment,
            algorithm=algorithm,
            job_name_prefix=job_prefix,
        )

    @property
    def container_environment(self) -> dict[str, str]:
        """The configured environment plus the payload limit the kit sets."""
        return {**self.environment, PAYLOAD_ENVIRONMENT: str(self.max_payload_mb)}


class TransformSettings(StrictModel):
    """Batch transform workflows (stack `<name_prefix>-Transform`): start one with
    `smkit transform start <name>`, or `smkit forecast --batch` / `smkit classify
    --batch`."""

    definitions: Annotated[dict[DefinitionName, TransformDefinition], Field(min_length=1)]
    """Transform definitions by name, e.g. demand-batch."""

    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731] = 365
    """Days the workflows' execution logs are kept. Default: 365."""

    def output_prefix(self, name: str) -> str:
        """Where definition `name` writes its runs' results."""
        return self.definitions[name].output_prefix or f"transform/{name}/output/"

    def job_prefix(self, name: str, name_prefix: str) -> str:
        """The prefix of definition `name`'s job names."""
        return self.definitions[name].job_name_prefix or f"{name_prefix}-{name}"

    def name_problems(self, name_prefix: str) -> list[tuple[Location, str]]:
        """TRANSFORM-8: job names that would be too long, at the definition (or its
        job_name_prefix)."""
        problems: list[tuple[Location, str]] = []
        for name, definition in self.definitions.items():
            prefix = self.job_prefix(name, name_prefix)
            if len(prefix) > MAX_JOB_NAME_PREFIX:
                where: Location = ("definitions", name)
                problems.append(
                    (
                        (*where, "job_name_prefix") if definition.job_name_prefix else where,
                        f"job names would start with {prefix!r} ({len(prefix)} characters; at "
                        f"most {MAX_JOB_NAME_PREFIX} fit before the run's hash in SageMaker's "
                        "63): set job_name_prefix",
                    )
                )
        return problems

    def resource_usages(self) -> list[ResourceUsage]:
        """Every instance type a run may use, at its most instances and longest runtime."""
        usages = []
        for name, definition in self.definitions.items():
            for instance_type in dict.fromkeys(
                [definition.instance_type, *definition.overridable.instance_types]
            ):
                usages.append(
                    ResourceUsage(
                        kind="transform",
                        path=f"transform.definitions.{name}",
                        instance_type=instance_type,
                        instance_count=definition.instance_count,
                        max_runtime_seconds=definition.max_runtime_minutes * 60,
                    )
                )
        return usages


def resolved_model(
    settings: PlatformSettings, model: TransformModelSettings
) -> ArtifactModelSettings | ModelPackageSettings | ModelPackageGroupSettings | None:
    """The model a transform runs: its own, or its endpoint's (None when the endpoint is
    not configured)."""
    if isinstance(model, EndpointModelSettings):
        endpoints = settings.inference.endpoints if settings.inference else {}
        endpoint = endpoints.get(model.endpoint)
        return endpoint.model if endpoint is not None else None
    return model


def model_algorithm(settings: PlatformSettings, model: TransformModelSettings) -> str | None:
    """The built-in algorithm a transform's model serves (forecasting-deepar...), where the
    config says: a built-in image, or a package of the platform's registry whose training
    definition uses one."""
    resolved = resolved_model(settings, model)
    image = getattr(resolved, "image", None)
    if isinstance(image, BuiltinImageSettings):
        return image.algorithm
    if isinstance(resolved, ModelPackageSettings) and settings.training is not None:
        group = resolved.arn.split(":model-package/", 1)[-1].rsplit("/", 1)[0]
        for name, definition in settings.training.definitions.items():
            if f"{settings.name_prefix}-{name}" == group:
                registered = definition.model_package.image or definition.image
                return getattr(registered, "algorithm", None)
    return None


def transform_platform_problems(settings: PlatformSettings) -> list[tuple[Location, str]]:
    """What only the whole config shows: endpoints that do not exist, rules that depend on
    the model's algorithm (DeepAR), job names from name_prefix (TRANSFORM-8)."""
    transform = settings.transform
    if transform is None:
        return []
    problems: list[tuple[Location, str]] = [
        (("transform", *where), message)
        for where, message in transform.name_problems(settings.name_prefix)
    ]
    endpoints = settings.inference.endpoints if settings.inference else {}
    for name, definition in transform.definitions.items():
        where: Location = ("transform", "definitions", name)
        model = definition.model
        if isinstance(model, EndpointModelSettings) and model.endpoint not in endpoints:
            problems.append(
                (
                    (*where, "model", "endpoint"),
                    f"{model.endpoint!r} is not an endpoint of inference.endpoints "
                    f"(configured: {', '.join(endpoints) or 'none'})",
                )
            )
            continue
        followed = resolved_model(settings, model)
        if isinstance(model, EndpointModelSettings) and isinstance(
            followed, ModelPackageGroupSettings
        ):
            problems.append(
                (
                    (*where, "model", "endpoint"),
                    f"endpoint {model.endpoint!r} follows model package group "
                    f"{followed.group!r}: the version it serves is set at approval time, "
                    "which the Transform stack cannot read; name the version to run with "
                    "model: {source: model_package, arn: <its ARN>}",
                )
            )
            continue
        algorithm = model_algorithm(settings, model)
        if algorithm is None:
            continue
        generic = set(transform_problems(definition.shape(algorithm=None, job_prefix="")))
        for field, message in transform_problems(
            definition.shape(algorithm=algorithm, job_prefix="")
        ):
            if (field, message) not in generic:
                problems.append(((*where, *field), message))
    return problems
