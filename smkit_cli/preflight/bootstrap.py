"""The CDK bootstrap: present in the account and region, and at least the version the
synthesized assembly requires (each stack and asset manifest names the version and the
SSM parameter that holds the account's, which is what the templates' own
`CheckBootstrapVersion` rule reads at deploy time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks.settings import PlatformSettings

from ..deployment import Deployment
from .findings import Finding, UnsettledError, call

DEFAULT_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
"""Where `cdk bootstrap` keeps the version, with the default qualifier."""
TOOLKIT_STACK = "CDKToolkit"
"""The bootstrap stack's default name."""
# A bootstrap stack in these states cannot serve a deployment.
BROKEN = ("_FAILED", "ROLLBACK_COMPLETE")


class AssemblyError(Exception):
    """The assembly cannot say what this config needs."""


@dataclass(frozen=True)
class BootstrapNeed:
    """The least bootstrap version the assembly needs, per version parameter."""

    parameter: str
    """SSM parameter holding the account's bootstrap version."""
    version: int
    """Least version needed."""
    needed_by: str
    """The artifact that needs it, e.g. `smkit-Foundation (lookup role)`."""


def _requirements(artifact_id: str, artifact: dict[str, Any]) -> list[tuple[str, int, str]]:
    properties = artifact.get("properties") or {}
    places = [(artifact_id, properties)]
    if isinstance(properties.get("lookupRole"), dict):
        places.append((f"{artifact_id} (lookup role, used by cdk diff)", properties["lookupRole"]))
    return [
        (
            str(place["bootstrapStackVersionSsmParameter"]),
            int(place["requiresBootstrapStackVersion"]),
            where,
        )
        for where, place in places
        if "requiresBootstrapStackVersion" in place and "bootstrapStackVersionSsmParameter" in place
    ]


def read_needs(assembly: Path, settings: PlatformSettings) -> list[BootstrapNeed]:
    """What the config's stacks in `assembly` (a `cdk.out`) need, one need per parameter."""
    manifest_path = assembly / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        artifacts: dict[str, Any] = manifest["artifacts"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise AssemblyError(f"cannot read {manifest_path} ({err})") from None
    prefix = f"{settings.name_prefix}-"
    ours: dict[str, dict[str, Any]] = {}
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack":
            stack = str((artifact.get("properties") or {}).get("stackName", artifact_id))
        elif kind == "cdk:asset-manifest":
            stack = artifact_id.removesuffix(".assets")
        else:
            continue
        if stack.startswith(prefix):
            ours[artifact_id] = artifact
    foundation = settings.stack_name("Foundation")
    if foundation not in ours:
        raise AssemblyError(
            f"{assembly} holds no stack {foundation}: it was synthesized from another config"
        )
    needs: dict[str, BootstrapNeed] = {}
    for artifact_id, artifact in sorted(ours.items()):
        try:
            requirements = _requirements(artifact_id, artifact)
        except (ValueError, TypeError) as err:
            raise AssemblyError(f"{manifest_path}: {artifact_id}: {err}") from None
        for parameter, version, where in requirements:
            known = needs.get(parameter)
            if known is None or version > known.version:
                needs[parameter] = BootstrapNeed(parameter, version, where)
    return list(needs.values())


def check_bootstrap(deployment: Deployment, assembly: Path | None) -> list[Finding]:
    """One finding per bootstrap version parameter the assembly names (the default
    qualifier's when there is no assembly)."""
    rebootstrap = (
        f"Run `make bootstrap CONFIG={deployment.config}` (it creates the bootstrap stack, "
        "or upgrades it in place)."
    )
    needs: list[BootstrapNeed] = []
    unread = "no assembly was given to read the version it needs"
    if assembly is not None:
        try:
            needs = read_needs(assembly, deployment.settings)
        except AssemblyError as problem:
            unread = str(problem)
    findings = []
    for parameter in [n.parameter for n in needs] or [DEFAULT_VERSION_PARAMETER]:
        need = next((n for n in needs if n.parameter == parameter), None)
        subject = f"CDK bootstrap ({parameter})"
        try:
            found = call(
                deployment.aws.client("ssm"),
                "GetParameter",
                absent=("ParameterNotFound",),
                Name=parameter,
            )
            stacks = call(
                deployment.aws.client("cloudformation"),
                "DescribeStacks",
                absent=("ValidationError",),
                StackName=TOOLKIT_STACK,
            )
        except UnsettledError as unsettled:
            findings.append(unsettled.finding("bootstrap", subject))
            continue
        status = str(stacks["Stacks"][0]["StackStatus"]) if stacks else None
        findings.append(
            _judge(deployment, subject, found, status, need, unread, rebootstrap, parameter)
        )
    return findings


def _judge(
    deployment: Deployment,
    subject: str,
    found: Any,
    status: str | None,
    need: BootstrapNeed | None,
    unread: str,
    rebootstrap: str,
    parameter: str,
) -> Finding:
    where = deployment.where()
    if found is None:
        return Finding(
            "bootstrap",
            subject,
            "fail",
            f"not bootstrapped: no SSM parameter {parameter} in {where}",
            fix=rebootstrap,
        )
    if status is not None and status.endswith(BROKEN):
        return Finding(
            "bootstrap",
            subject,
            "fail",
            f"bootstrap stack {TOOLKIT_STACK} is {status} in {where}",
            fix=f"See the events of {TOOLKIT_STACK} in the CloudFormation console, then: "
            + rebootstrap,
        )
    value = str(found["Parameter"]["Value"])
    if not value.isdigit():
        return Finding(
            "bootstrap",
            subject,
            "fail",
            f"{parameter} holds {value!r}, not a bootstrap version",
            fix=rebootstrap,
        )
    version = int(value)
    data = {"version": version, "needed": need.version if need else None}
    if need is None:
        return Finding(
            "bootstrap",
            subject,
            "unknown",
            f"bootstrap version {version}; {unread}",
            fix=f"Run `make preflight CONFIG={deployment.config}` (it synthesizes first), or "
            "pass --assembly with this config's cdk.out.",
            data=data,
        )
    if version < need.version:
        return Finding(
            "bootstrap",
            subject,
            "fail",
            f"bootstrap version {version}; {need.needed_by} needs at least {need.version}",
            fix=rebootstrap,
            data=data,
        )
    return Finding(
        "bootstrap",
        subject,
        "pass",
        f"bootstrap version {version}; the assembly needs at least {need.version} "
        f"({need.needed_by})",
        data=data,
    )
