"""What a preflight check reports, and the one way its checks read AWS: a read AWS refuses
(or fails) makes the check `unknown` and names the permission, instead of ending the
command; unusable credentials still end it (exit 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from botocore import xform_name
from botocore.exceptions import ClientError

from ..aws import DENIED, REFUSED_CREDENTIALS, error_code

Status = Literal["pass", "fail", "unknown"]
Cause = Literal["denied", "error"]


@dataclass(frozen=True)
class Finding:
    """The result of one check on one subject (a quota, a name, the bootstrap stack...)."""

    check: str
    """Which check: bootstrap, quota, workforce, name, cost-tag."""
    subject: str
    """What was checked, e.g. `ml.g5.xlarge for training job usage`."""
    status: Status
    """pass, fail, or unknown (AWS refused or failed a read, or it cannot be known yet)."""
    detail: str
    """One line: what was found."""
    fix: str | None = None
    """One line: what to do (not for a pass)."""
    permission: str | None = None
    """For unknown: the IAM action AWS refused, e.g. `servicequotas:ListServiceQuotas`."""
    cause: Cause | None = None
    """For unknown: `denied` (access denied) or `error` (another AWS error); none when the
    answer cannot be known yet (nothing failed)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Figures for `--json`: needed, applied, entries..."""

    def as_json(self) -> dict[str, Any]:
        """The finding as `--json` prints it."""
        return {
            "check": self.check,
            "subject": self.subject,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
            "permission": self.permission,
            **self.data,
        }


class UnsettledError(Exception):
    """AWS refused or failed a read a check needs: the check's answer is unknown."""

    def __init__(self, detail: str, *, permission: str | None = None, cause: Cause) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permission = permission
        self.cause: Cause = cause

    def finding(self, check: str, subject: str, fix: str | None = None) -> Finding:
        """The unknown finding this makes of `check` on `subject`."""
        return Finding(
            check=check,
            subject=subject,
            status="unknown",
            detail=self.detail,
            fix=fix
            or (
                f"Grant {self.permission} to the credentials' role (docs/preflight.md lists "
                "every permission preflight uses)."
                if self.permission
                else "Run `smkit preflight` again; if it persists, the error names the cause."
            ),
            permission=self.permission,
            cause=self.cause,
        )


def _unsettled(client: Any, operation: str, err: ClientError) -> Exception:
    code = error_code(err)
    if code in REFUSED_CREDENTIALS:
        return err
    # The IAM prefix is the service's signing name (servicequotas, ce, cognito-idp...),
    # and these operations' actions are named as the operations.
    permission = f"{client.meta.service_model.signing_name}:{operation}"
    if code in DENIED:
        return UnsettledError(
            f"access denied to {permission}", permission=permission, cause="denied"
        )
    message = err.response.get("Error", {}).get("Message", "")
    return UnsettledError(f"{operation} failed ({code}): {message}", cause="error")


def call(client: Any, operation: str, *, absent: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """`operation` (e.g. `GetParameter`) on `client`; None when AWS answers one of the
    `absent` error codes (the thing does not exist)."""
    try:
        return getattr(client, xform_name(operation))(**kwargs)
    except ClientError as err:
        if error_code(err) in absent:
            return None
        raise _unsettled(client, operation, err) from None


def collect(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under `key` of every page of `operation`."""
    items: list[Any] = []
    try:
        for page in client.get_paginator(xform_name(operation)).paginate(**kwargs):
            items.extend(page.get(key, []))
    except ClientError as err:
        raise _unsettled(client, operation, err) from None
    return items
