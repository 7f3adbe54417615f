"""The private workforce. SageMaker allows one per account and region, and CreateWorkforce
fails when one exists, including the `default` one the SageMaker console makes
(WORKFORCE-1, docs/aws-rules.md). A config that creates one (`cognito`, `oidc`) must find
none, or its own; a config with `mode: existing` must find the one it names."""

from __future__ import annotations

from typing import Any

from stacks.settings.labeling import ExistingWorkforce

from ..deployment import Deployment
from .findings import Finding, UnsettledError, collect
from .owned import StackResources


def _describe(workforce: dict[str, Any]) -> str:
    cognito = workforce.get("CognitoConfig")
    if cognito:
        return f"Cognito user pool {cognito.get('UserPool')}, app client {cognito.get('ClientId')}"
    oidc = workforce.get("OidcConfig")
    if oidc:
        return f"OIDC issuer {oidc.get('Issuer')}"
    return "no identity provider"


def existing_mode(workforce: dict[str, Any]) -> str:
    """The `labeling.workforce` setting that reuses `workforce`, on one line."""
    fields = [f"name: {workforce['WorkforceName']}"]
    cognito = workforce.get("CognitoConfig")
    if cognito:
        fields += [
            "identity: cognito",
            f"user_pool_id: {cognito.get('UserPool')}",
            f"client_id: {cognito.get('ClientId')}",
        ]
    else:
        fields.append("identity: oidc")
    if workforce.get("SubDomain"):
        fields.append(f"portal_url: https://{workforce['SubDomain']}")
    return "{mode: existing, " + ", ".join(fields) + "}"


def check_workforce(deployment: Deployment, stacks: StackResources) -> list[Finding]:
    """One finding when the config has a workforce, none otherwise."""
    labeling = deployment.settings.labeling
    config = labeling.workforce if labeling is not None else None
    if config is None:
        return []
    name = getattr(config, "name", None) or deployment.prefix
    subject = f"private workforce {name}"
    where = deployment.where()
    try:
        workforces = collect(deployment.aws.client("sagemaker"), "ListWorkforces", "Workforces")
        if isinstance(config, ExistingWorkforce):
            return [_existing(config, workforces, subject, where)]
        named = [w for w in workforces if w["WorkforceName"] == name]
        ours = bool(named) and stacks.owns("Workforce", "AWS::SageMaker::Workforce", name)
    except UnsettledError as unsettled:
        return [unsettled.finding("workforce", subject)]
    if ours:
        return [
            Finding(
                "workforce",
                subject,
                "pass",
                f"deployed by {deployment.settings.stack_name('Workforce')}",
            )
        ]
    if not workforces:
        return [
            Finding(
                "workforce",
                subject,
                "pass",
                f"{where} has no private workforce yet: {name} will be created",
            )
        ]
    # WORKFORCE-1 (docs/aws-rules.md): CreateWorkforce fails when the region has one.
    other = (named or workforces)[0]
    return [
        Finding(
            "workforce",
            subject,
            "fail",
            f"{where} already has private workforce {other['WorkforceName']} "
            f"({_describe(other)}); SageMaker allows one per account and region, so "
            "creating another fails",
            fix=f"Reuse it: set labeling.workforce to {existing_mode(other)} "
            "(docs/preflight.md#an-existing-private-workforce).",
            data={"existing_workforce": other["WorkforceName"]},
        )
    ]


def _existing(
    config: ExistingWorkforce, workforces: list[dict[str, Any]], subject: str, where: str
) -> Finding:
    found = next((w for w in workforces if w["WorkforceName"] == config.name), None)
    if found is None:
        names = ", ".join(w["WorkforceName"] for w in workforces)
        return Finding(
            "workforce",
            subject,
            "fail",
            f"{where} has no private workforce {config.name}"
            + (f" (it has {names})" if names else " (it has none)"),
            fix=f"Set labeling.workforce to {existing_mode(workforces[0])}."
            if workforces
            else "Create one (mode: cognito or oidc), or make one in the SageMaker console "
            "(Labeling workforces > Private) first.",
        )
    cognito = found.get("CognitoConfig") or {}
    problems = []
    if config.identity == "cognito" and not cognito:
        problems.append("it signs workers in with OIDC, not Cognito")
    if config.identity == "oidc" and cognito:
        problems.append("it signs workers in with Cognito, not OIDC")
    if cognito and config.user_pool_id not in (None, cognito.get("UserPool")):
        problems.append(f"its user pool is {cognito.get('UserPool')}, not {config.user_pool_id}")
    if cognito and config.client_id not in (None, cognito.get("ClientId")):
        problems.append(f"its app client is {cognito.get('ClientId')}, not {config.client_id}")
    if problems:
        return Finding(
            "workforce",
            subject,
            "fail",
            f"workforce {config.name} does not match the config: " + "; ".join(problems),
            fix=f"Set labeling.workforce to {existing_mode(found)}.",
        )
    return Finding("workforce", subject, "pass", f"found in {where} ({_describe(found)})")
