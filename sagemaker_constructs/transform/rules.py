"""AWS's rules for a batch transform request, as plain functions (no CDK: the settings
model checks configs with them, the construct checks its arguments with them). Each
rule names its id in docs/aws-rules.md."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..common.instance_types import (
    TRANSFORM_INSTANCE_TYPES,
    describe_allowed,
    is_gpu_instance_type,
)
from ..inference.algorithms import CPU_ONLY_ALGORITHMS

MAX_PAYLOAD_MB = 100
"""TRANSFORM-1: MaxPayloadInMB, and MaxConcurrentTransforms x MaxPayloadInMB, at most 100."""
MAX_ENVIRONMENT = 16
"""TRANSFORM-5: CreateTransformJob's Environment holds at most 16 entries."""
MAX_JOB_NAME = 63
HASH_LENGTH = 32
MAX_JOB_NAME_PREFIX = MAX_JOB_NAME - 1 - HASH_LENGTH
"""TRANSFORM-8: a prefix that leaves room for `-<32 hex>` in SageMaker's 63 characters."""
SPLIT_TYPES = ("None", "Line", "RecordIO", "TFRecord")
BATCH_STRATEGIES = ("MultiRecord", "SingleRecord")
ASSEMBLE_WITH = ("None", "Line")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")


@dataclass(frozen=True)
class TransformShape:
    """What a transform request sets that AWS's rules constrain."""

    instance_type: str
    """The default instance type."""
    allowed_instance_types: tuple[str, ...] = ()
    """Further instance types a run may choose."""
    split_type: str = "Line"
    batch_strategy: str = "MultiRecord"
    assemble_with: str = "Line"
    max_payload_mb: int = 6
    max_concurrent_transforms: int = 1
    environment: Mapping[str, str] | None = None
    algorithm: str | None = None
    """The built-in algorithm the model serves (e.g. forecasting-deepar), if one."""
    job_name_prefix: str = "transform"


Field = tuple[str | int, ...]
Located = tuple[Field, str]
"""(field path, message): the field of the transform definition a problem is about, e.g.
`("instance_type",)` or `("overridable", "instance_types", 1)`."""


def _type_fields(shape: TransformShape) -> list[tuple[Field, str]]:
    return [(("instance_type",), shape.instance_type)] + [
        (("overridable", "instance_types", index), instance_type)
        for index, instance_type in enumerate(shape.allowed_instance_types)
    ]


def transform_problems(shape: TransformShape) -> list[Located]:
    """Every rule `shape` breaks, each at the field to change."""
    found: list[Located] = []
    for where, instance_type in _type_fields(shape):
        if instance_type not in TRANSFORM_INSTANCE_TYPES:
            family = instance_type.rsplit(".", 1)[0] + "."
            hint = [t for t in TRANSFORM_INSTANCE_TYPES if t.startswith(family)]
            found.append(
                (
                    where,
                    f"{instance_type!r} is not an instance type SageMaker batch transform "
                    f"accepts, e.g. {describe_allowed(hint or TRANSFORM_INSTANCE_TYPES, limit=8)}",
                )
            )
    for name, allowed in (
        ("split_type", SPLIT_TYPES),
        ("batch_strategy", BATCH_STRATEGIES),
        ("assemble_with", ASSEMBLE_WITH),
    ):
        value = getattr(shape, name)
        if value not in allowed:
            found.append(((name,), f"{name} must be one of {', '.join(allowed)} (got {value!r})"))
    # TRANSFORM-1 (CreateTransformJob API page).
    if not 1 <= shape.max_payload_mb <= MAX_PAYLOAD_MB:
        found.append(
            (
                ("max_payload_mb",),
                f"max_payload_mb must be 1-{MAX_PAYLOAD_MB} (got {shape.max_payload_mb}; 0, "
                "chunked payloads, works only with some built-in algorithms)",
            )
        )
    elif shape.max_concurrent_transforms * shape.max_payload_mb > MAX_PAYLOAD_MB:
        found.append(
            (
                ("max_concurrent_transforms",),
                f"max_concurrent_transforms x max_payload_mb must be at most {MAX_PAYLOAD_MB} MB "
                f"({shape.max_concurrent_transforms} x {shape.max_payload_mb} = "
                f"{shape.max_concurrent_transforms * shape.max_payload_mb})",
            )
        )
    # TRANSFORM-2 (CreateTransformJob API page): BatchStrategy needs records to split.
    if shape.split_type == "None" and shape.batch_strategy == "MultiRecord":
        found.append(
            (
                ("batch_strategy",),
                "MultiRecord batches need records: set split_type to Line, RecordIO or "
                "TFRecord, or batch_strategy to SingleRecord (one whole object per request)",
            )
        )
    # TRANSFORM-3 (deepar-in-formats page, batch transform): keep one output per input line.
    if shape.split_type == "Line" and shape.assemble_with != "Line":
        found.append(
            (
                ("assemble_with",),
                "split_type Line needs assemble_with Line: with None SageMaker concatenates "
                "the answers of all records on one line, and outputs no longer match inputs",
            )
        )
    if shape.algorithm in CPU_ONLY_ALGORITHMS:
        # TRANSFORM-4 (deepar-in-formats page): DeepAR fails with the default strategy.
        if shape.batch_strategy != "SingleRecord" or shape.split_type != "Line":
            found.append(
                (
                    ("batch_strategy",),
                    f"{shape.algorithm} batch transform needs batch_strategy SingleRecord and "
                    f"split_type Line (got {shape.batch_strategy} and {shape.split_type}); "
                    "other values fail at run time",
                )
            )
        # TRANSFORM-6 (deepar page: instance recommendations): DeepAR infers on CPUs.
        for where, instance_type in _type_fields(shape):
            if is_gpu_instance_type(instance_type):
                found.append(
                    (
                        where,
                        f"{shape.algorithm} runs inference on CPUs only: use a CPU instance "
                        f"type such as ml.m5.xlarge (got {instance_type})",
                    )
                )
    environment = dict(shape.environment or {})
    # TRANSFORM-5 (CreateTransformJob API page: Environment).
    if len(environment) > MAX_ENVIRONMENT:
        found.append(
            (
                ("environment",),
                f"at most {MAX_ENVIRONMENT} environment variables (got {len(environment)}, "
                "with the kit's SAGEMAKER_MAX_PAYLOAD_IN_MB)",
            )
        )
    bad_keys = sorted(k for k in environment if not _ENV_KEY.match(k))
    if bad_keys:
        found.append(
            (
                ("environment",),
                f"environment variable names must be letters, digits and _ not starting with a "
                f"digit (got {', '.join(map(repr, bad_keys))})",
            )
        )
    long_values = sorted(k for k, v in environment.items() if len(v) > 10240)
    if long_values:
        found.append(
            (("environment",), f"values of {', '.join(long_values)} are over 10240 characters")
        )
    # TRANSFORM-8 (CreateTransformJob API page: TransformJobName, 63 characters).
    if len(shape.job_name_prefix) > MAX_JOB_NAME_PREFIX:
        found.append(
            (
                ("job_name_prefix",),
                f"job names would start with {shape.job_name_prefix!r} "
                f"({len(shape.job_name_prefix)} characters; at most {MAX_JOB_NAME_PREFIX} fit "
                f"before the run's hash in SageMaker's {MAX_JOB_NAME}): set job_name_prefix",
            )
        )
    return found
