"""Inference: SageMaker endpoints (instance, serverless, async) with autoscaling, data
capture, blue/green deployments and alarms, and the clients that call them.

`client/` holds plain boto3 modules (no CDK) that the operator CLI and Lambda handlers
import; so that importing them stays light, this package loads its CDK constructs only
when one of them is asked for.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "Endpoint": "endpoint",
    "CPU_ONLY_ALGORITHMS": "algorithms",
    "VARIANT_NAME": "endpoint",
    "ModelData": "model_source",
    "ModelSource": "model_source",
    "AlarmThresholds": "options",
    "AsyncVariant": "options",
    "Autoscaling": "options",
    "DataCapture": "options",
    "Deployment": "options",
    "EndpointVariant": "options",
    "InstanceVariant": "options",
    "ServerlessVariant": "options",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
