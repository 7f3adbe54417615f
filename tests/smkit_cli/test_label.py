"""`smkit label run|auto` against moto's Step Functions: the execution input each
workflow's first step checks, and the summary of a finished run."""

from __future__ import annotations

import json

from .conftest import Platform, executions, finish

SUMMARY = {
    "workflow": "sentiment-auto",
    "run_id": "3f2a9c",
    "manifest_uri": "s3://ops-data/reviews/march.manifest",
    "endpoint_name": "ops-text-classifier",
    "threshold": 0.8,
    "label_attribute": "label",
    "labels": ["positive", "negative", "neutral"],
    "human_mode": "ground_truth",
    "total": 1000,
    "auto_labeled": 870,
    "human_labeled": 130,
    "fraction_auto_labeled": 0.87,
    "per_class": {
        "positive": {"auto": 500, "human": 40},
        "negative": {"auto": 300, "human": 50},
        "neutral": {"auto": 70, "human": 40},
    },
    "human_cost_per_object_usd": 0.08,
    "estimated_human_cost_saved_usd": 69.6,
    "output_manifest_uri": "s3://ops-data/auto-labeling/sentiment-auto/3f2a9c/output/output.manifest",
    "human_labels_uri": "s3://ops-data/auto-labeling/sentiment-auto/3f2a9c/human/labels.manifest",
}


def test_label_run_starts_the_workflow_with_its_input(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "label", "run", "sentiment", "--manifest", "batches/7/input.manifest",
        "--job-name", "batch-7", "--workers-per-object", "3", "--task-time-limit", "600",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [execution] = executions("ops-sentiment")
    expected_input = {
        "manifest_uri": "s3://ops-data/batches/7/input.manifest",
        "job_name": "batch-7",
        "workers_per_object": 3,
        "task_time_limit_seconds": 600,
    }
    assert json.loads(execution.execution_input) == expected_input
    assert execution.name == "batch-7"
    assert json.loads(result.stdout) == {
        "workflow": "sentiment",
        "execution_arn": execution.execution_arn,
        "input": expected_input,
    }


def test_label_run_wait_prints_who_labeled(platform: Platform) -> None:
    platform.deploy_ops()

    def job_done() -> None:
        finish(
            executions("ops-sentiment")[0],
            "SUCCEEDED",
            output={
                "job_name": "ops-sentiment-cli-20260302-090000",
                "status": "Completed",
                "output_manifest_uri": "s3://ops-data/labeling/sentiment/output/x/output.manifest",
                "label_attribute": "label",
                "label_counters": {
                    "TotalLabeled": 120,
                    "HumanLabeled": 100,
                    "MachineLabeled": 20,
                    "FailedNonRetryableError": 1,
                    "Unlabeled": 0,
                },
            },
        )

    platform.clock.on_sleep.append(job_done)
    result = platform.run(
        "label", "run", "sentiment", "-m", "s3://ops-data/in.manifest", "--wait",
        "--interval", "30",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert executions("ops-sentiment")[0].name == "cli-20260302-090000"
    assert platform.clock.slept == [30]
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in result.stdout.splitlines() if line.count("│") == 3}  # fmt: skip
    assert rows == {
        "people": "100",
        "automated labeling": "20",
        "total": "120",
        "failed": "1",
        "unlabeled": "0",
    }
    assert "Output manifest: s3://ops-data/labeling/sentiment/output/x/output.manifest" in (
        result.stdout
    )


def test_label_auto_wait_prints_the_auto_vs_human_summary(platform: Platform) -> None:
    platform.deploy_ops()
    platform.clock.on_sleep.append(lambda: None)
    platform.clock.on_sleep.append(
        lambda: finish(executions("ops-sentiment-auto")[0], "SUCCEEDED", output=SUMMARY)
    )
    result = platform.run(
        "label", "auto", "sentiment-auto", "--manifest", "reviews/march.manifest",
        "--threshold", "0.8", "--endpoint", "ops-text-classifier", "--wait", "--interval", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [execution] = executions("ops-sentiment-auto")
    assert json.loads(execution.execution_input) == {
        "manifest_uri": "s3://ops-data/reviews/march.manifest",
        "threshold": 0.8,
        "endpoint_name": "ops-text-classifier",
    }
    assert platform.clock.slept == [5, 5]
    out = result.stdout
    assert "Auto-labeling run 3f2a9c (threshold 0.8, model ops-text-classifier, people:" in out
    table = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
             if line.count("│") == 5]  # fmt: skip
    assert "┃ class    ┃ model ┃ people ┃ total ┃" in out
    assert table == [
        ["positive", "500", "40", "540"],
        ["negative", "300", "50", "350"],
        ["neutral", "70", "40", "110"],
        ["all", "870", "130", "1000"],
    ]
    assert "87.0% by the model; estimated human labeling saved: $69.60" in out


def test_label_auto_json_summary(platform: Platform) -> None:
    platform.deploy_ops()
    platform.clock.on_sleep.append(
        lambda: finish(executions("ops-sentiment-auto")[0], "SUCCEEDED", output=SUMMARY)
    )
    result = platform.run(
        "label", "auto", "sentiment-auto", "-m", "m.manifest", "--human-mode", "external",
        "--run-id", "march", "--wait", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "SUCCEEDED" and data["summary"] == SUMMARY
    assert json.loads(executions("ops-sentiment-auto")[0].execution_input) == {
        "manifest_uri": "s3://ops-data/m.manifest",
        "human_mode": "external",
        "run_id": "march",
    }


def test_failed_run_exits_1_with_the_cause(platform: Platform) -> None:
    platform.deploy_ops()
    platform.clock.on_sleep.append(
        lambda: finish(
            executions("ops-sentiment-auto")[0],
            "FAILED",
            error="InvalidInputError",
            cause="manifest_uri s3://ops-data/m.manifest cannot be read (404)",
        )
    )
    result = platform.run("label", "auto", "sentiment-auto", "-m", "m.manifest", "--wait")
    assert result.exit_code == 1
    assert (
        "run " in result.stderr
        and " ended FAILED (InvalidInputError: manifest_uri s3://ops-data/m.manifest cannot be "
        "read (404))"
        in result.stderr
    )


def test_label_refuses_what_the_workflow_would(platform: Platform) -> None:
    platform.deploy_ops()
    cases = [
        (["run", "sentiment", "-m", "s3://other-bucket/in.manifest"],
         "--manifest must be an object in the data bucket ops-data (got "
         "'s3://other-bucket/in.manifest')"),
        (["run", "sentiment", "-m", "x", "--workers-per-object", "12"],
         "Invalid value for '--workers-per-object': 12 is not in the range 1<=x<=9."),
        (["run", "photos", "-m", "x"],
         "no labeling workflow 'photos' in"),
        (["auto", "sentiment-auto", "-m", "x", "--threshold", "1.5"],
         "Invalid value for '--threshold': 1.5 is not in the range 0<=x<=1."),
        (["auto", "sentiment-auto", "-m", "x", "--endpoint", "ops-demand-forecast"],
         "--endpoint 'ops-demand-forecast' is not one of sentiment-auto's endpoints: "
         "ops-text-classifier, ops-text-classifier-v2"),
    ]  # fmt: skip
    for args, message in cases:
        result = platform.run("label", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    assert executions("ops-sentiment") == [] and executions("ops-sentiment-auto") == []


def test_labeling_stack_not_deployed(platform: Platform) -> None:
    platform.deploy("Foundation", {"DataBucketName": "ops-data"})
    result = platform.run("label", "run", "sentiment", "-m", "x")
    assert result.exit_code == 4
    assert "stack ops-Labeling is not deployed in account 123456789012, us-east-1" in (
        result.stderr
    )


def test_wait_on_a_terminal_shows_a_live_view(platform: Platform) -> None:
    platform.deploy_ops()
    platform.clock.on_sleep.append(
        lambda: finish(executions("ops-sentiment-auto")[0], "SUCCEEDED", output=SUMMARY)
    )
    result = platform.run(
        "label", "auto", "sentiment-auto", "-m", "m.manifest", "--wait", terminal=True
    )
    assert result.exit_code == 0, result.output
    assert "\x1b[?25l" in result.stdout  # the live display hides the cursor while it runs
    assert ": RUNNING after 0:00:00" in result.stdout
    assert ": SUCCEEDED after 0:42:00" in result.stdout
    assert "estimated human labeling saved:" in result.stdout


def test_label_flags_are_checked_before_a_run_starts(platform: Platform) -> None:
    platform.deploy_ops()
    for job_name in ("batch_7", "b" * 70):
        result = platform.run("label", "run", "sentiment", "-m", "m.manifest",
                              "--job-name", job_name)  # fmt: skip
        assert result.exit_code == 2, job_name
        assert (
            "--job-name: job_name must be letters, digits and hyphens making a job name of at "
            f"most 63 characters with the prefix 'ops-sentiment-' (got {job_name!r})"
            in " ".join(result.stderr.split())
        )
    result = platform.run("label", "auto", "sentiment-auto", "-m", "m.manifest",
                          "--run-id", "UPPER_case")  # fmt: skip
    assert result.exit_code == 2
    assert (
        "--run-id: run_id must be 1-40 lower-case letters, digits and single hyphens "
        "(got 'UPPER_case')" in result.stderr
    )
    assert executions("ops-sentiment") == []
    assert executions("ops-sentiment-auto") == []


def test_long_arns_are_not_wrapped_when_piped(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "label", "run", "sentiment", "-m", "m.manifest",
        "--job-name", "batch-7-with-a-name-long-enough-to-pass-eighty-columns",
        width=None,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [execution] = executions("ops-sentiment")
    assert f"Started sentiment: {execution.execution_arn}\n" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) > 80
