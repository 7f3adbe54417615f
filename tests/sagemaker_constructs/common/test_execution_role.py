"""The shared grants of SageMaker execution roles: network interfaces scoped to the
placement's subnets, security groups and VPC; image pulls scoped to repositories."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from sagemaker_constructs.common.execution_role import (
    account_repositories,
    grant_image_pull,
    grant_network_interfaces,
)
from sagemaker_constructs.foundation import NetworkPlacement
from tests.oracles.synth import new_stack

NETWORK = NetworkPlacement.from_ids(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
    security_group_ids=["sg-0cccccccccccccccc"],
)


def statements(stack: cdk.Stack) -> list[dict]:
    resources = Template.from_stack(stack).to_json()["Resources"]
    return [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def arn_tail(value: object) -> str:
    """The literal end of an ARN CDK joins with the partition, region and account."""
    assert isinstance(value, dict), value
    return str(value["Fn::Join"][1][-1])


def role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))


def test_network_interfaces_are_created_in_the_placement_and_changed_only_in_its_vpc() -> None:
    stack = new_stack()
    grant_network_interfaces(role(stack), NETWORK)
    found = {json.dumps(s["Action"]): s for s in statements(stack)}
    create = found['"ec2:CreateNetworkInterface"']
    assert "Condition" not in create
    assert sorted(arn_tail(r) for r in create["Resource"]) == [
        ":network-interface/*",
        ":security-group/sg-0cccccccccccccccc",
        ":subnet/subnet-0aaaaaaaaaaaaaaaa",
        ":subnet/subnet-0bbbbbbbbbbbbbbbb",
    ]
    change = found[
        '["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", '
        '"ec2:DeleteNetworkInterfacePermission"]'
    ]
    assert arn_tail(change["Resource"]) == ":network-interface/*"
    assert arn_tail(change["Condition"]["ArnEquals"]["ec2:Vpc"]) == ":vpc/vpc-0123456789abcdef0"
    # Only the Describe calls (no resource-level scope in EC2) are on "*".
    on_everything = [s["Action"] for s in found.values() if s["Resource"] == "*"]
    assert on_everything == [
        [
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
        ]
    ]
    assert len(found) == 3


def test_image_pull_names_the_repositories_and_only_the_token_is_on_everything() -> None:
    stack = new_stack()
    grant_image_pull(role(stack), [account_repositories(stack)])
    found = {json.dumps(s["Action"]): s for s in statements(stack)}
    assert found['"ecr:GetAuthorizationToken"']["Resource"] == "*"
    pull = found[
        '["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]'
    ]
    # This account's repositories in the stack's region; none of another account.
    assert pull["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecr:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":repository/*",
            ],
        ]
    }
    assert len(found) == 2
