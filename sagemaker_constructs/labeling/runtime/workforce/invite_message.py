"""Cognito custom-message trigger: the invitation e-mail a new worker receives names
the labeling portal to sign in to.

The portal's address is the workforce's subdomain, which exists only after the user
pool (the workforce is built on it), so the pool's static invitation template cannot
contain it; this trigger looks it up when the invitation is sent. If the lookup fails,
Cognito's default invitation (user name and temporary password) goes out instead of
nothing.
"""

from __future__ import annotations

import functools
import html
import logging
import os
from typing import Any

import boto3

LOG = logging.getLogger(__name__)
LOG.setLevel(logging.INFO)

SUBJECT = "You are invited to label data"


@functools.cache
def sagemaker() -> Any:
    """The SageMaker client, made once per process."""
    return boto3.client("sagemaker")


def handler(event: dict[str, Any], _context: object = None) -> dict[str, Any]:
    """Fill in the invitation of `CustomMessage_AdminCreateUser`; other messages pass."""
    if event.get("triggerSource") != "CustomMessage_AdminCreateUser":
        return event
    try:
        workforce = sagemaker().describe_workforce(WorkforceName=os.environ["WORKFORCE_NAME"])[
            "Workforce"
        ]
        portal = f"https://{workforce['SubDomain']}"
    except Exception:
        LOG.exception("portal address unknown; sending Cognito's default invitation")
        return event
    request = event["request"]
    event["response"]["emailSubject"] = SUBJECT
    event["response"]["emailMessage"] = invitation(
        portal, request["usernameParameter"], request["codeParameter"]
    )
    return event


def invitation(portal: str, username: str, code: str) -> str:
    """The invitation's HTML body. `username` and `code` are Cognito's placeholders,
    which it replaces with the user name and the temporary password."""
    link = html.escape(portal, quote=True)
    return (
        "<p>You have been invited to label data for machine learning.</p>"
        f'<p>Sign in at <a href="{link}">{link}</a><br>'
        f"User name: {username}<br>Temporary password: {code}</p>"
        "<p>When you first sign in you choose a new password (and, if asked, set up an "
        "authenticator app). The temporary password expires in 7 days.</p>"
    )
