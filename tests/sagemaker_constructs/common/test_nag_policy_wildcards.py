"""acknowledge_policy_wildcards: every wildcard of the policies under a scope is
acknowledged by its exact finding ID, and nothing outside that scope."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from sagemaker_constructs.common import acknowledge, acknowledge_policy_wildcards
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.synth import cdk_json_context


def test_names_each_wildcard_of_the_scope_only() -> None:
    app = cdk.App(context=cdk_json_context())
    stack = cdk.Stack(app, "Stack")
    bucket = s3.Bucket(stack, "Bucket", enforce_ssl=True)
    acknowledge(bucket, "AwsSolutions-S1", "A test bucket without access logs, never deployed.")
    covered = iam.Role(stack, "Covered", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    bucket.grant_read(covered)
    other = iam.Role(stack, "Other", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    other.add_to_policy(iam.PolicyStatement(actions=["s3:Get*"], resources=["arn:aws:s3:::x/*"]))
    acknowledge_policy_wildcards(covered, reason="A CDK-made read grant on one test bucket only.")
    template = app.synth().get_stack_by_name("Stack").template
    findings = unacknowledged_findings(app)
    assert findings and all("/Other/" in f for f in findings)
    assert any("AwsSolutions-IAM5[Action::s3:Get*]" in f for f in findings)
    (policy,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        and r["Properties"]["Roles"]
        == [{"Ref": stack.resolve(covered.node.default_child.logical_id)}]  # type: ignore[union-attr]
    ]
    ids = sorted(rule["id"] for rule in policy["Metadata"]["cdk_nag"]["rules_to_suppress"])
    assert ids == [
        "AwsSolutions-IAM5[Action::s3:GetBucket*]",
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions-IAM5[Action::s3:List*]",
        "AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/*]",
    ]
