"""The Studio stack from settings: the full example's VpcOnly domain in the private network
with two users, a domain in network mode `none` with its own home-file-system VPC, and
one with the Studio UI endpoint and a custom image; the budget guard's reach into the
domain; and the default config, which has none of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from stacks.studio_stack import DOMAIN_LOGICAL_ID, space_logical_id, user_logical_id
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.synth import Synthesis, synthesize
from tests.stacks.settings.test_stack_sizes import assert_counts_match

NONE_CONFIG: dict[str, Any] = {
    "name_prefix": "lab",
    "network": {"mode": "none"},
    "studio": {
        "auth": "sso",
        "users_create_spaces": False,
        "code_editor": False,
        "idle_shutdown": {"enabled": False},
        "users": [
            {
                "name": "carol",
                "email": "carol@example.com",
                "team": "vision",
                "sso_user_name": "carol.jones",
                "spaces": [
                    {"name": "carol-main"},
                    {"name": "carol-gpu", "instance_type": "ml.g5.xlarge"},
                ],
            }
        ],
    },
}
PRIVATE_CONFIG: dict[str, Any] = {
    "name_prefix": "lab",
    "network": {"mode": "private"},
    "cost": {"limits": {"instance_types": {"studio": ["ml.t3.medium", "ml.g5.xlarge"]}}},
    "studio": {
        "private_studio_endpoint": True,
        "custom_image": {"repository": "ml-platform/jupyterlab", "tag": "2.1"},
        "package_sources": {"conda_channels": ["https://mirror.example.internal/conda-forge"]},
        "kernels": {"sklearn": {"conda_packages": ["scikit-learn"]}},
        "users": [{"name": "dave", "email": "dave@example.com", "team": "nlp"}],
    },
}


def _synth(
    tmp_path_factory: pytest.TempPathFactory, name: str, config: dict[str, Any]
) -> Synthesis:
    folder = tmp_path_factory.mktemp(name)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return synthesize(path, folder / "cdk.out")


@pytest.fixture(scope="module")
def none_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return _synth(tmp_path_factory, "studio-none", NONE_CONFIG)


@pytest.fixture(scope="module")
def private_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return _synth(tmp_path_factory, "studio-private", PRIVATE_CONFIG)


def domain(synthesis: Synthesis) -> dict[str, Any]:
    resource: dict[str, Any] = synthesis.template("Studio")["Resources"][DOMAIN_LOGICAL_ID]
    return resource


def output_of(value: Any) -> str:
    """The producing stack and output name of a weak cross-stack reference."""
    spec = value["Fn::GetStackOutput"]
    return f"{spec['StackName']}:{spec['OutputName']}"


def test_the_full_examples_domain_is_vpc_only_in_the_private_network(full_synth: Synthesis) -> None:
    props = domain(full_synth)["Properties"]
    assert props["AppNetworkAccessType"] == "VpcOnly"
    assert props["DomainName"] == "smkit-full-studio"
    foundation = full_synth.settings.stack_name("Foundation")
    assert output_of(props["VpcId"]).startswith(f"{foundation}:PublishOutputRefNetworkVpc")
    subnets = [output_of(s) for s in props["SubnetIds"]]
    assert len(subnets) == 2 and all("NetworkVpcPrivateSubnet" in s for s in subnets)
    (group,) = props["DefaultUserSettings"]["SecurityGroups"]
    assert "NetworkWorkloadSecurityGroup" in output_of(group)
    assert "PlatformKey" in output_of(props["KmsKeyId"])
    assert props["TagPropagation"] == "ENABLED"
    lab = props["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 60,
        "MinIdleTimeoutInMinutes": 60,
        "MaxIdleTimeoutInMinutes": 240,
    }
    assert lab["DefaultResourceSpec"]["InstanceType"] == "ml.t3.medium"
    assert lab["LifecycleConfigArns"] == [lab["DefaultResourceSpec"]["LifecycleConfigArn"]]


def test_the_stack_is_stateful_protected_and_pins_what_holds_work(full_synth: Synthesis) -> None:
    studio = full_synth.platform.studio
    assert studio is not None and studio.termination_protection is True
    resources = full_synth.template("Studio")["Resources"]
    pinned = {
        DOMAIN_LOGICAL_ID: "AWS::SageMaker::Domain",
        user_logical_id("alice"): "AWS::SageMaker::UserProfile",
        user_logical_id("bob"): "AWS::SageMaker::UserProfile",
        space_logical_id("alice-forecasting"): "AWS::SageMaker::Space",
    }
    assert pinned == {
        "StudioDomain": "AWS::SageMaker::Domain",
        "StudioUserAlice": "AWS::SageMaker::UserProfile",
        "StudioUserBob": "AWS::SageMaker::UserProfile",
        "StudioSpaceAliceForecasting": "AWS::SageMaker::Space",
    }
    for logical_id, resource_type in pinned.items():
        assert resources[logical_id]["Type"] == resource_type
        assert resources[logical_id]["DeletionPolicy"] == "Retain"
    # The kit's own outputs (CDK adds `PublishOutput...` for the guard's domain id).
    outputs = [o for o in full_synth.template("Studio")["Outputs"] if not o.startswith("Publish")]
    assert sorted(outputs) == [
        "DomainId",
        "DomainUrl",
        "ExecutionRoleArn",
        "HomeEfsFileSystemId",
        "JobRoleArn",
        "UserRoleBobArn",
    ]


def test_users_roles_and_the_sdk_defaults_of_their_apps(full_synth: Synthesis) -> None:
    resources = full_synth.template("Studio")["Resources"]
    bob = resources[user_logical_id("bob")]["Properties"]
    assert bob["UserSettings"]["ExecutionRole"]["Fn::GetAtt"][0].startswith("UserRolebob")
    tags = {t["Key"]: t["Value"] for t in bob["Tags"]}
    assert (tags["Owner"], tags["Team"], tags["smkit:platform"]) == (
        "bob@example.com",
        "nlp",
        "smkit-full",
    )
    (config,) = [
        r for r in resources.values() if r["Type"] == "AWS::SageMaker::StudioLifecycleConfig"
    ]
    script = json.dumps(config["Properties"]["StudioLifecycleConfigContent"])
    for fragment in (
        '\\"DefaultS3ObjectKeyPrefix\\": \\"studio\\"',
        '\\"Key\\": \\"smkit:studio\\"',
        "https://artifacts.example.internal/conda/conda-forge",
        "SecurityGroupIds",
    ):
        assert fragment in script
    assert '{"Fn::GetAtt": ["JobRoleA8EE24A2", "Arn"]}' in script


def test_users_start_the_platforms_workflows_and_apps_only_on_allowed_types(
    full_synth: Synthesis,
) -> None:
    template = full_synth.template("Studio")
    names = {"ExecutionRoleDefaultPolicy", "UserRolebobRoleDefaultPolicy"}
    policies = {
        logical_id: resource["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and any(logical_id.startswith(n) for n in names)
    }
    assert len(policies) == 2
    for found in policies.values():
        by_sid = {s["Sid"]: s for s in found if "Sid" in s}
        assert by_sid["UsersStartAppsInTheirOwnPrivateSpaces"]["Condition"][
            "ForAllValues:StringEquals"
        ] == {
            "sagemaker:InstanceTypes": [
                "ml.g5.xlarge",
                "ml.m5.xlarge",
                "ml.t3.large",
                "ml.t3.medium",
            ]
        }
        machines = by_sid["StartThePlatformsWorkflows"]["Resource"]
        stacks = sorted(output_of(m).split(":")[0].rsplit("-", 1)[1] for m in machines)
        labeling, training = full_synth.settings.labeling, full_synth.settings.training
        assert labeling is not None and training is not None
        # Every labeling and auto-labeling workflow, every training and tuning workflow.
        assert stacks == ["Labeling"] * (len(labeling.workflows) + len(labeling.auto_labeling)) + [
            "Training"
        ] * (len(training.definitions) + len(training.tuning))
    dependencies = {s.stack_name for s in full_synth.platform.studio.dependencies}  # type: ignore[union-attr]
    assert {"smkit-full-Training", "smkit-full-Labeling", "smkit-full-Foundation"} <= dependencies


def test_the_budget_guard_stops_apps_of_the_platforms_domain_only(full_synth: Synthesis) -> None:
    cost = full_synth.template("Cost")["Resources"]
    (function,) = [
        r for k, r in cost.items() if r["Type"] == "AWS::Lambda::Function" and k.startswith("Guard")
    ]
    ids = function["Properties"]["Environment"]["Variables"]["STUDIO_DOMAIN_IDS"]
    parts = ids["Fn::Join"][1]
    assert parts[0] == '["' and parts[2] == '"]'
    assert output_of(parts[1]).startswith(
        "smkit-full-Studio:PublishOutputFnGetAttStudioDomainDomainId"
    )
    statements = [
        s
        for k, r in cost.items()
        if r["Type"] == "AWS::IAM::Policy" and k.startswith("Guard")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    (stop,) = [s for s in statements if s.get("Sid") == "StopThePlatformDomainsAppsOnly"]
    assert stop["Action"] == ["sagemaker:DeleteApp", "sagemaker:DescribeApp"]
    arn = stop["Resource"]["Fn::Join"][1]
    assert arn[0] == "arn:aws:sagemaker:us-east-1:123456789012:app/" and arn[2] == "/*"
    assert not [
        a
        for s in statements
        for a in _actions(s)
        if a.startswith("sagemaker:Delete") and a != "sagemaker:DeleteApp"
    ]
    cost_stack = full_synth.platform.cost
    assert cost_stack is not None
    assert "smkit-full-Studio" in {s.stack_name for s in cost_stack.dependencies}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_default_config_has_no_studio(default_synth: Synthesis) -> None:
    assert not any(name.endswith("-Studio") for name in default_synth.stack_names)
    assert default_synth.platform.studio is None


def test_in_network_mode_none_the_home_file_system_gets_an_isolated_vpc(
    none_synth: Synthesis,
) -> None:
    props = domain(none_synth)["Properties"]
    assert props["AppNetworkAccessType"] == "PublicInternetOnly"
    assert props["AuthMode"] == "SSO"
    assert props["VpcId"] == {"Ref": props["VpcId"]["Ref"]}
    resources = none_synth.template("Studio")["Resources"]
    assert resources[props["VpcId"]["Ref"]]["Type"] == "AWS::EC2::VPC"
    assert [resources[s["Ref"]]["Type"] for s in props["SubnetIds"]] == ["AWS::EC2::Subnet"] * 2
    kinds = {r["Type"] for r in resources.values()}
    assert "AWS::EC2::VPCEndpoint" not in kinds and "AWS::EC2::NatGateway" not in kinds
    assert "AWS::EC2::InternetGateway" not in kinds and "AWS::EC2::FlowLog" in kinds
    user = props["DefaultUserSettings"]
    assert "SecurityGroups" not in user
    assert user["JupyterLabAppSettings"]["AppLifecycleManagement"] == {
        "IdleSettings": {"LifecycleManagement": "DISABLED"}
    }
    assert "CodeEditor" in user["StudioWebPortalSettings"]["HiddenAppTypes"]
    carol = resources[user_logical_id("carol")]["Properties"]
    assert carol["SingleSignOnUserValue"] == "carol.jones"
    assert {resources[space_logical_id(n)]["Type"] for n in ("carol-main", "carol-gpu")} == {
        "AWS::SageMaker::Space"
    }
    studio = none_synth.platform.studio
    assert studio is not None and studio.termination_protection is False
    policy = json.dumps(
        [r for k, r in resources.items() if k.startswith("ExecutionRoleDefaultPolicy")]
    )
    assert "sagemaker:CreateSpace" not in policy


def test_the_studio_ui_endpoint_and_a_custom_image(private_synth: Synthesis) -> None:
    endpoints = [
        r["Properties"]["ServiceName"]
        for r in private_synth.template("Foundation")["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint"
    ]
    assert any("studio" in json.dumps(name) for name in endpoints)
    assert len(endpoints) == 8  # S3, the six SageMaker workloads call, Studio's UI
    resources = private_synth.template("Studio")["Resources"]
    (version,) = [r for r in resources.values() if r["Type"] == "AWS::SageMaker::ImageVersion"]
    assert version["Properties"]["BaseImage"]["Fn::Join"][1][-1] == "/ml-platform/jupyterlab:2.1"
    lab = domain(private_synth)["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["CustomImages"] == [
        {"AppImageConfigName": "lab-jupyterlab-image", "ImageName": "lab-jupyterlab-image"}
    ]


@pytest.mark.parametrize("which", ["none", "private"])
def test_resource_counts_and_cdk_nag(request: pytest.FixtureRequest, which: str) -> None:
    synthesis: Synthesis = request.getfixturevalue(f"{which}_synth")
    assert_counts_match(synthesis)
    assert unacknowledged_findings(synthesis.app) == []
