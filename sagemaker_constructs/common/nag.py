"""cdk-nag acknowledgements the way the kit makes them: on the construct concerned,
naming the exact finding, with a reason.

IAM5 findings name the wildcard resource as cdk-nag flattens it *after* synthesis,
when cross-stack references have become `Fn::GetStackOutput` / `Fn::ImportValue`.
So `acknowledge_wildcards` computes the finding IDs at validation time (after
references are resolved, before cdk-nag runs) from the very tokens the construct
granted on: each acknowledgement still names one exact finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct, IValidation

NAG_METADATA = "cdk_nag"
_PENDING_RESOURCES = "_smkit_resource_acknowledgement"
"""The attribute of a scope holding its `_ResourceAcknowledgement`."""


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (e.g. `AwsSolutions-L1`) on `scope` and its children."""
    acknowledge_all(scope, {rule_id: reason})


def acknowledge_all(scope: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge each finding of `reasons` (finding ID -> reason) on `scope` and its
    children, in one call (each call crosses into the CDK's Node process)."""
    if reasons:
        Validations.of(scope).acknowledge(
            *(Acknowledgment(id=rule_id, reason=reason) for rule_id, reason in reasons.items())
        )


def acknowledge_wildcards(
    scope: IConstruct,
    *,
    reason: str,
    actions: Iterable[str] = (),
    resources: Sequence[str] = (),
) -> None:
    """Acknowledge AwsSolutions-IAM5 for exactly these wildcard actions (`s3:GetObject*`)
    and wildcard resources (tokens such as `bucket.arn_for_objects("data/*")`) in the
    policies under `scope`."""
    acknowledge_all(scope, {f"AwsSolutions-IAM5[Action::{action}]": reason for action in actions})
    if resources:
        # One validation per scope for all its grants: each one costs calls into the
        # CDK's Node process when it is added and when it runs.
        pending: _ResourceAcknowledgement | None = getattr(scope, _PENDING_RESOURCES, None)
        if pending is None:
            pending = _ResourceAcknowledgement(scope)
            scope.node.add_validation(pending)
            object.__setattr__(scope, _PENDING_RESOURCES, pending)
        pending.add(resources, reason)


def acknowledge_policy_wildcards(scope: IConstruct, *, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for every wildcard action and resource of the IAM
    policies under `scope`, each by its exact finding ID.

    Only for policies whose statements CDK writes itself and the kit cannot name in
    advance (a BucketDeployment's handler, a Distributed Map's child-execution policy);
    `reason` must say what those statements allow. Grants the kit writes use
    `acknowledge_wildcards` with the exact actions and resources instead.
    """
    scope.node.add_validation(_PolicyAcknowledgement(scope, reason))


def flatten_reference(node: Any) -> str:
    """A CloudFormation value flattened the way cdk-nag names it in findings."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def _copy_to_metadata(scope: IConstruct, rules: dict[str, str]) -> None:
    """The aspect that copies acknowledgements into template metadata ran before
    validation; copy the ones made at validation time ourselves so reviewers see them."""
    if not rules:
        return
    for child in scope.node.find_all():
        if isinstance(child, CfnResource):
            existing = child.get_metadata(NAG_METADATA) or {}
            listed = list(existing.get("rules_to_suppress", []))
            known = {rule["id"] for rule in listed}
            listed += [{"id": i, "reason": r} for i, r in rules.items() if i not in known]
            child.add_metadata(NAG_METADATA, {"rules_to_suppress": listed})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@jsii.implements(IValidation)
class _PolicyAcknowledgement:
    """Runs after references are resolved: names every wildcard of the scope's policies."""

    def __init__(self, scope: IConstruct, reason: str) -> None:
        self._scope = scope
        self._reason = reason

    def validate(self) -> list[str]:
        stack = Stack.of(self._scope)
        rules: dict[str, str] = {}
        for child in self._scope.node.find_all():
            if not isinstance(child, iam.CfnPolicy):
                continue
            document = stack.resolve(child.policy_document)
            for statement in document.get("Statement", []):
                for action in _as_list(statement.get("Action", [])):
                    if isinstance(action, str) and "*" in action:
                        rules[f"AwsSolutions-IAM5[Action::{action}]"] = self._reason
                for resource in _as_list(statement.get("Resource", [])):
                    flat = flatten_reference(resource)
                    if "*" in flat:
                        rules[f"AwsSolutions-IAM5[Resource::{flat}]"] = self._reason
        acknowledge_all(self._scope, rules)
        _copy_to_metadata(self._scope, rules)
        return []


@jsii.implements(IValidation)
class _ResourceAcknowledgement:
    """Runs after references are resolved: turns resource tokens into finding IDs."""

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope
        self._resources: list[tuple[str, str]] = []

    def add(self, resources: Sequence[str], reason: str) -> None:
        """Acknowledge these resources' wildcards too, for `reason`."""
        self._resources += [(resource, reason) for resource in resources]

    def validate(self) -> list[str]:
        # One resolve for every token of the scope.
        resolved = Stack.of(self._scope).resolve([resource for resource, _ in self._resources])
        rules: dict[str, str] = {}
        for value, (_, reason) in zip(resolved, self._resources, strict=True):
            flat = flatten_reference(value)
            if "*" in flat:
                # The first grant's reason stands, as when each grant had a validation.
                rules.setdefault(f"AwsSolutions-IAM5[Resource::{flat}]", reason)
        acknowledge_all(self._scope, rules)
        _copy_to_metadata(self._scope, rules)
        return []
