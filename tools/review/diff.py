"""What a change does to the deployed resources: added, removed, modified and
replaced, comparing a base assembly with the new one.

A resource is replaced when its logical ID stays and a property CloudFormation can
only set at creation changes (the provider schemas' `createOnlyProperties`, as
shipped with cfn-lint), when its type changes, or when the construct at the same
path gets a new logical ID. Replacing a stateful resource loses its data or its
identity (a new, empty bucket; a key that cannot decrypt old data): flagged loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tools.assembly import Assembly, Stack, construct_path, render

# Resource types whose replacement loses data or identity, and what is lost.
STATEFUL_TYPES = {
    "AWS::S3::Bucket": "a new, empty bucket; objects stay in the old one (or are lost)",
    "AWS::KMS::Key": "a new key: data encrypted with the old key cannot be decrypted with it",
    "AWS::Cognito::UserPool": "a new user pool: every user, password and group is lost",
    "AWS::SageMaker::Workforce": "a new workforce: workers are invited again, a new portal URL",
    "AWS::SageMaker::Workteam": "a new work team: its workers and pending tasks are lost",
    "AWS::SageMaker::NotebookInstance": "a new notebook: the files on its volume are lost",
    "AWS::SageMaker::ModelPackageGroup": "a new model registry group: registered versions are lost",
    "AWS::SageMaker::Domain": "a new domain: user profiles and their home folders are lost",
    "AWS::SageMaker::FeatureGroup": "a new feature group: stored features are lost",
    "AWS::SNS::Topic": "a new topic: e-mail subscriptions must be confirmed again",
    "AWS::SQS::Queue": "a new queue: messages in flight are lost",
    "AWS::DynamoDB::Table": "a new table: its items are lost",
    "AWS::Logs::LogGroup": "a new log group: past logs stay in the old one (or are lost)",
    "AWS::ECR::Repository": "a new repository: its images are lost",
    "AWS::SecretsManager::Secret": "a new secret: its value must be set again",
    "AWS::EFS::FileSystem": "a new file system: its files are lost",
    "AWS::RDS::DBInstance": "a new database: its data is lost",
    "AWS::EC2::VPC": "a new VPC: everything in it is recreated",
}

ADDED = "added"
REMOVED = "removed"
REPLACED = "replaced"
MODIFIED = "modified"


@dataclass(frozen=True)
class Change:
    stack: str
    logical_id: str
    resource_type: str
    kind: str
    detail: str
    retained: bool = False
    """The old resource is orphaned, not deleted: DeletionPolicy Retain for a removed
    resource, UpdateReplacePolicy Retain for a replaced one."""
    previous_id: str | None = None
    """For a resource replaced under a new logical ID: the old one."""

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES

    @property
    def loud(self) -> bool:
        """A stateful resource replaced, or removed without being retained."""
        return self.stateful and (
            self.kind == REPLACED or (self.kind == REMOVED and not self.retained)
        )


def compare(base: Assembly, new: Assembly) -> list[Change]:
    """Every resource-level change from `base` to `new`, stack by stack."""
    changes: list[Change] = []
    base_stacks = {s.name: s for s in base}
    new_stacks = {s.name: s for s in new}
    for name in [*new_stacks, *(n for n in base_stacks if n not in new_stacks)]:
        old_stack, new_stack = base_stacks.get(name), new_stacks.get(name)
        changes += _compare_stack(name, old_stack, new_stack)
    return changes


def _compare_stack(name: str, old: Stack | None, new: Stack | None) -> list[Change]:
    old_resources = old.resources if old else {}
    new_resources = new.resources if new else {}
    region = (new.region if new else None) or (old.region if old else None)
    changes: list[Change] = []
    added = [k for k in new_resources if k not in old_resources]
    removed = [k for k in old_resources if k not in new_resources]

    # The same construct under a new logical ID: CloudFormation creates the new
    # resource and deletes (or orphans) the old one.
    old_by_path = {construct_path(old_resources[k]): k for k in removed}
    for logical_id in list(added):
        resource = new_resources[logical_id]
        path = construct_path(resource)
        previous = old_by_path.get(path) if path else None
        if previous and old_resources[previous]["Type"] == resource["Type"]:
            changes.append(
                Change(
                    name,
                    logical_id,
                    resource["Type"],
                    REPLACED,
                    f"logical ID changed from {previous} (construct {path})",
                    # A new logical ID is a removal: the old resource's DeletionPolicy.
                    retained=_retained(old_resources[previous]),
                    previous_id=previous,
                )
            )
            added.remove(logical_id)
            removed.remove(previous)

    for logical_id in added:
        changes.append(Change(name, logical_id, new_resources[logical_id]["Type"], ADDED, ""))
    for logical_id in removed:
        resource = old_resources[logical_id]
        retained = _retained(resource)
        changes.append(
            Change(
                name,
                logical_id,
                resource["Type"],
                REMOVED,
                "retained (orphaned, not deleted)" if retained else "deleted",
                retained=retained,
            )
        )
    for logical_id in new_resources:
        if logical_id not in old_resources:
            continue
        change = _compare_resource(
            name, logical_id, old_resources[logical_id], new_resources[logical_id], region
        )
        if change:
            changes.append(change)
    return changes


def _compare_resource(
    stack: str, logical_id: str, old: dict[str, Any], new: dict[str, Any], region: str | None
) -> Change | None:
    if old["Type"] != new["Type"]:
        return Change(
            stack,
            logical_id,
            new["Type"],
            REPLACED,
            f"type changed from {old['Type']}",
            retained=_kept_on_replace(old),
        )
    old_props, new_props = old.get("Properties", {}) or {}, new.get("Properties", {}) or {}
    if old_props == new_props:
        return None
    immutable = [
        path
        for path in create_only_properties(new["Type"], region or "us-east-1")
        if _pointer(old_props, path) != _pointer(new_props, path)
    ]
    if immutable:
        names = ", ".join(p.removeprefix("/properties/") for p in immutable)
        return Change(
            stack,
            logical_id,
            new["Type"],
            REPLACED,
            f"{names} changed (set only at creation)",
            retained=_kept_on_replace(old),
        )
    keys = sorted(k for k in {*old_props, *new_props} if old_props.get(k) != new_props.get(k))
    return Change(stack, logical_id, new["Type"], MODIFIED, ", ".join(keys))


@cache
def create_only_properties(resource_type: str, region: str) -> tuple[str, ...]:
    """JSON pointers (`/properties/BucketName`) of the properties whose change
    replaces a resource of this type, from cfn-lint's copy of the provider schemas.
    Empty for types it does not know (custom resources)."""
    from cfnlint.schema import (  # type: ignore[import-untyped]
        PROVIDER_SCHEMA_MANAGER,
        ResourceNotFoundError,
    )

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except (ResourceNotFoundError, KeyError):  # a custom type, or a region it lacks
        return ()
    return tuple(schema.get("createOnlyProperties", []))


def _pointer(props: dict[str, Any], pointer: str) -> Any:
    value: Any = props
    for part in pointer.removeprefix("/properties/").split("/"):
        if part == "*":
            return render(value)
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _retained(resource: dict[str, Any]) -> bool:
    return resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate", "Snapshot")


def _kept_on_replace(resource: dict[str, Any]) -> bool:
    """Whether a replacement orphans the old resource instead of deleting it."""
    return resource.get("UpdateReplacePolicy") == "Retain"
