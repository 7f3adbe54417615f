"""The tuning workflow: its request (checked against botocore), a run executed in moto,
and the synth-time checks of a tuning setup."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto import mock_aws

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.training import (
    DEEPAR,
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    JsonPath,
    ModelPackageSpec,
    TrainingChannel,
    TrainingJob,
    TuningWorkflow,
    builtin_profile,
)
from tests.oracles.sfn_runner import STEPFUNCTIONS_CONFIG, Runner
from tests.oracles.stepfunctions import state_machines, validate_definition
from tests.oracles.synth import new_stack
from tools.sfn_moto import runnable

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"
GROUP = "demo-deepar-demand"
DEEPAR_HYPERPARAMETERS = {
    "time_freq": "D",
    "prediction_length": "14",
    "context_length": "28",
    "epochs": "50",
}
RANGES = [
    IntegerRange("context_length", 14, 56),
    ContinuousRange("learning_rate", 0.0001, 0.01, "Logarithmic"),
    CategoricalRange("num_layers", ("2", "3")),
]


def deepar_job(stack: cdk.Stack, channels: tuple[str, ...] = ("train", "test")) -> TrainingJob:
    return TrainingJob(
        stack,
        "Job",
        image=ContainerImage.from_builtin("forecasting-deepar"),
        channels=[TrainingChannel(name, f"demand/{name}/") for name in channels],
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "my-data"),
        artifacts_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts"),
        artifacts_prefix="training/deepar/",
        encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        instance_type="ml.c5.2xlarge",
        job_name_prefix="demo-deepar",
        profile=DEEPAR,
        hyperparameters=DEEPAR_HYPERPARAMETERS,
        tags={"smkit:platform": "demo"},
    )


def tuning(stack: cdk.Stack, job: TrainingJob | None = None, **overrides: Any) -> TuningWorkflow:
    job = job or deepar_job(stack)
    kwargs: dict[str, Any] = {
        "job": job,
        "job_name_prefix": "demo-dar-hpo",
        "objective_metric": "test:RMSE",
        "objective_type": "Minimize",
        "ranges": RANGES,
        "model_package": ModelPackageSpec(GROUP, job.image_uri),
        "alerts_topic": sns.Topic.from_topic_arn(stack, "Topic", TOPIC_ARN),
        "encryption_key": kms.Key.from_key_arn(stack, "TopicKey", KEY_ARN),
        "title": "demo deepar-demand-hpo",
        "max_jobs": 6,
        "max_parallel_jobs": 2,
        "overridable_hyperparameters": ["epochs"],
        "overridable_channels": ["train"],
        "tags": {"smkit:platform": "demo"},
        **overrides,
    }
    return TuningWorkflow(stack, "DeeparHpo", **kwargs)


@dataclass
class Synthesized:
    workflow: TuningWorkflow
    definition: dict[str, Any]


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    stack = new_stack()
    workflow = tuning(stack)
    (definition,) = state_machines(Template.from_stack(stack).to_json()).values()
    return Synthesized(workflow, definition)


def test_request_matches_botocore_and_reuses_the_training_rendering(
    synthesized: Synthesized,
) -> None:
    definition = synthesized.definition
    assert validate_definition(definition) == []
    request = definition["States"]["Tune"]["Parameters"]
    assert request["HyperParameterTuningJobConfig"] == {
        "Strategy": "Bayesian",
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "test:RMSE"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "IntegerParameterRanges": [
                {
                    "Name": "context_length",
                    "MinValue": "14",
                    "MaxValue": "56",
                    "ScalingType": "Auto",
                }
            ],
            "ContinuousParameterRanges": [
                {
                    "Name": "learning_rate",
                    "MinValue": "0.0001",
                    "MaxValue": "0.01",
                    "ScalingType": "Logarithmic",
                }
            ],
            "CategoricalParameterRanges": [{"Name": "num_layers", "Values": ["2", "3"]}],
        },
        "TrainingJobEarlyStoppingType": "Off",
    }
    job = synthesized.workflow.node.scope.node.find_child("Job")  # type: ignore[union-attr]
    assert isinstance(job, TrainingJob)
    rendered = cdk.Stack.of(job).resolve(
        job.tuning_definition(
            static_hyperparameters=JsonPath("$.run.hyperparameters"),
            instance_type=JsonPath("$.run.instance_type"),
            channel_uris={c.name: JsonPath(f"$.run.channels.{c.name}") for c in job.channels},
            checkpoint_uri=JsonPath("$.names.checkpoints"),
        )
    )
    training_definition = request["TrainingJobDefinition"]
    # DeepAR cannot checkpoint: on-demand by default (TRAIN-1), nothing to sync.
    assert training_definition["EnableManagedSpotTraining"] is False
    assert training_definition["StoppingCondition"] == rendered["StoppingCondition"]
    assert training_definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 4 * 3600}
    assert "CheckpointConfig" not in training_definition
    assert training_definition["ResourceConfig"]["VolumeKmsKeyId"] == KEY_ARN
    assert "MetricDefinitions" not in training_definition["AlgorithmSpecification"]
    assert training_definition["AlgorithmSpecification"]["TrainingImage"].endswith(
        "/forecasting-deepar:1"
    )
    assert request["Tags"] == [{"Key": "smkit:platform", "Value": "demo"}]


@pytest.fixture(scope="module")
def runner(synthesized: Synthesized) -> Iterator[Runner]:
    logging.disable(logging.CRITICAL)
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        boto3.client("sns").create_topic(Name="alerts")
        sagemaker = boto3.client("sagemaker")
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        # moto's tuning jobs name this job their best one.
        sagemaker.create_training_job(
            TrainingJobName="FakeTrainingJobName",
            AlgorithmSpecification={"TrainingImage": "image:1", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/job",
            OutputDataConfig={"S3OutputPath": "s3://my-artifacts/training/deepar/output/"},
            ResourceConfig={
                "InstanceType": "ml.c5.2xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
        yield Runner(runnable(synthesized.definition))
    logging.disable(logging.NOTSET)


def test_a_run_tunes_and_registers_the_best_model(runner: Runner) -> None:
    execution = runner.execute({"hyperparameters": {"epochs": "20"}}, name="tune")
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output is not None
    name = execution.output["tuning_job"]
    assert re.fullmatch(r"demo-dar-hpo-[0-9a-f]{12}", name)
    assert len(name) <= 32
    sagemaker = boto3.client("sagemaker")
    job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    definition = job["TrainingJobDefinition"]
    # Tuned hyperparameters are not static ones; the override reached the static ones.
    assert definition["StaticHyperParameters"] == {
        "time_freq": "D",
        "prediction_length": "14",
        "epochs": "20",
    }
    assert "CheckpointConfig" not in definition  # DeepAR writes none
    assert definition["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://my-data/demand/train/"
    )
    (package,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)[
        "ModelPackageSummaryList"
    ]
    assert execution.output == {
        "tuning_job": name,
        "best_training_job": "FakeTrainingJobName",
        "model_artifacts": "s3://my-artifacts/training/deepar/output/FakeTrainingJobName/"
        "output/model.tar.gz",
        "model_package": package["ModelPackageArn"],
        "approval": "PendingManualApproval",
    }


def test_tuned_hyperparameters_cannot_be_overridden(runner: Runner) -> None:
    execution = runner.execute({"hyperparameters": {"context_length": "7"}}, name="tuned")
    assert (execution.status, execution.error) == ("FAILED", "HyperparametersNotOverridable")
    assert execution.cause == (
        'hyperparameters that the execution input may set: epochs; got {"context_length":"7"}'
    )


def test_every_tuning_mistake_is_reported_at_once() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        tuning(
            stack,
            job_name_prefix="demo-deepar-demand-hpo",
            objective_metric="validation:accuracy",
            objective_type="Maximise",
            ranges=[
                IntegerRange("context_length", 56, 14),
                ContinuousRange("learning_rate", 0.0, 0.1, "Logarithmic"),
                CategoricalRange("num_layers", ()),
                CategoricalRange("dropout", ("0.1",)),
            ],
            max_jobs=4,
            max_parallel_jobs=5,
            strategy="Hyperband",
            early_stopping="Auto",
            overridable_hyperparameters=["epochs", "context_length"],
            max_runtime=cdk.Duration.seconds(60),
        )
    message = str(raised.value)
    assert message.startswith("Invalid TuningWorkflow props: job_name_prefix must be 1-19 ")
    for fragment in [
        "range 'context_length': min must be less than max (got 56 >= 14)",
        "range 'learning_rate': Logarithmic scaling needs min > 0 (got 0.0)",
        "range 'num_layers': needs 1-30 values (got 0)",
        "objective type must be one of Maximize, Minimize (got 'Maximise')",
        "objective metric 'validation:accuracy' is not one built-in algorithm "
        "forecasting-deepar emits; choose one of test:RMSE, test:mean_wQuantileLoss, "
        "train:final_loss",
        "tuned hyperparameters cannot be overridden by the execution input "
        "(got ['context_length'])",
        "built-in algorithm forecasting-deepar has no hyperparameter(s) ['dropout'] to tune",
        "max_parallel_jobs must be 1 to max_jobs (4) (got 5)",
        "early_stopping must be Off with Hyperband, which stops jobs itself",
        "max_runtime must be 120 seconds to 30 days (got 60 s)",
    ]:
        assert fragment in message, fragment


def test_deepar_test_metrics_need_a_test_channel_and_grid_takes_categories() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        tuning(stack, job=deepar_job(stack, channels=("train",)), strategy="Grid")
    message = str(raised.value)
    for fragment in [
        "objective metric 'test:RMSE' is computed on the 'test' channel, which the job does "
        "not have (channels: ['train'])",
        "Grid search takes only categorical ranges (got ['context_length', 'learning_rate'] "
        "continuous or integer)",
        "max_jobs must be unset with Grid search: it runs every combination (2 here)",
    ]:
        assert fragment in message, fragment


def test_grid_search_leaves_the_job_count_to_sagemaker() -> None:
    stack = new_stack()
    workflow = tuning(
        stack,
        strategy="Grid",
        max_jobs=None,
        ranges=[
            CategoricalRange("num_layers", ("2", "3")),
            CategoricalRange("num_cells", ("40", "80")),
        ],
        max_parallel_jobs=4,
        warm_start_parents=["demo-dar-hpo-0123456789ab"],
    )
    request = workflow.tune_task.state.to_state_json()["Parameters"]
    assert request["HyperParameterTuningJobConfig"]["ResourceLimits"] == {
        "MaxParallelTrainingJobs": 4
    }
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": "demo-dar-hpo-0123456789ab"}
        ],
        "WarmStartType": "TransferLearning",
    }
    assert json.dumps(request).count("CategoricalParameterRanges") == 1


def test_builtins_tune_on_aws_metrics_with_spot_only_where_they_checkpoint() -> None:
    # TRAIN-5/6: xgboost tunes on a published metric, its direction taken from AWS's table;
    # TRAIN-1: it checkpoints, so its tuning jobs keep spot and a per-run checkpoint folder.
    stack = new_stack()
    job = TrainingJob(
        stack,
        "Job",
        image=ContainerImage.from_builtin("xgboost"),
        channels=[TrainingChannel(n, f"tabular/{n}/") for n in ("train", "validation")],
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "my-data"),
        artifacts_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts"),
        artifacts_prefix="training/xgb/",
        encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        instance_type="ml.m5.xlarge",
        job_name_prefix="demo-xgb",
        profile=builtin_profile("xgboost"),
        hyperparameters={"num_round": "100", "objective": "binary:logistic"},
    )
    workflow = tuning(
        stack,
        job=job,
        objective_metric="validation:auc",
        objective_type=None,
        ranges=[ContinuousRange("eta", 0.1, 0.5)],
        overridable_hyperparameters=[],
    )
    (definition,) = state_machines(Template.from_stack(stack).to_json()).values()
    assert validate_definition(definition) == []
    request = workflow.tune_task.state.to_state_json()["Parameters"]
    assert request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
    }
    training = request["TrainingJobDefinition"]
    assert training["EnableManagedSpotTraining"] is True
    assert training["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 4 * 3600,
        "MaxWaitTimeInSeconds": 8 * 3600,
    }
    assert training["CheckpointConfig"] == {"S3Uri.$": "$.names.checkpoints"}
    checkpoints = definition["States"]["NameTuningJob"]["Parameters"]["checkpoints.$"]
    assert checkpoints.startswith("States.Format('s3://my-artifacts/training/xgb/checkpoints/")


def test_pca_cannot_be_tuned_and_says_why() -> None:
    # TRAIN-5
    stack = new_stack()
    job = TrainingJob(
        stack,
        "Job",
        image=ContainerImage.from_builtin("pca"),
        channels=[TrainingChannel("train", "pca/train/")],
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "my-data"),
        artifacts_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "my-artifacts"),
        artifacts_prefix="training/pca/",
        encryption_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        instance_type="ml.m5.xlarge",
        job_name_prefix="demo-pca",
        profile=builtin_profile("pca"),
    )
    with pytest.raises(ValueError) as raised:
        tuning(stack, job=job, objective_metric="test:loss", objective_type="Minimize")
    assert (
        "AWS publishes no objective metric for built-in algorithm pca (its documentation has "
        "no tuning page): it cannot be tuned"
    ) in str(raised.value)
