"""What a SageMaker execution role needs besides its data: network interfaces that place
its jobs or models in a VPC, and pulls of container images from ECR.

One place for every role that runs SageMaker workloads (training and tuning jobs,
endpoints, labeling jobs, jobs started from notebooks), so each is scoped the same way:
write and permission-management actions never on `*` without a condition (checkov
CKV_AWS_111 and CKV_AWS_109).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from .nag import acknowledge_wildcards

if TYPE_CHECKING:
    from ..foundation import NetworkPlacement

NETWORK_DESCRIBE_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)
"""What SageMaker reads before it places a workload in a VPC; EC2's Describe actions
accept no resource ARN, so they are granted on `*` (the caller acknowledges
AwsSolutions-IAM5[Resource::*] with its other resource-less actions)."""

NETWORK_INTERFACE_CHANGE_ACTIONS = (
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
)
"""Changes to a network interface SageMaker created; allowed only in the placement's VPC."""

ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
"""Pulling an image from a repository (ecr:GetAuthorizationToken, which has no resource,
comes with them)."""


def grant_network_interfaces(role: iam.IRole, network: NetworkPlacement) -> None:
    """Let SageMaker, acting as `role`, place workloads in `network`: create network
    interfaces only in its subnets with its security groups, and change or delete
    interfaces only in its VPC (condition `ec2:Vpc`)."""
    stack = Stack.of(role)
    interfaces = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(NETWORK_DESCRIBE_ACTIONS), resources=["*"])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                interfaces,
                *(
                    stack.format_arn(service="ec2", resource="subnet", resource_name=subnet)
                    for subnet in network.subnet_ids
                ),
                *(
                    stack.format_arn(service="ec2", resource="security-group", resource_name=group)
                    for group in network.security_group_ids
                ),
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(NETWORK_INTERFACE_CHANGE_ACTIONS),
            resources=[interfaces],
            conditions={
                "ArnEquals": {
                    "ec2:Vpc": stack.format_arn(
                        service="ec2", resource="vpc", resource_name=network.vpc_id
                    )
                }
            },
        )
    )
    acknowledge_wildcards(
        role,
        resources=[interfaces],
        reason="SageMaker creates the workloads' network interfaces, so their IDs are unknown "
        "before; creating one is limited to the placement's subnets and security groups, "
        "changing or deleting one to the placement's VPC by condition.",
    )


def grant_image_pull(grantee: iam.IGrantable, repository_arns: Sequence[str]) -> iam.Grant:
    """Let `grantee` pull images from these ECR repositories (and get the registry
    token). AWS-owned images (built-in algorithms, deep learning containers) need no
    grant: their repositories admit SageMaker themselves."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["ecr:GetAuthorizationToken"], resource_arns=["*"]
    )
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=list(ECR_PULL_ACTIONS), resource_arns=list(repository_arns)
    )


def account_repositories(scope: Stack) -> str:
    """ARN pattern of every ECR repository of `scope`'s account and region: where the
    platform's own images live (the CDK bootstrap repository and the team's)."""
    return scope.format_arn(service="ecr", resource="repository", resource_name="*")
