"""StudioExecutionRole: what Studio users may do, and what not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import aws_stepfunctions as sfn

from tests.oracles.synth import new_stack

from .helpers import execution_role, of_type, platform, statements, synthesized

OWN_PROFILE = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:user-profile/"
    "${sagemaker:DomainId}/${sagemaker:UserProfileName}"
)


def flat(value: Any) -> Any:
    """`value` with Fn::Join of plain parts and pseudo-parameter Refs written as text."""
    if isinstance(value, list):
        return [flat(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and str(value["Ref"]).startswith("AWS::"):
            return f"${{{value['Ref']}}}"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            parts = [flat(p) for p in parts]
            if all(isinstance(p, str) for p in parts):
                return separator.join(parts)
            return {"Fn::Join": [separator, parts]}
        return {k: flat(v) for k, v in value.items()}
    return value


def rendered(value: Any) -> str:
    """A resource or condition value, flattened, as text."""
    return json.dumps(flat(value))


def by_sid(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in found if "Sid" in s}


def role_template(**kwargs: Any) -> dict[str, Any]:
    stack = new_stack()
    parts = platform(stack)
    execution_role(stack, parts, **kwargs)
    return synthesized(stack)


def test_users_act_on_their_own_private_spaces_only_and_start_allowed_types_only() -> None:
    template = role_template(allowed_instance_types=["ml.t3.medium", "ml.g5.xlarge"])
    sids = by_sid(statements(template, "Users"))
    private_own = {
        "ArnLike": {"sagemaker:OwnerUserProfileArn": OWN_PROFILE},
        "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
    }
    spaces = sids["UsersCreateTheirOwnPrivateSpaces"]
    assert spaces["Action"] == ["sagemaker:CreateSpace", "sagemaker:UpdateSpace"]
    assert json.loads(rendered(spaces["Condition"])) == private_own
    create = sids["UsersStartAppsInTheirOwnPrivateSpaces"]
    assert create["Action"] == "sagemaker:CreateApp"
    # STUDIO-8: the allowed types, and the request must name one.
    assert json.loads(rendered(create["Condition"])) == {
        **private_own,
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": ["ml.g5.xlarge", "ml.t3.medium"]},
        "Null": {"sagemaker:InstanceTypes": "false"},
    }
    assert "app/${sagemaker:DomainId}/*" in rendered(create["Resource"])
    delete = sids["UsersStopAppsInTheirOwnPrivateSpaces"]
    assert json.loads(rendered(delete["Condition"])) == private_own
    assert json.loads(rendered(sids["StudioOpensTheUsersOwnProfile"]["Resource"])) == OWN_PROFILE
    assert sids["StudioTagsWhatItCreates"]["Condition"] == {
        "Null": {"sagemaker:TaggingAction": "false"}
    }
    actions = {
        a
        for s in statements(template, "Users")
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    for never in ("sagemaker:DeleteSpace", "sagemaker:DeleteDomain", "sagemaker:UpdateDomain"):
        assert never not in actions
    assert not [a for a in actions if a.endswith("*") and a.startswith("sagemaker:")]


def test_without_limits_any_type_and_without_user_spaces_no_space_creation() -> None:
    sids = by_sid(statements(role_template(users_create_spaces=False), "Users"))
    assert "UsersCreateTheirOwnPrivateSpaces" not in sids
    condition = sids["UsersStartAppsInTheirOwnPrivateSpaces"]["Condition"]
    assert "ForAllValues:StringEquals" not in condition and "Null" not in condition


def test_users_pass_only_the_job_role_and_write_only_the_studio_prefix() -> None:
    template = role_template()
    found = statements(template, "Users")
    passes = [s for s in found if s["Action"] == "iam:PassRole"]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Fn::GetAtt": [passes[0]["Resource"]["Fn::GetAtt"][0], "Arn"]}
    assert passes[0]["Resource"]["Fn::GetAtt"][0].startswith("JobsRole")
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    writes = [
        rendered(s["Resource"])
        for s in found
        if "s3:PutObject" in s["Action"] and "Artifacts" in rendered(s["Resource"])
    ]
    assert writes and all('"/studio/*"' in w for w in writes)
    grants = [s for s in found if s["Action"] == "kms:CreateGrant"]
    assert grants[0]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    logs = [s for s in found if "logs:PutLogEvents" in s["Action"]]
    assert [rendered(s["Resource"]) for s in logs] == [
        '"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:'
        '/aws/sagemaker/studio:*"'
    ]


def test_the_trust_policy_lets_sagemaker_set_the_user_as_source_identity() -> None:
    template = role_template()
    (role,) = [
        r for k, r in of_type(template, "AWS::IAM::Role").items() if k.startswith("UsersRole")
    ]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]


def test_users_start_and_follow_the_platforms_workflows_only() -> None:
    stack = new_stack()
    parts = platform(stack)
    machine = sfn.StateMachine(
        stack,
        "Workflow",
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Step")),
    )
    execution_role(stack, parts, workflows=[machine])
    sids = by_sid(statements(synthesized(stack), "Users"))
    start = sids["StartThePlatformsWorkflows"]
    assert start["Action"] == [
        "states:DescribeStateMachine",
        "states:ListExecutions",
        "states:StartExecution",
    ]
    assert start["Resource"] == {"Ref": stack.get_logical_id(machine.node.default_child)}  # type: ignore[arg-type]
    follow = sids["FollowTheirRuns"]
    assert ":execution:" in rendered(follow["Resource"])
    assert "Name" in rendered(follow["Resource"])


def test_bad_arguments_are_reported_together() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        execution_role(
            stack, platform(stack), artifacts_prefix="/studio/", allowed_instance_types=[]
        )
    message = str(raised.value)
    assert (
        "artifacts_prefix must not be empty nor start or end with '/' (got '/studio/')" in message
    )
    assert "allowed_instance_types needs at least one type, or None for any" in message
