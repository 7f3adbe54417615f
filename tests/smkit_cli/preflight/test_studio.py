"""The Studio check against moto's SageMaker domains, EC2 VPC endpoints and route tables,
and CloudFormation's stack resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from smkit_cli.preflight import Finding
from smkit_cli.preflight.owned import StackResources
from smkit_cli.preflight.studio import check_studio

from ..conftest import REGION, Platform
from .conftest import answers, denied, make_deployment

STUDIO = """
name_prefix: ops
region: us-east-1
{network}
studio:
  users:
    - {{name: alice, email: alice@example.com, team: forecasting}}
"""


def config(tmp_path: Path, network: str = "") -> Path:
    path = tmp_path / "studio.yaml"
    path.write_text(STUDIO.format(network=network))
    return path


def check(path: Path) -> list[Finding]:
    deployment = make_deployment(path)
    return check_studio(deployment, StackResources(deployment))


def make_domain(name: str) -> str:
    created = boto3.client("sagemaker", region_name=REGION).create_domain(
        DomainName=name,
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/studio"},
        SubnetIds=["subnet-0123456789abcdef0"],
        VpcId="vpc-0123456789abcdef0",
    )
    return str(created["DomainArn"]).rsplit("/", 1)[-1]


def test_a_free_name_passes_and_counts_the_regions_other_domains(
    platform: Platform, tmp_path: Path
) -> None:
    make_domain("someone-elses")
    (finding,) = check(config(tmp_path))
    assert (finding.check, finding.subject, finding.status) == (
        "studio",
        "Studio domain ops-studio",
        "pass",
    )
    assert finding.detail == "free (1 other domain(s) in account 123456789012, us-east-1)"


def test_a_domain_of_the_kits_name_outside_its_stack_fails(
    platform: Platform, tmp_path: Path
) -> None:
    domain_id = make_domain("ops-studio")
    (finding,) = check(config(tmp_path))
    assert finding.status == "fail"
    assert finding.detail == (
        f"a domain named ops-studio ({domain_id}) exists in account 123456789012, us-east-1 "
        "outside ops-Studio: the deploy would create a second domain of the same name"
    )
    assert finding.fix is not None and "docs/studio.md#removing-the-domain" in finding.fix


def test_the_stacks_own_domain_passes(platform: Platform, tmp_path: Path) -> None:
    domain_id = make_domain("ops-studio")
    platform.deploy("Studio", {"DomainId": domain_id})
    owned: dict[str, Any] = {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": "StudioDomain",
                "PhysicalResourceId": domain_id,
                "ResourceType": "AWS::SageMaker::Domain",
                "LastUpdatedTimestamp": "2026-03-01T10:00:00Z",
                "ResourceStatus": "CREATE_COMPLETE",
            }
        ]
    }
    # moto's CloudFormation cannot create a domain: its resource list is answered.
    with answers(platform, ("cloudformation", "ListStackResources", owned)):
        (finding,) = check(config(tmp_path))
    assert (finding.status, finding.detail) == ("pass", "deployed by ops-Studio")


def test_a_config_without_studio_is_not_checked(platform: Platform) -> None:
    assert check(Path(__file__).parents[1] / "ops.yaml") == []


def test_a_denied_listing_is_unknown_and_names_the_permission(
    platform: Platform, tmp_path: Path
) -> None:
    with answers(
        platform, ("sagemaker", "ListDomains", denied("sagemaker:ListDomains")), status=400
    ):
        (finding,) = check(config(tmp_path))
    assert (finding.status, finding.permission) == ("unknown", "sagemaker:ListDomains")


def existing_network(tmp_path: Path) -> tuple[Path, Any, str, list[str]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"]
        for i in range(2)
    ]
    group = ec2.create_security_group(GroupName="studio", Description="d", VpcId=vpc)["GroupId"]
    network = (
        f"network: {{mode: existing, vpc_id: {vpc}, subnet_ids: [{', '.join(subnets)}], "
        f"security_group_ids: [{group}]}}"
    )
    return config(tmp_path, network), ec2, vpc, subnets


def test_an_existing_vpc_without_endpoints_or_nat_fails(platform: Platform, tmp_path: Path) -> None:
    path, ec2, vpc, subnets = existing_network(tmp_path)
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.sagemaker.api", VpcEndpointType="Interface"
    )
    _, network = check(path)
    assert network.status == "fail"
    assert network.detail == (
        f"no interface endpoint for sagemaker.runtime in {vpc}, and {', '.join(subnets)} "
        "route to no NAT gateway: a VpcOnly domain starts no app"
    )
    assert network.data == {
        "missing_endpoints": ["sagemaker.runtime"],
        "subnets_without_nat": subnets,
    }


def test_an_existing_vpc_with_the_endpoints_passes(platform: Platform, tmp_path: Path) -> None:
    path, ec2, vpc, _ = existing_network(tmp_path)
    for service in ("sagemaker.api", "sagemaker.runtime"):
        ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{service}", VpcEndpointType="Interface"
        )
    _, network = check(path)
    assert (network.status, network.detail) == (
        "pass",
        "interface endpoints of the SageMaker API and runtime in the VPC",
    )


def test_an_existing_vpc_routing_every_subnet_through_nat_passes(
    platform: Platform, tmp_path: Path
) -> None:
    path, ec2, vpc, subnets = existing_network(tmp_path)
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat["NatGatewayId"]
    )
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[0])
    _, network = check(path)
    # The second subnet uses the main route table, which has no NAT route.
    assert network.status == "fail" and network.data["subnets_without_nat"] == [subnets[1]]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[1])
    _, network = check(path)
    assert (network.status, network.detail) == (
        "pass",
        "every subnet routes to the internet through a NAT gateway",
    )
