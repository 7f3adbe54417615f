"""TransformJob: the model, its role and the CreateTransformJob request, and the AWS
rules it refuses at construct time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference import ModelSource
from sagemaker_constructs.training.job_rules import JsonPath
from tests.oracles.stepfunctions import render_intrinsics, validate_request
from tests.oracles.synth import new_stack
from tests.sagemaker_constructs.transform.test_workflow import KEY_ARN, build_job

PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-deepar-demand/3"


def _policy(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    return [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        and json.dumps(r["Properties"]["Roles"]).find(role_prefix) >= 0
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_request_matches_botocore_and_names_key_model_and_tags() -> None:
    stack = new_stack()
    job = build_job(stack, environment={"BATCH": "1"})
    request = job.transform_request(
        job_name="demo-texts-0123", input_uri=job.input_uri(), output_uri=job.output_uri("run/")
    )
    rendered = render_intrinsics(stack.resolve(request))
    assert validate_request("CreateTransformJob", rendered) == []
    assert request["TransformOutput"]["KmsKeyId"] == KEY_ARN
    assert request["TransformResources"]["VolumeKmsKeyId"] == KEY_ARN
    assert request["Tags"] == [{"Key": "smkit:platform", "Value": "demo"}]
    assert request["Environment"] == {"BATCH": "1"}
    assert request["ModelClientConfig"] == {
        "InvocationsTimeoutInSeconds": 600,
        "InvocationsMaxRetries": 1,
    }
    with_paths = job.transform_request(
        job_name=JsonPath("$.names.job"),
        input_uri=JsonPath("$.run.input"),
        output_uri=JsonPath("$.names.output"),
        instance_type=JsonPath("$.run.instance_type"),
    )
    assert with_paths["TransformJobName.$"] == "$.names.job"
    assert with_paths["TransformResources"]["InstanceType.$"] == "$.run.instance_type"


def test_no_volume_key_where_an_instance_type_has_local_nvme_storage() -> None:
    # TRANSFORM-7: SageMaker refuses VolumeKmsKeyId on instance types with local storage.
    job = build_job(new_stack(), allowed_instance_types=["ml.g4dn.xlarge"])
    assert not job.volume_key_used
    request = job.transform_request(job_name="n", input_uri="s3://b/k/", output_uri="s3://b/o/")
    assert "VolumeKmsKeyId" not in request["TransformResources"]
    assert request["TransformOutput"]["KmsKeyId"] == KEY_ARN


def test_model_runs_in_the_vpc_isolated_as_its_own_role() -> None:
    stack = new_stack()
    network = NetworkPlacement(
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=("subnet-0123456789abcdef0",),
        security_group_ids=("sg-0123456789abcdef0",),
    )
    build_job(stack, network=network)
    template = Template.from_stack(stack).to_json()
    (model,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    props = model["Properties"]
    assert props["EnableNetworkIsolation"] is True
    assert props["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "Subnets": ["subnet-0123456789abcdef0"],
    }
    assert "DependsOn" in model  # SageMaker checks the role's policy when it creates the model
    statements = _policy(template, "JobRole")
    text = json.dumps(statements)
    assert "my-data/texts/in/*" in text
    assert "my-data/texts/out/*" in text
    assert "my-artifacts/tc/model.tar.gz" in text
    assert "log-stream:demo-texts-*" in text
    assert "ec2:CreateNetworkInterface" in text
    reads = [s for s in statements if "s3:GetObject*" in s["Action"]]
    assert all("texts/out" not in json.dumps(s["Resource"]) for s in reads)


def test_a_model_package_is_served_by_name() -> None:
    stack = new_stack()
    build_job(
        stack,
        model=ModelSource.from_model_package(
            PACKAGE, image=ContainerImage.from_builtin("forecasting-deepar")
        ),
        batch_strategy="SingleRecord",
    )
    template = Template.from_stack(stack).to_json()
    (model,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert model["Properties"]["PrimaryContainer"] == {"ModelPackageName": PACKAGE}


def test_every_mistake_is_reported_at_once() -> None:
    with pytest.raises(ValueError) as raised:
        build_job(
            new_stack(),
            model=ModelSource.from_model_package(
                PACKAGE, image=ContainerImage.from_builtin("forecasting-deepar")
            ),
            instance_type="ml.g5.xlarge",
            max_payload_mb=40,
            max_concurrent_transforms=3,
            split_type="None",
            assemble_with="None",
            output_prefix="texts/in/out/",
            job_name_prefix="a-very-long-prefix-for-transforms-x",
            environment={f"V{i}": "x" for i in range(17)},
        )
    message = str(raised.value)
    for fragment in [
        "max_concurrent_transforms x max_payload_mb must be at most 100 MB (3 x 40 = 120)",
        "MultiRecord batches need records: set split_type to Line",
        "forecasting-deepar batch transform needs batch_strategy SingleRecord and split_type "
        "Line (got MultiRecord and None)",
        "forecasting-deepar runs inference on CPUs only: use a CPU instance type such as "
        "ml.m5.xlarge (got ml.g5.xlarge)",
        "at most 16 environment variables (got 17",
        "job names would start with 'a-very-long-prefix-for-transforms-x' (35 characters; at "
        "most 30 fit",
        "input_prefix and output_prefix must not contain each other",
    ]:
        assert fragment in message, fragment


def test_unknown_instance_types_are_named_with_close_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"'ml\.m5\.huge' is not an instance type SageMaker "
        r"batch transform accepts, e\.g\. ml\.m5\.12xlarge",
    ):
        build_job(new_stack(), allowed_instance_types=["ml.m5.huge"])
