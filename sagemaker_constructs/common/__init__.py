"""Helpers shared by the kit's constructs."""

from .retention import ALLOWED_RETENTION_DAYS, retention_days
from .validation import Problems, stable_logical_id

__all__ = ["ALLOWED_RETENTION_DAYS", "Problems", "retention_days", "stable_logical_id"]
