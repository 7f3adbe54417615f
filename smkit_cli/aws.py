"""AWS access: one boto3 session per command, and botocore's errors turned into messages
a person can act on (with the exit code that says which kind of problem it is)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from .errors import CliError, ExitCode

# Error codes AWS answers when the credentials themselves are unusable.
REFUSED_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "AuthFailure",
    }
)
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})

CREDENTIALS_HINT = (
    "Set AWS_PROFILE (and run `aws sso login` for an SSO profile) or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or pass --profile."
)
# Adaptive retries: a throttled describe call in a watch loop backs off instead of failing.
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 6})


def new_session(profile: str | None, region: str | None) -> boto3.Session:
    """The session a command uses (`Runtime.session_factory` may replace this). Without a
    region it takes AWS_REGION, as the CDK CLI and the AWS CLI do: boto3 itself reads only
    AWS_DEFAULT_REGION and the profile's."""
    return boto3.Session(profile_name=profile, region_name=region or os.environ.get("AWS_REGION"))


class Aws:
    """The clients of one command, created on first use."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        """The session's region."""
        region = self.session.region_name
        if not region:
            raise CliError(
                "no AWS region: set `region` in the config, AWS_REGION, or pass --region",
                ExitCode.CREDENTIALS,
            )
        return region

    def client(self, service: str) -> Any:
        """A client of `service` in the session's region."""
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service,  # type: ignore[call-overload]
                region_name=self.region,
                config=CLIENT_CONFIG,
            )
        return self._clients[service]


def error_code(err: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(err.response.get("Error", {}).get("Code", ""))


def explain(err: Exception) -> CliError:
    """The message and exit code for an error botocore raised."""
    if isinstance(err, ProfileNotFound):
        return CliError(
            f"AWS profile not found: {err}", ExitCode.CREDENTIALS, hint=CREDENTIALS_HINT
        )
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return CliError(
            f"no usable AWS credentials ({err})", ExitCode.CREDENTIALS, hint=CREDENTIALS_HINT
        )
    if isinstance(err, SSOError | TokenRetrievalError):
        return CliError(
            f"the AWS SSO session cannot be used ({err})",
            ExitCode.CREDENTIALS,
            hint="Run `aws sso login` for the profile and try again.",
        )
    if isinstance(err, NoRegionError):
        return CliError(
            "no AWS region: set `region` in the config, AWS_REGION, or pass --region",
            ExitCode.CREDENTIALS,
        )
    if isinstance(err, EndpointConnectionError):
        return CliError(f"cannot reach AWS: {err}", ExitCode.AWS_ERROR)
    if isinstance(err, ClientError):
        code = error_code(err)
        operation = getattr(err, "operation_name", "the call")
        message = err.response.get("Error", {}).get("Message", "")
        if code in REFUSED_CREDENTIALS:
            return CliError(
                f"AWS refused the credentials ({code}: {message})",
                ExitCode.CREDENTIALS,
                hint=CREDENTIALS_HINT,
            )
        if code in DENIED:
            return CliError(
                f"access denied to {operation}: {message}",
                ExitCode.CREDENTIALS,
                hint="The credentials' role needs the permission named above.",
            )
        return CliError(f"{operation} failed ({code}): {message}", ExitCode.AWS_ERROR)
    if isinstance(err, BotoCoreError):
        return CliError(f"AWS call failed: {err}", ExitCode.AWS_ERROR)
    raise TypeError(f"not an AWS error: {err!r}")
