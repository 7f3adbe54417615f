"""Replacements that fail on deploy, found among the changes against a base assembly.

CloudFormation replaces a resource by creating the new one before it deletes (or, with
UpdateReplacePolicy Retain, orphans) the old one. Two kinds of replacement cannot work:

- the resource has a custom name that stays the same: CloudFormation refuses to replace
  it ("You can't perform an update that causes a custom-named resource to be replaced",
  aws-properties-name page), and even with a new logical ID the new resource's name is
  still taken by the old one;
- a SageMaker workforce: an account has one per region, so the new one cannot be created
  while the old one exists (CreateWorkforce page).

The kit names several of its stateful resources (model package groups, work teams, the
workforce, notebooks, log groups): a config change that replaces one of them must also
rename it, or be done in two deploys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.assembly import Assembly, render, short_type

from .diff import REPLACED, Change

CUSTOM_NAME_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html"
WORKFORCE_PAGE = (
    "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateWorkforce.html"
)

# The property that names a resource, where it is not `<type>Name` (AWS::S3::Bucket:
# BucketName) or `Name`.
NAME_PROPERTIES = {
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::Cognito::UserPoolGroup": "GroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}


@dataclass(frozen=True)
class FailingReplacement:
    """A replacement the deploy cannot make."""

    stack: str
    logical_id: str
    resource_type: str
    problem: str
    fix: str
    source: str

    def text(self) -> str:
        return (
            f"{short_type(self.resource_type)} `{self.logical_id}` in {self.stack}: "
            f"{self.problem} ({self.source}). {self.fix}"
        )


def failing_replacements(
    base: Assembly, new: Assembly, changes: list[Change]
) -> list[FailingReplacement]:
    """Every replacement among `changes` that fails on deploy."""
    old_stacks = {s.name: s for s in base}
    new_stacks = {s.name: s for s in new}
    found = []
    for change in changes:
        if change.kind != REPLACED:
            continue
        new_resource = new_stacks[change.stack].resources[change.logical_id]
        old_stack = old_stacks.get(change.stack)
        old_id = change.previous_id or change.logical_id
        old_resource = old_stack.resources.get(old_id) if old_stack else None
        if old_resource is None:
            continue
        failing = _failing(change, old_resource, new_resource)
        if failing is not None:
            found.append(failing)
    return found


def _failing(change: Change, old: dict[str, Any], new: dict[str, Any]) -> FailingReplacement | None:
    what = f"it is replaced ({change.detail})"
    if change.resource_type == "AWS::SageMaker::Workforce":
        return FailingReplacement(
            change.stack,
            change.logical_id,
            change.resource_type,
            f"{what}, but an account has one workforce per region, so the new one cannot "
            "be created while the old one exists",
            "Keep the workforce's settings (WorkforceName, CognitoConfig: the user pool) as "
            "deployed; to move to another user pool, remove the workforce and its work "
            "teams in one deploy, then add them back in another.",
            WORKFORCE_PAGE,
        )
    prop = name_property(change.resource_type, new)
    if prop is None:
        return None
    name = (new.get("Properties") or {}).get(prop)
    if name != (old.get("Properties") or {}).get(prop):
        return None
    return FailingReplacement(
        change.stack,
        change.logical_id,
        change.resource_type,
        f"{what} under the same custom name {render(name)} ({prop}), which CloudFormation refuses",
        f"Give it a new {prop} in the same change (the old resource is then "
        + ("kept outside the stack" if change.retained else "deleted")
        + "), or undo the change that replaces it.",
        CUSTOM_NAME_PAGE,
    )


def name_property(resource_type: str, resource: dict[str, Any]) -> str | None:
    """The property that sets the resource's name, where the template sets it."""
    props = resource.get("Properties") or {}
    short = resource_type.rsplit("::", 1)[-1]
    for candidate in (NAME_PROPERTIES.get(resource_type), f"{short}Name", "Name"):
        if candidate and props.get(candidate) is not None:
            return candidate
    return None
