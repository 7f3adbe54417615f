"""Settings of training and tuning: training definitions (image, data, resources,
what a run may override, triggers) and tuning definitions over them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sagemaker_constructs.common.builtin_images_data import BUILTIN_IMAGES
from sagemaker_constructs.common.instance_types import (
    TRAINING_INSTANCE_TYPES,
    describe_allowed,
)
from sagemaker_constructs.training.algorithms import (
    TEXT_CLASSIFIER,
    AlgorithmProfile,
    builtin_profile,
)
from sagemaker_constructs.training.job_rules import (
    TrainingChannel,
    default_spot,
    located_training_job_problems,
)
from sagemaker_constructs.training.tuning_rules import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    Located,
    Range,
    grid_size,
    located_tuning_problems,
)

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, _matches
from .problem_fields import definition_field

MAX_TRAINING_PREFIX = 28
"""Job name prefix length that leaves room for `-<32 hex>-<attempt>` in 63 characters."""
MAX_TUNING_PREFIX = 19
"""Tuning job name prefix length that leaves room for `-<12 hex>` in 32 characters."""
KIT_TRAINING_CONTAINER = "containers/training"
"""Directory of the kit's own training container (the text classifier)."""

DefinitionName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,30}[a-z0-9]",
        "must be 2-32 lower-case letters, digits and hyphens, starting with a letter "
        "(it names the jobs, the state machine and the model package group)",
    ),
]
S3Key = Annotated[
    str,
    _matches(
        r"(?!/)[A-Za-z0-9_.\-/=+@,:]+",
        "must be an S3 key or key prefix of letters, digits and _ . - / = + @ , : "
        "(no leading '/', no wildcards)",
    ),
]
JobNamePrefix = Annotated[
    str,
    _matches(r"[a-z0-9](-*[a-z0-9])*", "must be lower-case letters, digits and hyphens"),
]
ScheduleExpression = Annotated[
    str,
    _matches(
        r"(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^()]+\))",
        "must be an EventBridge schedule expression: rate(7 days) or cron(0 3 ? * MON *)",
    ),
]


def _check_instance_type(value: str) -> str:
    if value not in TRAINING_INSTANCE_TYPES:
        raise ValueError(
            "must be a SageMaker training instance type; allowed: "
            + describe_allowed(TRAINING_INSTANCE_TYPES)
        )
    return value


class AssetImage(StrictModel):
    """A Dockerfile in this repository, built and pushed by `cdk deploy`."""

    source: Literal["asset"]
    """`asset`: build the image from a directory of this repository."""

    directory: str = KIT_TRAINING_CONTAINER
    """Directory with the Dockerfile, relative to the repository root. Default: the kit's
    text classifier, whose hyperparameters, channels and metrics the kit checks."""


class UriImage(StrictModel):
    """An image that already exists in a registry."""

    source: Literal["uri"]
    """`uri`: an image by URI."""

    uri: Annotated[
        str,
        _matches(
            r"[\w.-]+(:\d+)?/[\w./-]+([:@][\w.:-]+)?",
            "must look like <registry>/<repository>:<tag>",
        ),
    ]
    """Image URI, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1."""


class BuiltinImage(StrictModel):
    """A SageMaker built-in algorithm, its image resolved per region at deploy time."""

    source: Literal["builtin"]
    """`builtin`: a SageMaker built-in algorithm."""

    algorithm: str
    """Algorithm name, e.g. `forecasting-deepar` or `xgboost`."""

    @field_validator("algorithm")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BUILTIN_IMAGES:
            raise ValueError(f"must be one of {', '.join(sorted(BUILTIN_IMAGES))}")
        return value


ImageSettings = Annotated[AssetImage | UriImage | BuiltinImage, Field(discriminator="source")]


class ChannelSettings(StrictModel):
    """One input channel, read from the data bucket."""

    s3_key: S3Key
    """Key in the data bucket: a prefix such as `text/train/` (S3Prefix) or a manifest's key."""

    data_type: Literal["S3Prefix", "ManifestFile", "AugmentedManifestFile"] = "S3Prefix"
    """How s3_key is read: every object under a prefix, a manifest listing objects, or a
    Ground Truth augmented manifest (JSON lines with the data and its labels)."""

    attribute_names: Annotated[list[str], Field(max_length=16)] = Field(default_factory=list)
    """For AugmentedManifestFile: the attributes sent to the algorithm, in order (for the
    kit's text classifier: [text attribute, label attribute, label attribute-metadata],
    e.g. [source, sentiment, sentiment-metadata])."""

    content_type: str | None = None
    """MIME type of the data, e.g. `application/jsonlines`. Default: none."""

    compression: Literal["None", "Gzip"] = "None"
    """Compression of the data."""

    distribution: Literal["FullyReplicated", "ShardedByS3Key"] = "FullyReplicated"
    """Every instance gets all data, or a shard of it (multi-instance jobs)."""

    input_mode: Literal["File", "FastFile", "Pipe"] | None = None
    """Input mode of this channel. Default: the definition's. Augmented manifests are
    streamed and need `Pipe`."""

    access_prefix: S3Key | None = None
    """Key prefix the job may read, and under which execution-input overrides of this
    channel must stay. Default: s3_key for S3Prefix, the manifest's folder otherwise."""

    record_wrapper: Literal["None", "RecordIO"] | None = None
    """Pipe mode: `RecordIO` wraps each record (each augmented-manifest attribute) in a
    RecordIO header, as the kit's text classifier reads augmented manifests. Default: not set."""


class OverrideSettings(StrictModel):
    """What the execution input of a run may change."""

    hyperparameters: list[str] = Field(default_factory=list)
    """Hyperparameters a run may set, e.g. [epochs, learning_rate]. Default: none."""

    channels: list[str] = Field(default_factory=list)
    """Channels whose data URI a run may set (within the channel's access prefix)."""

    instance_types: list[str] = Field(default_factory=list)
    """Instance types a run may choose besides `instance_type`."""

    @field_validator("instance_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        for item in value:
            _check_instance_type(item)
        return value


class NewDataSettings(StrictModel):
    """Start a run when an object is created under a prefix of the data bucket."""

    prefix: S3Key
    """Key prefix watched, e.g. `labeling/text/`."""

    suffix: Annotated[str, _matches(r"[A-Za-z0-9_.\-]+", "letters, digits, _ . -")] | None = None
    """Only keys ending so, e.g. `output.manifest` (Ground Truth's output) or `_SUCCESS`:
    one run per finished dataset rather than one per uploaded file. Default: any key."""

    channel: str | None = None
    """A channel (on the override list) whose data URI becomes the new object's URI.
    Default: none, the run reads the configured data."""


class ModelPackageSettings(StrictModel):
    """How trained models are registered in the model registry."""

    approval: Literal["PendingManualApproval", "Approved"] = "PendingManualApproval"
    """`PendingManualApproval` (someone approves each model before it may be deployed) or
    `Approved`."""

    image: ImageSettings | None = None
    """Inference image of the package. Default: the training image (right for built-in
    algorithms, which serve from their training image)."""

    content_types: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: ["application/json"]
    )
    """Request MIME types the model accepts."""

    response_types: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: ["application/json"]
    )
    """Response MIME types the model returns."""


class TrainingDefinition(StrictModel):
    """One kind of training job and the workflow that runs it."""

    image: ImageSettings
    """Training image: `asset` (a Dockerfile here; default directory the kit's text
    classifier), `uri` or `builtin` (e.g. forecasting-deepar)."""

    channels: Annotated[dict[str, ChannelSettings], Field(min_length=1, max_length=20)]
    """Input channels by name (`train`, `validation`, `test`...), all in the data bucket."""

    instance_type: str
    """Instance type of a run, e.g. ml.g5.xlarge."""

    gpu: bool = False
    """The job needs NVIDIA GPUs: instance_type and every overridable instance type must
    be GPU types."""

    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances per job (distributed training). Valid range: 1-100."""

    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    """EBS volume per instance (instance types with local NVMe storage use that instead)."""

    input_mode: Literal["File", "FastFile", "Pipe"] = "File"
    """How channels reach the container, unless a channel says otherwise."""

    hyperparameters: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Static hyperparameters; values are sent as strings (booleans as true/false)."""

    metric_definitions: dict[str, str] = Field(default_factory=dict)
    """Further metrics: name -> regex with one group, matched on the job's log. The kit's
    text classifier's metrics are always defined; built-in algorithms take none."""

    max_runtime_minutes: Annotated[int, Field(ge=1, le=40320)] = 240
    """Longest a job may train. Valid range: 1 minute - 28 days."""

    spot: bool | None = None
    """Managed spot training: up to 90% cheaper; an interrupted job resumes from its
    checkpoints. Default: on, except for built-in algorithms that cannot checkpoint (all
    but image-classification, object-detection, semantic-segmentation and xgboost):
    SageMaker lets their spot jobs take at most 60 minutes in all, waiting included."""

    max_wait_minutes: Annotated[int, Field(ge=1)] | None = None
    """With spot: longest a job may take including waiting for capacity; at least
    max_runtime_minutes. Default: twice max_runtime_minutes, at most 28 days (60 minutes
    for a built-in algorithm that cannot checkpoint)."""

    checkpoints: bool | None = None
    """Sync /opt/ml/checkpoints to the artifacts bucket (what spot resumption needs).
    Default: on, except for built-in algorithms that write no checkpoints."""

    network_isolation: bool = True
    """The container gets no network access."""

    inter_container_encryption: bool = True
    """Encrypt traffic between the instances of a distributed job."""

    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables of the container."""

    overridable: OverrideSettings = Field(default_factory=OverrideSettings)
    """The allow-lists of execution-input overrides. Default: nothing may be overridden."""

    model_package: ModelPackageSettings = Field(default_factory=ModelPackageSettings)
    """How the trained model is registered."""

    capacity_retries: Annotated[int, Field(ge=0, le=5)] = 2
    """Further attempts when SageMaker has no capacity for the job. Valid range: 0-5."""

    capacity_retry_delay_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    """Wait before each further attempt."""

    schedule: ScheduleExpression | None = None
    """Start a run on this schedule, e.g. `rate(7 days)`. Default: none."""

    on_new_data: NewDataSettings | None = None
    """Start a run when data lands under a prefix of the data bucket. Default: none."""

    job_name_prefix: JobNamePrefix | None = None
    """Prefix of job names. Default: `<name_prefix>-<definition>`. At most 28 characters
    (the run's 32-digit hash and the attempt follow)."""

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _check_instance_type(value)

    @property
    def profile(self) -> AlgorithmProfile | None:
        """What the kit knows of the algorithm (hyperparameters, channels, metrics)."""
        image = self.image
        if isinstance(image, BuiltinImage):
            return builtin_profile(image.algorithm)
        if isinstance(image, AssetImage) and image.directory.rstrip("/") == KIT_TRAINING_CONTAINER:
            return TEXT_CLASSIFIER
        return None

    @property
    def uses_spot(self) -> bool:
        """Whether jobs use managed spot training (`spot`, or its default)."""
        return default_spot(self.profile) if self.spot is None else self.spot

    @property
    def uses_checkpoints(self) -> bool:
        """Whether jobs sync their checkpoints (`checkpoints`, or its default)."""
        if self.checkpoints is not None:
            return self.checkpoints
        profile = self.profile
        return profile is None or profile.checkpointing

    def string_hyperparameters(self) -> dict[str, str]:
        """Hyperparameters as SageMaker takes them."""
        return {
            name: (str(value).lower() if isinstance(value, bool) else str(value))
            for name, value in self.hyperparameters.items()
        }

    def to_channels(self) -> list[TrainingChannel]:
        """The channels as the training construct takes them."""
        return [
            TrainingChannel(
                name=name,
                key=channel.s3_key,
                data_type=channel.data_type,
                attribute_names=tuple(channel.attribute_names),
                content_type=channel.content_type,
                compression=channel.compression,
                distribution=channel.distribution,
                input_mode=channel.input_mode,
                access_prefix=channel.access_prefix,
                record_wrapper=channel.record_wrapper,
            )
            for name, channel in self.channels.items()
        ]

    @model_validator(mode="after")
    def _consistent(self) -> TrainingDefinition:
        job_problems = located_training_job_problems(
            profile=self.profile,
            channels=self.to_channels(),
            input_mode=self.input_mode,
            instance_types=[self.instance_type, *self.overridable.instance_types],
            gpu=self.gpu,
            instance_count=self.instance_count,
            volume_size_gb=self.volume_size_gb,
            max_runtime_s=self.max_runtime_minutes * 60,
            spot=self.uses_spot,
            max_wait_s=self.max_wait_minutes * 60 if self.max_wait_minutes else None,
            hyperparameters=self.string_hyperparameters(),
            metric_definitions=self.metric_definitions,
            environment=self.environment,
        )
        problems = [message for field, message in job_problems if not field]
        profile = self.profile
        if profile is not None:
            problems.extend(
                profile.override_problems(
                    self.overridable.hyperparameters,
                    has_manifest=any(
                        c.data_type == "AugmentedManifestFile" for c in self.channels.values()
                    ),
                )
            )
        located: list[tuple[Location, str]] = [
            (self._location(field), message) for field, message in job_problems if field
        ]
        located += [
            (
                definition_field(
                    p,
                    instance_type=self.instance_type,
                    overridable_types=self.overridable.instance_types,
                ),
                p,
            )
            for p in problems
        ]
        for index, name in enumerate(self.overridable.hyperparameters):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                located.append(
                    (
                        ("overridable", "hyperparameters", index),
                        f"{name!r} must be letters, digits and underscores, not starting with "
                        "a digit",
                    )
                )
        for index, name in enumerate(self.overridable.channels):
            if name not in self.channels:
                located.append(
                    (
                        ("overridable", "channels", index),
                        f"{name!r} is not a channel of this definition "
                        f"({', '.join(self.channels)})",
                    )
                )
        trigger = self.on_new_data
        channels = {c.name: c for c in self.to_channels()}
        if trigger is not None and trigger.channel is not None:
            if trigger.channel not in self.overridable.channels:
                located.append(
                    (
                        ("on_new_data", "channel"),
                        f"{trigger.channel!r} must be listed in overridable.channels",
                    )
                )
            elif trigger.channel in channels:
                prefix = channels[trigger.channel].read_prefix
                if not trigger.prefix.startswith(prefix):
                    located.append(
                        (
                            ("on_new_data", "prefix"),
                            f"{trigger.prefix!r} must be under channel {trigger.channel!r}'s "
                            f"access prefix {prefix!r} (the job may read nothing else)",
                        )
                    )
        if located:
            raise InvalidFieldsError(located)
        return self

    def _location(self, field: str) -> Location:
        """Where a located job problem's field is in this definition."""
        if field.startswith("instance_types["):
            index = int(field[len("instance_types[") : -1])
            return (
                ("instance_type",) if index == 0 else ("overridable", "instance_types", index - 1)
            )
        if field.startswith("channels."):
            _, name, key = field.split(".", 2)
            return ("channels", name, key)
        return (_JOB_FIELDS.get(field, field),)


_JOB_FIELDS = {"max_runtime": "max_runtime_minutes", "max_wait": "max_wait_minutes"}


class ObjectiveSettings(StrictModel):
    """The metric a tuning job optimizes."""

    metric: str
    """A metric of the training definition (e.g. validation:macro_f1) or of its built-in
    algorithm (e.g. DeepAR's test:RMSE)."""

    type: Literal["Maximize", "Minimize"] | None = None
    """Whether higher or lower is better. Default: for a built-in algorithm's metric, the
    direction AWS publishes for it; required for any other metric."""


class ContinuousRangeSettings(StrictModel):
    """A real-valued hyperparameter searched between two bounds."""

    kind: Literal["continuous"]
    """`continuous`."""

    min: float
    """Lower bound."""

    max: float
    """Upper bound (greater than min)."""

    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"
    """How values are sampled: Logarithmic needs min > 0; ReverseLogarithmic 0 <= min, max < 1."""


class IntegerRangeSettings(StrictModel):
    """An integer hyperparameter searched between two bounds."""

    kind: Literal["integer"]
    """`integer`."""

    min: int
    """Lower bound."""

    max: int
    """Upper bound (greater than min)."""

    scaling: Literal["Auto", "Linear", "Logarithmic"] = "Auto"
    """How values are sampled: Logarithmic needs min > 0."""


class CategoricalRangeSettings(StrictModel):
    """A hyperparameter chosen from a list of values."""

    kind: Literal["categorical"]
    """`categorical`."""

    values: Annotated[list[str | int | float], Field(min_length=1, max_length=30)]
    """The values tried (1-30)."""


RangeSettings = Annotated[
    ContinuousRangeSettings | IntegerRangeSettings | CategoricalRangeSettings,
    Field(discriminator="kind"),
]


class WarmStartSettings(StrictModel):
    """Start from what earlier tuning jobs learned."""

    parents: Annotated[list[str], Field(min_length=1, max_length=5)]
    """Names of earlier tuning jobs (1-5)."""

    type: Literal["TransferLearning", "IdenticalDataAndAlgorithm"] = "TransferLearning"
    """TransferLearning (data, ranges or image may differ) or IdenticalDataAndAlgorithm."""


class HyperbandSettings(StrictModel):
    """Resources of the Hyperband strategy."""

    min_resource: Annotated[int, Field(ge=1)] | None = None
    """Least epochs a training job runs before Hyperband may stop it."""

    max_resource: Annotated[int, Field(ge=1)] | None = None
    """Most epochs a training job runs."""


class TuningDefinition(StrictModel):
    """A hyperparameter tuning job over one training definition, and its workflow."""

    training: str
    """Name of the training definition whose jobs are tuned."""

    objective: ObjectiveSettings
    """What to optimize."""

    ranges: Annotated[dict[str, RangeSettings], Field(min_length=1)]
    """Hyperparameters to tune, by name: continuous, integer or categorical ranges."""

    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"] = "Bayesian"
    """Search strategy. Grid takes only categorical ranges and runs every combination."""

    max_jobs: Annotated[int, Field(ge=1)] | None = 10
    """Training jobs in all: at most 750 (Random search: 10000, with a quota increase).
    Must be null with Grid, which runs every combination (at most 750)."""

    max_parallel_jobs: Annotated[int, Field(ge=1)] = 2
    """Training jobs at once: at most max_jobs and 100 (SageMaker's default quota is 10)."""

    max_runtime_minutes: Annotated[int, Field(ge=2, le=43200)] | None = None
    """Longest the tuning job may run: at most 30 days (43200 minutes). Default: no limit
    beyond the jobs' own."""

    early_stopping: Literal["Off", "Auto"] = "Off"
    """Stop training jobs unlikely to beat the best so far (not with Hyperband)."""

    hyperband: HyperbandSettings | None = None
    """Hyperband resources (strategy Hyperband only)."""

    warm_start: WarmStartSettings | None = None
    """Start from earlier tuning jobs. Default: none."""

    random_seed: Annotated[int, Field(ge=0)] | None = None
    """Makes the search reproducible. Default: none."""

    model_approval: Literal["PendingManualApproval", "Approved"] | None = None
    """Approval status of the best model's package. Default: the training definition's."""

    schedule: ScheduleExpression | None = None
    """Start a run on this schedule. Default: none."""

    job_name_prefix: JobNamePrefix | None = None
    """Prefix of tuning job names. Default: `<name_prefix>-<definition>`, which must then
    fit. At most 19 characters (a hyphen and 12 hex digits follow; SageMaker allows 32)."""

    def to_ranges(self) -> list[Range]:
        """The ranges as the tuning construct takes them."""
        ranges: list[Range] = []
        for name, item in self.ranges.items():
            if isinstance(item, CategoricalRangeSettings):
                ranges.append(CategoricalRange(name, tuple(str(v) for v in item.values)))
            elif isinstance(item, IntegerRangeSettings):
                ranges.append(IntegerRange(name, item.min, item.max, item.scaling))
            else:
                ranges.append(ContinuousRange(name, item.min, item.max, item.scaling))
        return ranges


class TrainingSettings(StrictModel):
    """Training and tuning workflows (Step Functions), their roles, and the model
    registry their models are registered in."""

    definitions: Annotated[dict[DefinitionName, TrainingDefinition], Field(min_length=1)]
    """Training definitions by name, e.g. text-classifier, deepar-demand."""

    tuning: dict[DefinitionName, TuningDefinition] = Field(default_factory=dict)
    """Tuning definitions by name, each over one training definition."""

    @model_validator(mode="after")
    def _references(self) -> TrainingSettings:
        problems: list[tuple[Location, str]] = []
        for name, tuning in self.tuning.items():
            definition = self.definitions.get(tuning.training)
            if definition is None:
                problems.append(
                    (
                        ("tuning", name, "training"),
                        f"{tuning.training!r} is not a training definition "
                        f"(defined: {', '.join(self.definitions)})",
                    )
                )
                continue
            problems.extend(
                (("tuning", name, *_tuning_location(field)), message)
                for field, message in _tuning_problems(tuning, definition)
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def name_problems(self, name_prefix: str) -> list[tuple[Location, str]]:
        """Job names made from `name_prefix` that would be too long for SageMaker, each at
        the definition (or its job_name_prefix) that makes them."""
        problems: list[tuple[Location, str]] = []
        for name, definition in self.definitions.items():
            prefix = definition.job_name_prefix or f"{name_prefix}-{name}"
            if len(prefix) > MAX_TRAINING_PREFIX:
                where: Location = ("definitions", name)
                problems.append(
                    (
                        (*where, "job_name_prefix") if definition.job_name_prefix else where,
                        f"job names would start with {prefix!r} ({len(prefix)} characters, at "
                        f"most {MAX_TRAINING_PREFIX} fit before the run's hash): set "
                        "job_name_prefix",
                    )
                )
        for name, tuning in self.tuning.items():
            prefix = tuning.job_name_prefix or f"{name_prefix}-{name}"
            if len(prefix) > MAX_TUNING_PREFIX:
                where = ("tuning", name)
                problems.append(
                    (
                        (*where, "job_name_prefix") if tuning.job_name_prefix else where,
                        f"tuning job names would start with {prefix!r} ({len(prefix)} "
                        f"characters, SageMaker allows 32 in all, so at most "
                        f"{MAX_TUNING_PREFIX}): set job_name_prefix",
                    )
                )
        return problems

    @property
    def watches_data_bucket(self) -> bool:
        """Whether a workflow starts on new data (the data bucket must send events)."""
        return any(d.on_new_data is not None for d in self.definitions.values())

    def resource_usages(self) -> list[ResourceUsage]:
        """Every instance type a training or tuning run may use, for the cost limits."""
        usages = []
        for name, definition in self.definitions.items():
            for instance_type in _instance_types(definition):
                usages.append(
                    ResourceUsage(
                        kind="training",
                        path=f"training.definitions.{name}",
                        instance_type=instance_type,
                        instance_count=definition.instance_count,
                        max_runtime_seconds=_job_seconds(definition),
                        spot=definition.uses_spot,
                        overridable=instance_type != definition.instance_type,
                    )
                )
        for name, tuning in self.tuning.items():
            definition = self.definitions[tuning.training]
            for instance_type in _instance_types(definition):
                usages.append(
                    ResourceUsage(
                        kind="tuning",
                        path=f"training.tuning.{name}",
                        instance_type=instance_type,
                        instance_count=definition.instance_count,
                        max_runtime_seconds=_job_seconds(definition),
                        max_parallel_jobs=tuning.max_parallel_jobs,
                        max_jobs=tuning.max_jobs or grid_size(tuning.to_ranges()),
                        max_tuning_seconds=tuning.max_runtime_minutes * 60
                        if tuning.max_runtime_minutes
                        else None,
                        spot=definition.uses_spot,
                        overridable=instance_type != definition.instance_type,
                    )
                )
        return usages


def _instance_types(definition: TrainingDefinition) -> list[str]:
    """The definition's instance type, then those a run may pick instead."""
    return list(dict.fromkeys([definition.instance_type, *definition.overridable.instance_types]))


def _job_seconds(definition: TrainingDefinition) -> int:
    """Longest one job may be billed for: its runtime (spot waiting is not billed)."""
    return definition.max_runtime_minutes * 60


def _tuning_location(field: str) -> Location:
    """Where a located tuning problem's field is in its tuning definition."""
    if field == "max_runtime":
        return ("max_runtime_minutes",)
    head, _, rest = field.partition(".")
    return (head, rest) if rest else (head,) if head else ()


def _tuning_problems(tuning: TuningDefinition, definition: TrainingDefinition) -> list[Located]:
    profile = definition.profile
    hyperband = tuning.hyperband or HyperbandSettings()
    return located_tuning_problems(
        profile=profile,
        hyperparameters=definition.string_hyperparameters(),
        channels=list(definition.channels),
        metrics=[
            *definition.metric_definitions,
            *(profile.metrics if profile is not None and not profile.builtin else ()),
        ],
        objective_metric=tuning.objective.metric,
        objective_type=tuning.objective.type,
        ranges=tuning.to_ranges(),
        strategy=tuning.strategy,
        max_jobs=tuning.max_jobs,
        max_parallel_jobs=tuning.max_parallel_jobs,
        early_stopping=tuning.early_stopping,
        hyperband=(hyperband.min_resource, hyperband.max_resource),
        warm_start_parents=tuning.warm_start.parents if tuning.warm_start else (),
        warm_start_type=tuning.warm_start.type if tuning.warm_start else "TransferLearning",
        # The tuning workflow leaves tuned hyperparameters off its override list.
        overridable_hyperparameters=[
            h for h in definition.overridable.hyperparameters if h not in tuning.ranges
        ],
        max_runtime_s=tuning.max_runtime_minutes * 60 if tuning.max_runtime_minutes else None,
    )
