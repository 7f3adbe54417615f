"""Helpers shared by the kit's constructs: validation, images, Lambda functions,
state machines and SageMaker job tasks, instance types, cdk-nag acknowledgements.

Names are imported on first use: the settings model imports the instance-type
tables from here and must not pay for loading aws-cdk-lib (it starts a Node.js
process), so `python -m stacks.settings check` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_MODULES = {
    "ALLOWED_RETENTION_DAYS": "retention",
    "LABELING_JOB": "workflow",
    "PROCESSING_JOB": "workflow",
    "TRAINING_JOB": "workflow",
    "TRANSFORM_JOB": "workflow",
    "TUNING_JOB": "workflow",
    "BuiltinImage": "images",
    "ContainerImage": "images",
    "LoggedStateMachine": "workflow",
    "Problems": "validation",
    "PythonFunction": "function",
    "SageMakerJobKind": "workflow",
    "SageMakerJobTask": "workflow",
    "acknowledge": "nag",
    "acknowledge_policy_wildcards": "nag",
    "acknowledge_wildcards": "nag",
    "describe_allowed": "instance_types",
    "has_local_nvme_storage": "instance_types",
    "is_gpu_instance_type": "instance_types",
    "retention_days": "retention",
    "retention_problem": "retention",
    "stable_logical_id": "validation",
}

__all__ = sorted(_MODULES)

__getattr__ = lazy_exports(__name__, _MODULES)


if TYPE_CHECKING:
    from .function import PythonFunction as PythonFunction
    from .images import BuiltinImage as BuiltinImage
    from .images import ContainerImage as ContainerImage
    from .instance_types import describe_allowed as describe_allowed
    from .instance_types import has_local_nvme_storage as has_local_nvme_storage
    from .instance_types import is_gpu_instance_type as is_gpu_instance_type
    from .nag import acknowledge as acknowledge
    from .nag import acknowledge_policy_wildcards as acknowledge_policy_wildcards
    from .nag import acknowledge_wildcards as acknowledge_wildcards
    from .retention import ALLOWED_RETENTION_DAYS as ALLOWED_RETENTION_DAYS
    from .retention import retention_days as retention_days
    from .retention import retention_problem as retention_problem
    from .validation import Problems as Problems
    from .validation import stable_logical_id as stable_logical_id
    from .workflow import LABELING_JOB as LABELING_JOB
    from .workflow import PROCESSING_JOB as PROCESSING_JOB
    from .workflow import TRAINING_JOB as TRAINING_JOB
    from .workflow import TRANSFORM_JOB as TRANSFORM_JOB
    from .workflow import TUNING_JOB as TUNING_JOB
    from .workflow import LoggedStateMachine as LoggedStateMachine
    from .workflow import SageMakerJobKind as SageMakerJobKind
    from .workflow import SageMakerJobTask as SageMakerJobTask
