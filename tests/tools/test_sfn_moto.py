"""tools/sfn_moto.py: which tasks moto can run once `runnable` rewrote the definition,
and how the history names a rewritten task."""

from __future__ import annotations

import boto3
from moto import mock_aws

from tests.oracles.sfn_runner import ROLE_ARN, STEPFUNCTIONS_CONFIG, Runner
from tools.sfn_moto import as_synthesized, runnable, unrunnable

LABELING = {
    "StartAt": "CheckInput",
    "States": {
        "CheckInput": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Next": "Label",
        },
        "Label": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createLabelingJob.sync",
            "Parameters": {"LabelingJobName.$": "$.name"},
            "Next": "PerBatch",
        },
        "PerBatch": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Predict",
                "States": {
                    "Predict": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:predict",
                        "End": True,
                    }
                },
            },
            "Next": "Train",
        },
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {"TrainingJobName.$": "$.job"},
            "End": True,
        },
    },
}


def test_moto_cannot_run_lambda_code_or_labeling_jobs_even_in_nested_states() -> None:
    assert unrunnable(LABELING) == {
        "CheckInput": "moto runs Lambda code only in Docker",
        "Label": "moto 5.2.5 does not mock SageMaker labeling jobs",
        "Predict": "moto runs Lambda code only in Docker",
    }


def test_runnable_rewrites_the_jobs_moto_mocks_and_leaves_labeling_jobs() -> None:
    states = runnable(LABELING)["States"]
    assert states["Label"] == LABELING["States"]["Label"]
    assert states["Train"]["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createTrainingJob"
    assert states["Train"]["Next"] == "Train (describe)"
    assert unrunnable({"States": {"Train": states["Train"]}}) == {}


def test_labeling_jobs_and_named_functions_run_where_something_answers_them() -> None:
    # The playground answers the labeling job API and runs the kit's functions.
    assert unrunnable(LABELING, labeling_jobs=True, functions={"predict"}) == {
        "CheckInput": "moto runs Lambda code only in Docker",
    }
    label = runnable(LABELING, labeling_jobs=True)["States"]["Label"]
    assert label["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:createLabelingJob"
    assert as_synthesized("aws-sdk:sagemaker", "createLabelingJob") == (
        "sagemaker",
        "createLabelingJob.sync",
    )


def test_a_result_selector_gets_the_describe_output_and_the_status_is_still_checked() -> None:
    # The selector drops the status field: the status is read by a Describe of its own.
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
        "Parameters": {
            "TrainingJobName.$": "$.job",
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "RoleArn": ROLE_ARN,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        },
        "ResultSelector": {"name.$": "$.TrainingJobName"},
        "ResultPath": "$.result",
        "End": True,
    }
    definition = runnable({"StartAt": "Train", "States": {"Train": task}})
    assert definition["States"]["Train (describe)"]["ResultSelector"] == {
        "status.$": "$.TrainingJobStatus"
    }
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bucket")
        execution = Runner(definition).execute({"job": "job-1"})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"job": "job-1", "result": {"name": "job-1"}}
    assert execution.entered() == [
        "Train",
        "Train (describe)",
        "Train (status)",
        "Train (describe output)",
    ]


def test_the_history_names_a_rewritten_task_as_synthesized() -> None:
    assert as_synthesized("aws-sdk:sagemaker", "createTrainingJob") == (
        "sagemaker",
        "createTrainingJob.sync",
    )
    assert as_synthesized("aws-sdk:sagemaker", "createHyperParameterTuningJob") == (
        "sagemaker",
        "createHyperParameterTuningJob.sync",
    )
    # Calls the definition makes itself stay as they are.
    assert as_synthesized("aws-sdk:sagemaker", "createModelPackage") == (
        "aws-sdk:sagemaker",
        "createModelPackage",
    )
    assert as_synthesized("sns", "publish") == ("sns", "publish")
