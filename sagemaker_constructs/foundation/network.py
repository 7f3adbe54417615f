"""Where SageMaker resources attach to a VPC, and the kit's isolated VPC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..common import Problems


@dataclass(frozen=True)
class NetworkPlacement:
    """The subnets and security groups SageMaker resources (notebooks, jobs,
    endpoints, the labeling workforce) are placed in.

    `None` where a construct takes a placement means SageMaker-managed networking.
    """

    vpc_id: str
    """Id of the VPC."""
    subnet_ids: Sequence[str]
    """Private subnet ids."""
    security_group_ids: Sequence[str]
    """Security groups of the workloads."""

    @classmethod
    def from_ids(
        cls, *, vpc_id: str, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
    ) -> NetworkPlacement:
        """A placement in a VPC you already have (no lookup, no credentials needed)."""
        problems = Problems("NetworkPlacement")
        problems.check(len(subnet_ids) >= 1, "subnet_ids needs at least one subnet (got none)")
        problems.check(
            1 <= len(security_group_ids) <= 5,
            f"security_group_ids needs 1-5 groups (got {len(security_group_ids)})",
        )
        problems.raise_if_any()
        return cls(
            vpc_id=vpc_id,
            subnet_ids=tuple(subnet_ids),
            security_group_ids=tuple(security_group_ids),
        )

    def vpc_config(self) -> dict[str, Any]:
        """The `VpcConfig` of SageMaker API requests (CreateTrainingJob, CreateModel...)."""
        return {"SecurityGroupIds": list(self.security_group_ids), "Subnets": list(self.subnet_ids)}


# The AWS APIs SageMaker workloads in an isolated subnet must reach.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
}
STUDIO_UI_ENDPOINT: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerStudio": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
}
"""Studio's web UI (`aws.sagemaker.<region>.studio`), for browsers that reach the VPC."""


class IsolatedNetwork(Construct):
    """A VPC whose private subnets have no route to the internet (no NAT gateway, no
    internet gateway), with an S3 gateway endpoint and interface endpoints for the
    SageMaker API and runtime, STS, CloudWatch Logs and ECR.

    Two security groups: `endpoint_security_group` admits HTTPS from inside the VPC
    only; `workload_security_group` (for SageMaker resources) allows all traffic among
    its members (multi-instance training needs it) and HTTPS out, which in these
    subnets can only reach the VPC's endpoints and S3 through the gateway endpoint.
    Flow logs go to an encrypted CloudWatch log group.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        cidr: str = "10.40.0.0/16",
        max_azs: int = 2,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpointAwsService] | None = None,
        s3_gateway: bool = True,
    ) -> None:
        """
        :param encryption_key: KMS key of the flow-log group.
        :param cidr: IPv4 range of the VPC. Default: 10.40.0.0/16. A /16 to /24 block.
        :param max_azs: Availability Zones with a private subnet. Default: 2. Valid range:
            2-3 (3 only in regions with three or more AZs).
        :param flow_log_retention: Flow-log retention. Default: one month.
        :param removal_policy: Of the flow-log group. Default: RETAIN.
        :param interface_endpoints: Interface endpoints by construct id. Default:
            `INTERFACE_ENDPOINTS` (what SageMaker workloads call). Empty: none, and no
            endpoint security group.
        :param s3_gateway: Add the S3 gateway endpoint. Default: True.
        """
        super().__init__(scope, id_)
        problems = Problems("IsolatedNetwork")
        problems.check(2 <= max_azs <= 3, f"max_azs must be 2-3 (got {max_azs})")
        prefix = cidr.rsplit("/", 1)[-1]
        problems.check(
            prefix.isdigit() and 16 <= int(prefix) <= 24,
            f"cidr must be an IPv4 /16 to /24 block (got {cidr!r})",
        )
        problems.raise_if_any()

        # AZs as `Fn::GetAZs` picks, resolved at deploy: an environment-agnostic stack
        # would otherwise get at most two, whatever max_azs says.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=[Fn.select(index, Fn.get_azs()) for index in range(max_azs)],
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=None
                )
            ],
            restrict_default_security_group=True,
        )
        """The VPC."""

        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=encryption_key,
            retention=flow_log_retention,
            removal_policy=removal_policy,
        )
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group)
        )

        endpoints = INTERFACE_ENDPOINTS if interface_endpoints is None else interface_endpoints
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        """Of the interface endpoints: HTTPS from inside the VPC (None without endpoints)."""
        if endpoints:
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=self.vpc,
                description="Interface endpoints: HTTPS from inside the VPC only",
                allow_all_outbound=False,
            )
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.HTTPS, "HTTPS from inside the VPC"
            )

        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="SageMaker workloads: traffic among members, HTTPS to endpoints and S3",
            allow_all_outbound=False,
        )
        self.workload_security_group.add_ingress_rule(
            self.workload_security_group, ec2.Port.all_traffic(), "Members (distributed training)"
        )
        self.workload_security_group.add_egress_rule(
            self.workload_security_group, ec2.Port.all_traffic(), "Members (distributed training)"
        )
        # The subnets route only to the VPC and the S3 gateway endpoint, so HTTPS to
        # any address reaches nothing else; S3's address ranges are per region and
        # would otherwise need a lookup at synth.
        self.workload_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.HTTPS, "HTTPS to VPC endpoints and S3 (no internet route)"
        )

        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        if s3_gateway:
            self.vpc.add_gateway_endpoint(
                "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets]
            )
        for name, service in endpoints.items():
            assert self.endpoint_security_group is not None
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
                private_dns_enabled=True,
            )

        self.placement = NetworkPlacement(
            vpc_id=self.vpc.vpc_id,
            subnet_ids=tuple(s.subnet_id for s in self.vpc.isolated_subnets),
            security_group_ids=(self.workload_security_group.security_group_id,),
        )
        """Where SageMaker resources go in this VPC."""
