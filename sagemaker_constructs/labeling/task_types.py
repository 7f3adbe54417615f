"""Ground Truth's built-in task types the kit runs (no CDK here: the settings model
validates against this table)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from .ground_truth_data import GROUND_TRUTH_LAMBDA_ACCOUNTS


class DataType(Enum):
    """What one manifest line points at."""

    TEXT = "text"
    """`{"source": "<text>"}`."""
    IMAGE = "image"
    """`{"source-ref": "s3://bucket/key.jpg"}`."""

    @property
    def manifest_key(self) -> str:
        """The key of a manifest line that holds the object."""
        return "source" if self is DataType.TEXT else "source-ref"


@dataclass(frozen=True)
class TaskType:
    """One built-in Ground Truth task type."""

    name: str
    """Name used in settings, e.g. `text_classification`."""
    lambda_suffix: str
    """Suffix of the AWS-owned PRE-/ACS- Lambdas, e.g. `TextMultiClass`."""
    data_type: DataType
    """What the workers look at."""
    element: str | None
    """Crowd HTML element of the kit's worker template; None where AWS hosts the UI
    (named entity recognition)."""
    output_type: str
    """`type` in the output manifest's metadata, e.g. `groundtruth/text-classification`."""
    algorithm: str | None = None
    """Automated data labeling algorithm, where Ground Truth offers one."""
    multi_label: bool = False
    """Whether an object can get several labels."""
    min_labels: int = 1
    """Fewest label categories the task type accepts."""


TASK_TYPES: dict[str, TaskType] = {
    task.name: task
    for task in (
        TaskType(
            "image_classification",
            "ImageMultiClass",
            DataType.IMAGE,
            "crowd-image-classifier",
            "groundtruth/image-classification",
            algorithm="image-classification",
            min_labels=2,
        ),
        TaskType(
            "image_classification_multi_label",
            "ImageMultiClassMultiLabel",
            DataType.IMAGE,
            "crowd-image-classifier-multi-select",
            "groundtruth/image-classification-multilabel",
            multi_label=True,
            min_labels=2,
        ),
        TaskType(
            "text_classification",
            "TextMultiClass",
            DataType.TEXT,
            "crowd-classifier",
            "groundtruth/text-classification",
            algorithm="text-classification",
            min_labels=2,
        ),
        TaskType(
            "text_classification_multi_label",
            "TextMultiClassMultiLabel",
            DataType.TEXT,
            "crowd-classifier-multi-select",
            "groundtruth/text-classification-multilabel",
            multi_label=True,
            min_labels=2,
        ),
        TaskType(
            "bounding_box",
            "BoundingBox",
            DataType.IMAGE,
            "crowd-bounding-box",
            "groundtruth/object-detection",
            algorithm="object-detection",
            multi_label=True,
        ),
        TaskType(
            "named_entity_recognition",
            "NamedEntityRecognition",
            DataType.TEXT,
            None,
            "groundtruth/named-entity-recognition",
            multi_label=True,
        ),
    )
}
"""The built-in task types the kit runs, by settings name."""

GROUND_TRUTH_REGIONS: tuple[str, ...] = tuple(sorted(GROUND_TRUTH_LAMBDA_ACCOUNTS))
"""Regions where Ground Truth's built-in task types can run."""

PUBLIC_PRICES: tuple[Decimal, ...] = tuple(
    Decimal(price)
    for price in (
        "0.012",
        "0.024",
        "0.036",
        "0.048",
        "0.060",
        "0.072",
        "0.120",
        "0.240",
        "0.360",
        "0.480",
        "0.600",
        "0.720",
        "0.840",
        "0.960",
        "1.080",
        "1.200",
    )
)
"""What Mechanical Turk may pay per task (SageMaker API reference,
PublicWorkforceTaskPrice); bounding boxes start at 0.036."""
PUBLIC_MAX_TASK_SECONDS = 3_600
"""Longest task time limit for the public crowd."""
PUBLIC_MAX_AVAILABILITY_SECONDS = 43_200
"""Longest task availability for the public crowd (12 hours)."""
