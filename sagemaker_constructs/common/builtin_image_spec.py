"""The shape of one row of the built-in image table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinImageSpec:
    """Where a SageMaker built-in algorithm's image lives in each region."""

    repository: str
    """ECR repository name, e.g. `forecasting-deepar`."""
    tag: str
    """Image tag the kit pins, e.g. `1`."""
    accounts: dict[str, str]
    """Registry account per region."""
