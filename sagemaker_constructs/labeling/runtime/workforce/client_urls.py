"""Custom resource: point the workforce's Cognito app client at the labeling portal.

The portal's address (the workforce's subdomain) exists only after the workforce, and
the workforce needs the app client first; so the client is created without its final
URLs and this resource sets them once the subdomain is known:

    callback URL  https://<subdomain>/oauth2/idpresponse
    sign-out URL  https://<subdomain>/logout

UpdateUserPoolClient resets every setting it is not given, so the request carries the
client's whole configuration (`ClientConfig`, the same settings the template gives the
client). Because that configuration is one of this resource's properties, any change
to the client in the template also updates this resource, which runs after the client
and puts the URLs back.

Create and Update set the URLs; Delete changes nothing (the client and the workforce
are retained together, or are being replaced, or are gone). The handler answers
CloudFormation itself and always answers, so a stack never hangs on it.
"""

from __future__ import annotations

import functools
import json
import logging
import urllib.request
from typing import Any

import boto3

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

# Settings UpdateUserPoolClient takes besides the ids and the URLs.
UPDATABLE = frozenset(
    {
        "ClientName",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "AnalyticsConfiguration",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "EnablePropagateAdditionalUserContextData",
        "AuthSessionValidity",
        "RefreshTokenRotation",
    }
)


@functools.cache
def cognito() -> Any:
    """The Cognito client, made once per process."""
    return boto3.client("cognito-idp")


def portal_urls(subdomain: str) -> tuple[str, str]:
    """(callback URL, sign-out URL) of a workforce's labeling portal."""
    host = subdomain.removeprefix("https://").rstrip("/")
    if not host or "/" in host:
        raise ValueError(f"SubDomain must be a host name (got {subdomain!r})")
    return f"https://{host}/oauth2/idpresponse", f"https://{host}/logout"


def handler(event: dict[str, Any], context: Any = None) -> None:
    """CloudFormation custom resource entry point."""
    properties = event.get("ResourceProperties", {})
    physical_id = f"{properties.get('UserPoolId')}/{properties.get('ClientId')}"
    try:
        data: dict[str, str] = {}
        if event["RequestType"] in ("Create", "Update"):
            data = apply(properties)
        else:
            physical_id = event.get("PhysicalResourceId", physical_id)
        respond(event, "SUCCESS", physical_id, data=data)
    except Exception as err:
        LOG.exception("%s failed", event.get("RequestType"))
        reason = f"{type(err).__name__}: {err}"[:900]
        if event["RequestType"] == "Create":
            physical_id = "not-created"
        else:
            physical_id = event.get("PhysicalResourceId", physical_id)
        respond(event, "FAILED", physical_id, reason=reason)


def apply(properties: dict[str, Any]) -> dict[str, str]:
    """Set the client's URLs from the workforce subdomain, keeping every other setting."""
    config = json.loads(properties["ClientConfig"])
    unknown = sorted(set(config) - UPDATABLE)
    if unknown:
        raise ValueError(f"ClientConfig has settings UpdateUserPoolClient does not take: {unknown}")
    callback, logout = portal_urls(properties["SubDomain"])
    cognito().update_user_pool_client(
        UserPoolId=properties["UserPoolId"],
        ClientId=properties["ClientId"],
        CallbackURLs=[callback],
        LogoutURLs=[logout],
        **config,
    )
    LOG.info("client %s now calls back %s", properties["ClientId"], callback)
    return {"CallbackUrl": callback, "LogoutUrl": logout}


def respond(
    event: dict[str, Any],
    status: str,
    physical_id: str,
    *,
    data: dict[str, str] | None = None,
    reason: str = "",
) -> None:
    """PUT the result to CloudFormation's presigned response URL."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or status,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data or {},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's https URL
        event["ResponseURL"],
        data=body,
        method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        LOG.info("answered %s: HTTP %s", status, response.status)
