"""The Studio domain: a domain of the kit's name made outside its stack (CloudFormation
would create a second one of the same name, and nobody could tell them apart), and, in
network mode `existing`, whether the subnets reach the SageMaker API and runtime, without
which a `VpcOnly` domain starts no app (STUDIO-6)."""

from __future__ import annotations

from typing import Any

from stacks.settings.foundation import ExistingNetwork

from ..deployment import Deployment
from .findings import Finding, UnsettledError, collect
from .owned import StackResources

REQUIRED_ENDPOINTS = ("sagemaker.api", "sagemaker.runtime")
"""Interface endpoints a `VpcOnly` domain needs without a NAT gateway
(studio-updated-and-internet-access.html)."""


def check_studio(deployment: Deployment, stacks: StackResources) -> list[Finding]:
    """The domain's name, and the existing network's way to the SageMaker API."""
    if deployment.settings.studio is None:
        return []
    findings = [_domain_name(deployment, stacks)]
    network = deployment.settings.network
    if isinstance(network, ExistingNetwork):
        findings.append(_existing_network(deployment, network))
    return findings


def _domain_name(deployment: Deployment, stacks: StackResources) -> Finding:
    name = f"{deployment.prefix}-studio"
    stack = deployment.settings.stack_name("Studio")
    subject = f"Studio domain {name}"
    try:
        domains = collect(deployment.aws.client("sagemaker"), "ListDomains", "Domains")
        named = [d for d in domains if d.get("DomainName") == name]
        ours = {
            d["DomainId"]
            for d in named
            if stacks.owns("Studio", "AWS::SageMaker::Domain", str(d["DomainId"]))
        }
    except UnsettledError as unsettled:
        return unsettled.finding("studio", subject)
    others = [d for d in named if d["DomainId"] not in ours]
    data = {"domains_in_region": len(domains)}
    if others:
        ids = ", ".join(str(d["DomainId"]) for d in others)
        return Finding(
            "studio",
            subject,
            "fail",
            f"a domain named {name} ({ids}) exists in {deployment.where()} outside {stack}: "
            "the deploy would create a second domain of the same name",
            fix=f"Remove it (docs/studio.md#removing-the-domain) or change name_prefix; a "
            f"domain of an earlier deployment goes back under {stack} with `npx cdk import`.",
            data=data,
        )
    if ours:
        return Finding("studio", subject, "pass", f"deployed by {stack}", data=data)
    return Finding(
        "studio",
        subject,
        "pass",
        f"free ({len(domains)} other domain(s) in {deployment.where()})",
        data=data,
    )


def _existing_network(deployment: Deployment, network: ExistingNetwork) -> Finding:
    subject = f"Studio's way to the SageMaker API from {network.vpc_id}"
    region = deployment.aws.region
    ec2 = deployment.aws.client("ec2")
    try:
        endpoints = collect(
            ec2,
            "DescribeVpcEndpoints",
            "VpcEndpoints",
            Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}],
        )
        services = {
            str(e.get("ServiceName", "")).removeprefix(f"com.amazonaws.{region}.")
            for e in endpoints
            if e.get("State", "available") == "available"
        }
        missing = [s for s in REQUIRED_ENDPOINTS if s not in services]
        if not missing:
            return Finding(
                "studio",
                subject,
                "pass",
                "interface endpoints of the SageMaker API and runtime in the VPC",
            )
        without_nat = _subnets_without_nat(deployment, network)
    except UnsettledError as unsettled:
        return unsettled.finding("studio", subject)
    if not without_nat:
        return Finding(
            "studio", subject, "pass", "every subnet routes to the internet through a NAT gateway"
        )
    return Finding(
        "studio",
        subject,
        "fail",
        f"no interface endpoint for {', '.join(missing)} in {network.vpc_id}, and "
        f"{', '.join(without_nat)} route to no NAT gateway: a VpcOnly domain starts no app",
        fix=f"Create interface endpoints com.amazonaws.{region}.sagemaker.api and "
        f".sagemaker.runtime (private DNS on) in {network.vpc_id}, or route the subnets "
        "through a NAT gateway (docs/studio.md#network).",
        data={"missing_endpoints": missing, "subnets_without_nat": without_nat},
    )


def _subnets_without_nat(deployment: Deployment, network: ExistingNetwork) -> list[str]:
    """The configured subnets whose route table (their own or the VPC's main one) has no
    default route through a NAT gateway."""
    tables = collect(
        deployment.aws.client("ec2"),
        "DescribeRouteTables",
        "RouteTables",
        Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}],
    )
    by_subnet: dict[str, dict[str, Any]] = {}
    main: dict[str, Any] | None = None
    for table in tables:
        for association in table.get("Associations", []):
            if association.get("Main"):
                main = table
            if association.get("SubnetId"):
                by_subnet[str(association["SubnetId"])] = table
    return [
        subnet
        for subnet in network.subnet_ids
        if not _routes_to_nat(by_subnet.get(subnet, main or {}))
    ]


def _routes_to_nat(table: dict[str, Any]) -> bool:
    return any(
        route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("NatGatewayId")
        for route in table.get("Routes", [])
    )
