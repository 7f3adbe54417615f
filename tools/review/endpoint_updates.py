"""Endpoint updates SageMaker refuses, found by comparing the endpoints of two templates
of a stack (the deployed or base one and the new one).

CloudFormation updates an `AWS::SageMaker::Endpoint` in place (UpdateEndpoint) when its
configuration changes, and removes scalable targets only in its cleanup phase, after
every update. So what counts is the old template's Application Auto Scaling targets:

- ENDPOINT-2: a variant registered as a scalable target must keep its instance type.
- ENDPOINT-3: a variant registered as a scalable target must not disappear from the new
  configuration (renamed or removed).
- ENDPOINT-4: an instance-backed variant cannot become serverless.

Each is a deploy that fails half way and rolls back; the review and `make deploy` stop
it before it starts, saying what to do instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.assembly import Assembly, Stack, construct_path, references, render

SCALING_UPDATE_PAGE = "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html"
SERVERLESS_PAGE = (
    "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html"
    "#serverless-endpoints-how-it-works-exclusions"
)
_VARIANT = re.compile(r"/variant/(?P<variant>[^/]+)$")


@dataclass(frozen=True)
class RefusedUpdate:
    """An endpoint update SageMaker refuses."""

    stack: str
    logical_id: str
    endpoint: str
    """The endpoint's name (what clients invoke)."""
    variant: str
    rule: str
    """The rule's id in docs/aws-rules.md."""
    problem: str
    """What changes and why SageMaker refuses it."""
    fix: str
    """What to do instead."""
    source: str

    config_path: str | None = None
    """Where the kit's config sets the endpoint (`inference.endpoints.<key>`), if known."""

    def text(self) -> str:
        where = f", {self.config_path}" if self.config_path else ""
        return (
            f"endpoint {self.endpoint}, variant {self.variant} (stack {self.stack}{where}): "
            f"{self.problem} ({self.rule}, {self.source}). {self.fix}"
        )


def refused_updates(base: Assembly, new: Assembly) -> list[RefusedUpdate]:
    """Every endpoint update of `new` over `base` that SageMaker refuses, stack by stack."""
    base_stacks = {s.name: s for s in base}
    found: list[RefusedUpdate] = []
    for stack in new:
        old = base_stacks.get(stack.name)
        if old is not None:
            found += refused_stack_updates(old, stack)
    return found


def refused_stack_updates(old: Stack, new: Stack) -> list[RefusedUpdate]:
    """The refused endpoint updates of one stack, from its old template to its new one."""
    found: list[RefusedUpdate] = []
    new_endpoints = new.of_type("AWS::SageMaker::Endpoint")
    for logical_id, old_endpoint in old.of_type("AWS::SageMaker::Endpoint").items():
        new_endpoint = new_endpoints.get(logical_id)
        if new_endpoint is None:
            continue
        name = _props(old_endpoint).get("EndpointName")
        if name != _props(new_endpoint).get("EndpointName") or not isinstance(name, str):
            continue  # a new endpoint replaces it: nothing is updated
        scaled = _scaled_variants(old, logical_id, name)
        new_variants = _variants(new, new_endpoint)
        for variant, old_variant in _variants(old, old_endpoint).items():
            refusal = _refusal(variant in scaled, old_variant, new_variants.get(variant))
            if refusal is not None:
                found.append(
                    RefusedUpdate(
                        new.name, logical_id, name, variant, *refusal, _config_path(new_endpoint)
                    )
                )
    return found


def _refusal(
    scaled: bool, old: dict[str, Any], new: dict[str, Any] | None
) -> tuple[str, str, str, str] | None:
    """(rule, problem, fix, source) of one variant's update, or None where it is allowed."""
    if new is None:
        if not scaled:
            return None
        return (
            "ENDPOINT-3",
            "the variant leaves the endpoint while it is an Application Auto Scaling "
            "target, and SageMaker refuses the update",
            "Deploy in two steps: remove the endpoint's autoscaling and deploy (that "
            "deregisters the variant), then make the change and deploy again.",
            SCALING_UPDATE_PAGE,
        )
    old_type, new_type = old.get("InstanceType"), new.get("InstanceType")
    if old_type is not None and "ServerlessConfig" in new:
        return (
            "ENDPOINT-4",
            f"the variant changes from instances ({render(old_type)}) to serverless, and "
            "SageMaker refuses to convert an instance-based endpoint to serverless",
            "Give the serverless endpoint a new name (a new endpoint), move the clients to "
            "it, then remove the old one.",
            SERVERLESS_PAGE,
        )
    if scaled and new_type is not None and new_type != old_type:
        return (
            "ENDPOINT-2",
            f"the instance type changes from {render(old_type)} to {render(new_type)} while "
            "the variant is an Application Auto Scaling target, and SageMaker refuses the "
            "update",
            f"Deploy in two steps: remove the endpoint's autoscaling, keep {render(old_type)} "
            f"and deploy (that deregisters the variant); then set {render(new_type)}, restore "
            "the autoscaling and deploy again.",
            SCALING_UPDATE_PAGE,
        )
    return None


def _config_path(endpoint: dict[str, Any]) -> str | None:
    """`inference.endpoints.<key>` for an endpoint of the kit's Inference stack, whose
    construct path is `<stack>/<key>/Endpoint`."""
    parts = (construct_path(endpoint) or "").split("/")
    if len(parts) == 3 and parts[0].endswith("-Inference") and parts[2] == "Endpoint":
        return f"inference.endpoints.{parts[1]}"
    return None


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = resource.get("Properties") or {}
    return props


def _variants(stack: Stack, endpoint: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The production variants of the endpoint's configuration, by name."""
    config_ids = references(_props(endpoint).get("EndpointConfigName"))
    for config_id in config_ids:
        config = stack.resources.get(config_id)
        if config and config.get("Type") == "AWS::SageMaker::EndpointConfig":
            return {
                str(v.get("VariantName")): v
                for v in _props(config).get("ProductionVariants", [])
                if isinstance(v, dict)
            }
    return {}


def _scaled_variants(stack: Stack, endpoint_id: str, endpoint_name: str) -> set[str]:
    """Variants of the endpoint registered as Application Auto Scaling targets (naming the
    endpoint by reference, as the kit does, or by its name)."""
    scaled = set()
    for target in stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values():
        props = _props(target)
        if props.get("ServiceNamespace") != "sagemaker":
            continue
        resource_id = props.get("ResourceId")
        rendered = render(resource_id)
        match = _VARIANT.search(rendered)
        named = rendered.startswith(f"endpoint/{endpoint_name}/")
        if match and (named or endpoint_id in references(resource_id)):
            scaled.add(match.group("variant"))
    return scaled
