"""python -m tools.predeploy OUTDIR: before `cdk deploy`, compare the synthesized assembly
with the templates CloudFormation holds, and stop a deploy that AWS would refuse half way.

`make deploy` runs it between `cdk synth` and `cdk deploy --app OUTDIR`. It reads each
stack's deployed template (read-only: cloudformation:GetTemplate, through the CDK lookup
role where the stack names one, as `cdk diff` does) and:

- exits 1 naming every endpoint update SageMaker refuses (ENDPOINT-2, -3, -4), with what
  to do instead: as is, CloudFormation would fail the update and roll the stack back;
- prints the consumers of outputs whose value changes (DEPLOY-2).

A stack that does not exist yet is new: nothing to compare. Resources under a condition
that is false for the deployed parameter values (an endpoint waiting for its first
approved model version) do not exist and are compared as such: the new template is read
with the deployed values, which `cdk deploy` keeps. Without credentials or permission
to read the templates, it says so and lets the deploy go on (the deploy needs the same
credentials anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tools.assembly import Assembly, AssemblyError, Stack, load_assembly
from tools.conditions import present
from tools.review.endpoint_updates import refused_updates
from tools.review.weak_references import stale_references


class TemplatesUnreadableError(Exception):
    """The deployed templates could not be read (no credentials, no permission)."""


def deployed_assembly(assembly: Assembly, session: boto3.Session) -> tuple[Assembly, Assembly]:
    """The stacks of `assembly` that exist in CloudFormation with their deployed
    templates, and `assembly` as it will deploy: both without the resources whose
    condition is false for the deployed parameter values."""
    roles = lookup_roles(assembly.outdir)
    deployed: list[Stack] = []
    planned: list[Stack] = []
    for stack in assembly:
        found = _deployed_template(stack, roles.get(stack.artifact_id), session)
        if found is None:
            planned.append(stack)
            continue
        template, parameters = found
        deployed.append(replace(stack, template=present(template, parameters)))
        planned.append(replace(stack, template=present(stack.template, parameters)))
    return (
        Assembly(outdir=assembly.outdir, stacks=tuple(deployed)),
        Assembly(outdir=assembly.outdir, stacks=tuple(planned)),
    )


def _deployed_template(
    stack: Stack, lookup_role: str | None, session: boto3.Session
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The deployed template and parameter values, or None for a stack not deployed."""
    region = stack.region or session.region_name
    try:
        client = aws_client(session, region, stack.account, lookup_role)
        body = client.get_template(StackName=stack.name, TemplateStage="Original")["TemplateBody"]
        described = client.describe_stacks(StackName=stack.name)["Stacks"][0]
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            return None
        message = f"{stack.name}: {error.get('Code')}: {error.get('Message')}"
        raise TemplatesUnreadableError(message) from err
    except BotoCoreError as err:
        raise TemplatesUnreadableError(f"{stack.name}: {err}") from err
    # boto3 decodes a JSON template body into a mapping; a YAML one stays a string.
    template = json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))
    parameters = {
        str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
        for p in described.get("Parameters", [])
    }
    return dict(template), parameters


def aws_client(
    session: boto3.Session,
    region: str | None,
    account: str | None,
    lookup_role: str | None,
    service: str = "cloudformation",
) -> Any:
    """A client of `service` (read-only use), through the stack's lookup role when it can
    be assumed; otherwise with the session's own credentials."""
    if lookup_role:
        try:
            sts = session.client("sts", region_name=region)
            arn = (
                lookup_role.replace("${AWS::Partition}", _partition(region))
                .replace("${AWS::Region}", region or "")
                .replace("${AWS::AccountId}", account or sts.get_caller_identity()["Account"])
            )
            credentials = sts.assume_role(RoleArn=arn, RoleSessionName="smkit-predeploy")[
                "Credentials"
            ]
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        except (ClientError, BotoCoreError):
            pass  # bootstrapped without a lookup role, or not allowed to assume it
    return session.client(service, region_name=region)  # type: ignore[call-overload]


def _partition(region: str | None) -> str:
    if (region or "").startswith("cn-"):
        return "aws-cn"
    if (region or "").startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def lookup_roles(outdir: Path) -> dict[str, str]:
    """Artifact id -> the lookup role ARN the manifest names (with its placeholders)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    roles: dict[str, str] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        arn = artifact.get("properties", {}).get("lookupRole", {}).get("arn")
        if isinstance(arn, str):
            roles[artifact_id] = arn
    return roles


def main(argv: Iterable[str] | None = None, session: boto3.Session | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.predeploy", description=__doc__)
    parser.add_argument("outdir", type=Path, help="the synthesized assembly (cdk.out)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        assembly = load_assembly(args.outdir)
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        deployed, planned = deployed_assembly(assembly, session or boto3.Session())
    except TemplatesUnreadableError as err:
        print(
            f"Pre-deploy check skipped: could not read the deployed templates ({err}).",
            file=sys.stderr,
        )
        return 0
    for stale in stale_references(deployed, planned):
        print(f"STALE REFERENCE: {stale.text()}", file=sys.stderr)
    refused = refused_updates(deployed, planned)
    for update in refused:
        print(f"FAILS ON DEPLOY: {update.text()}", file=sys.stderr)
    if refused:
        print(
            f"Nothing was deployed: AWS would refuse {len(refused)} update(s) and roll the "
            "stack back. See docs/deploy-updates.md.",
            file=sys.stderr,
        )
        return 1
    checked = len(deployed.stacks)
    print(f"Pre-deploy check: {checked} deployed stack(s) compared, no update AWS refuses.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
