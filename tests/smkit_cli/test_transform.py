"""`smkit transform start|watch`, `smkit forecast --batch` and `smkit classify --batch`
against moto: the run's input checked before anything starts, the file uploaded under the
definition's input prefix, the run followed, its results read back line by line."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .conftest import Platform, executions, finish, sagemaker_backend
from .test_predict import SERIES
from .test_train import scheduled

DATA = "ops-data"


def results_for(
    platform: Platform, machine: str, filename: str, answer: list[dict[str, Any]]
) -> None:
    """When the CLI next waits: the run wrote `answer` as its results, and succeeded."""

    def done() -> None:
        (execution,) = executions(machine)
        given = json.loads(execution.execution_input)
        folder = f"{given['input'].rsplit('/', 1)[0].split('/', 3)[3]}/"
        output = f"s3://{DATA}/transform/out/abc123/"
        body = "".join(json.dumps(line) + "\n" for line in answer)
        platform.client("s3").put_object(
            Bucket=DATA, Key=f"transform/out/abc123/{filename}.out", Body=body.encode()
        )
        assert folder.startswith("forecasting/batch/input/smkit-cli/") or folder.startswith(
            "texts/batch/input/smkit-cli/"
        )
        finish(execution, "SUCCEEDED", output={"output": output, "transform_job": "ops-x-abc"})

    platform.clock.on_sleep.append(done)


def test_forecast_batch_uploads_the_series_and_writes_the_forecasts(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    platform.client("s3").create_bucket(Bucket=DATA)
    series = tmp_path / "series.jsonl"
    series.write_text(SERIES)
    out = tmp_path / "weekly.csv"
    results_for(
        platform,
        "ops-demand-batch",
        "series.jsonl",
        [
            {"mean": [7.5, 8.25],
             "quantiles": {"0.1": [6.0, 6.5], "0.5": [7.5, 8.0], "0.9": [9.0, 10.0]}},
            {"mean": [3.0, 3.5],
             "quantiles": {"0.1": [2.0, 2.25], "0.5": [3.0, 3.5], "0.9": [4.0, 4.75]}},
        ],
    )  # fmt: skip

    result = platform.run(
        "forecast", "--batch", "demand-batch", "--series", str(series), "--csv", str(out),
        "--interval", "30",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    (execution,) = executions("ops-demand-batch")
    given = json.loads(execution.execution_input)
    uri = f"s3://{DATA}/forecasting/batch/input/smkit-cli/20260302-090000/series.jsonl"
    assert given == {"input": uri}
    uploaded = (
        platform.client("s3")
        .get_object(Bucket=DATA, Key=uri.split("/", 3)[3])["Body"]
        .read()
        .decode()
    )
    # One series per line, as DeepAR reads it; the ids stay on this side.
    assert [json.loads(line) for line in uploaded.splitlines()] == [
        {"start": "2026-03-01 00:00:00", "target": [5, "NaN", 7]},
        {"start": "2026-03-01", "target": [1.5, 2.5], "cat": [2]},
    ]
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["series", "step", "mean", "0.1", "0.5", "0.9"]
    assert rows[1] == ["store-1", "1", "7.5", "6.0", "7.5", "9.0"]
    assert rows[4] == ["line 3", "2", "3.5", "2.25", "3.5", "4.75"]
    assert "transform demand-batch" in result.stdout


def test_forecast_batch_refuses_quantiles_the_job_does_not_compute(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    series = tmp_path / "series.jsonl"
    series.write_text(SERIES)
    result = platform.run(
        "forecast", "--batch", "demand-batch", "-s", str(series), "--quantiles", "0.5,0.95"
    )
    assert result.exit_code == 2
    assert (
        "transform demand-batch computes quantiles 0.1, 0.5, 0.9 (its DEEPAR_INFERENCE_CONFIG); "
        "--quantiles asks for 0.95 as well"
    ) in result.output
    assert executions("ops-demand-batch") == []


def test_one_of_endpoint_or_batch(platform: Platform, tmp_path: Path) -> None:
    series = tmp_path / "series.jsonl"
    series.write_text(SERIES)
    both = platform.run(
        "forecast", "-e", "demand-forecast", "--batch", "demand-batch", "-s", str(series)
    )
    neither = platform.run("classify", "Great phone")
    for result in (both, neither):
        assert result.exit_code == 2
        assert "give either --endpoint or --batch TRANSFORM" in result.output


def test_classify_batch_writes_each_manifest_line_with_its_prediction(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    platform.client("s3").create_bucket(Bucket=DATA)
    manifest = tmp_path / "reviews.manifest"
    manifest.write_text(
        '{"source": "Great phone", "id": 7}\n\n{"source": "Broke after a week", "id": 8}\n'
    )
    out = tmp_path / "labeled.jsonl"
    results_for(
        platform,
        "ops-sentiment-batch",
        "manifest.jsonl",
        [
            {"label": "positive", "confidence": 0.97,
             "probabilities": {"positive": 0.97, "negative": 0.03}},
            {"label": "negative", "confidence": 0.88,
             "probabilities": {"positive": 0.12, "negative": 0.88}},
        ],
    )  # fmt: skip

    result = platform.run(
        "classify", "--batch", "sentiment-batch", "-f", str(manifest), "--output", str(out),
        "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"source": "Great phone", "id": 7, "prediction": {"label": "positive", "confidence": 0.97}},
        {"source": "Broke after a week", "id": 8,
         "prediction": {"label": "negative", "confidence": 0.88}},
    ]  # fmt: skip
    shown = json.loads(result.stdout)
    assert shown["transform"] == "transform sentiment-batch"
    assert [p["label"] for p in shown["predictions"]] == ["positive", "negative"]


def test_classify_batch_names_bad_manifest_lines(platform: Platform, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.manifest"
    manifest.write_text('{"source": "ok"}\nnot json\n{"text": "no source"}\n')
    result = platform.run("classify", "--batch", "sentiment-batch", "-f", str(manifest))
    assert result.exit_code == 2
    assert f"{manifest}: line 2: not valid JSON" in result.output
    assert f'{manifest}: line 3: must be a JSON object with a "source" text' in result.output


def test_a_result_count_that_does_not_match_fails(platform: Platform, tmp_path: Path) -> None:
    platform.deploy_ops()
    platform.client("s3").create_bucket(Bucket=DATA)
    manifest = tmp_path / "reviews.manifest"
    manifest.write_text('{"source": "a"}\n{"source": "b"}\n')
    results_for(
        platform, "ops-sentiment-batch", "manifest.jsonl", [{"label": "x", "confidence": 1}]
    )
    result = platform.run("classify", "--batch", "sentiment-batch", "-f", str(manifest))
    assert result.exit_code == 1
    assert "holds 1 results for 2 input lines" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--input", "s3://ops-data/elsewhere/"],
            "--input must be an S3 URI under s3://ops-data/forecasting/batch/input/ (the job may "
            "read nothing else; got s3://ops-data/elsewhere/)",
        ),
        (
            ["--instance-type", "ml.g5.xlarge"],
            "instance type ml.g5.xlarge is not allowed for demand-batch; allowed: ml.m5.xlarge, "
            "ml.m5.2xlarge",
        ),
    ],
)
def test_start_refuses_what_the_state_machine_would(
    platform: Platform, args: list[str], message: str
) -> None:
    platform.deploy_ops()
    result = platform.run("transform", "start", "demand-batch", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert executions("ops-demand-batch") == []


def test_start_sends_the_checked_input(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "transform", "start", "demand-batch", "--input",
        "s3://ops-data/forecasting/batch/input/2026-03/", "--instance-type", "ml.m5.2xlarge",
        "--name", "march", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (execution,) = executions("ops-demand-batch")
    assert json.loads(execution.execution_input) == {
        "input": "s3://ops-data/forecasting/batch/input/2026-03/",
        "instance_type": "ml.m5.2xlarge",
    }
    assert json.loads(result.stdout)["execution_arn"].endswith(":march")


def _transform_run(platform: Platform, job_name: str) -> tuple[str, Any]:
    """A run of a deployed transform workflow whose history has scheduled `job_name`:
    (its ARN, moto's execution)."""
    platform.deploy_ops()
    machine = platform.state_machine("ops-demand-batch-watched")
    outputs = {"DemandBatchTransformStateMachineArn": machine}
    platform.client("cloudformation").update_stack(
        StackName="ops-Transform",
        TemplateBody=json.dumps(
            {
                "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
        ),
    )
    arn = str(
        platform.client("stepfunctions").start_execution(stateMachineArn=machine, name="weekly")[
            "executionArn"
        ]
    )
    (execution,) = executions("ops-demand-batch-watched")
    execution.start_date = platform.clock.now
    started = {"timestamp": "2026-03-02T09:00:00Z", "type": "ExecutionStarted", "id": 1}
    execution.get_execution_history = lambda role_arn: [
        started,
        scheduled("createTransformJob.sync", {"TransformJobName": job_name}, 4),
    ]
    return arn, execution


def test_watch_follows_the_job_against_the_definitions_time_limit(platform: Platform) -> None:
    job_name = "ops-demand-batch-abc"
    arn, execution = _transform_run(platform, job_name)
    platform.client("sagemaker").create_transform_job(
        TransformJobName=job_name,
        ModelName="ops-model",
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://ops-data/forecasting/batch/input/",
                }
            }
        },
        TransformOutput={"S3OutputPath": "s3://ops-data/transform/demand-batch/output/abc/"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2},
    )
    job = sagemaker_backend().transform_jobs[job_name]
    job.transform_job_status = "InProgress"
    job.creation_time = job.transform_start_time = platform.clock.now

    def completed() -> None:
        job.transform_job_status = "Completed"
        job.transform_end_time = platform.clock.now + timedelta(minutes=20)
        finish(
            execution,
            "SUCCEEDED",
            output={"transform_job": job_name, "output": "s3://ops-data/transform/x/abc/"},
        )

    platform.clock.on_sleep.append(completed)
    result = platform.run("transform", "watch", arn, "--interval", "600")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == f"Transform job {job_name}"
    assert "09:00:00  InProgress" in out
    assert "2 x ml.m5.xlarge" in out
    # Started at 9:00, ended 30 minutes later, of the definition's 2 hours.
    assert "0:30:00 of 2:00:00 (1:30:00 left)" in out
    assert "s3://ops-data/transform/x/abc/" in out


def test_watch_of_a_run_that_failed_before_creating_its_job_shows_the_runs_error(
    platform: Platform,
) -> None:
    # The history names the job as soon as the task is scheduled; a job SageMaker refused
    # to create never exists.
    arn, execution = _transform_run(platform, "ops-demand-batch-refused")
    finish(execution, "FAILED", error="SageMaker.ValidationException", cause="bad model")
    result = platform.run("transform", "watch", arn)
    assert result.exit_code == 1, result.output
    assert "ops-demand-batch-refused: never created (the run's error says why)" in result.stdout
    assert "Traceback" not in result.output
