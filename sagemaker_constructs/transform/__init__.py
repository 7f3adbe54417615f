"""Batch transform: a model (a model package, an artifact with its image, or an
endpoint's model) run over an S3 prefix by a Step Functions workflow, within cost limits.

Names are imported on first use: the settings model checks configs with `rules`, which
must not load aws-cdk-lib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_MODULES = {
    "TransformShape": "rules",
    "transform_problems": "rules",
    "TransformJob": "job",
    "TransformWorkflow": "workflow",
}

__all__ = sorted(_MODULES)

__getattr__ = lazy_exports(__name__, _MODULES)


if TYPE_CHECKING:
    from .job import TransformJob as TransformJob
    from .rules import TransformShape as TransformShape
    from .rules import transform_problems as transform_problems
    from .workflow import TransformWorkflow as TransformWorkflow
