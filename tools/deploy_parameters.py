"""python -m tools.deploy_parameters OUTDIR: the `--parameters` that `make deploy` passes
to `cdk deploy --all --app OUTDIR`.

The version parameters of endpoints that follow a model package group belong to the
model approval workflow (docs/model-approval.md). `cdk deploy` keeps the value of every
parameter it is not given (it sends UsePreviousValue; `--previous-parameters` is on by
default), so `make deploy` passes none of them for a stack that has them already. Only a
version parameter the deployed stack lacks (a new stack, an endpoint that now follows a
group), or whose deployed value names another group's version (the endpoint now follows
another group: CloudFormation would refuse the old value), gets one here: the version
the approval workflow would choose (`versions.target_version`), or nothing when none
qualifies yet (the endpoint then appears with the first approved version).

It stops the deploy (exit 1, nothing deployed) when:
- a stack with version parameters is being updated (an approval deployment, another
  deploy): CloudFormation would refuse the update; run `make deploy` again after it;
- a running endpoint would be deleted: it now follows a group with no qualifying version.

Prints the arguments on stdout (`--parameters STACK:KEY=VALUE` ...), what it decided on
stderr. An assembly without version parameters gets nothing and reads nothing from AWS.
Reads only (CloudFormation DescribeStacks and GetTemplate, SageMaker ListModelPackages
and DescribeModelPackage), through the CDK lookup role where the stack names one.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from sagemaker_constructs.inference.runtime.promotion.versions import (
    Follower,
    followers_from_json,
    target_version,
    version_number,
)
from tools.assembly import AssemblyError, Stack, load_assembly
from tools.conditions import condition_values
from tools.predeploy import aws_client, lookup_roles

APPROVAL_HANDLER = "promotion.handler.handler"


class DeployRefusedError(Exception):
    """The deploy must not go on; the message says why and what to do."""


@dataclass(frozen=True)
class Decision:
    stack: str
    parameter: str
    value: str | None
    """The value to pass; None: pass nothing (cdk deploy keeps or defaults it)."""
    note: str

    def argument(self) -> list[str]:
        return ["--parameters", f"{self.stack}:{self.parameter}={self.value}"]


def followers(stack: Stack) -> list[Follower]:
    """The endpoints of a stack that follow a group, from its approval workflow's step."""
    found: list[Follower] = []
    for resource in stack.resources.values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        if properties.get("Handler") != APPROVAL_HANDLER:
            continue
        text = (properties.get("Environment") or {}).get("Variables", {}).get("FOLLOWERS")
        if isinstance(text, str):
            found.extend(followers_from_json(text))
    return found


def decide(stack: Stack, deployed: dict[str, Any] | None, sagemaker: Any) -> list[Decision]:
    """What to pass for each version parameter of `stack`. `deployed`: DescribeStacks'
    entry of the deployed stack with its `Template`, or None for a new stack."""
    decisions: list[Decision] = []
    declared = stack.template.get("Parameters") or {}
    # ENDPOINT-22 (stack status codes page).
    if deployed is not None and str(deployed["StackStatus"]).endswith("_IN_PROGRESS"):
        raise DeployRefusedError(
            f"stack {stack.name} is {deployed['StackStatus']}: an approved model version "
            "may be deploying (smkit model list <group> shows it). Run `make deploy` again "
            "when the stack is settled."
        )
    current = {
        str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
        for p in (deployed or {}).get("Parameters", [])
    }
    for follower in followers(stack):
        # ENDPOINT-20, ENDPOINT-21 (Parameter API and template parameters pages): a value
        # the stack has is kept by cdk deploy unless it no longer fits the pattern.
        pattern = declared.get(follower.parameter, {}).get("AllowedPattern", "")
        value = current.get(follower.parameter)
        if value is not None and re.fullmatch(pattern, value):
            decisions.append(
                Decision(stack.name, follower.parameter, None, _keeps(follower, value))
            )
            continue
        target = target_version(sagemaker, follower)
        if target is not None:
            decisions.append(
                Decision(
                    stack.name,
                    follower.parameter,
                    target.arn,
                    f"{follower.endpoint}: starts with version {target.number} of {follower.group}",
                )
            )
            continue
        if deployed is not None and _runs(deployed, follower):
            raise DeployRefusedError(
                f"endpoint {follower.endpoint} runs now and would be deleted: it now "
                f"follows {follower.group}, which has no "
                + ("promoted " if follower.promoted_from else "")
                + "approved version. Approve one first (smkit model approve "
                f"{follower.group} <version> --reason ...), then deploy."
            )
        decisions.append(
            Decision(
                stack.name,
                follower.parameter,
                None,
                f"{follower.endpoint}: no approved version of {follower.group} yet; the "
                "endpoint appears when one is approved",
            )
        )
    return decisions


def _keeps(follower: Follower, value: str) -> str:
    if not value:
        return f"{follower.endpoint}: waits for its first approved version (kept)"
    return f"{follower.endpoint}: keeps version {version_number(value)} (set by approvals)"


def _runs(deployed: dict[str, Any], follower: Follower) -> bool:
    """Whether the deployed stack runs an endpoint of the follower's name."""
    template = deployed.get("Template") or {}
    parameters = {
        str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
        for p in deployed.get("Parameters", [])
    }
    conditions = condition_values(template, parameters)
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") != "AWS::SageMaker::Endpoint":
            continue
        if (resource.get("Properties") or {}).get("EndpointName") != follower.endpoint:
            continue
        if conditions.get(resource.get("Condition", ""), True) is not False:
            return True
    return False


def _deployed(stack: Stack, cloudformation: Any) -> dict[str, Any] | None:
    try:
        entry = dict(cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0])
    except ClientError as err:
        message = str(err.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            return None
        raise
    body = cloudformation.get_template(StackName=stack.name, TemplateStage="Original")
    template = body["TemplateBody"]
    entry["Template"] = json.loads(template) if isinstance(template, str) else template
    return entry


def main(argv: Iterable[str] | None = None, session: boto3.Session | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy_parameters", description=__doc__)
    parser.add_argument("outdir", help="the synthesized assembly (cdk.out)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        assembly = load_assembly(args.outdir)
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    stacks = [s for s in assembly if followers(s)]
    if not stacks:
        return 0
    session = session or boto3.Session()
    roles = lookup_roles(assembly.outdir)
    arguments: list[str] = []
    try:
        for stack in stacks:
            region = stack.region or session.region_name
            role = roles.get(stack.artifact_id)
            deployed = _deployed(stack, aws_client(session, region, stack.account, role))
            sagemaker = aws_client(session, region, stack.account, role, "sagemaker")
            for decision in decide(stack, deployed, sagemaker):
                print(f"Version parameter {decision.parameter}: {decision.note}", file=sys.stderr)
                if decision.value is not None:
                    arguments += decision.argument()
    except DeployRefusedError as err:
        print(f"Nothing was deployed: {err}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as err:
        print(
            "Nothing was deployed: the model versions the endpoints serve could not be read "
            f"({err}). `make deploy` needs them to keep what approvals deployed.",
            file=sys.stderr,
        )
        return 1
    print(" ".join(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
