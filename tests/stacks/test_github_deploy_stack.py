"""The GitHubDeploy stack: an OIDC provider and a role trusted only by the configured
repository's environments / branches, allowed only to assume the CDK bootstrap roles."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks.github_deploy_stack import BOOTSTRAP_ROLES, GitHubDeployStack
from stacks.settings import ConfigError, parse_settings
from tests.oracles.synth import Synthesis, cdk_json_context


def test_only_when_configured(default_synth: Synthesis, full_synth: Synthesis) -> None:
    assert default_synth.platform.github_deploy is None
    assert "smkit-Github" not in " ".join(default_synth.stack_names)
    assert "smkit-full-GitHubDeploy" in full_synth.stack_names


def test_provider_is_githubs_with_sts_audience(full_synth: Synthesis) -> None:
    full_synth.assertions("GitHubDeploy").has_resource_properties(
        "AWS::IAM::OIDCProvider",
        {
            "Url": "https://token.actions.githubusercontent.com",
            "ClientIdList": ["sts.amazonaws.com"],
        },
    )


def test_role_trusts_only_the_repository_subjects(full_synth: Synthesis) -> None:
    full_synth.assertions("GitHubDeploy").has_resource_properties(
        "AWS::IAM::Role",
        {
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Effect": "Allow",
                        "Principal": {
                            "Federated": {"Ref": Match.string_like_regexp("GitHubOidcProvider")}
                        },
                        "Condition": {
                            "StringEquals": {
                                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                "token.actions.githubusercontent.com:sub": [
                                    "repo:example-org/sagemaker-platform:environment:dev",
                                    "repo:example-org/sagemaker-platform:environment:prod",
                                    "repo:example-org/sagemaker-platform:ref:refs/heads/main",
                                ],
                            }
                        },
                    }
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_role_may_only_assume_the_bootstrap_roles(full_synth: Synthesis) -> None:
    (policy,) = full_synth.resources("GitHubDeploy", "AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    names = [part["Fn::Join"][1][4] for part in statement["Resource"]]
    assert names == [f":role/cdk-hnb659fds-{role}-role-" for role in BOOTSTRAP_ROLES]
    assert full_synth.resources("GitHubDeploy", "AWS::IAM::ManagedPolicy") == {}
    (role,) = full_synth.resources("GitHubDeploy", "AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]


def test_outputs_give_the_role_arn_for_the_repository_variable(full_synth: Synthesis) -> None:
    outputs = full_synth.template("GitHubDeploy")["Outputs"]
    assert outputs["DeployRoleArn"]["Description"].startswith("Set as the AWS_DEPLOY_ROLE_ARN")
    assert set(outputs) == {"DeployRoleArn", "OidcProviderArn"}


def test_existing_provider_is_reused_not_created() -> None:
    settings = parse_settings(
        "name_prefix: demo\ngithub_deploy:\n  repository: o/r\n  cdk_qualifier: custom1\n"
        "  oidc_provider_arn: "
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com\n"
    )
    assert settings.github_deploy is not None
    stack = GitHubDeployStack(
        cdk.App(context=cdk_json_context()), "Deploy", settings=settings.github_deploy
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::OIDCProvider", 0)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {
                    "Statement": [
                        Match.object_like(
                            {
                                "Principal": {
                                    "Federated": "arn:aws:iam::123456789012:oidc-provider/"
                                    "token.actions.githubusercontent.com"
                                }
                            }
                        )
                    ]
                }
            )
        },
    )
    policy = next(iter(template.find_resources("AWS::IAM::Policy").values()))
    resources = policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
    assert resources[0]["Fn::Join"][1][4] == ":role/cdk-custom1-deploy-role-"


def _integ_stack(extra: str = "") -> Template:
    settings = parse_settings(
        "name_prefix: demo\ngithub_deploy:\n  repository: o/r\n  integ_environment: integ\n"
        "  max_session_hours: 4\n" + extra
    )
    assert settings.github_deploy is not None
    stack = GitHubDeployStack(
        cdk.App(context=cdk_json_context()), "Deploy", settings=settings.github_deploy
    )
    return Template.from_stack(stack)


def test_the_integ_environment_is_trusted_and_may_only_clean_up_integration_stacks() -> None:
    template = _integ_stack()
    (role,) = template.find_resources("AWS::IAM::Role").values()
    subjects = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"][
        "StringEquals"
    ]["token.actions.githubusercontent.com:sub"]
    assert subjects == [
        "repo:o/r:environment:dev",
        "repo:o/r:environment:prod",
        "repo:o/r:environment:integ",
    ]
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    actions = [s["Action"] for s in statements[1:]]
    assert actions == [
        "cloudformation:ListStackResources",
        ["s3:ListBucket", "s3:ListBucketVersions"],
        ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        "sagemaker:ListModelPackages",
        "sagemaker:DeleteModelPackage",
    ]
    text = json.dumps(statements[1:])
    # Every resource but ListModelPackages' (no resource-level permission) is an
    # integration case's.
    assert text.count("smkit-it-*") == 5
    assert [s["Resource"] for s in statements[1:]].count("*") == 1


def test_without_an_integ_environment_nothing_changes(full_synth: Synthesis) -> None:
    (policy,) = full_synth.resources("GitHubDeploy", "AWS::IAM::Policy").values()
    assert len(policy["Properties"]["PolicyDocument"]["Statement"]) == 1


def test_the_integ_environment_must_be_its_own() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            "name_prefix: demo\ngithub_deploy:\n  repository: o/r\n  integ_environment: dev\n"
        )
    assert "github_deploy.integ_environment" in str(err.value)
    assert "'dev' is also in environments: the integration tests need an environment" in str(
        err.value
    )
