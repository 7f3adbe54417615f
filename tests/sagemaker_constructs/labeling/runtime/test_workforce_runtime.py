"""The workforce's custom resource and invitation trigger, run for real: Cognito through
moto, CloudFormation's response URL served on loopback, SageMaker's DescribeWorkforce
through botocore's Stubber (moto does not mock workforces)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sagemaker_constructs.labeling.runtime.workforce import client_urls, invite_message
from sagemaker_constructs.labeling.workforce import client_config

REGION = "us-east-1"
SUBDOMAIN = "abc123xyz.labeling.us-east-1.sagemaker.aws"


class CloudFormation:
    """Collects what the handler PUTs to its response URL."""

    def __init__(self) -> None:
        self.responses: list[dict[str, Any]] = []
        received = self.responses

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/response"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def event(self, request_type: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "RequestType": request_type,
            "ResponseURL": self.url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/smkit-Workforce/1",
            "RequestId": "request-1",
            "LogicalResourceId": "WorkforceClientUrls",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **properties},
            **extra,
        }


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    made = CloudFormation()
    yield made
    made.server.shutdown()


@pytest.fixture
def user_pool() -> Iterator[tuple[Any, str, str]]:
    """A moto user pool with a client configured the way the construct's template does."""
    with mock_aws():
        cognito = client_urls.cognito()
        pool = cognito.create_user_pool(PoolName="workers")["UserPool"]["Id"]
        config = client_config("smkit-labeling-portal")
        created = cognito.create_user_pool_client(
            UserPoolId=pool,
            GenerateSecret=True,
            CallbackURLs=["https://smkit.auth.us-east-1.amazoncognito.com"],
            LogoutURLs=["https://smkit.auth.us-east-1.amazoncognito.com"],
            **config,
        )
        yield cognito, pool, created["UserPoolClient"]["ClientId"]


def properties(pool: str, client: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "UserPoolId": pool,
        "ClientId": client,
        "SubDomain": SUBDOMAIN,
        "ClientConfig": json.dumps(config or client_config("smkit-labeling-portal")),
    }


def test_create_sets_the_portal_urls_and_keeps_every_other_setting(
    user_pool: tuple[Any, str, str], cloudformation: CloudFormation
) -> None:
    cognito, pool, client = user_pool
    client_urls.handler(cloudformation.event("Create", properties(pool, client)))
    (response,) = cloudformation.responses
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == f"{pool}/{client}"
    assert response["Data"] == {
        "CallbackUrl": f"https://{SUBDOMAIN}/oauth2/idpresponse",
        "LogoutUrl": f"https://{SUBDOMAIN}/logout",
    }
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        cloudformation.event("Create", {})["StackId"],
        "request-1",
        "WorkforceClientUrls",
    )
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)[
        "UserPoolClient"
    ]
    assert described["CallbackURLs"] == [f"https://{SUBDOMAIN}/oauth2/idpresponse"]
    assert described["LogoutURLs"] == [f"https://{SUBDOMAIN}/logout"]
    # UpdateUserPoolClient resets what it is not given: the handler gives all of it.
    for name, value in client_config("smkit-labeling-portal").items():
        assert described[name] == value, name
    assert described["ClientSecret"]


def test_update_puts_the_urls_back_after_the_client_changed(
    user_pool: tuple[Any, str, str], cloudformation: CloudFormation
) -> None:
    cognito, pool, client = user_pool
    changed = {**client_config("smkit-labeling-portal"), "IdTokenValidity": 30}
    # CloudFormation updated the client from the template (its placeholder URLs) first.
    cognito.update_user_pool_client(
        UserPoolId=pool, ClientId=client, CallbackURLs=["https://placeholder.example"], **changed
    )
    client_urls.handler(
        cloudformation.event(
            "Update",
            properties(pool, client, changed),
            PhysicalResourceId=f"{pool}/{client}",
            OldResourceProperties=properties(pool, client),
        )
    )
    assert cloudformation.responses[0]["Status"] == "SUCCESS"
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client)[
        "UserPoolClient"
    ]
    assert described["CallbackURLs"] == [f"https://{SUBDOMAIN}/oauth2/idpresponse"]
    assert described["IdTokenValidity"] == 30


def test_delete_changes_nothing_and_answers_even_when_the_pool_is_gone(
    user_pool: tuple[Any, str, str], cloudformation: CloudFormation
) -> None:
    cognito, pool, client = user_pool
    client_urls.handler(cloudformation.event("Create", properties(pool, client)))
    cognito.delete_user_pool_client(UserPoolId=pool, ClientId=client)
    client_urls.handler(
        cloudformation.event(
            "Delete", properties(pool, client), PhysicalResourceId=f"{pool}/{client}"
        )
    )
    assert [r["Status"] for r in cloudformation.responses] == ["SUCCESS", "SUCCESS"]
    assert cloudformation.responses[1]["PhysicalResourceId"] == f"{pool}/{client}"


def test_failures_are_answered_with_the_reason(
    user_pool: tuple[Any, str, str], cloudformation: CloudFormation
) -> None:
    _cognito, pool, _client = user_pool
    client_urls.handler(cloudformation.event("Create", properties(pool, "no-such-client")))
    config = {**client_config("x"), "GenerateSecret": True}
    client_urls.handler(
        cloudformation.event(
            "Update", properties(pool, "c", config), PhysicalResourceId=f"{pool}/c"
        )
    )
    missing, unknown = cloudformation.responses
    assert missing["Status"] == "FAILED" and missing["PhysicalResourceId"] == "not-created"
    assert missing["Reason"].startswith("ResourceNotFoundException")
    assert unknown["Status"] == "FAILED" and unknown["PhysicalResourceId"] == f"{pool}/c"
    assert unknown["Reason"] == (
        "ValueError: ClientConfig has settings UpdateUserPoolClient does not take: "
        "['GenerateSecret']"
    )


def test_portal_urls_refuse_something_that_is_not_a_host() -> None:
    assert client_urls.portal_urls(f"https://{SUBDOMAIN}/") == (
        f"https://{SUBDOMAIN}/oauth2/idpresponse",
        f"https://{SUBDOMAIN}/logout",
    )
    with pytest.raises(ValueError, match="SubDomain must be a host name"):
        client_urls.portal_urls("host/with/path")


def invitation_event() -> dict[str, Any]:
    return {
        "triggerSource": "CustomMessage_AdminCreateUser",
        "request": {"usernameParameter": "{username}", "codeParameter": "{####}"},
        "response": {"emailSubject": None, "emailMessage": None},
    }


def test_invitation_names_the_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKFORCE_NAME", "smkit")
    sagemaker = invite_message.sagemaker()
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "describe_workforce",
            {
                "Workforce": {
                    "WorkforceName": "smkit",
                    "WorkforceArn": "arn:aws:sagemaker:us-east-1:123456789012:workforce/smkit",
                    "SubDomain": SUBDOMAIN,
                }
            },
            {"WorkforceName": "smkit"},
        )
        event = invite_message.handler(invitation_event())
        stub.assert_no_pending_responses()
    body = event["response"]["emailMessage"]
    assert event["response"]["emailSubject"] == invite_message.SUBJECT
    assert f'<a href="https://{SUBDOMAIN}">https://{SUBDOMAIN}</a>' in body
    assert "User name: {username}" in body and "Temporary password: {####}" in body


def test_invitation_falls_back_to_cognitos_and_other_messages_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKFORCE_NAME", "smkit")
    with Stubber(invite_message.sagemaker()) as stub:
        stub.add_client_error("describe_workforce", "ResourceNotFound")
        event = invite_message.handler(invitation_event())
    assert event["response"] == {"emailSubject": None, "emailMessage": None}
    forgot = {**invitation_event(), "triggerSource": "CustomMessage_ForgotPassword"}
    assert invite_message.handler(forgot) == forgot
