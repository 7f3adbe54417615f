"""Helpers shared by the kit's constructs: validation, images, Lambda functions,
state machines and SageMaker job tasks, instance types, cdk-nag acknowledgements."""

from .function import PythonFunction
from .images import BuiltinImage, ContainerImage
from .instance_types import describe_allowed, is_gpu_instance_type
from .nag import acknowledge, acknowledge_policy_wildcards, acknowledge_wildcards
from .retention import ALLOWED_RETENTION_DAYS, retention_days
from .validation import Problems, stable_logical_id
from .workflow import (
    LABELING_JOB,
    PROCESSING_JOB,
    TRAINING_JOB,
    TRANSFORM_JOB,
    TUNING_JOB,
    LoggedStateMachine,
    SageMakerJobKind,
    SageMakerJobTask,
)

__all__ = [
    "ALLOWED_RETENTION_DAYS",
    "LABELING_JOB",
    "PROCESSING_JOB",
    "TRAINING_JOB",
    "TRANSFORM_JOB",
    "TUNING_JOB",
    "BuiltinImage",
    "ContainerImage",
    "LoggedStateMachine",
    "Problems",
    "PythonFunction",
    "SageMakerJobKind",
    "SageMakerJobTask",
    "acknowledge",
    "acknowledge_policy_wildcards",
    "acknowledge_wildcards",
    "describe_allowed",
    "is_gpu_instance_type",
    "retention_days",
    "stable_logical_id",
]
