"""`smkit model list|approve|reject|promote`: the versions of a model package group, which
version each endpoint that follows the group serves, and the approvals that move them.

Approving or rejecting a version changes its approval status in the model registry (with
the reason as its approval description); promoting marks an approved version that a
staging endpoint serves as fit for the endpoints promoted from it. Each then starts the
Inference stack's model approval workflow, which deploys what changed through the
endpoints' blue/green deployments (the registry's own event starts it too; runs queue up).
The same rules decide what each endpoint should serve here and in the workflow
(`sagemaker_constructs.inference.runtime.promotion.versions`; docs/model-approval.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click
from botocore.exceptions import ClientError
from rich.table import Table

from sagemaker_constructs.inference.runtime.promotion.versions import (
    APPROVED,
    COMPLETED,
    PROMOTED_PREFIX,
    PROMOTION_REASON_PREFIX,
    REJECTED,
    Follower,
    Plan,
    Version,
    describe,
    list_versions,
    metadata_safe,
    plans,
    version_number,
    version_parameter,
)

from .. import executions
from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..deployment import Deployment
from ..errors import CliError, ExitCode
from ..options import examples

APPROVAL_OUTPUT = "ModelApprovalStateMachineArn"
MAX_REASON = 1024

group_argument = click.argument("group")
version_argument = click.argument("version", type=click.IntRange(min=1))
reason_option = click.option(
    "--reason",
    required=True,
    help="Why (at most 1,024 characters): kept as the version's approval description.",
)


@click.group(
    short_help="Model versions and the endpoints that serve them.",
    epilog=examples(
        "smkit model list text-classifier",
        'smkit model approve text-classifier 4 --reason "macro F1 0.91 on the May holdout"',
    ),
)
def model() -> None:
    """Model versions and the endpoints that serve them: list, approve, reject, promote."""


@dataclass(frozen=True)
class Group:
    """A model package group of the config, with the endpoints that follow it."""

    definition: str
    name: str
    followers: list[Follower]


def _group(deployment: Deployment, given: str) -> Group:
    training = deployment.section("training", "model package groups")
    definition = deployment.pick("training definition", given, training.definitions)
    name = f"{deployment.prefix}-{definition}"
    inference = deployment.settings.inference
    followed = inference.followed_groups() if inference else {}
    followers = [
        Follower(
            endpoint=f"{deployment.prefix}-{key}",
            parameter=version_parameter(key),
            group=name,
            promoted_from=f"{deployment.prefix}-{m.promote_from}" if m.promote_from else None,
        )
        for key, m in followed.items()
        if m.group == definition
    ]
    return Group(definition=definition, name=name, followers=followers)


def _version(operator: Operator, group: Group, number: int) -> Version:
    sagemaker = operator.aws.client("sagemaker")
    numbers: list[int] = []
    for version in list_versions(sagemaker, group.name):
        if version.number == number:
            return describe(sagemaker, version.arn)
        numbers.append(version.number)
    known = f"{min(numbers)}-{max(numbers)}" if numbers else "none yet"
    raise CliError(
        f"model package group {group.name} has no version {number} (versions: {known})",
        ExitCode.USAGE,
    )


def _plans(operator: Operator, group: Group) -> tuple[list[Plan], str]:
    """Each follower's plan, and the Inference stack's status."""
    if not group.followers:
        return [], ""
    deployment = operator.deployment
    parameters = deployment.parameters("Inference")
    status = deployment.stack_statuses.get("Inference", "")
    return plans(operator.aws.client("sagemaker"), group.followers, parameters), status


def _endpoint_status(operator: Operator, name: str) -> str:
    try:
        found = operator.aws.client("sagemaker").describe_endpoint(EndpointName=name)
    except ClientError as err:
        if error_code(err) == "ValidationException":
            return "not created"
        raise
    return str(found["EndpointStatus"])


def _short(deployment: Deployment, endpoint: str) -> str:
    return endpoint.removeprefix(f"{deployment.prefix}-")


def _next(plan: Plan, stack_status: str) -> str:
    """What happens next to a follower, in words."""
    if stack_status.endswith("_IN_PROGRESS"):
        return f"stack {stack_status}: a deployment is under way"
    if plan.target is None:
        return plan.why_not().split(": ", 1)[1]
    if plan.changes:
        return f"moves to version {plan.target.number} (the approval workflow deploys it)"
    return "up to date"


def _start_workflow(operator: Operator, group: Group, what: str, number: int) -> str | None:
    """Start the model approval workflow for the group; None when nothing follows it."""
    if not group.followers:
        return None
    arn = operator.deployment.output("Inference", APPROVAL_OUTPUT)
    stamp = operator.now().strftime("%Y%m%dT%H%M%S")
    name = f"{what}-{group.definition}-v{number}-{stamp}"[:80]
    return executions.start(operator, arn, {"group": group.name}, name)


def _effects(operator: Operator, group: Group) -> list[dict[str, Any]]:
    """What each follower serves and will serve, for the command's report."""
    found, status = _plans(operator, group)
    deployment = operator.deployment
    return [
        {
            "endpoint": _short(deployment, p.follower.endpoint),
            "serves": version_number(p.serving),
            "should_serve": p.target.number if p.target else version_number(p.serving),
            "next": _next(p, status),
        }
        for p in found
    ]


def _update(operator: Operator, version: Version, **changes: Any) -> None:
    """UpdateModelPackage with the version's other fields as they are (its approval status,
    description and metadata), so that nothing is lost whatever the service merges."""
    request: dict[str, Any] = {
        "ModelPackageArn": version.arn,
        "ModelApprovalStatus": version.approval,
        "ApprovalDescription": version.description,
    }
    metadata = dict(version.metadata)
    metadata.update(changes.pop("metadata", {}))
    if metadata:
        request["CustomerMetadataProperties"] = metadata
    request.update(changes)
    operator.aws.client("sagemaker").update_model_package(**request)


def _report(
    operator: Operator,
    *,
    headline: str,
    group: Group,
    version: Version,
    execution: str | None,
    as_json: bool,
) -> None:
    effects = _effects(operator, group)
    if as_json:
        operator.emit_json(
            {
                "group": group.name,
                "version": version.number,
                "model_package_arn": version.arn,
                "execution_arn": execution,
                "endpoints": effects,
            }
        )
        return
    console = operator.console
    console.print(headline, soft_wrap=True)
    if not effects:
        console.print(
            f"No endpoint of {operator.deployment.config} follows {group.name}.", soft_wrap=True
        )
        return
    for effect in effects:
        console.print(
            f"  {effect['endpoint']}: serves {effect['serves'] or 'nothing yet'}; {effect['next']}",
            soft_wrap=True,
        )
    if execution:
        console.print(f"Approval workflow run: {execution}", soft_wrap=True)
    console.print(f"Follow it: smkit model list {group.definition}", soft_wrap=True)


@model.command(
    "list",
    short_help="Versions of a group and the version each endpoint serves.",
    epilog=examples("smkit model list text-classifier"),
)
@group_argument
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=100),
    default=10,
    show_default=True,
    help="Newest versions shown.",
)
@json_option
@pass_operator
def model_list(operator: Operator, group: str, limit: int, as_json: bool) -> None:
    """The versions of GROUP (a training definition, e.g. text-classifier) with their
    approval and reason, and the version each endpoint that follows GROUP serves."""
    found = _group(operator.deployment, group)
    sagemaker = operator.aws.client("sagemaker")
    versions = [describe(sagemaker, v.arn) for v in list(list_versions(sagemaker, found.name))]
    shown = versions[:limit]
    planned, status = _plans(operator, found)
    deployment = operator.deployment
    serving: dict[str, list[str]] = {}
    for plan in planned:
        serving.setdefault(plan.serving, []).append(_short(deployment, plan.follower.endpoint))
    endpoints: list[dict[str, Any]] = [
        {
            "endpoint": _short(deployment, plan.follower.endpoint),
            "serves": version_number(plan.serving),
            "should_serve": plan.target.number if plan.target else version_number(plan.serving),
            "endpoint_status": _endpoint_status(operator, plan.follower.endpoint),
            "promoted_from": (
                _short(deployment, plan.follower.promoted_from)
                if plan.follower.promoted_from
                else None
            ),
            "next": _next(plan, status),
        }
        for plan in planned
    ]
    rows: list[dict[str, Any]] = [
        {
            "version": v.number,
            "approval": v.approval,
            "status": v.status,
            "created": v.created,
            "reason": v.description,
            "served_by": serving.get(v.arn, []),
            "promoted_to": sorted(
                _short(deployment, key.removeprefix(PROMOTED_PREFIX))
                for key in v.metadata
                if key.startswith(PROMOTED_PREFIX)
            ),
        }
        for v in shown
    ]
    if as_json:
        operator.emit_json(
            {
                "group": found.name,
                "versions": rows,
                "endpoints": endpoints,
                "stack_status": status or None,
            }
        )
        return
    console = operator.console
    console.print(
        f"Model package group {found.name} (training definition {found.definition}): "
        f"{len(versions)} version(s), newest {len(shown)} shown",
        soft_wrap=True,
    )
    table = Table("Version", "Approval", "Created", "Served by", "Promoted to", "Reason")
    for row in rows:
        created = row["created"].strftime("%Y-%m-%d %H:%M") if row["created"] else ""
        approval = (
            row["approval"]
            if row["status"] == COMPLETED
            else f"{row['approval']} ({row['status']})"
        )
        table.add_row(
            str(row["version"]),
            approval,
            created,
            ", ".join(row["served_by"]),
            ", ".join(row["promoted_to"]),
            row["reason"],
        )
    console.print(table)
    if not endpoints:
        console.print(f"No endpoint of {deployment.config} follows {found.name}.", soft_wrap=True)
        return
    served = Table("Endpoint", "Serves", "Should serve", "Endpoint status", "Next")
    for endpoint in endpoints:
        label = endpoint["endpoint"]
        if endpoint["promoted_from"]:
            label = f"{label} (promoted from {endpoint['promoted_from']})"
        served.add_row(
            label,
            str(endpoint["serves"] or "-"),
            str(endpoint["should_serve"] or "-"),
            endpoint["endpoint_status"],
            endpoint["next"],
        )
    console.print(served)


def _approval(
    operator: Operator, group: str, version: int, reason: str, status: str
) -> tuple[Group, Version]:
    if len(reason) > MAX_REASON:
        raise CliError(
            f"--reason takes at most {MAX_REASON} characters (got {len(reason)})", ExitCode.USAGE
        )
    found = _group(operator.deployment, group)
    described = _version(operator, found, version)
    if described.status != COMPLETED:
        raise CliError(
            f"version {version} of {found.name} is {described.status}, not Completed: only a "
            "complete version can be approved or rejected",
            ExitCode.USAGE,
        )
    _update(operator, described, ModelApprovalStatus=status, ApprovalDescription=reason)
    return found, described


@model.command(
    "approve",
    short_help="Approve a version: its endpoints move to it, blue/green.",
    epilog=examples(
        'smkit model approve text-classifier 4 --reason "macro F1 0.91 on the May holdout"'
    ),
)
@group_argument
@version_argument
@reason_option
@json_option
@pass_operator
def model_approve(operator: Operator, group: str, version: int, reason: str, as_json: bool) -> None:
    """Approve VERSION of GROUP: the endpoints that follow GROUP move to it (the latest
    approved version), each through its blue/green deployment, staging endpoints first.
    Approving a version again retries one whose deployment rolled back."""
    found, described = _approval(operator, group, version, reason, APPROVED)
    execution = _start_workflow(operator, found, "approve", version)
    _report(
        operator,
        headline=f"Approved version {version} of {found.name}.",
        group=found,
        version=described,
        execution=execution,
        as_json=as_json,
    )


@model.command(
    "reject",
    short_help="Reject a version: its endpoints move to the latest approved one.",
    epilog=examples('smkit model reject text-classifier 4 --reason "bias on short reviews"'),
)
@group_argument
@version_argument
@reason_option
@json_option
@pass_operator
def model_reject(operator: Operator, group: str, version: int, reason: str, as_json: bool) -> None:
    """Reject VERSION of GROUP: an endpoint serving it moves to the latest version still
    approved; with none left it keeps serving VERSION (never taken down) and the alerts
    topic is told."""
    found, described = _approval(operator, group, version, reason, REJECTED)
    execution = _start_workflow(operator, found, "reject", version)
    _report(
        operator,
        headline=f"Rejected version {version} of {found.name}.",
        group=found,
        version=described,
        execution=execution,
        as_json=as_json,
    )


@model.command(
    "promote",
    short_help="Promote a version from its staging endpoint (second approval).",
    epilog=examples(
        'smkit model promote text-classifier 4 --reason "a week on staging, p99 120 ms"'
    ),
)
@group_argument
@version_argument
@reason_option
@click.option(
    "--to",
    "target",
    help="Endpoint promoted to (its key in the config). Default: the only endpoint of "
    "GROUP with promote_from.",
)
@json_option
@pass_operator
def model_promote(
    operator: Operator, group: str, version: int, reason: str, target: str | None, as_json: bool
) -> None:
    """Promote VERSION of GROUP from its staging endpoint, which must serve it now: the
    second approval. The endpoint promoted to moves to it, blue/green."""
    if len(reason) > MAX_REASON:
        raise CliError(
            f"--reason takes at most {MAX_REASON} characters (got {len(reason)})", ExitCode.USAGE
        )
    deployment = operator.deployment
    found = _group(deployment, group)
    promoted = [f for f in found.followers if f.promoted_from]
    if target is not None:
        key = deployment.pick("endpoint", target, _keys(deployment, promoted))
        name = f"{deployment.prefix}-{key}"
        promoted = [f for f in promoted if f.endpoint == name]
    if len(promoted) != 1:
        known = ", ".join(_short(deployment, f.endpoint) for f in promoted) or "none"
        raise CliError(
            f"promote needs one endpoint of {found.name} with promote_from (candidates: "
            f"{known}); name it with --to",
            ExitCode.USAGE,
        )
    (follower,) = promoted
    assert follower.promoted_from is not None
    described = _version(operator, found, version)
    if not described.deployable:
        raise CliError(
            f"version {version} of {found.name} is {described.approval} ({described.status}): "
            "only an approved version can be promoted",
            ExitCode.USAGE,
            hint=f"Approve it first: smkit model approve {found.definition} {version} --reason ...",
        )
    staging = follower.promoted_from
    serving = deployment.parameters("Inference").get(
        next(f.parameter for f in found.followers if f.endpoint == staging), ""
    )
    staging_status = _endpoint_status(operator, staging)
    if serving != described.arn or staging_status != "InService":
        raise CliError(
            f"{_short(deployment, staging)} serves version {version_number(serving) or 'nothing'} "
            f"({staging_status}); promote a version once the staging endpoint serves it "
            "InService",
            ExitCode.USAGE,
            hint=f"See smkit model list {found.definition}",
        )
    now = operator.now().isoformat(timespec="seconds")
    # ENDPOINT-24 (UpdateModelPackage API page): metadata values take few characters.
    _update(
        operator,
        described,
        metadata={
            f"{PROMOTED_PREFIX}{follower.endpoint}": now,
            f"{PROMOTION_REASON_PREFIX}{follower.endpoint}": metadata_safe(reason),
        },
    )
    execution = _start_workflow(operator, found, "promote", version)
    _report(
        operator,
        headline=f"Promoted version {version} of {found.name} to "
        f"{_short(deployment, follower.endpoint)}.",
        group=found,
        version=described,
        execution=execution,
        as_json=as_json,
    )


def _keys(deployment: Deployment, followers: list[Follower]) -> list[str]:
    return [_short(deployment, f.endpoint) for f in followers]
