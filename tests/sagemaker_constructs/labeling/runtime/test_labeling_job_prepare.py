"""The labeling workflow's input check, against a moto data bucket."""

from __future__ import annotations

import json

import pytest

from sagemaker_constructs.labeling.runtime.labeling_job import prepare

from .conftest import BUCKET, Aws

DEFAULTS = {
    "title": "What is the sentiment?",
    "description": "Pick the sentiment of the review.",
    "workers_per_object": 1,
    "task_time_limit_seconds": 300,
    "task_availability_seconds": 864000,
    "label_attribute": "label",
}
LIMITS = {
    "workers_per_object": 9,
    "task_time_limit_seconds": 28800,
    "task_availability_seconds": 2592000,
}


@pytest.fixture
def environment(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv("DEFAULTS", json.dumps(DEFAULTS))
    monkeypatch.setenv("LIMITS", json.dumps(LIMITS))
    monkeypatch.setenv("JOB_PREFIX", "smkit-sentiment-")
    aws.put("datasets/batch.manifest", '{"source": "hello"}\n')
    return aws


def test_defaults_and_overrides_make_the_job(environment: Aws) -> None:
    uri = f"s3://{BUCKET}/datasets/batch.manifest"
    job = prepare.handler(
        {
            "input": {"manifest_uri": uri, "workers_per_object": 3, "label_attribute": "sentiment"},
            "execution_name": "Nightly_Run 2026-08-01",
        }
    )
    assert job == {
        **DEFAULTS,
        "workers_per_object": 3,
        "label_attribute": "sentiment",
        "manifest_uri": uri,
        "job_name": "smkit-sentiment-nightly-run-2026-08-01",
    }
    named = prepare.handler({"input": {"manifest_uri": uri, "job_name": "Batch-7"}})
    assert named["job_name"] == "smkit-sentiment-Batch-7"


def test_long_execution_names_are_cut_to_sagemakers_limit(environment: Aws) -> None:
    job = prepare.handler(
        {
            "input": {"manifest_uri": f"s3://{BUCKET}/datasets/batch.manifest"},
            "execution_name": "a" * 70 + "-" + "b",
        }
    )
    assert len(job["job_name"]) == 63 and job["job_name"].endswith("a")


def test_every_problem_of_the_input_is_named(environment: Aws) -> None:
    with pytest.raises(prepare.InvalidInputError) as raised:
        prepare.handler(
            {
                "input": {
                    "manifest_uri": "s3://elsewhere/batch.manifest",
                    "workers_per_object": 12,
                    "task_time_limit_seconds": "300",
                    "title": "",
                    "label_attribute": "label-metadata",
                    "job_name": "bad name!",
                    "colour": "red",
                },
                "execution_name": "x",
            }
        )
    message = str(raised.value)
    assert message.startswith("invalid execution input: unknown keys ['colour']")
    assert (
        f"manifest_uri must be in the data bucket {BUCKET} (got s3://elsewhere/batch.manifest)"
        in message
    )
    assert "workers_per_object must be an integer from 1 to 9 (got 12)" in message
    assert "task_time_limit_seconds must be an integer from 30 to 28800 (got '300')" in message
    assert "title must be 1-128 characters (got '')" in message
    assert "label_attribute must be letters, digits and hyphens, not ending in -metadata" in message
    assert "job_name must be letters, digits and hyphens making a job name of at most 63" in message


def test_a_missing_manifest_is_named(environment: Aws) -> None:
    with pytest.raises(
        prepare.InvalidInputError, match=r"manifest_uri s3://.*/nope.manifest cannot be read"
    ):
        prepare.handler(
            {"input": {"manifest_uri": f"s3://{BUCKET}/nope.manifest"}, "execution_name": "e"}
        )
    with pytest.raises(prepare.InvalidInputError, match="must be a JSON object"):
        prepare.handler({"input": "s3://x/y"})


def test_a_run_started_by_auto_labeling_is_accepted(environment: Aws) -> None:
    # Step Functions adds the parent's execution ID to a nested execution's input
    # (auto-labeling starts this workflow with associate_with_parent).
    uri = f"s3://{BUCKET}/datasets/batch.manifest"
    parent = "arn:aws:states:us-east-1:123456789012:execution:auto:run-1"
    job = prepare.handler(
        {
            "input": {"manifest_uri": uri, prepare.STARTED_BY: parent},
            "execution_name": "nested-run",
        }
    )
    assert job["manifest_uri"] == uri
    assert prepare.STARTED_BY not in job
