"""Workforce kinds and work teams, construct by construct (the full config covers a
Cognito workforce with MFA required; this covers the other choices and the errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import WriteNagSuppressionsToCloudFormationAspect

from sagemaker_constructs.labeling.auto_labeling import AutoLabelingWorkflow
from sagemaker_constructs.labeling.work_team import NotificationKey, WorkTeam
from sagemaker_constructs.labeling.workforce import (
    CognitoWorkforce,
    ExistingWorkforce,
    OidcWorkforce,
)
from tests.oracles.nag import acknowledgements, unacknowledged_findings
from tests.oracles.synth import cdk_json_context, new_stack

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:workforce-oidc-AbCdEf"


def oidc(stack: cdk.Stack, **overrides: Any) -> OidcWorkforce:
    options: dict[str, Any] = {
        "workforce_name": "smkit",
        "issuer": "https://idp.example.com",
        "authorization_endpoint": "https://idp.example.com/authorize",
        "token_endpoint": "https://idp.example.com/token",
        "user_info_endpoint": "https://idp.example.com/userinfo",
        "logout_endpoint": "https://idp.example.com/logout",
        "jwks_uri": "https://idp.example.com/jwks",
        "client_id": "sagemaker_workforce",
        "client_secret_arn": SECRET,
        "client_secret_key": "client_secret",
        **overrides,
    }
    return OidcWorkforce(stack, "Workforce", **options)


@pytest.fixture(scope="module")
def chosen() -> tuple[cdk.Stack, dict[str, Any]]:
    """An OIDC workforce with a team, and an optional-MFA Essentials Cognito workforce,
    in two stacks of one app (one synthesis)."""
    app = cdk.App(context=cdk_json_context())
    oidc_stack = cdk.Stack(app, "Oidc")
    workforce = oidc(oidc_stack, source_ip_cidrs=["198.51.100.0/24"])
    key = NotificationKey(oidc_stack, "Notify", alias="alias/smkit/work-teams").key
    WorkTeam(
        oidc_stack,
        "Team",
        workteam_name="smkit-annotators",
        workforce=workforce,
        team="annotators",
        groups=["ml-annotators", "contractors"],
        notification_key=key,
    )
    cognito_stack = cdk.Stack(app, "Cognito")
    CognitoWorkforce(
        cognito_stack,
        "Workforce",
        workforce_name="smkit",
        domain_prefix="smkit-labelers",
        teams=["reviewers"],
        encryption_key=kms.Key(cognito_stack, "Key", enable_key_rotation=True),
        mfa=cognito.Mfa.OPTIONAL,
        feature_plan=cognito.FeaturePlan.ESSENTIALS,
    )
    cdk.Aspects.of(app).add(WriteNagSuppressionsToCloudFormationAspect())
    assembly = app.synth()
    return oidc_stack, {
        "workforce_id": oidc_stack.resolve(workforce.workforce.logical_id),
        "oidc": assembly.get_stack_by_name("Oidc").template,
        "cognito": assembly.get_stack_by_name("Cognito").template,
        "app": app,
        "paths": [Path(assembly.directory) / s.template_file for s in assembly.stacks],
    }


def test_oidc_workforce_reads_its_secret_at_deploy_time(
    chosen: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    template = Template.from_json(chosen[1]["oidc"])
    template.has_resource_properties(
        "AWS::SageMaker::Workforce",
        {
            "WorkforceName": "smkit",
            "OidcConfig": {
                "Issuer": "https://idp.example.com",
                "AuthorizationEndpoint": "https://idp.example.com/authorize",
                "TokenEndpoint": "https://idp.example.com/token",
                "UserInfoEndpoint": "https://idp.example.com/userinfo",
                "LogoutEndpoint": "https://idp.example.com/logout",
                "JwksUri": "https://idp.example.com/jwks",
                "ClientId": "sagemaker_workforce",
                "ClientSecret": (
                    f"{{{{resolve:secretsmanager:{SECRET}:SecretString:client_secret::}}}}"
                ),
            },
            "SourceIpConfig": {"Cidrs": ["198.51.100.0/24"]},
        },
    )
    template.has_resource(
        "AWS::SageMaker::Workforce", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )
    template.has_resource(
        "AWS::SageMaker::Workteam",
        {
            "Properties": cdk.assertions.Match.object_like(
                {
                    "WorkteamName": "smkit-annotators",
                    "WorkforceName": "smkit",
                    "Description": "Labeling team",
                    "MemberDefinitions": [
                        {"OidcMemberDefinition": {"OidcGroups": ["ml-annotators", "contractors"]}}
                    ],
                }
            ),
            "DependsOn": [chosen[1]["workforce_id"]],
        },
    )
    template.resource_count_is("AWS::Cognito::UserPool", 0)


def test_optional_mfa_and_essentials_are_choices_acknowledged_with_their_setting(
    chosen: tuple[cdk.Stack, dict[str, Any]],
) -> None:
    pool = Template.from_json(chosen[1]["cognito"])
    pool.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "MfaConfiguration": "OPTIONAL",
            "UserPoolTier": "ESSENTIALS",
            "UserPoolAddOns": cdk.assertions.Match.absent(),
        },
    )
    reasons = {
        a.rule_id: a.reason
        for a in acknowledgements([p for p in chosen[1]["paths"] if p.name.startswith("Cognito")])
    }
    assert "labeling.workforce.mfa" in reasons["AwsSolutions-COG2"]
    assert "labeling.workforce.feature_plan" in reasons["AwsSolutions-COG8"]
    findings = unacknowledged_findings(chosen[1]["app"])
    assert [f for f in findings if "/Workforce/" in f or "/Team/" in f or "/Notify/" in f] == []


def test_existing_workforce_teams_are_groups_of_its_pool_or_provider() -> None:
    stack = new_stack()
    key = NotificationKey(stack, "Notify", alias="alias/smkit/work-teams").key
    pool = ExistingWorkforce(
        user_pool_id="us-east-1_AbCdEf123", client_id="4example", portal_url=None
    )
    WorkTeam(stack, "A", workteam_name="smkit-a", workforce=pool, team="a", notification_key=key)
    provider = ExistingWorkforce(workforce_name="labelers")
    WorkTeam(
        stack,
        "B",
        workteam_name="smkit-b",
        workforce=provider,
        team="b",
        groups=["g1"],
        notification_key=key,
    )
    teams = {
        r["Properties"]["WorkteamName"]: r
        for r in Template.from_stack(stack).find_resources("AWS::SageMaker::Workteam").values()
    }
    assert teams["smkit-a"]["Properties"]["WorkforceName"] == "default"
    assert teams["smkit-a"]["Properties"]["MemberDefinitions"] == [
        {
            "CognitoMemberDefinition": {
                "CognitoClientId": "4example",
                "CognitoUserGroup": "a",
                "CognitoUserPool": "us-east-1_AbCdEf123",
            }
        }
    ]
    assert "DependsOn" not in teams["smkit-a"]  # nothing created here to wait for
    assert teams["smkit-b"]["Properties"]["MemberDefinitions"] == [
        {"OidcMemberDefinition": {"OidcGroups": ["g1"]}}
    ]
    with pytest.raises(ValueError, match="a Cognito work team is one group"):
        pool.member_definition("x", ["g1", "g2"])


def test_workforce_props_are_checked_together() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError) as raised:
        CognitoWorkforce(
            stack,
            "Workforce",
            workforce_name="-bad name",
            domain_prefix="my-aws-labelers",
            teams=["a", "a"],
            workers={"b": ["x@example.com"]},
            encryption_key=key,
            source_ip_cidrs=[f"10.0.{n}.0/24" for n in range(11)],
        )
    assert str(raised.value) == (
        "Invalid CognitoWorkforce props: workforce_name must be 1-63 letters, digits and "
        "hyphens (got '-bad name'); source_ip_cidrs takes at most 10 ranges (got 11); "
        "domain_prefix must be 1-63 lower-case letters, digits and hyphens without 'aws', "
        "'amazon' or 'cognito' (got 'my-aws-labelers'); teams must be unique (got ['a', 'a']); "
        "workers name teams that do not exist: ['b']"
    )
    with pytest.raises(ValueError) as raised:
        oidc(new_stack(), issuer="http://idp", client_id="with-hyphen")
    assert "issuer must be an https URL (got 'http://idp')" in str(raised.value)
    assert "client_id must be 1-1024 letters, digits, underscores and plus signs" in str(
        raised.value
    )
    with pytest.raises(ValueError, match="user_pool_id and client_id go together"):
        ExistingWorkforce(user_pool_id="us-east-1_AbCdEf123")
    with pytest.raises(
        ValueError, match=r"workteam_name must be 1-63 letters.*description must be 1-200"
    ):
        WorkTeam(
            stack,
            "Team",
            workteam_name="bad_name",
            workforce=ExistingWorkforce(),
            team="t",
            description="",
            notification_key=key,
        )


def test_auto_labeling_props_are_checked_together() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        AutoLabelingWorkflow(
            stack,
            "Auto",
            name="Reviews",
            data_type="video",
            labels=["only"],
            endpoint_names=[],
            data_bucket=None,  # type: ignore[arg-type]
            encryption_key=None,  # type: ignore[arg-type]
            alerts_topic=None,  # type: ignore[arg-type]
            default_threshold=1.5,
            instances_per_request=0,
            objects_per_batch=5,
            max_concurrency=2000,
        )
    assert str(raised.value) == (
        "Invalid AutoLabelingWorkflow props: name must be 1-20 lower-case letters, digits and "
        "hyphens (got 'Reviews'); data_type must be text or image (got 'video'); labels must be "
        "2-30 unique classes (got ['only']); endpoint_names needs 1-10 endpoints (got 0); "
        "default_threshold must be 0-1 (got 1.5); instances_per_request must be 1-1000 (got 0); "
        "objects_per_batch must be 10-10000 (got 5); max_concurrency must be 1-1000 (got 2000)"
    )
