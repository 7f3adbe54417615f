"""Names the kit gives resources that already exist outside its stacks: CloudFormation
cannot create a second endpoint, notebook instance or model package group of the same
name, nor a Cognito domain prefix someone holds (prefixes are unique per region across
all AWS accounts). Model package groups and the workforce's user pool domain are retained
when their stack is deleted, so a redeploy after a delete meets its own leftovers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stacks.settings import PlatformSettings
from stacks.settings.labeling import CognitoWorkforce

from ..deployment import Deployment
from .findings import Finding, UnsettledError, call
from .owned import StackResources


@dataclass(frozen=True)
class PlannedName:
    """One name the config's stacks create."""

    kind: str
    """`endpoint`, `notebook instance`, `model package group` or `Cognito domain`."""
    name: str
    """The resource's name."""
    unit: str
    """The stack that creates it (`<prefix>-<unit>`)."""
    resource_type: str
    """Its CloudFormation type."""
    path: str
    """The config entry that names it."""


def planned_names(settings: PlatformSettings) -> list[PlannedName]:
    """Every fixed name the config's stacks create (the rest are generated)."""
    prefix = settings.name_prefix
    names = []
    if settings.inference is not None:
        for key in settings.inference.endpoints:
            names.append(
                PlannedName(
                    "endpoint",
                    f"{prefix}-{key}",
                    "Inference",
                    "AWS::SageMaker::Endpoint",
                    f"inference.endpoints.{key}",
                )
            )
    if settings.notebooks is not None:
        for index, notebook in enumerate(settings.notebooks.instances):
            names.append(
                PlannedName(
                    "notebook instance",
                    f"{prefix}-{notebook.name}",
                    "Notebooks",
                    "AWS::SageMaker::NotebookInstance",
                    f"notebooks.instances[{index}].name",
                )
            )
    if settings.training is not None:
        for definition in settings.training.definitions:
            names.append(
                PlannedName(
                    "model package group",
                    f"{prefix}-{definition}",
                    "ModelRegistry",
                    "AWS::SageMaker::ModelPackageGroup",
                    f"training.definitions.{definition}",
                )
            )
    workforce = settings.labeling.workforce if settings.labeling else None
    if isinstance(workforce, CognitoWorkforce):
        names.append(
            PlannedName(
                "Cognito domain",
                workforce.domain_prefix,
                "Workforce",
                "AWS::Cognito::UserPoolDomain",
                "labeling.workforce.domain_prefix",
            )
        )
    return names


# How to learn whether a name is taken: operation, name parameter, error code for "no such".
_PROBES = {
    "endpoint": ("sagemaker", "DescribeEndpoint", "EndpointName", "ValidationException"),
    "notebook instance": (
        "sagemaker",
        "DescribeNotebookInstance",
        "NotebookInstanceName",
        "ValidationException",
    ),
    "model package group": (
        "sagemaker",
        "DescribeModelPackageGroup",
        "ModelPackageGroupName",
        "ValidationException",
    ),
    "Cognito domain": (
        "cognito-idp",
        "DescribeUserPoolDomain",
        "Domain",
        "ResourceNotFoundException",
    ),
}


def _holder(described: dict[str, Any] | None) -> str | None:
    """Who holds a Cognito domain prefix: the owning account its description names
    (`AWSAccountId`), `""` when it names none, or None when nobody holds it
    (DescribeUserPoolDomain answers an empty description)."""
    if described is None:
        return None
    description = described.get("DomainDescription") or {}
    if not description.get("UserPoolId"):
        return None
    account = str(description.get("AWSAccountId") or "")
    return account if re.fullmatch(r"\d{12}", account) else ""


def _fix(planned: PlannedName, deployment: Deployment) -> str:
    if planned.kind == "model package group":
        return (
            f"It outlived an earlier deployment (groups are retained): bring it back under "
            f"{deployment.settings.stack_name(planned.unit)} with `npx cdk import`, or change "
            "name_prefix."
        )
    if planned.kind == "Cognito domain":
        return "Choose another labeling.workforce.domain_prefix."
    return (
        f"Rename {planned.path}, or delete the {planned.kind} {planned.name} once nothing "
        "on it is needed."
    )


def check_names(deployment: Deployment, stacks: StackResources) -> list[Finding]:
    """One finding per fixed name the config's stacks create."""
    findings = []
    for planned in planned_names(deployment.settings):
        service, operation, parameter, absent = _PROBES[planned.kind]
        subject = f"{planned.kind} {planned.name}"
        data = {"path": planned.path, "stack": deployment.settings.stack_name(planned.unit)}
        try:
            described = call(
                deployment.aws.client(service),
                operation,
                absent=(absent,),
                **{parameter: planned.name},
            )
            exists = described is not None
            holder = None
            if planned.kind == "Cognito domain":
                holder = _holder(described)
                exists = holder is not None
            ours = exists and stacks.owns(planned.unit, planned.resource_type, planned.name)
        except UnsettledError as unsettled:
            findings.append(unsettled.finding("name", subject))
            continue
        if not exists:
            findings.append(Finding("name", subject, "pass", "free", data=data))
        elif ours:
            findings.append(Finding("name", subject, "pass", f"deployed by {data['stack']}"))
        elif holder and holder != deployment.account:
            findings.append(
                Finding(
                    "name",
                    subject,
                    "fail",
                    f"taken by another AWS account ({holder}): Cognito domain prefixes are "
                    f"unique in {deployment.aws.region} across all accounts",
                    fix=_fix(planned, deployment),
                    data=data,
                )
            )
        else:
            findings.append(
                Finding(
                    "name",
                    subject,
                    "fail",
                    f"exists in {deployment.where()} outside {data['stack']}: CloudFormation "
                    "cannot create it again",
                    fix=_fix(planned, deployment),
                    data=data,
                )
            )
    return findings
