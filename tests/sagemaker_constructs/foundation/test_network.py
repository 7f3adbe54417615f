from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from sagemaker_constructs.foundation import IsolatedNetwork, NetworkPlacement
from tests.oracles.synth import new_stack


def test_placement_renders_sagemaker_vpc_config() -> None:
    placement = NetworkPlacement.from_ids(
        vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"], security_group_ids=["sg-1"]
    )
    assert placement.vpc_config() == {
        "SecurityGroupIds": ["sg-1"],
        "Subnets": ["subnet-a", "subnet-b"],
    }


def test_placement_needs_subnets_and_groups() -> None:
    with pytest.raises(ValueError) as raised:
        NetworkPlacement.from_ids(vpc_id="vpc-1", subnet_ids=[], security_group_ids=[])
    assert str(raised.value) == (
        "Invalid NetworkPlacement props: subnet_ids needs at least one subnet (got none); "
        "security_group_ids needs 1-5 groups (got 0)"
    )


def test_three_azs_and_workload_group_rules() -> None:
    stack = new_stack()
    network = IsolatedNetwork(
        stack, "Net", encryption_key=kms.Key(stack, "Key"), cidr="10.9.0.0/20", max_azs=3
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::Subnet", 3)
    assert len(network.placement.subnet_ids) == 3
    resources = template.to_json()["Resources"]
    workload = next(
        r
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroup"
        and r["Properties"]["GroupDescription"].startswith("SageMaker")
    )
    assert workload["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to VPC endpoints and S3 (no internet route)",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in workload["Properties"]  # only from itself, below
    self_rules = [
        r
        for r in resources.values()
        if r["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    ]
    assert {r["Properties"]["IpProtocol"] for r in self_rules} == {"-1"}
    assert len(self_rules) == 2


def test_bad_size_and_azs() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        IsolatedNetwork(
            stack, "Net", encryption_key=kms.Key(stack, "Key"), cidr="10.0.0.0/8", max_azs=1
        )
    assert str(raised.value) == (
        "Invalid IsolatedNetwork props: max_azs must be 2-3 (got 1); "
        "cidr must be an IPv4 /16 to /24 block (got '10.0.0.0/8')"
    )
