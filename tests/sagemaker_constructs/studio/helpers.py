"""What the Studio constructs' tests build on: the platform's key, buckets and job role in a
fresh stack, and a domain with the kit's defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.notebooks import NotebookJobRole
from sagemaker_constructs.studio import StudioDomain, StudioExecutionRole

NETWORK = NetworkPlacement(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
    security_group_ids=("sg-0123456789abcdef0",),
)


def platform(stack: cdk.Stack) -> dict[str, Any]:
    """What the foundation hands over: key, buckets, and a job role."""
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    data = s3.Bucket(stack, "Data", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    artifacts = s3.Bucket(
        stack, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=key
    )
    job_role = NotebookJobRole(
        stack,
        "Jobs",
        encryption_key=key,
        data_bucket=data,
        artifacts_bucket=artifacts,
        artifacts_prefix="studio/",
    ).role
    return {
        "encryption_key": key,
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "job_role": job_role,
    }


def execution_role(stack: cdk.Stack, parts: dict[str, Any], **kwargs: Any) -> StudioExecutionRole:
    return StudioExecutionRole(stack, "Users", **parts, **kwargs)


def domain(stack: cdk.Stack, parts: dict[str, Any], **kwargs: Any) -> StudioDomain:
    """A VpcOnly domain in NETWORK (override any argument)."""
    arguments: dict[str, Any] = {
        "domain_name": "demo-studio",
        "encryption_key": parts["encryption_key"],
        "execution_role": execution_role(stack, parts).role,
        "vpc_id": NETWORK.vpc_id,
        "subnet_ids": NETWORK.subnet_ids,
        "security_group_ids": NETWORK.security_group_ids,
        "vpc_only": True,
        **kwargs,
    }
    return StudioDomain(stack, "Domain", **arguments)


def synthesized(stack: cdk.Stack) -> dict[str, Any]:
    """The stack's template after a real synth (validations, tags, acknowledgements)."""
    app = stack.node.root
    assert isinstance(app, cdk.App)
    directory = Path(app.synth().directory)
    result: dict[str, Any] = json.loads(
        (directory / f"{stack.artifact_id}.template.json").read_text()
    )
    return result


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def statements(template: dict[str, Any], policy_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the policies whose logical ID starts with `policy_prefix`."""
    return [
        statement
        for logical_id, resource in of_type(template, "AWS::IAM::Policy").items()
        if logical_id.startswith(policy_prefix)
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
