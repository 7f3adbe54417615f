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
    "uses_ebs_volume",
]

# NVIDIA GPU families: g4dn/g5/g6/g6e/g7..., p2-p6. Inferentia (inf*) and Trainium
# (trn*) are accelerators but not GPUs: CUDA images do not run on them.
_GPU = re.compile(r"^ml\.(g\d+[a-z]*|p\d+[a-z]*(-[a-z0-9]+)?)\.")


def is_gpu_instance_type(instance_type: str) -> bool:
    """True for NVIDIA GPU instance types (`ml.g5.xlarge`, `ml.p4d.24xlarge`...)."""
    return bool(_GPU.match(instance_type))


# Families whose ML instances have no local instance storage: SageMaker attaches an EBS
# volume, which a request may encrypt with its own key (VolumeKmsKeyId). The others
# (g4dn, g5, g6, p3dn, p4d, p5, r5d, trn1...) have NVMe storage that the instance
# encrypts in hardware, and SageMaker refuses a VolumeKmsKeyId for them.
_EBS_ONLY_FAMILIES = frozenset(
    {
        "c4", "c5", "c5n", "c6i", "c7i", "c7i-flex", "c8i", "c8i-flex",
        "m4", "m5", "m6i", "m7i", "m7i-flex", "m8i", "m8i-flex",
        "r5", "r6i", "r7i", "r8i", "r8i-flex", "t2", "t3", "p2", "p3",
    }
)  # fmt: skip


def uses_ebs_volume(instance_type: str) -> bool:
    """True for instance types known to have no local instance storage (`ml.c5.xlarge`,
    `ml.p3.2xlarge`...): only those take a volume KMS key. Unknown families count as
    having local storage, the safe side (a request naming a key for them would fail)."""
    parts = instance_type.split(".")
    return len(parts) == 3 and parts[0] == "ml" and parts[1] in _EBS_ONLY_FAMILIES


def describe_allowed(allowed: Iterable[str], *, limit: int = 8) -> str:
    """A short description of allowed values for an error message."""
    values = sorted(allowed)
    shown = ", ".join(values[:limit])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > limit else shown
