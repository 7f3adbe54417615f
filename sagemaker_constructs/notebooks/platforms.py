"""Notebook-instance platforms and what AWS allows on each: one table that the settings
(at config load) and `NotebookInstance` (at construction) both check. No CDK import, so
the config check stays fast."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLATFORM_IDENTIFIERS = ("notebook-al2023-v1",)
"""Platforms a new or restarted notebook can use: Amazon Linux 2023 with JupyterLab 4.
NOTEBOOK-1: AL2 reached end of support on 2026-06-30 and AWS creates and restarts no AL2
notebook from 2026-07-01 (https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2.html)."""

DEFAULT_PLATFORM = "notebook-al2023-v1"

RETIRED_PLATFORMS: Mapping[str, str] = {
    "notebook-al1-v1": "Amazon Linux 1, which reached its end of life on 2024-03-31",
    "notebook-al2-v1": "Amazon Linux 2 with JupyterLab 1, which AWS retired on 2025-06-30",
    "notebook-al2-v2": "Amazon Linux 2 with JupyterLab 3, which AWS retired on 2025-06-30",
    "notebook-al2-v3": "Amazon Linux 2, which reached its end of support on 2026-06-30 "
    "(AWS creates and restarts no Amazon Linux 2 notebook from 2026-07-01)",
}
"""Platforms AWS still names but no longer starts, and why."""

NOT_IN_CLOUDFORMATION: Mapping[str, str] = {
    "notebook-al2023-v2": "in the SageMaker API, but AWS::SageMaker::NotebookInstance does "
    "not accept it yet (its CloudFormation schema stops at notebook-al2023-v1)",
}
"""Platforms the API knows that the kit cannot deploy, and why."""

UNSUPPORTED_FAMILIES: Mapping[str, tuple[str, ...]] = {
    # NOTEBOOK-2: https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2023.html
    "notebook-al2023-v1": ("g3", "inf1", "p2", "p3", "p3dn"),
}
"""Instance families (`ml.<family>.<size>`) a platform does not run."""

MIGRATION_DOC = "docs/notebooks.md#moving-a-notebook-to-amazon-linux-2023"

_FAMILY = re.compile(r"^ml\.([a-z0-9-]+)\.")


def platform_problem(platform: str) -> str | None:
    """Why a new notebook cannot use `platform`, with what to use instead; None if it can."""
    if platform in PLATFORM_IDENTIFIERS:
        return None
    allowed = ", ".join(PLATFORM_IDENTIFIERS)
    if platform in NOT_IN_CLOUDFORMATION:
        return f"{platform} is {NOT_IN_CLOUDFORMATION[platform]}; use {DEFAULT_PLATFORM}"
    why = RETIRED_PLATFORMS.get(platform)
    if why is None:
        return f"must be {allowed} (got {platform!r})"
    return (
        f"{platform} is {why}; use {DEFAULT_PLATFORM} (Amazon Linux 2023, JupyterLab 4). A "
        f"notebook already deployed on it moves with a new entry: see {MIGRATION_DOC}"
    )


def instance_type_problem(instance_type: str, platform: str) -> str | None:
    """Why `platform` cannot run `instance_type`, with what to use instead; None if it can."""
    match = _FAMILY.match(instance_type)
    families = UNSUPPORTED_FAMILIES.get(platform, ())
    if match is None or match.group(1) not in families:
        return None
    listed = ", ".join(f"ml.{family}" for family in families)
    return (
        f"{instance_type} does not run on {platform} (Amazon Linux 2023 notebooks do not "
        f"support {listed}); use a current type, e.g. ml.g5.xlarge or ml.g6.xlarge for a GPU, "
        "ml.m5.xlarge or ml.t3.medium without one"
    )
