"""`smkit studio open USER [--space NAME]`: a presigned URL that opens SageMaker Studio as a
user of the platform's domain, on Studio's home or in one of the user's spaces; and what
`smkit status` shows of the domain (users, spaces, running apps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from botocore.exceptions import ClientError

from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..options import examples
from ..waiting import duration, since

URL_MINUTES = 5
"""How long a presigned URL may wait to be opened (ExpiresInSeconds)."""
RUNNING_APPS = ("InService", "Pending")
PAGE = 100


@click.group(
    short_help="Open SageMaker Studio as a user of the platform's domain.",
    epilog=examples("smkit studio open alice", "smkit studio open alice --space alice-forecasting"),
)
def studio() -> None:
    """Open SageMaker Studio as a user of the platform's domain."""


def domain_id(operator: Operator) -> str:
    """The deployed domain's id (the Studio stack's output)."""
    operator.deployment.section("studio", "Studio domain")
    return operator.deployment.output("Studio", "DomainId")


def _pages(operator: Operator, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    paginator = operator.aws.client("sagemaker").get_paginator(operation)
    items: list[dict[str, Any]] = []
    for page in paginator.paginate(PaginationConfig={"PageSize": PAGE}, **params):
        items.extend(page.get(key, []))
    return items


def _owned_space(operator: Operator, domain: str, space: str, user: str) -> None:
    """Check that `space` exists and is `user`'s (a presigned URL opens only one's own)."""
    try:
        described = operator.aws.client("sagemaker").describe_space(
            DomainId=domain, SpaceName=space
        )
    except ClientError as err:
        if error_code(err) in ("ResourceNotFound", "ValidationException"):
            raise CliError(
                f"space {space} does not exist in the Studio domain {domain}",
                ExitCode.NOT_DEPLOYED,
                hint=f"`smkit status` lists the spaces; {user} can create one in Studio.",
            ) from None
        raise
    owner = described.get("OwnershipSettings", {}).get("OwnerUserProfileName")
    if owner is not None and owner != user:
        raise CliError(
            f"space {space} belongs to {owner}, not {user}: Studio opens only a user's own "
            "private spaces",
            ExitCode.USAGE,
        )


@studio.command(
    "open",
    short_help="A presigned URL that opens Studio as a user.",
    epilog=examples("smkit studio open alice", "smkit studio open alice --space alice-forecasting"),
)
@click.argument("user")
@click.option("--space", help="Open JupyterLab in this space of the user's (its app running).")
@click.option(
    "--session-minutes",
    type=click.IntRange(30, 720),
    default=720,
    show_default=True,
    help="How long the Studio session stays valid once opened (30-720).",
)
@json_option
@pass_operator
def open_(
    operator: Operator, user: str, space: str | None, session_minutes: int, as_json: bool
) -> None:
    """Print a presigned URL that opens Studio as USER (a user of the config's `studio`
    section), on Studio's home or, with --space, in JupyterLab of that space.

    The URL must be opened within 5 minutes and signs in whoever opens it as USER: hand
    it to that person only."""
    deployment = operator.deployment
    settings = deployment.section("studio", "Studio domain")
    name = deployment.pick("Studio user", user, [u.name for u in settings.users])
    # STUDIO-13 (API_CreatePresignedDomainUrl.html): presigned URLs for IAM domains only,
    # opened within ExpiresInSeconds (at most 300).
    if settings.auth == "sso":
        raise CliError(
            f"the Studio domain signs users in with IAM Identity Center: {name} opens Studio "
            "from the AWS access portal (presigned URLs are for IAM domains only)",
            ExitCode.USAGE,
        )
    domain = domain_id(operator)
    sagemaker = operator.aws.client("sagemaker")
    try:
        sagemaker.describe_user_profile(DomainId=domain, UserProfileName=name)
    except ClientError as err:
        if error_code(err) in ("ResourceNotFound", "ValidationException"):
            raise CliError(
                f"user profile {name} does not exist in the Studio domain {domain} "
                f"({deployment.where()})",
                ExitCode.NOT_DEPLOYED,
                hint=deployment.deploy_hint,
            ) from None
        raise
    request: dict[str, Any] = {
        "DomainId": domain,
        "UserProfileName": name,
        "SessionExpirationDurationInSeconds": session_minutes * 60,
        "ExpiresInSeconds": URL_MINUTES * 60,
        "LandingUri": "studio::",
    }
    if space is not None:
        _owned_space(operator, domain, space, name)
        request.update(SpaceName=space, LandingUri="app:JupyterLab:")
    url = str(sagemaker.create_presigned_domain_url(**request)["AuthorizedUrl"])
    if as_json:
        operator.emit_json(
            {
                "user": name,
                "domain_id": domain,
                "space": space,
                "url": url,
                "session_minutes": session_minutes,
                "open_within_minutes": URL_MINUTES,
            }
        )
        return
    where = f"in JupyterLab of space {space}" if space else "on Studio's home"
    operator.console.print(
        f"Studio for {name} {where}. Open this URL within {URL_MINUTES} minutes (the session "
        f"lasts {session_minutes} minutes); it signs in as {name}:"
    )
    click.echo(url)


def studio_status(operator: Operator) -> dict[str, Any] | None:
    """The domain's users, spaces and running apps (with their instance types), for
    `smkit status`; None when the config has no Studio domain."""
    settings = operator.deployment.settings.studio
    if settings is None:
        return None
    domain = operator.deployment.output("Studio", "DomainId")
    profiles = {
        p["UserProfileName"]: p
        for p in _pages(operator, "list_user_profiles", "UserProfiles", DomainIdEquals=domain)
    }
    users = [
        {
            "name": user.name,
            "team": user.team,
            "email": user.email,
            "status": profiles.get(user.name, {}).get("Status", "NotFound"),
        }
        for user in settings.users
    ]
    spaces = [
        {
            "name": s["SpaceName"],
            "owner": s.get("OwnershipSettingsSummary", {}).get("OwnerUserProfileName"),
            "sharing": s.get("SpaceSharingSettingsSummary", {}).get("SharingType"),
            "status": s.get("Status"),
        }
        for s in _pages(operator, "list_spaces", "Spaces", DomainIdEquals=domain)
    ]
    now = operator.now()
    apps = []
    for app in _pages(operator, "list_apps", "Apps", DomainIdEquals=domain):
        if app.get("Status") not in RUNNING_APPS:
            continue
        created = app.get("CreationTime")
        apps.append(
            {
                "space": app.get("SpaceName"),
                "user": app.get("UserProfileName"),
                "app_type": app["AppType"],
                "app": app["AppName"],
                "instance_type": app.get("ResourceSpec", {}).get("InstanceType"),
                "status": app["Status"],
                "running_for": duration(since(created, now))
                if isinstance(created, datetime)
                else None,
            }
        )
    return {"domain_id": domain, "users": users, "spaces": spaces, "running_apps": apps}
