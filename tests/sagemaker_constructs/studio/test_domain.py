"""StudioDomain on its own: network modes, encryption, idle shutdown, users with their
tags and roles, private spaces, a custom image, validation, and cdk-nag."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.studio import IdleShutdown, StudioImage
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.synth import new_stack

from .helpers import NETWORK, domain, of_type, platform, synthesized


def test_a_vpc_only_domain_is_encrypted_propagates_tags_and_is_retained() -> None:
    stack = new_stack()
    parts = platform(stack)
    made = domain(stack, parts)
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::SageMaker::Domain",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "DomainName": "demo-studio",
                    "AuthMode": "IAM",
                    "AppNetworkAccessType": "VpcOnly",
                    "VpcId": NETWORK.vpc_id,
                    "SubnetIds": list(NETWORK.subnet_ids),
                    "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
                    "TagPropagation": "ENABLED",
                    "DomainSettings": {"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME"},
                    "DefaultUserSettings": Match.object_like(
                        {
                            "SecurityGroups": list(NETWORK.security_group_ids),
                            "DefaultLandingUri": "studio::",
                            "StudioWebPortalSettings": {
                                "HiddenAppTypes": ["Canvas", "JupyterServer", "RStudioServerPro"]
                            },
                            "SharingSettings": {"NotebookOutputOption": "Disabled"},
                            "SpaceStorageSettings": {
                                "DefaultEbsStorageSettings": {
                                    "DefaultEbsVolumeSizeInGb": 5,
                                    "MaximumEbsVolumeSizeInGb": 100,
                                }
                            },
                        }
                    ),
                }
            ),
        },
    )
    assert made.max_space_size_gb == 100


def test_idle_shutdown_stops_jupyterlab_and_code_editor_apps_within_the_users_range() -> None:
    stack = new_stack()
    domain(
        stack,
        platform(stack),
        idle_shutdown=IdleShutdown(idle_minutes=90, min_minutes=60, max_minutes=300),
        default_instance_type="ml.m5.xlarge",
    )
    settings = Template.from_stack(stack).find_resources("AWS::SageMaker::Domain")
    (domain_resource,) = settings.values()
    user = domain_resource["Properties"]["DefaultUserSettings"]
    idle = {
        "IdleSettings": {
            "LifecycleManagement": "ENABLED",
            "IdleTimeoutInMinutes": 90,
            "MinIdleTimeoutInMinutes": 60,
            "MaxIdleTimeoutInMinutes": 300,
        }
    }
    assert user["JupyterLabAppSettings"]["AppLifecycleManagement"] == idle
    assert user["CodeEditorAppSettings"]["AppLifecycleManagement"] == idle
    assert user["JupyterLabAppSettings"]["DefaultResourceSpec"] == {"InstanceType": "ml.m5.xlarge"}
    assert user["CodeEditorAppSettings"]["DefaultResourceSpec"] == {"InstanceType": "ml.m5.xlarge"}


def test_idle_shutdown_off_and_code_editor_hidden() -> None:
    stack = new_stack()
    domain(stack, platform(stack), idle_shutdown=None, code_editor=False)
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Domain").values()
    user = resource["Properties"]["DefaultUserSettings"]
    off = {"IdleSettings": {"LifecycleManagement": "DISABLED"}}
    assert user["JupyterLabAppSettings"]["AppLifecycleManagement"] == off
    assert "CodeEditor" in user["StudioWebPortalSettings"]["HiddenAppTypes"]


def test_without_vpc_only_apps_use_public_internet_and_take_no_security_group() -> None:
    stack = new_stack()
    domain(stack, platform(stack), vpc_only=False, security_group_ids=())
    (resource,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Domain").values()
    assert resource["Properties"]["AppNetworkAccessType"] == "PublicInternetOnly"
    assert "SecurityGroups" not in resource["Properties"]["DefaultUserSettings"]


def test_every_bad_domain_argument_is_reported_at_once() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        domain(
            stack,
            platform(stack),
            domain_name="demo_studio",
            subnet_ids=(),
            security_group_ids=(),
            default_instance_type="system",
            default_space_size_gb=200,
            max_space_size_gb=20_000,
            idle_shutdown=IdleShutdown(idle_minutes=30, min_minutes=60, max_minutes=100),
        )
    message = str(raised.value)
    assert message.startswith("Invalid StudioDomain props: domain_name must be 1-63 letters")
    for fragment in (
        "(got 'demo_studio')",
        "subnet_ids needs 1-16 subnets (got 0)",
        "vpc_only needs at least one security group",
        "default_instance_type must be one AWS::SageMaker::Domain accepts for JupyterLab",
        "(got 'system')",
        "max_space_size_gb must be 5-16384 (got 20000)",
        "idle idle_minutes must be 60-525600 minutes (got 30)",
        "idle_minutes (30) must lie within min_minutes-max_minutes (60-100)",
    ):
        assert fragment in message
    with pytest.raises(ValueError, match=r"security_group_ids takes at most 4 groups"):
        domain(new_stack(), platform(new_stack()), security_group_ids=[f"sg-{i}" for i in range(5)])


def test_users_carry_owner_and_team_tags_their_spaces_too_and_may_have_own_roles() -> None:
    stack = new_stack()
    parts = platform(stack)
    made = domain(stack, parts)
    alice = made.add_user(
        "Alice", user_name="alice", owner_email="alice@example.com", team="forecasting"
    )
    made.add_user(
        "Bob",
        user_name="bob",
        owner_email="bob@example.com",
        team="nlp",
        team_tag_key="CostTeam",
        execution_role=parts["job_role"],
    )
    made.add_space("Space", space_name="alice-main", owner=alice, volume_size_gb=50)
    made.add_space("Gpu", space_name="alice-gpu", owner=alice, instance_type="ml.g5.xlarge")
    template = synthesized(stack)
    profiles = of_type(template, "AWS::SageMaker::UserProfile")
    tags = {
        r["Properties"]["UserProfileName"]: {t["Key"]: t["Value"] for t in r["Properties"]["Tags"]}
        for r in profiles.values()
    }
    assert tags == {
        "alice": {"Owner": "alice@example.com", "Team": "forecasting"},
        "bob": {"Owner": "bob@example.com", "CostTeam": "nlp"},
    }
    bob = next(r for r in profiles.values() if r["Properties"]["UserProfileName"] == "bob")
    assert bob["Properties"]["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][1] == "Arn"
    assert all(r["DeletionPolicy"] == "Retain" for r in profiles.values())
    spaces = {
        r["Properties"]["SpaceName"]: r for r in of_type(template, "AWS::SageMaker::Space").values()
    }
    main = spaces["alice-main"]
    assert main["DeletionPolicy"] == "Retain"
    assert main["DependsOn"] == [stack.get_logical_id(alice)]
    assert main["Properties"]["OwnershipSettings"] == {"OwnerUserProfileName": "alice"}
    assert main["Properties"]["SpaceSharingSettings"] == {"SharingType": "Private"}
    assert main["Properties"]["SpaceSettings"] == {
        "AppType": "JupyterLab",
        "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 50}},
    }
    assert {t["Key"]: t["Value"] for t in main["Properties"]["Tags"]} == tags["alice"]
    assert spaces["alice-gpu"]["Properties"]["SpaceSettings"]["JupyterLabAppSettings"] == {
        "DefaultResourceSpec": {"InstanceType": "ml.g5.xlarge"}
    }


def test_user_and_space_mistakes_name_the_rule() -> None:
    stack = new_stack()
    made = domain(stack, platform(stack))
    alice = made.add_user("Alice", user_name="alice", owner_email="a@example.com", team="t")
    cases: list[tuple[Any, str]] = [
        (
            lambda: made.add_user("A2", user_name="alice", owner_email="a@x.com", team="t"),
            "user 'alice' is already in the domain",
        ),
        (
            lambda: made.add_user("Up", user_name="Alice_2", owner_email="a@x.com", team="t"),
            "user_name must be 1-63 lower-case letters, digits and hyphens",
        ),
        (
            lambda: made.add_user(
                "Sso", user_name="carol", owner_email="c@x.com", team="t", sso_user_name="carol"
            ),
            "sso_user_name is required with SSO and refused with IAM",
        ),
        (
            lambda: made.add_space("Big", space_name="big", owner=alice, volume_size_gb=101),
            "volume_size_gb must be 5-100, the domain's maximum (got 101)",
        ),
        (
            lambda: made.add_space(
                "G7", space_name="g7", owner=alice, instance_type="ml.g7.xlarge"
            ),
            "instance_type must be one AWS::SageMaker::Space accepts for JupyterLab",
        ),
    ]
    for make, fragment in cases:
        with pytest.raises(ValueError) as raised:
            make()
        assert fragment in str(raised.value)
    made.add_space("One", space_name="one", owner=alice)
    with pytest.raises(ValueError, match=r"space 'one' is already in the domain"):
        made.add_space("Two", space_name="one", owner=alice)


def test_sso_profiles_name_their_identity_center_user() -> None:
    stack = new_stack()
    made = domain(stack, platform(stack), auth_mode="SSO")
    made.add_user(
        "Alice",
        user_name="alice",
        owner_email="alice@example.com",
        team="t",
        sso_user_name="alice.smith",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SageMaker::Domain", {"AuthMode": "SSO"})
    template.has_resource_properties(
        "AWS::SageMaker::UserProfile",
        {"SingleSignOnUserIdentifier": "UserName", "SingleSignOnUserValue": "alice.smith"},
    )


def test_a_custom_image_is_pulled_with_its_own_role_from_its_repository_only() -> None:
    stack = new_stack()
    parts = platform(stack)
    image = StudioImage(
        stack, "Image", image_name="demo-jupyterlab-image", repository_name="ml/lab", tag="1.4"
    )
    domain(stack, parts, custom_image=image)
    template = synthesized(stack)
    (version,) = of_type(template, "AWS::SageMaker::ImageVersion").values()
    assert version["Properties"]["ImageName"] == "demo-jupyterlab-image"
    assert version["Properties"]["BaseImage"]["Fn::Join"][1][-1] == "/ml/lab:1.4"
    assert version["DependsOn"] == [stack.get_logical_id(image.image)]
    (config,) = of_type(template, "AWS::SageMaker::AppImageConfig").values()
    assert config["Properties"] == {
        "AppImageConfigName": "demo-jupyterlab-image",
        "JupyterLabAppImageConfig": {},
    }
    (domain_resource,) = of_type(template, "AWS::SageMaker::Domain").values()
    lab = domain_resource["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["CustomImages"] == [
        {"AppImageConfigName": "demo-jupyterlab-image", "ImageName": "demo-jupyterlab-image"}
    ]
    assert {
        stack.get_logical_id(image.version),
        stack.get_logical_id(image.app_image_config),
    } <= set(domain_resource["DependsOn"])
    pulls = [
        s
        for logical_id, resource in of_type(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("ImageRole")
        for s in resource["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in s["Action"]
    ]
    assert len(pulls) == 1 and pulls[0]["Resource"]["Fn::Join"][1][-1] == ":repository/ml/lab"
    with pytest.raises(ValueError) as raised:
        StudioImage(new_stack(), "Bad", image_name="bad_name", repository_name="Ml", tag="a b")
    for fragment in ("image_name must be", "(got 'bad_name')", "repository_name must be an ECR"):
        assert fragment in str(raised.value)


def test_cdk_nag_finds_nothing_unacknowledged() -> None:
    stack = new_stack()
    parts = platform(stack)
    made = domain(stack, parts)
    alice = made.add_user("Alice", user_name="alice", owner_email="a@example.com", team="t")
    made.add_space("Space", space_name="alice-main", owner=alice)
    StudioImage(stack, "Image", image_name="demo-image", repository_name="ml/lab")
    synthesized(stack)
    app = stack.node.root
    findings = [
        f
        for f in unacknowledged_findings(app)  # type: ignore[arg-type]
        if "/Domain/" in f or "/Users/" in f or "/Image/" in f
    ]
    assert findings == []
