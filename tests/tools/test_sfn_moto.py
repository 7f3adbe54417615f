"""tools/sfn_moto.py: which tasks moto can run once `runnable` rewrote the definition,
and how the history names a rewritten task."""

from __future__ import annotations

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
