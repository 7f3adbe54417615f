"""IAM permissions a stack grants, read from any policy document in its template.

Identity policies: `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`, the inline `Policies`
of roles, users and groups, and the AWS managed policies they attach. Resource
policies: bucket, topic, queue and key policies, and Lambda permissions. Trust
policies (who may assume a role) are listed too. Wildcards are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.assembly import Stack, render, resolve_outputs

# Where each policy-carrying resource type keeps its documents and what they attach to.
_IDENTITY_ATTACHMENTS = ("Roles", "Users", "Groups")
_RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": ("PolicyDocument", "Bucket"),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", "Topics"),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", "Queues"),
    "AWS::KMS::Key": ("KeyPolicy", None),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", "SecretId"),
    "AWS::ECR::Repository": ("RepositoryPolicyText", None),
}


@dataclass(frozen=True)
class Statement:
    """One policy statement, rendered for a reviewer."""

    stack: str
    source: str
    """The resource that carries the statement (logical ID, and policy name if inline)."""
    kind: str
    """`identity`, `resource`, `trust` or `managed`."""
    attached_to: str
    effect: str
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: bool
    condition_text: str = ""
    """The statement's conditions, `Operator key=values; ...`."""

    @property
    def wildcards(self) -> tuple[str, ...]:
        """What is open-ended here: `*` actions or resources, or anyone as principal.
        Deny statements narrow access, so they are never flagged."""
        if self.effect != "Allow":
            return ()
        flags = []
        if any(a == "*" or a.endswith(":*") for a in self.actions):
            flags.append("all actions of a service")
        elif any("*" in a for a in self.actions):
            flags.append("action wildcard")
        if any(r == "*" for r in self.resources):
            flags.append("all resources")
        elif any("*" in r for r in self.resources):
            flags.append("resource wildcard")
        if any(p in ("*", "AWS:*") for p in self.principals) and not self.conditions:
            flags.append("any principal, no condition")
        return tuple(flags)


def statements(stack: Stack, outputs: dict[Any, Any] | None = None) -> list[Statement]:
    """Every policy statement in the stack's template. `outputs` (`Assembly.outputs()`)
    resolves references to other stacks' outputs into `Stack/Name` references."""
    found: list[Statement] = []
    for logical_id, resource in stack.resources.items():
        resource_type = resource.get("Type", "")
        props = resolve_outputs(resource.get("Properties", {}) or {}, outputs or {})
        if resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            attached = _attachments(props)
            found += _document(stack, logical_id, "identity", attached, props.get("PolicyDocument"))
        elif resource_type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for policy in props.get("Policies", []) or []:
                source = f"{logical_id} ({render(policy.get('PolicyName', 'inline'))})"
                found += _document(
                    stack, source, "identity", logical_id, policy.get("PolicyDocument")
                )
            for arn in props.get("ManagedPolicyArns", []) or []:
                found.append(
                    Statement(
                        stack=stack.name,
                        source=logical_id,
                        kind="managed",
                        attached_to=logical_id,
                        effect="Allow",
                        principals=(),
                        actions=(f"managed policy {render(arn)}",),
                        resources=(),
                        conditions=False,
                    )
                )
            if resource_type == "AWS::IAM::Role":
                found += _document(
                    stack, logical_id, "trust", logical_id, props.get("AssumeRolePolicyDocument")
                )
        elif resource_type in _RESOURCE_POLICIES:
            document_key, target_key = _RESOURCE_POLICIES[resource_type]
            target = render(props.get(target_key)) if target_key else logical_id
            found += _document(stack, logical_id, "resource", target, props.get(document_key))
        elif resource_type == "AWS::Lambda::Permission":
            found.append(
                Statement(
                    stack=stack.name,
                    source=logical_id,
                    kind="resource",
                    attached_to=render(props.get("FunctionName")),
                    effect="Allow",
                    principals=(render(props.get("Principal")),),
                    actions=(render(props.get("Action")),),
                    resources=(render(props.get("FunctionName")),),
                    conditions=bool(props.get("SourceArn") or props.get("SourceAccount")),
                )
            )
    return found


def _attachments(props: dict[str, Any]) -> str:
    names = [render(item) for key in _IDENTITY_ATTACHMENTS for item in props.get(key, []) or []]
    return ", ".join(names) or "(not attached)"


def _document(
    stack: Stack, source: str, kind: str, attached_to: str, document: Any
) -> list[Statement]:
    if not isinstance(document, dict):
        return []
    raw = document.get("Statement", [])
    return [
        Statement(
            stack=stack.name,
            source=source,
            kind=kind,
            attached_to=attached_to,
            effect=str(statement.get("Effect", "Allow")),
            principals=_principals(statement.get("Principal")),
            actions=_strings(statement.get("Action", statement.get("NotAction"))),
            resources=_strings(statement.get("Resource", statement.get("NotResource"))),
            conditions=bool(statement.get("Condition")),
            condition_text=_conditions(statement.get("Condition")),
        )
        for statement in (raw if isinstance(raw, list) else [raw])
    ]


def _conditions(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return "; ".join(
        f"{operator} {key}={', '.join(_strings(values))}"
        for operator, pairs in value.items()
        if isinstance(pairs, dict)
        for key, values in pairs.items()
    )


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(render(v) for v in value)
    return (render(value),)


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if value == "*":
        return ("*",)
    if isinstance(value, dict):
        return tuple(f"{kind}:{item}" for kind, items in value.items() for item in _strings(items))
    return _strings(value)
