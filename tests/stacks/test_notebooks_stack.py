"""The notebooks stack of the full config: security properties of each instance, the
roles' policies, lifecycle wiring, repositories, and what stays when the stack goes."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from stacks.notebooks_stack import NotebooksStack, notebook_logical_id
from stacks.settings import parse_settings
from tests.oracles.synth import Synthesis, new_stack

NOTEBOOKS = {"data-science": "NotebookDataScience", "gpu-research": "NotebookGpuResearch"}


def resources(full_synth: Synthesis, resource_type: str) -> dict[str, dict[str, Any]]:
    return full_synth.resources("Notebooks", resource_type)


def flatten(value: Any) -> str:
    """A CloudFormation string with each intrinsic shown as `<...>` (Fn::Join flattened)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(flatten(part) for part in parts)
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        return f"<{value['Fn::GetStackOutput']['OutputName']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    raise AssertionError(f"unexpected value {value!r}")


def on_start(full_synth: Synthesis, name: str) -> str:
    """The on-start script of a notebook, deploy-time values shown as `<...>`."""
    notebook = full_synth.template("Notebooks")["Resources"][NOTEBOOKS[name]]
    config_id = notebook["Properties"]["LifecycleConfigName"]["Fn::GetAtt"][0]
    config = full_synth.template("Notebooks")["Resources"][config_id]
    assert config["Type"] == "AWS::SageMaker::NotebookInstanceLifecycleConfig"
    assert config["DeletionPolicy"] == "Retain"  # the retained instance names it
    ((hook,),) = [config["Properties"]["OnStart"]]
    assert "OnCreate" not in config["Properties"]
    return flatten(hook["Content"]["Fn::Base64"])


def role_statements(full_synth: Synthesis, role_logical_id: str) -> list[dict[str, Any]]:
    policies = [
        p
        for p in resources(full_synth, "AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in p["Properties"]["Roles"]
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def notebook_role(full_synth: Synthesis, name: str) -> str:
    notebook = full_synth.template("Notebooks")["Resources"][NOTEBOOKS[name]]
    return str(notebook["Properties"]["RoleArn"]["Fn::GetAtt"][0])


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_only_the_full_config_has_a_notebooks_stack(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    assert default_synth.platform.notebooks is None
    assert "smkit-Notebooks" not in default_synth.stack_names
    assert full_synth.platform.notebooks is not None
    assert full_synth.platform.notebooks.termination_protection is True


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_instances_keep_their_logical_ids_and_are_retained(
    full_synth: Synthesis, name: str
) -> None:
    assert notebook_logical_id(name) == NOTEBOOKS[name]
    resource = full_synth.template("Notebooks")["Resources"][NOTEBOOKS[name]]
    assert resource["Type"] == "AWS::SageMaker::NotebookInstance"
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    assert resource["Properties"]["NotebookInstanceName"] == f"smkit-full-{name}"


def test_notebooks_are_private_encrypted_imdsv2_without_root(full_synth: Synthesis) -> None:
    expected = {
        "data-science": ("ml.t3.large", 30, "data-science@example.com"),
        "gpu-research": ("ml.g5.xlarge", 100, "research@example.com"),
    }
    for name, logical_id in NOTEBOOKS.items():
        properties = full_synth.template("Notebooks")["Resources"][logical_id]["Properties"]
        instance_type, volume, owner = expected[name]
        assert properties["InstanceType"] == instance_type
        assert properties["VolumeSizeInGB"] == volume
        assert flatten(properties["KmsKeyId"]) == "<PublishOutputFnGetAttPlatformKeyArnEA8A1853>"
        assert properties["DirectInternetAccess"] == "Disabled"
        assert properties["RootAccess"] == "Disabled"
        assert properties["InstanceMetadataServiceConfiguration"] == {
            "MinimumInstanceMetadataServiceVersion": "2"
        }
        assert properties["PlatformIdentifier"] == "notebook-al2023-v1"
        assert re.fullmatch(
            r"<PublishOutputRefNetworkVpcPrivateSubnet1Subnet\w+>", flatten(properties["SubnetId"])
        )
        (group,) = properties["SecurityGroupIds"]
        assert "WorkloadSecurityGroup" in flatten(group)
        tags = {t["Key"]: t["Value"] for t in properties["Tags"]}
        assert tags["Owner"] == owner
        assert tags["smkit:platform"] == "smkit-full"


def test_gpu_notebook_is_a_gpu_instance(full_synth: Synthesis) -> None:
    assert full_synth.settings.notebooks is not None
    gpu = [n.name for n in full_synth.settings.notebooks.instances if n.has_gpu]
    assert gpu == ["gpu-research"]


def test_notebook_role_passes_only_the_job_role_to_sagemaker(full_synth: Synthesis) -> None:
    job_role = next(
        logical_id
        for logical_id, role in resources(full_synth, "AWS::IAM::Role").items()
        if logical_id.startswith("JobRole")
    )
    for name in NOTEBOOKS:
        statements = role_statements(full_synth, notebook_role(full_synth, name))
        passes = [s for s in statements if "iam:PassRole" in actions(s)]
        assert passes == [
            {
                "Action": "iam:PassRole",
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [job_role, "Arn"]},
            }
        ]
        assert all(not a.endswith(":*") and a != "*" for s in statements for a in actions(s))


def test_notebook_role_reaches_only_the_platforms_buckets_key_and_own_notebook(
    full_synth: Synthesis,
) -> None:
    statements = role_statements(full_synth, notebook_role(full_synth, "gpu-research"))
    s3 = [s for s in statements if any(a.startswith("s3:") for a in actions(s))]
    buckets = {
        flatten(r)
        for s in s3
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert buckets == {
        "<PublishOutputFnGetAttDataBucketArn0EDB7CF6>",
        "<PublishOutputFnGetAttDataBucketArn0EDB7CF6>/*",
        "<PublishOutputFnGetAttArtifactsBucketArn033D1C4A>",
        "<PublishOutputFnGetAttArtifactsBucketArn033D1C4A>/*",
        "<PublishOutputFnGetAttArtifactsBucketArn033D1C4A>/notebooks/smkit-full-gpu-research/*",
    }
    writes = [s for s in s3 if "s3:PutObject" in actions(s)]
    written = {flatten(r) for s in writes for r in s["Resource"] if flatten(r).endswith("*")}
    assert written == {
        "<PublishOutputFnGetAttDataBucketArn0EDB7CF6>/*",
        "<PublishOutputFnGetAttArtifactsBucketArn033D1C4A>/notebooks/smkit-full-gpu-research/*",
    }
    kms = [s for s in statements if any(a.startswith("kms:") for a in actions(s))]
    assert {flatten(s["Resource"]) for s in kms} == {
        "<PublishOutputFnGetAttPlatformKeyArnEA8A1853>"
    }
    own = [s for s in statements if "sagemaker:StopNotebookInstance" in actions(s)]
    assert [flatten(s["Resource"]) for s in own] == [
        "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/smkit-full-gpu-research"
    ]
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in actions(s)]
    assert [s["Resource"] for s in secrets] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:ml-platform/git-AbCdEf"
    ]


def test_notebook_role_has_the_sagemaker_actions_a_data_scientist_needs(
    full_synth: Synthesis,
) -> None:
    statements = role_statements(full_synth, notebook_role(full_synth, "data-science"))
    granted = {a for s in statements for a in actions(s) if a.startswith("sagemaker:")}
    for needed in (
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateModel",
        "sagemaker:InvokeEndpoint",
        "sagemaker:DescribeEndpoint",
        "sagemaker:AddTags",
    ):
        assert needed in granted
    for denied in (
        "sagemaker:CreateEndpoint",
        "sagemaker:DeleteEndpoint",
        "sagemaker:CreateDomain",
    ):
        assert denied not in granted


def test_job_role_is_assumed_by_sagemaker_of_this_account_only(full_synth: Synthesis) -> None:
    (role,) = [
        r for k, r in resources(full_synth, "AWS::IAM::Role").items() if k.startswith("JobRole")
    ]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_lifecycle_script_carries_the_notebooks_settings(full_synth: Synthesis, name: str) -> None:
    script = on_start(full_synth, name)
    full_name = f"smkit-full-{name}"
    minutes = {"data-science": 60, "gpu-research": 30}[name]
    assert script.startswith("#!/bin/bash\n")
    assert (
        f"--notebook-name {full_name} --idle-minutes {minutes} "
        f"--log-group /smkit/notebooks/{full_name}/idle-stop --region us-east-1"
    ) in script
    assert f'"DefaultS3ObjectKeyPrefix": "notebooks/{full_name}"' in script
    assert '"RoleArn": "<JobRole' in script
    assert '"KmsKeyId": "<PublishOutputFnGetAttPlatformKeyArnEA8A1853>"' in script
    assert '"Subnets":' in script and '"SecurityGroupIds":' in script
    kernels = {"data-science": ["sklearn"], "gpu-research": ["pytorch", "sklearn"]}[name]
    built = re.findall(r"; build (\w+) ", script)
    assert built == kernels
    assert "-c https://artifacts.example.internal/conda/conda-forge" in script
    assert "export PIP_INDEX_URL=https://artifacts.example.internal/pypi/simple" in script
    size = len(base64.b64encode(script.encode()))
    assert size < 16_384


def test_idle_stop_logs_are_encrypted_kept_and_retained(full_synth: Synthesis) -> None:
    groups = resources(full_synth, "AWS::Logs::LogGroup")
    assert sorted(g["Properties"]["LogGroupName"] for g in groups.values()) == [
        "/smkit/notebooks/smkit-full-data-science/idle-stop",
        "/smkit/notebooks/smkit-full-gpu-research/idle-stop",
    ]
    for group in groups.values():
        assert (
            flatten(group["Properties"]["KmsKeyId"])
            == "<PublishOutputFnGetAttPlatformKeyArnEA8A1853>"
        )
        assert group["Properties"]["RetentionInDays"] == 365
        assert group["DeletionPolicy"] == "Retain"


def test_each_notebooks_idle_stop_alarms_the_alerts_topic(full_synth: Synthesis) -> None:
    alarms = resources(full_synth, "AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["Dimensions"][0]["Value"] for a in alarms.values()) == [
        "smkit-full-data-science",
        "smkit-full-gpu-research",
    ]
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert properties["Threshold"] == 3  # notebooks.idle_stop_alarm_runs' default
        (action,) = properties["AlarmActions"]
        assert re.fullmatch(r"<PublishOutputRefAlertsTopic\w+>", flatten(action))
    assert len(resources(full_synth, "AWS::Logs::MetricFilter")) == 2


def test_git_repository_is_a_code_repository_with_its_secret(full_synth: Synthesis) -> None:
    ((logical_id, repository),) = resources(full_synth, "AWS::SageMaker::CodeRepository").items()
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["Properties"]["GitConfig"] == {
        "RepositoryUrl": "https://git.example.internal/ml-platform/notebooks.git",
        "Branch": "main",
        "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ml-platform/git-AbCdEf",
    }
    for logical in NOTEBOOKS.values():
        notebook = full_synth.template("Notebooks")["Resources"][logical]["Properties"]
        assert notebook["DefaultCodeRepository"] == {
            "Fn::GetAtt": [logical_id, "CodeRepositoryName"]
        }


def test_private_network_has_the_endpoints_notebooks_call(full_synth: Synthesis) -> None:
    """The idle stop calls the SageMaker API and CloudWatch Logs; SDK calls also need STS
    and S3. The notebook's browser endpoint (aws.sagemaker.<region>.notebook) is not
    needed: users open notebooks through the console's presigned URL."""
    endpoints = full_synth.resources("Foundation", "AWS::EC2::VPCEndpoint").values()
    services = {flatten(e["Properties"]["ServiceName"]) for e in endpoints}
    for needed in ("sagemaker.api", "logs", "sts", "sagemaker.runtime"):
        assert f"com.amazonaws.us-east-1.{needed}" in services
    assert "com.amazonaws.<AWS::Region>.s3" in services or any(s.endswith(".s3") for s in services)


def test_names_that_would_share_a_logical_id_are_refused() -> None:
    settings = parse_settings(
        "name_prefix: demo\nnotebooks:\n  instances:\n"
        "    - {name: team-1, owner: a}\n    - {name: team1, owner: b}\n"
    )
    stack = new_stack("Foundation")
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    with pytest.raises(
        ValueError,
        match=r"notebooks 'team-1' and 'team1' map to the same logical ID 'NotebookTeam1'; "
        r"rename one of them",
    ):
        NotebooksStack(
            stack.node.root,
            "demo-Notebooks",
            settings=settings,
            encryption_key=key,
            data_bucket=bucket,
            artifacts_bucket=bucket,
            network=None,
            sdk_tags={},
        )
