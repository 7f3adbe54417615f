"""NotebookInstance and its helpers on their own: validation, network modes, the size
limit of the lifecycle script, grants, and cdk-nag on a notebook without a VPC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.notebooks import (
    GitRepository,
    Kernel,
    NotebookInstance,
    NotebookJobRole,
    PackageSources,
)
from tests.oracles.synth import new_stack

NETWORK = NetworkPlacement(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
    security_group_ids=("sg-0123456789abcdef0",),
)


def platform(stack: cdk.Stack) -> dict[str, Any]:
    """What the foundation would hand over: key, buckets, and the job role."""
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    data = s3.Bucket(stack, "Data", encryption=s3.BucketEncryption.KMS, encryption_key=key)
    artifacts = s3.Bucket(
        stack, "Artifacts", encryption=s3.BucketEncryption.KMS, encryption_key=key
    )
    job_role = NotebookJobRole(
        stack, "Jobs", encryption_key=key, data_bucket=data, artifacts_bucket=artifacts
    ).role
    return {
        "encryption_key": key,
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "job_role": job_role,
    }


def test_every_bad_argument_is_reported_at_once() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        NotebookInstance(
            stack,
            "Notebook",
            notebook_name="Alice_1",
            owner="",
            instance_type="ml.t3.nano",
            volume_size_gb=2,
            platform_identifier="notebook-al2-v2",
            direct_internet_access=False,
            idle_stop_minutes=5,
            idle_stop_alarm_runs=0,
            log_retention_days=10,
            kernels=[Kernel(name="Torch", python="3", pip_packages=("torch; rm -rf /",))],
            package_sources=PackageSources(conda_channels=("http://mirror",)),
            **platform(stack),
        )
    message = str(raised.value)
    assert message.startswith("Invalid NotebookInstance props: notebook_name must be 1-63")
    for fragment in (
        "(got 'Alice_1')",
        "owner must be 1-256 characters (got '')",
        "instance_type must be a notebook instance type: ml.c4.2xlarge, ",
        "(got 'ml.t3.nano')",
        "volume_size_gb must be 5-16384 (got 2)",
        "platform_identifier notebook-al2-v2 is Amazon Linux 2 with JupyterLab 3, which AWS "
        "retired on 2025-06-30; use notebook-al2023-v1 (Amazon Linux 2023, JupyterLab 4)",
        "direct_internet_access=False needs a network (AWS allows it only with a subnet)",
        "idle_stop_minutes must be 10-1440 or None (got 5)",
        "idle_stop_alarm_runs must be 1-288 (got 0)",
        "log_retention_days must be one of 1, 3, 5, 7, 14, 30",
        "kernel name 'Torch' must be 1-31 lower-case letters",
        "kernel 'Torch': python must look like 3.12 (got '3')",
        "kernel 'Torch': package 'torch; rm -rf /' must be one spec without spaces",
        "conda channel 'http://mirror' must be an https:// URL",
    ):
        assert fragment in message


def test_a_script_over_the_limit_names_the_notebook_and_the_overage() -> None:
    stack = new_stack()
    many = [
        Kernel(name=f"k{i}", pip_packages=tuple(f"package-number-{j}==1.0.0" for j in range(40)))
        for i in range(6)
    ]
    with pytest.raises(ValueError) as raised:
        NotebookInstance(
            stack,
            "Notebook",
            notebook_name="demo-alice",
            owner="alice@example.com",
            kernels=many,
            **platform(stack),
        )
    message = str(raised.value)
    assert message.startswith(
        "Invalid NotebookInstance props: the on-start lifecycle script of notebook 'demo-alice' is "
    )
    total = int(message.split(" is ")[1].split(" characters")[0].replace(",", ""))
    over = int(message.split("characters base64-encoded, ")[1].split(" over")[0].replace(",", ""))
    assert over == total - 16_384 > 0
    assert "over SageMaker's limit of 16,384 (parts: idle stop " in message
    assert ", kernels (6) " in message
    assert message.endswith("use fewer kernels or fewer packages per kernel")


def notebook_without_vpc() -> tuple[cdk.Stack, NotebookInstance]:
    stack = new_stack("NoVpc")
    repository = GitRepository(
        stack, "Repo", repository_url="https://github.com/example/notebooks.git", branch="main"
    )
    notebook = NotebookInstance(
        stack,
        "Notebook",
        notebook_name="demo-alice",
        owner="alice@example.com",
        default_repository=repository,
        **platform(stack),
    )
    return stack, notebook


def test_without_a_vpc_direct_internet_is_on_and_cdk_nag_has_only_acknowledged_findings(
    tmp_path: Path,
) -> None:
    stack, notebook = notebook_without_vpc()
    app = stack.node.root
    assert isinstance(app, cdk.App)
    # Synthesize first: wildcard acknowledgements are made while synthesizing, as in app.py.
    template = json.loads((Path(app.synth().directory) / "NoVpc.template.json").read_text())
    resource = template["Resources"][stack.get_logical_id(notebook.instance)]["Properties"]
    assert resource["DirectInternetAccess"] == "Enabled"
    assert "SubnetId" not in resource and "SecurityGroupIds" not in resource
    repository, attribute = resource["DefaultCodeRepository"]["Fn::GetAtt"]
    assert repository.startswith("Repo") and attribute == "CodeRepositoryName"

    report = AwsSolutionsChecks().validate_scope(app)
    findings = [
        f"{violation.rule_name} at {found.construct_path}"
        for violation in report.violations
        for found in violation.violating_resources
        if found.construct_path.startswith((notebook.node.path, f"{stack.node.path}/Jobs"))
    ]
    assert findings == []
    rules = [
        rule.split("::", 1)[-1]  # keys read `Annotation::<rule>`
        for entry in notebook.instance.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule in entry.data
    ]
    assert {"AwsSolutions-SM1", "AwsSolutions-SM3"} <= set(rules)


def test_in_a_vpc_direct_internet_can_be_asked_for() -> None:
    stack = new_stack()
    NotebookInstance(
        stack,
        "Notebook",
        notebook_name="demo-alice",
        owner="alice@example.com",
        network=NETWORK,
        direct_internet_access=True,
        idle_stop_minutes=None,
        **platform(stack),
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::NotebookInstance",
        {
            "DirectInternetAccess": "Enabled",
            "SubnetId": "subnet-0123456789abcdef0",
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
        },
    )
    template.resource_count_is("AWS::Logs::LogGroup", 0)


def test_grants_open_and_start_stop_only_this_notebook() -> None:
    stack = new_stack()
    notebook = NotebookInstance(
        stack, "Notebook", notebook_name="demo-alice", owner="alice", **platform(stack)
    )
    user = iam.Role(stack, "User", assumed_by=iam.AccountRootPrincipal())
    notebook.grant_open(user)
    notebook.grant_start_stop(user)
    policies = Template.from_stack(stack).find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": Match.string_like_regexp("^User")}]}}
    )
    ((_, policy),) = policies.items()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted({a for s in statements for a in s["Action"]}) == [
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        "sagemaker:DescribeNotebookInstance",
        "sagemaker:StartNotebookInstance",
        "sagemaker:StopNotebookInstance",
    ]
    arn = stack.resolve(notebook.notebook_arn)
    assert all(s["Resource"] == arn for s in statements)
    assert arn["Fn::Join"][1][-1] == ":notebook-instance/demo-alice"


def test_git_repository_rejects_what_sagemaker_would() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        GitRepository(stack, "Repo", repository_url="git@github.com:x/y.git", branch="a b")
    assert str(raised.value) == (
        "Invalid GitRepository props: repository_url must be an https:// URL of 11-1024 "
        "characters (got 'git@github.com:x/y.git'); branch must be 1-1024 characters "
        "without spaces or ~ ^ : ? * [ (got 'a b')"
    )


def test_job_role_prefix_must_be_a_folder() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError, match=r"artifacts_prefix must end with '/' and not start"):
        NotebookJobRole(
            stack,
            "Jobs",
            encryption_key=key,
            data_bucket=bucket,
            artifacts_bucket=bucket,
            artifacts_prefix="/notebooks",
        )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"platform_identifier": "notebook-al2-v3"},
            "platform_identifier notebook-al2-v3 is Amazon Linux 2, which reached its end of "
            "support on 2026-06-30 (AWS creates and restarts no Amazon Linux 2 notebook from "
            "2026-07-01); use notebook-al2023-v1 (Amazon Linux 2023, JupyterLab 4)",
        ),
        (
            {"platform_identifier": "notebook-al2023-v2"},
            "platform_identifier notebook-al2023-v2 is in the SageMaker API, but "
            "AWS::SageMaker::NotebookInstance does not accept it yet",
        ),
        (
            {"platform_identifier": "notebook-al3"},
            "platform_identifier must be notebook-al2023-v1 (got 'notebook-al3')",
        ),
        (
            {"instance_type": "ml.p3dn.24xlarge"},
            "instance_type ml.p3dn.24xlarge does not run on notebook-al2023-v1 (Amazon Linux "
            "2023 notebooks do not support ml.g3, ml.inf1, ml.p2, ml.p3, ml.p3dn); use a "
            "current type, e.g. ml.g5.xlarge",
        ),
        ({"instance_type": "ml.inf1.xlarge"}, "instance_type ml.inf1.xlarge does not run on"),
    ],
)
def test_platforms_and_instance_types_aws_no_longer_starts_are_refused(
    arguments: dict[str, str], expected: str
) -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        NotebookInstance(
            stack,
            "Notebook",
            notebook_name="demo-alice",
            owner="alice",
            **arguments,  # type: ignore[arg-type]
            **platform(stack),
        )
    assert expected in str(raised.value)


def test_an_idle_stop_that_keeps_failing_raises_an_alarm_on_the_topic() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Alerts")
    notebook = NotebookInstance(
        stack,
        "Notebook",
        notebook_name="demo-alice",
        owner="alice",
        idle_stop_alarm_runs=4,
        alerts_topic=topic,
        **platform(stack),
    )
    template = Template.from_stack(stack)
    assert notebook.log_group is not None and notebook.idle_stop_alarm is not None
    # Every decision line carries `notebook` and `consecutive_failures` (the runtime tests
    # check the script writes them); the metric is that count, per notebook.
    template.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {
            "LogGroupName": {"Ref": stack.get_logical_id(notebook.log_group.node.default_child)},
            "FilterPattern": "{ $.consecutive_failures >= 0 }",
            "MetricTransformations": [
                {
                    "MetricNamespace": "smkit/Notebooks",
                    "MetricName": "IdleStopConsecutiveFailures",
                    "MetricValue": "$.consecutive_failures",
                    "Dimensions": [{"Key": "Notebook", "Value": "$.notebook"}],
                }
            ],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "smkit/Notebooks",
            "MetricName": "IdleStopConsecutiveFailures",
            "Dimensions": [{"Name": "Notebook", "Value": "demo-alice"}],
            "Statistic": "Maximum",
            "Period": 600,
            "EvaluationPeriods": 1,
            "Threshold": 4,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": stack.get_logical_id(topic.node.default_child)}],
            "AlarmDescription": Match.string_like_regexp(
                "^The idle stop of notebook demo-alice could not decide or act 4 runs in a row"
            ),
        },
    )


def test_without_the_idle_stop_there_is_nothing_to_alarm_on() -> None:
    stack = new_stack()
    notebook = NotebookInstance(
        stack,
        "Notebook",
        notebook_name="demo-alice",
        owner="alice",
        idle_stop_minutes=None,
        alerts_topic=sns.Topic(stack, "Alerts"),
        **platform(stack),
    )
    assert notebook.idle_stop_alarm is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::MetricFilter", 0)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
