"""Which ML instance types SageMaker accepts where, and which carry NVIDIA GPUs.

The tables live in `instance_types_data.py`, generated from botocore's SageMaker
service model (`python -m tools.generate_tables`), so synthesis never imports
botocore; a test regenerates them and fails on drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .instance_types_data import (
    ENDPOINT_INSTANCE_TYPES,
    NOTEBOOK_INSTANCE_TYPES,
    PROCESSING_INSTANCE_TYPES,
    TRAINING_INSTANCE_TYPES,
    TRANSFORM_INSTANCE_TYPES,
)

__all__ = [
    "ENDPOINT_INSTANCE_TYPES",
    "NOTEBOOK_INSTANCE_TYPES",
    "PROCESSING_INSTANCE_TYPES",
    "TRAINING_INSTANCE_TYPES",
    "TRANSFORM_INSTANCE_TYPES",
    "describe_allowed",
    "is_gpu_instance_type",
]

# NVIDIA GPU families: g4dn/g5/g6/g6e/g7..., p2-p6. Inferentia (inf*) and Trainium
# (trn*) are accelerators but not GPUs: CUDA images do not run on them.
_GPU = re.compile(r"^ml\.(g\d+[a-z]*|p\d+[a-z]*(-[a-z0-9]+)?)\.")


def is_gpu_instance_type(instance_type: str) -> bool:
    """True for NVIDIA GPU instance types (`ml.g5.xlarge`, `ml.p4d.24xlarge`...)."""
    return bool(_GPU.match(instance_type))


def describe_allowed(allowed: Iterable[str], *, limit: int = 8) -> str:
    """A short description of allowed values for an error message."""
    values = sorted(allowed)
    shown = ", ".join(values[:limit])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > limit else shown
