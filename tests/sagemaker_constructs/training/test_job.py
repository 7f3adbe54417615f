"""The training job definition: the requests it renders (checked against botocore),
its execution role (least privilege) and its validation."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.common.nag import flatten_reference
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.training import (
    DEEPAR,
    TEXT_CLASSIFIER,
    JsonPath,
    TrainingChannel,
    TrainingJob,
    builtin_profile,
)
from tests.oracles.stepfunctions import validate_request
from tests.oracles.synth import new_stack

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/text-classifier:1"
NETWORK = NetworkPlacement.from_ids(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    security_group_ids=["sg-0123456789abcdef0"],
)
MANIFEST = TrainingChannel(
    "train",
    "labeling/sentiment/manifests/output/output.manifest",
    data_type="AugmentedManifestFile",
    attribute_names=("source", "label", "label-metadata"),
    input_mode="Pipe",
    record_wrapper="RecordIO",
    access_prefix="labeling/",
)
VALIDATION = TrainingChannel("validation", "text/validation/", content_type="application/jsonlines")


def resources(stack: cdk.Stack) -> tuple[s3.IBucket, s3.IBucket, kms.IKey]:
    return (
        s3.Bucket.from_bucket_name(stack, "Data", "my-data"),
        s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts"),
        kms.Key.from_key_arn(stack, "Key", KEY_ARN),
    )


def text_classifier(stack: cdk.Stack, **overrides: Any) -> TrainingJob:
    data, artifacts, key = resources(stack)
    kwargs: dict[str, Any] = {
        "image": ContainerImage.from_uri(IMAGE),
        "channels": [MANIFEST, VALIDATION],
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "artifacts_prefix": "training/tc/",
        "encryption_key": key,
        "instance_type": "ml.g5.xlarge",
        "allowed_instance_types": ["ml.g6.xlarge"],
        "gpu": True,
        "job_name_prefix": "demo-tc",
        "profile": TEXT_CLASSIFIER,
        "hyperparameters": {"epochs": "3"},
        "network": NETWORK,
        "tags": {"smkit:platform": "demo"},
        **overrides,
    }
    return TrainingJob(stack, "Job", **kwargs)


@pytest.fixture(scope="module")
def built() -> tuple[TrainingJob, dict[str, Any]]:
    stack = new_stack()
    job = text_classifier(stack)
    return job, Template.from_stack(stack).to_json()


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_static_request_is_complete_and_valid(built: tuple[TrainingJob, dict[str, Any]]) -> None:
    job, _template = built
    request = job.training_request(
        job_name="demo-tc-1", checkpoint_uri="s3://my-artifacts/training/tc/checkpoints/run/"
    )
    resolved = cdk.Stack.of(job).resolve(request)
    assert validate_request("CreateTrainingJob", _placeholders(resolved)) == []
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": name, "Regex": regex}
        for name, regex in TEXT_CLASSIFIER.metric_definitions().items()
    ]
    assert request["HyperParameters"] == {"epochs": "3"}
    assert request["InputDataConfig"] == [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "AugmentedManifestFile",
                    "S3Uri": "s3://my-data/labeling/sentiment/manifests/output/output.manifest",
                    "S3DataDistributionType": "FullyReplicated",
                    "AttributeNames": ["source", "label", "label-metadata"],
                }
            },
            "CompressionType": "None",
            "InputMode": "Pipe",
            "RecordWrapperType": "RecordIO",
        },
        {
            "ChannelName": "validation",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://my-data/text/validation/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "CompressionType": "None",
            "ContentType": "application/jsonlines",
        },
    ]
    assert request["OutputDataConfig"] == {
        "S3OutputPath": "s3://my-artifacts/training/tc/output/",
        "KmsKeyId": KEY_ARN,
    }
    # g5 and g6 have local NVMe storage: SageMaker refuses a volume key for them.
    assert request["ResourceConfig"] == {
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert request["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 4 * 3600,
        "MaxWaitTimeInSeconds": 8 * 3600,
    }
    assert request["EnableManagedSpotTraining"] is True
    assert request["EnableNetworkIsolation"] is True
    assert request["EnableInterContainerTrafficEncryption"] is True
    assert request["CheckpointConfig"] == {
        "S3Uri": "s3://my-artifacts/training/tc/checkpoints/run/"
    }
    assert request["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "Subnets": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    }
    assert request["Tags"] == [{"Key": "smkit:platform", "Value": "demo"}]


def test_run_time_values_come_from_the_state(built: tuple[TrainingJob, dict[str, Any]]) -> None:
    job, _template = built
    request = job.training_request(
        job_name=JsonPath("$.names.job"),
        hyperparameters=JsonPath("$.run.hyperparameters"),
        instance_type=JsonPath("$.run.instance_type"),
        channel_uris={"train": JsonPath("$.run.channels.train")},
        checkpoint_uri=JsonPath("$.names.checkpoints"),
    )
    resolved = _placeholders(cdk.Stack.of(job).resolve(request))
    assert validate_request("CreateTrainingJob", resolved) == []
    assert request["TrainingJobName.$"] == "$.names.job"
    assert request["HyperParameters.$"] == "$.run.hyperparameters"
    assert request["ResourceConfig"]["InstanceType.$"] == "$.run.instance_type"
    sources = [c["DataSource"]["S3DataSource"] for c in request["InputDataConfig"]]
    assert sources[0]["S3Uri.$"] == "$.run.channels.train"
    assert sources[1]["S3Uri"] == "s3://my-data/text/validation/"
    assert request["CheckpointConfig"] == {"S3Uri.$": "$.names.checkpoints"}
    # Channel names may hold `-` and `.`, which JSONPath's dot notation cannot.
    assert JsonPath("$.run.channels").member("train") == "$.run.channels.train"
    assert JsonPath("$.run.channels").member("train-v2") == "$.run.channels['train-v2']"
    with pytest.raises(ValueError, match="checkpoint_uri is required when checkpoints are on"):
        job.training_request(job_name="x")
    with pytest.raises(ValueError, match=r"channel_uris names unknown channels \['test'\]"):
        job.training_request(
            job_name="x", checkpoint_uri="s3://b/c/", channel_uris={"test": "s3://b/t"}
        )


def test_tuning_definition_is_the_training_request_less_name_tags_and_hyperparameters(
    built: tuple[TrainingJob, dict[str, Any]],
) -> None:
    job, _template = built
    paths = {
        "instance_type": JsonPath("$.run.instance_type"),
        "checkpoint_uri": JsonPath("$.names.checkpoints"),
    }
    definition = job.tuning_definition(
        static_hyperparameters=JsonPath("$.run.hyperparameters"), **paths
    )
    request = job.training_request(job_name="x", **paths)
    shared = set(request) - {"TrainingJobName", "HyperParameters", "Tags"}
    assert set(definition) == shared | {"StaticHyperParameters.$"}
    assert {k: definition[k] for k in shared} == {k: request[k] for k in shared}
    tuning_request = {
        "HyperParameterTuningJobName": "demo-tc-hpo-0123456789ab",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize",
                "MetricName": "validation:macro_f1",
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
        },
        "TrainingJobDefinition": definition,
    }
    resolved = _placeholders(cdk.Stack.of(job).resolve(tuning_request))
    assert validate_request("CreateHyperParameterTuningJob", resolved) == []


def test_volume_key_only_where_every_instance_type_has_an_ebs_volume() -> None:
    stack = new_stack()
    data, artifacts, key = resources(stack)
    common: dict[str, Any] = {
        "image": ContainerImage.from_builtin("forecasting-deepar"),
        "channels": [TrainingChannel("train", "demand/train/")],
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "artifacts_prefix": "training/deepar/",
        "encryption_key": key,
        "profile": DEEPAR,
        "hyperparameters": {
            "time_freq": "D",
            "prediction_length": "7",
            "context_length": "14",
            "epochs": "5",
        },
        "checkpoints": False,
        "spot": False,
    }
    cpu = TrainingJob(stack, "Cpu", instance_type="ml.c5.2xlarge", job_name_prefix="a", **common)
    mixed = TrainingJob(
        stack,
        "Mixed",
        instance_type="ml.c5.2xlarge",
        allowed_instance_types=["ml.g5.xlarge"],
        job_name_prefix="b",
        **common,
    )
    cpu_request = cpu.training_request(job_name="a-1")
    assert cpu_request["ResourceConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert "VolumeKmsKeyId" not in mixed.training_request(job_name="b-1")["ResourceConfig"]
    # Without spot there is no wait; without checkpoints no checkpoint config; a built-in
    # algorithm gets no metric definitions.
    assert cpu_request["StoppingCondition"] == {"MaxRuntimeInSeconds": 4 * 3600}
    assert "CheckpointConfig" not in cpu_request
    assert "MetricDefinitions" not in cpu_request["AlgorithmSpecification"]
    assert cpu_request["EnableManagedSpotTraining"] is False
    assert validate_request("CreateTrainingJob", _placeholders(stack.resolve(cpu_request))) == []


def test_role_reads_only_its_channels_and_writes_only_its_prefixes(
    built: tuple[TrainingJob, dict[str, Any]],
) -> None:
    _job, template = built
    found = statements(template)
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 1
    assert "ManagedPolicyArns" not in roles[0]["Properties"]
    assert roles[0]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }

    def objects(statement: dict[str, Any]) -> list[str]:
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        return [
            flatten_reference(r).removeprefix("arn:<AWS::Partition>:s3:::")
            for r in resources
            if flatten_reference(r).endswith("*")
        ]

    reads = [s for s in found if "s3:GetObject*" in s["Action"]]
    puts = [s for s in found if "s3:PutObject" in s["Action"]]
    assert sorted(o for s in reads for o in objects(s)) == [
        "my-artifacts/training/tc/checkpoints/*",
        "my-data/labeling/*",
        "my-data/text/validation/*",
    ]
    assert sorted(o for s in puts for o in objects(s)) == [
        "my-artifacts/training/tc/checkpoints/*",
        "my-artifacts/training/tc/output/*",
    ]
    assert not any("s3:DeleteObject*" in s["Action"] for s in found)
    logs = [s for s in found if s["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert json.dumps(logs[0]["Resource"]).endswith(
        ':log-group:/aws/sagemaker/TrainingJobs:log-stream:demo-tc-*"]]}'
    )
    metrics = next(s for s in found if s["Action"] == "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
    }
    network = next(s for s in found if "ec2:DeleteNetworkInterface" in s["Action"])
    assert json.dumps(network["Condition"]).count("vpc/vpc-0123456789abcdef0") == 1
    pull = next(s for s in found if "ecr:BatchGetImage" in s["Action"])
    assert pull["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecr:us-east-1:123456789012:repository/text-classifier",
            ],
        ]
    }


def test_every_mistake_is_reported_at_once() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        text_classifier(
            stack,
            job_name_prefix="Demo_TC",
            artifacts_prefix="/training",
            instance_type="ml.c5.xlarge",
            allowed_instance_types=["ml.g9.huge"],
            instance_count=0,
            max_runtime=cdk.Duration.days(29),
            max_wait=cdk.Duration.hours(1),
            hyperparameters={"epochs": "3", "epoch": "3"},
            metric_definitions={"loss": "loss=(\\d+)=(\\d+)"},
            channels=[
                TrainingChannel("train", "text/train/", data_type="AugmentedManifestFile"),
                TrainingChannel("train", "/abs"),
            ],
            environment={"1BAD": "x"},
        )
    message = str(raised.value)
    assert message.startswith("Invalid TrainingJob props: job_name_prefix must be 1-39")
    for fragment in [
        "artifacts_prefix must end with '/' and not start with one (got '/training')",
        "instance type 'ml.c5.xlarge' has no NVIDIA GPU but the job needs one (gpu): use a GPU",
        "instance type 'ml.g9.huge' is not a SageMaker training instance type; allowed: ",
        "instance_count must be 1-100 (got 0)",
        "max_runtime must be 1 second to 28 days (got 2505600 s)",
        "max_wait must be at least max_runtime with spot training (got 3600 s < 2505600 s)",
        "channel names must be unique (repeated: ['train'])",
        "channel 'train': an augmented manifest needs 1-16 attribute_names (got 0)",
        "channel 'train': SageMaker streams augmented manifests, so the channel's input mode "
        "must be Pipe (got File)",
        "channel 'train': key must be a non-empty S3 key without a leading '/' or wildcards "
        "(got '/abs')",
        "environment variable '1BAD' needs a name of letters, digits and underscores",
        "has no hyperparameter(s) ['epoch']",
        "metric 'loss': regex 'loss=(\\\\d+)=(\\\\d+)' needs exactly one capture group for the "
        "value (has 2)",
    ]:
        assert fragment in message, fragment


def _placeholders(value: Any) -> Any:
    """CloudFormation intrinsics in a resolved request as deploy-time placeholders, the way
    the botocore oracle reads them in a state machine definition."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return "${token|resolved-at-deploy}"
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def builtin_job(stack: cdk.Stack, algorithm: str, **overrides: Any) -> TrainingJob:
    data, artifacts, key = resources(stack)
    kwargs: dict[str, Any] = {
        "image": ContainerImage.from_builtin(algorithm),
        "channels": [TrainingChannel("train", "d/train/"), TrainingChannel("test", "d/test/")],
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "artifacts_prefix": f"training/{algorithm}/",
        "encryption_key": key,
        "instance_type": "ml.c5.2xlarge",
        "job_name_prefix": "demo-builtin",
        "profile": builtin_profile(algorithm),
        **overrides,
    }
    if algorithm == "forecasting-deepar":
        kwargs.setdefault(
            "hyperparameters",
            {"time_freq": "D", "prediction_length": "7", "context_length": "7", "epochs": "5"},
        )
    return TrainingJob(stack, "Job", **kwargs)


def _stopping(job: TrainingJob) -> dict[str, Any]:
    request = job.training_request(
        job_name="j", checkpoint_uri="s3://my-artifacts/c/" if job.checkpoints else None
    )
    return {
        "spot": request["EnableManagedSpotTraining"],
        "stopping": request["StoppingCondition"],
        "checkpoints": "CheckpointConfig" in request,
    }


def test_builtins_that_cannot_checkpoint_train_on_demand_or_wait_at_most_an_hour() -> None:
    # TRAIN-1 (model-checkpoints page), TRAIN-4: spot always carries MaxWaitTimeInSeconds.
    assert _stopping(builtin_job(new_stack(), "forecasting-deepar")) == {
        "spot": False,
        "stopping": {"MaxRuntimeInSeconds": 4 * 3600},
        "checkpoints": False,
    }
    short = builtin_job(
        new_stack(), "forecasting-deepar", spot=True, max_runtime=cdk.Duration.minutes(45)
    )
    assert _stopping(short) == {
        "spot": True,
        "stopping": {"MaxRuntimeInSeconds": 2700, "MaxWaitTimeInSeconds": 3600},
        "checkpoints": False,
    }
    with pytest.raises(ValueError) as raised:
        builtin_job(new_stack(), "forecasting-deepar", spot=True)
    assert (
        "built-in algorithm forecasting-deepar cannot checkpoint, so SageMaker refuses managed "
        "spot training with a max_wait above 60 minutes for it, and max_wait must cover "
        "max_runtime (got max_runtime 240 minutes)"
    ) in str(raised.value)
    # XGBoost 1.7-1 checkpoints: spot by default, the wait twice the runtime.
    assert _stopping(builtin_job(new_stack(), "xgboost")) == {
        "spot": True,
        "stopping": {"MaxRuntimeInSeconds": 4 * 3600, "MaxWaitTimeInSeconds": 8 * 3600},
        "checkpoints": True,
    }


def test_builtins_refuse_instances_they_cannot_train_on_including_a_runs_choices() -> None:
    # TRAIN-8: the allowed_instance_types are what a run's instance_type override may pick.
    with pytest.raises(ValueError) as raised:
        builtin_job(
            new_stack(),
            "semantic-segmentation",
            instance_type="ml.g5.xlarge",
            allowed_instance_types=["ml.m5.xlarge"],
            instance_count=2,
        )
    message = str(raised.value)
    assert "built-in algorithm semantic-segmentation trains only on NVIDIA GPU instances " in (
        message
    )
    assert "(got 'ml.m5.xlarge'; see " in message
    assert "built-in algorithm semantic-segmentation trains on one instance only" in message
