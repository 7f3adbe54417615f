"""Facts of SageMaker hosting that the settings and the endpoint construct both check (no
CDK: the settings model imports this). Each names its rule in docs/aws-rules.md."""

from __future__ import annotations

import re

_BURSTABLE = re.compile(r"^ml\.t\d+[a-z]*\.")
_INF1 = re.compile(r"^ml\.inf1\.")


def is_burstable(instance_type: str) -> bool:
    """T2/T3-style burstable instances, which Application Auto Scaling refuses to register
    for SageMaker (ENDPOINT-9, endpoint-auto-scaling-add-console page). Trainium (trn)
    types are not burstable."""
    return bool(_BURSTABLE.match(instance_type))


def lacks_deployment_guardrails(instance_type: str) -> bool:
    """Inf1 (Inferentia 1) endpoints fall back to all-at-once blue/green without baking:
    canary and linear traffic shifting do not apply (ENDPOINT-13,
    deployment-guardrails-exclusions page)."""
    return bool(_INF1.match(instance_type))
