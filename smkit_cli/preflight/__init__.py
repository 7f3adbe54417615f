"""`smkit preflight`: read-only checks of the target account and region for a config,
before `cdk deploy`: the CDK bootstrap, SageMaker service quotas, an existing private
workforce, names already taken outside the platform's stacks, the Studio domain's name and
network, and the cost allocation tags the budgets filter on. Every check reads AWS only
(docs/preflight.md lists the permissions)."""

from __future__ import annotations

from pathlib import Path

from ..deployment import Deployment
from .bootstrap import check_bootstrap
from .cost_tags import check_cost_tags
from .findings import Finding
from .names import check_names
from .owned import StackResources
from .quotas import check_quotas
from .studio import check_studio
from .workforce import check_workforce

__all__ = ["Finding", "run_checks"]


def run_checks(deployment: Deployment, assembly: Path | None) -> list[Finding]:
    """Every check's findings, in the order a deployment meets them."""
    stacks = StackResources(deployment)
    return [
        *check_bootstrap(deployment, assembly),
        *check_quotas(deployment),
        *check_workforce(deployment, stacks),
        *check_names(deployment, stacks),
        *check_studio(deployment, stacks),
        *check_cost_tags(deployment),
    ]
