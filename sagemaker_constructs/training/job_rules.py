"""The rules of a training job definition, free of aws-cdk-lib so that the settings
model can check a config with them before (and without) loading the CDK."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..common.instance_types import TRAINING_INSTANCE_TYPES, describe_allowed, is_gpu_instance_type
from .algorithms import AlgorithmProfile

MAX_RUNTIME_S = 28 * 24 * 3600
"""MaxRuntimeInSeconds at most 28 days (TRAIN-3, StoppingCondition)."""
MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS_S = 3600
"""MaxWaitTimeInSeconds of a managed spot job whose built-in cannot checkpoint (TRAIN-1)."""

Located = tuple[str, str]
"""(field, sentence): the field a problem is about, `instance_types[<i>]` (index into
the instance types given), `channels.<name>.distribution`, `spot`, `max_wait`,
`max_runtime`, `instance_count`; or "" for the job as a whole."""


INPUT_MODES = ("File", "FastFile", "Pipe")


DATA_TYPES = ("S3Prefix", "ManifestFile", "AugmentedManifestFile")


_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


_ENV_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,511}$")


_KEY = re.compile(r"^[A-Za-z0-9!_.\-/=+@,:]*$")


class JsonPath(str):
    """A value taken from the state at run time (rendered as `Key.$`)."""

    def member(self, name: str) -> JsonPath:
        """The path of a member: dot notation where the name allows it, else brackets
        (channel names may hold `-` and `.`)."""
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            return JsonPath(f"{self}.{name}")
        return JsonPath(f"{self}['{name}']")


Value = str | JsonPath


@dataclass(frozen=True)
class TrainingChannel:
    """One input channel, read from the data bucket."""

    name: str
    """Channel name the algorithm reads (`train`, `validation`, `test`...). 1-64 of
    letters, digits, `.`, `-`, `_`."""
    key: str
    """Key in the data bucket: a prefix (`S3Prefix`) or a manifest's key."""
    data_type: str = "S3Prefix"
    """`S3Prefix`, `ManifestFile` or `AugmentedManifestFile` (Ground Truth output)."""
    attribute_names: Sequence[str] = ()
    """For `AugmentedManifestFile`: the attributes sent to the algorithm, in order (1-16)."""
    content_type: str | None = None
    """MIME type of the data, e.g. `application/jsonlines`. Default: none."""
    compression: str = "None"
    """`None` or `Gzip`."""
    distribution: str = "FullyReplicated"
    """`FullyReplicated` or `ShardedByS3Key` (multi-instance jobs)."""
    input_mode: str | None = None
    """`File`, `FastFile` or `Pipe` for this channel. Default: the job's input mode.
    Augmented manifests are streamed: they need `Pipe`."""
    access_prefix: str | None = None
    """Key prefix the job may read (and execution-input overrides must stay under).
    Default: `key` for S3Prefix, the manifest's folder for manifests."""
    record_wrapper: str | None = None
    """Pipe mode: `RecordIO` wraps each record (each augmented-manifest attribute) in a
    RecordIO header; `None` streams them as they are. Default: not set."""

    @property
    def read_prefix(self) -> str:
        """The key prefix the job's role may read."""
        if self.access_prefix is not None:
            return self.access_prefix
        if self.data_type == "S3Prefix":
            return self.key
        return self.key.rsplit("/", 1)[0] + "/" if "/" in self.key else ""


def default_max_wait_s(profile: AlgorithmProfile | None, max_runtime_s: int) -> int:
    """MaxWaitTimeInSeconds of a spot job that sets none: twice the runtime, at most 28 days,
    and at most an hour for a built-in that cannot checkpoint (TRAIN-1); never below the
    runtime (TRAIN-2), so a job too long for that hour is refused rather than cut short."""
    cap = MAX_RUNTIME_S
    if profile is not None and not profile.checkpointing:
        cap = MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS_S
    return max(max_runtime_s, min(2 * max_runtime_s, cap))


def default_spot(profile: AlgorithmProfile | None) -> bool:
    """Managed spot unless the algorithm cannot checkpoint: SageMaker lets such a job wait
    at most an hour in all (TRAIN-1), so spot would cap it at an hour of training."""
    return profile is None or profile.checkpointing


def training_job_problems(**kwargs: Any) -> list[str]:
    """Everything wrong with a training job's settings, one sentence each (the settings
    model reports the same sentences for a config file, each at its field); takes
    `located_training_job_problems`'s arguments."""
    return [message for _, message in located_training_job_problems(**kwargs)]


def located_training_job_problems(
    *,
    profile: AlgorithmProfile | None,
    channels: Sequence[TrainingChannel],
    input_mode: str,
    instance_types: Sequence[str],
    gpu: bool,
    instance_count: int,
    volume_size_gb: int,
    max_runtime_s: int,
    spot: bool,
    max_wait_s: int | None,
    hyperparameters: Mapping[str, str],
    metric_definitions: Mapping[str, str],
    environment: Mapping[str, str],
) -> list[Located]:
    """Everything wrong with a training job's settings, each with the field it is about.

    :param instance_types: The default instance type first, then those a run may choose.
    :param max_wait_s: MaxWaitTimeInSeconds as given; None: the default
        (`default_max_wait_s`) where spot is on.
    """
    located: list[Located] = []
    found: list[str] = []
    if input_mode not in INPUT_MODES:
        found.append(f"input_mode must be one of {', '.join(INPUT_MODES)} (got {input_mode!r})")
    for index, instance_type in enumerate(instance_types):
        where = f"instance_types[{index}]"
        if instance_type not in TRAINING_INSTANCE_TYPES:
            located.append(
                (
                    where,
                    f"instance type {instance_type!r} is not a SageMaker training instance "
                    f"type; allowed: {describe_allowed(TRAINING_INSTANCE_TYPES)}",
                )
            )
        elif gpu and not is_gpu_instance_type(instance_type):
            located.append(
                (
                    where,
                    f"instance type {instance_type!r} has no NVIDIA GPU but the job needs one "
                    "(gpu): use a GPU type such as ml.g5.xlarge or ml.g6.xlarge",
                )
            )
        elif profile is not None:
            located.extend((where, p) for p in _instance_class_problems(profile, instance_type))
    if not 1 <= instance_count <= 100:
        located.append(("instance_count", f"instance_count must be 1-100 (got {instance_count})"))
    elif profile is not None and profile.single_instance and instance_count > 1:
        # TRAIN-8: the algorithm's page says it trains on a single machine.
        located.append(
            (
                "instance_count",
                f"{profile.name} trains on one instance only (got instance_count "
                f"{instance_count}; see {profile.source}): set instance_count to 1",
            )
        )
    if not 1 <= volume_size_gb <= 16384:
        found.append(f"volume_size_gb must be 1-16384 (got {volume_size_gb})")
    # TRAIN-3: StoppingCondition (MaxRuntimeInSeconds at most 28 days).
    if not 1 <= max_runtime_s <= MAX_RUNTIME_S:
        located.append(
            ("max_runtime", f"max_runtime must be 1 second to 28 days (got {max_runtime_s} s)")
        )
    located.extend(_spot_problems(profile, spot, max_runtime_s, max_wait_s))
    if profile is not None:
        for channel in channels:
            wanted = profile.channel_distributions.get(channel.name)
            # TRAIN-9: randomcutforest reads `train` sharded and `test` replicated.
            if wanted is not None and channel.distribution != wanted:
                located.append(
                    (
                        f"channels.{channel.name}.distribution",
                        f"{profile.name} reads channel {channel.name!r} only with distribution "
                        f"{wanted} (got {channel.distribution}; see {profile.source})",
                    )
                )
    found.extend(channel_problems(channels, input_mode))
    if len(hyperparameters) > 100:
        found.append(f"at most 100 hyperparameters (got {len(hyperparameters)})")
    for name, value in hyperparameters.items():
        if not isinstance(value, str) or len(value) > 2500:
            found.append(
                f"hyperparameter {name!r}: values are strings of at most 2500 characters "
                f"(got {value!r})"
            )
        if not 1 <= len(name) <= 256 or name.endswith(".$"):
            found.append(
                f"hyperparameter {name!r}: names are 1-256 characters and must not end with '.$'"
            )
    if len(environment) > 100:
        found.append(f"environment allows at most 100 variables (got {len(environment)})")
    for name, value in environment.items():
        if not _ENV_NAME.match(name) or len(value) > 512:
            found.append(
                f"environment variable {name!r} needs a name of letters, digits and "
                "underscores (not starting with a digit) and a value of at most 512 characters"
            )
    if profile is not None:
        found.extend(
            profile.problems(
                hyperparameters=hyperparameters,
                channels=[c.name for c in channels],
                metric_definitions=metric_definitions,
                manifests={
                    c.name: (c.attribute_names, c.record_wrapper)
                    for c in channels
                    if c.data_type == "AugmentedManifestFile"
                },
            )
        )
    found.extend(_metric_problems(metric_definitions, profile))
    return [*located, *(("", message) for message in found)]


def _instance_class_problems(profile: AlgorithmProfile, instance_type: str) -> list[str]:
    # TRAIN-8: SageMaker refuses e.g. a CPU type for image-classification ("only GPU
    # instances are supported"); each algorithm's page names what it trains on.
    gpu = is_gpu_instance_type(instance_type)
    if profile.instance_class == "gpu" and not gpu:
        return [
            f"{profile.name} trains only on NVIDIA GPU instances (got {instance_type!r}; see "
            f"{profile.source}): use a GPU type such as ml.g5.xlarge"
        ]
    if profile.instance_class == "cpu" and gpu:
        return [
            f"{profile.name} trains only on CPU instances (got {instance_type!r}; see "
            f"{profile.source}): use a CPU type such as ml.c5.xlarge"
        ]
    return []


def _spot_problems(
    profile: AlgorithmProfile | None, spot: bool, max_runtime_s: int, max_wait_s: int | None
) -> list[Located]:
    if max_wait_s is not None and not spot:
        return [("max_wait", "max_wait applies only to managed spot training (spot is off)")]
    if not spot:
        return []
    wait_s = max_wait_s if max_wait_s is not None else default_max_wait_s(profile, max_runtime_s)
    # TRAIN-2: StoppingCondition (MaxWaitTimeInSeconds >= MaxRuntimeInSeconds).
    if max_wait_s is not None and max_wait_s < max_runtime_s:
        return [
            (
                "max_wait",
                "max_wait must be at least max_runtime with spot training "
                f"(got {max_wait_s} s < {max_runtime_s} s)",
            )
        ]
    # TRAIN-1: model-checkpoints page, a pre-built algorithm without checkpointing may wait
    # at most an hour for spot capacity and training together.
    if profile is not None and not profile.checkpointing:
        limit = MAX_SPOT_WAIT_WITHOUT_CHECKPOINTS_S
        if wait_s > limit:
            field = "max_wait" if max_wait_s is not None else "spot"
            got = (
                f"max_wait {wait_s // 60} minutes"
                if max_wait_s is not None
                else f"max_runtime {max_runtime_s // 60} minutes"
            )
            return [
                (
                    field,
                    f"{profile.name} cannot checkpoint, so SageMaker refuses managed spot "
                    f"training with a max_wait above {limit // 60} minutes for it, and max_wait "
                    f"must cover max_runtime (got {got}): turn spot off (its default for "
                    f"this algorithm), or keep max_runtime and max_wait at most "
                    f"{limit // 60} minutes",
                )
            ]
    return []


def _metric_problems(
    metric_definitions: Mapping[str, str], profile: AlgorithmProfile | None
) -> list[str]:
    found = []
    for name, regex in metric_definitions.items():
        if not 1 <= len(name) <= 255 or not 1 <= len(regex) <= 500:
            found.append(f"metric {name!r}: names are 1-255 and regexes 1-500 characters")
            continue
        try:
            groups = re.compile(regex).groups
        except re.error as err:
            found.append(f"metric {name!r}: regex {regex!r} does not compile ({err})")
            continue
        if groups != 1:
            found.append(
                f"metric {name!r}: regex {regex!r} needs exactly one capture group for the "
                f"value (has {groups})"
            )
    total = len(metric_definitions) + (
        len(profile.metric_definitions()) if profile is not None else 0
    )
    if total > 40:
        found.append(f"at most 40 metric definitions (got {total})")
    return found


def channel_problems(channels: Sequence[TrainingChannel], input_mode: str) -> list[str]:
    """Everything wrong with a job's channels."""
    found: list[str] = []
    names = [c.name for c in channels]
    if not 1 <= len(names) <= 20:
        found.append(f"channels needs 1-20 channels (got {len(names)})")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        found.append(f"channel names must be unique (repeated: {duplicates})")
    for channel in channels:
        where = f"channel {channel.name!r}"
        if not _CHANNEL_NAME.match(channel.name):
            found.append(f"{where}: names are 1-64 letters, digits, '.', '-' and '_'")
        if not channel.key or not _KEY.match(channel.key) or channel.key.startswith("/"):
            found.append(
                f"{where}: key must be a non-empty S3 key without a leading '/' or wildcards "
                f"(got {channel.key!r})"
            )
        read_prefix = channel.read_prefix
        if not channel.key.startswith(read_prefix) or not _KEY.match(read_prefix):
            found.append(
                f"{where}: key {channel.key!r} must be under access_prefix {read_prefix!r}"
            )
        if channel.data_type not in DATA_TYPES:
            found.append(
                f"{where}: data_type must be one of {', '.join(DATA_TYPES)} "
                f"(got {channel.data_type!r})"
            )
        if channel.compression not in ("None", "Gzip"):
            found.append(f"{where}: compression must be None or Gzip (got {channel.compression!r})")
        if channel.distribution not in ("FullyReplicated", "ShardedByS3Key"):
            found.append(
                f"{where}: distribution must be FullyReplicated or ShardedByS3Key "
                f"(got {channel.distribution!r})"
            )
        if channel.record_wrapper not in (None, "None", "RecordIO"):
            found.append(
                f"{where}: record_wrapper must be None or RecordIO (got {channel.record_wrapper!r})"
            )
        if channel.input_mode is not None and channel.input_mode not in INPUT_MODES:
            found.append(
                f"{where}: input_mode must be one of {', '.join(INPUT_MODES)} "
                f"(got {channel.input_mode!r})"
            )
        mode = channel.input_mode or input_mode
        if channel.data_type == "AugmentedManifestFile":
            if not 1 <= len(channel.attribute_names) <= 16:
                found.append(
                    f"{where}: an augmented manifest needs 1-16 attribute_names "
                    f"(got {len(channel.attribute_names)})"
                )
            # TRAIN-18: S3DataSource, AugmentedManifestFile only with Pipe input mode.
            if mode != "Pipe":
                found.append(
                    f"{where}: SageMaker streams augmented manifests, so the channel's input "
                    f"mode must be Pipe (got {mode})"
                )
        elif channel.attribute_names:
            found.append(f"{where}: attribute_names apply only to AugmentedManifestFile channels")
    return found
