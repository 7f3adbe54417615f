"""An autoscaled endpoint's template, synthesized by the kit's construct, and the edits a
config change makes to it: for the update rules of the review and the pre-deploy check."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import (
    Autoscaling,
    Endpoint,
    EndpointVariant,
    ModelData,
    ModelSource,
)
from tests.oracles.synth import cdk_json_context

STACK = "Serving"


def endpoint_template(outdir: Path, variant: EndpointVariant, *, scaled: bool) -> dict[str, Any]:
    """The template of stack `Serving` with endpoint smkit-forecast (DeepAR) on `variant`,
    autoscaled between 1 and 4 instances when `scaled`."""
    app = cdk.App(outdir=str(outdir), context=cdk_json_context())
    stack = cdk.Stack(app, STACK)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    Endpoint(
        stack,
        "Forecast",
        endpoint_name="smkit-forecast",
        model=ModelSource.from_artifact(
            ContainerImage.from_builtin("forecasting-deepar"),
            ModelData.from_bucket(s3.Bucket(stack, "Artifacts"), "deepar/model.tar.gz"),
        ),
        variant=variant,
        encryption_key=key,
        autoscaling=Autoscaling(min_capacity=1, max_capacity=4) if scaled else None,
    )
    template: dict[str, Any] = app.synth().get_stack_by_name(STACK).template
    return template


def variants(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The production variants of the template's one endpoint configuration."""
    (config,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"
    )
    found: list[dict[str, Any]] = config["Properties"]["ProductionVariants"]
    return found


def with_instance_type(template: dict[str, Any], instance_type: str) -> dict[str, Any]:
    """A copy of the template whose variant runs on `instance_type`."""
    changed = copy.deepcopy(template)
    variants(changed)[0]["InstanceType"] = instance_type
    return changed
