"""Which ML instance types SageMaker accepts where, and which carry NVIDIA GPUs.

The tables live in `instance_types_data.py`, generated from botocore's SageMaker
service model (`python -m tools.generate_tables`), so synthesis never imports
botocore; a test regenerates them and fails on drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .instance_types_data import (
    APP_INSTANCE_TYPES,
    CLOUDFORMATION_APP_INSTANCE_TYPES,
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
    "STUDIO_CLOUDFORMATION_INSTANCE_TYPES",
    "STUDIO_INSTANCE_TYPES",
    "TRAINING_INSTANCE_TYPES",
    "TRANSFORM_INSTANCE_TYPES",
    "describe_allowed",
    "has_local_nvme_storage",
    "is_gpu_instance_type",
]

# STUDIO-1: `system` runs only Studio Classic's JupyterServer app, and
# ml.geospatial.interactive only the geospatial image
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ResourceSpec.html).
_NOT_FOR_SPACES = frozenset({"system", "ml.geospatial.interactive"})

STUDIO_INSTANCE_TYPES: tuple[str, ...] = tuple(
    t for t in APP_INSTANCE_TYPES if t not in _NOT_FOR_SPACES
)
"""Instance types a JupyterLab or Code Editor app of a Studio space runs on (CreateApp)."""

STUDIO_CLOUDFORMATION_INSTANCE_TYPES: tuple[str, ...] = tuple(
    t for t in STUDIO_INSTANCE_TYPES if t in frozenset(CLOUDFORMATION_APP_INSTANCE_TYPES)
)
"""Those `AWS::SageMaker::Domain` and `AWS::SageMaker::Space` accept as a default instance
type (their schemas lag the API by a few types)."""

# NVIDIA GPU families: g4dn/g5/g6/g6e/g7..., p2-p6. Inferentia (inf*) and Trainium
# (trn*) are accelerators but not GPUs: CUDA images do not run on them.
_GPU = re.compile(r"^ml\.(g\d+[a-z]*|p\d+[a-z]*(-[a-z0-9]+)?)\.")


def is_gpu_instance_type(instance_type: str) -> bool:
    """True for NVIDIA GPU instance types (`ml.g5.xlarge`, `ml.p4d.24xlarge`...)."""
    return bool(_GPU.match(instance_type))


# EC2 families with local NVMe instance storage: those with a `d` among their attribute
# letters (c5d, m6gd, g4dn, p4de...) and these, which always carry it.
_NVME_FAMILIES = frozenset(
    {"dl1", "g5", "g6", "g6e", "g7", "g7e", "gr6", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"}
    | {"p6-b200", "p6-b300", "p6e-gb200"}
)
_FAMILY = re.compile(r"^ml\.(?P<family>[a-z]+\d+(?P<attributes>[a-z]*)(-[a-z0-9]+)?)\.")


def has_local_nvme_storage(instance_type: str) -> bool:
    """True for instance types whose storage is local NVMe (`ml.g5.xlarge`, `ml.m5d.large`...).

    The hardware encrypts it; SageMaker refuses a KMS key for it (KmsKeyId of
    CreateEndpointConfig, VolumeKmsKeyId of jobs), so requests leave the key out there.
    """
    match = _FAMILY.match(instance_type)
    if not match:
        return False
    return "d" in match.group("attributes") or match.group("family") in _NVME_FAMILIES


def describe_allowed(allowed: Iterable[str], *, limit: int = 8) -> str:
    """A short description of allowed values for an error message."""
    values = sorted(allowed)
    shown = ", ".join(values[:limit])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > limit else shown
