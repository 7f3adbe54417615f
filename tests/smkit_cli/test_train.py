"""`smkit train watch` and `smkit tune watch` against moto: a workflow run in Step
Functions (its history names the job, as a `.sync` task's TaskScheduled event does), the
job's statuses set on moto's SageMaker backend between polls, metrics in CloudWatch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import Platform, executions, finish, sagemaker_backend


def scheduled(resource: str, parameters: dict[str, Any], event_id: int) -> dict[str, Any]:
    """A TaskScheduled event as Step Functions records a `.sync` SageMaker task."""
    return {
        "timestamp": "2026-03-02T09:00:05Z",
        "type": "TaskScheduled",
        "id": event_id,
        "previousEventId": event_id - 1,
        "taskScheduledEventDetails": {
            "resourceType": "sagemaker",
            "resource": resource,
            "region": "us-east-1",
            "parameters": json.dumps(parameters),
        },
    }


def start_run(platform: Platform, machine: str, events: list[dict[str, Any]]) -> str:
    """A run of `machine` whose history holds `events` (after ExecutionStarted)."""
    arn = platform.state_machine(machine)
    execution_arn = str(
        platform.client("stepfunctions").start_execution(stateMachineArn=arn, name="retrain-7")[
            "executionArn"
        ]
    )
    started = {"timestamp": "2026-03-02T09:00:00Z", "type": "ExecutionStarted", "id": 1}
    execution = executions(machine)[0]
    execution.start_date = platform.clock.now
    execution.get_execution_history = lambda role_arn: [started, *events]
    return execution_arn


def test_train_watch_follows_the_job_to_its_end(platform: Platform) -> None:
    platform.deploy_ops()
    # The first attempt hit a capacity error; the run's history names the second attempt.
    run = start_run(
        platform,
        "ops-text-classifier-training",
        [
            scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-tc-abc-1"}, 5),
            scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-tc-abc-2"}, 12),
        ],
    )
    now = platform.clock.now
    job = platform.training_job(
        "ops-tc-abc-2",
        "InProgress",
        StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        EnableManagedSpotTraining=True,
    )
    job.creation_time = now - timedelta(minutes=10)
    job.training_start_time = None
    job.secondary_status = "Starting"
    job.secondary_status_transitions = [
        {"Status": "Starting", "StartTime": now - timedelta(minutes=10),
         "StatusMessage": "Preparing the instances for training"},
    ]  # fmt: skip
    job.final_metric_data_list = []
    job.algorithm_specification["MetricDefinitions"] = [
        {"Name": "train:loss", "Regex": "loss=(\\S+)"},
        {"Name": "validation:macro_f1", "Regex": "f1=(\\S+)"},
    ]

    def training() -> None:
        job.secondary_status = "Training"
        job.training_start_time = now - timedelta(minutes=5)
        job.secondary_status_transitions += [
            {"Status": "Downloading", "StartTime": now - timedelta(minutes=7),
             "StatusMessage": "Downloading input data"},
            {"Status": "Training", "StartTime": now - timedelta(minutes=5),
             "StatusMessage": "Training image download completed. Training in progress."},
        ]  # fmt: skip
        host = [{"Name": "Host", "Value": "ops-tc-abc-2/algo-1"}]
        platform.client("cloudwatch").put_metric_data(
            Namespace="/aws/sagemaker/TrainingJobs",
            MetricData=[
                {"MetricName": "train:loss", "Dimensions": host, "Value": 0.42,
                 "Timestamp": now + timedelta(minutes=9)},
                {"MetricName": "validation:macro_f1", "Dimensions": host, "Value": 0.87,
                 "Timestamp": now + timedelta(minutes=9)},
            ],
        )  # fmt: skip

    def completed() -> None:
        job.training_job_status = job.secondary_status = "Completed"
        job.training_end_time = now + timedelta(minutes=25)
        finish(
            executions("ops-text-classifier-training")[0],
            "SUCCEEDED",
            output={"training_job": "ops-tc-abc-2", "model_package": "arn:...:model-package/x/3"},
        )

    platform.clock.on_sleep += [training, completed]
    result = platform.run("train", "watch", run, "--interval", "600")

    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = out.splitlines()
    assert lines[0] == "Training job ops-tc-abc-2"
    assert lines[1:4] == [
        "08:50:00  Starting     Preparing the instances for training",
        "08:53:00  Downloading  Downloading input data",
        "08:55:00  Training     Training image download completed. Training in progress.",
    ]
    assert "ops-tc-abc-2: Completed / Completed" in out
    assert "1 x ml.g5.xlarge (spot)" in out
    # Trained 09:00-09:25 of at most an hour; waited 08:50-09:25 of at most two.
    assert "0:30:00 of 1:00:00 (0:30:00 left)" in out
    assert "0:35:00 of 2:00:00 (1:25:00 left)" in out
    assert "train:loss 0.42, validation:macro_f1 0.87" in out
    assert "model_package" in out and "arn:...:model-package/x/3" in out
    assert platform.clock.slept == [600, 600]


def test_watch_waits_for_a_scheduled_job_that_does_not_exist_yet(platform: Platform) -> None:
    # Step Functions writes TaskScheduled, with the job's name, before the task creates the
    # job: for that moment SageMaker does not know the job (found by the playground).
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-training",
        [scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-tc-new-1"}, 5)],
    )

    def created() -> None:
        platform.training_job("ops-tc-new-1", "Completed").secondary_status = "Completed"
        finish(executions("ops-text-classifier-training")[0], "SUCCEEDED", output={})

    platform.clock.on_sleep += [created]
    result = platform.run("train", "watch", run, "--interval", "60")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "Training job ops-tc-new-1"
    assert "ops-tc-new-1: Completed / Completed" in result.stdout
    assert platform.clock.slept == [60]


def test_watch_of_a_run_that_failed_before_creating_its_job_shows_the_runs_error(
    platform: Platform,
) -> None:
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-training",
        [scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-tc-refused-1"}, 5)],
    )
    finish(
        executions("ops-text-classifier-training")[0],
        "FAILED",
        error="SageMaker.ResourceLimitExceededException",
        cause="The account-level service limit 'ml.g5.xlarge for spot training job usage' is 0",
    )
    result = platform.run("train", "watch", run)

    assert result.exit_code == 1, result.output
    assert "ops-tc-refused-1: never created (the run's error says why)" in result.stdout
    assert "ResourceLimitExceededException" in result.output
    assert "Traceback" not in result.output


def test_tune_watch_waits_for_a_tuning_job_that_does_not_exist_yet(platform: Platform) -> None:
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-hpo-tuning",
        [
            scheduled(
                "createHyperParameterTuningJob.sync",
                {"HyperParameterTuningJobName": "ops-tc-hpo-new"},
                7,
            )
        ],
    )
    finish(executions("ops-text-classifier-hpo-tuning")[0], "FAILED", error="States.TaskFailed")
    result = platform.run("tune", "watch", run)

    assert "ops-tc-hpo-new: never created (the run's error says why)" in result.stdout
    assert "Traceback" not in result.output


def test_train_watch_json_and_a_failed_run(platform: Platform) -> None:
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-training",
        [scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-deepar-abc-1"}, 5)],
    )
    job = platform.training_job("ops-deepar-abc-1", "Failed")
    job.secondary_status = "Failed"
    job.failure_reason = "AlgorithmError: prediction_length is required"
    finish(
        executions("ops-text-classifier-training")[0],
        "FAILED",
        error="TrainingFailed",
        cause="AlgorithmError: prediction_length is required",
    )

    result = platform.run("train", "watch", run, "--json")

    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "FAILED" and data["training_job"] == "ops-deepar-abc-1"
    assert data["job_status"] == "Failed"
    assert data["metrics"] == {"train:progress": 100.0}  # moto's final metric
    assert (
        "run retrain-7 ended FAILED (TrainingFailed: AlgorithmError: prediction_length is "
        "required)" in result.stderr
    )


def test_tune_watch_shows_jobs_done_running_and_the_best(platform: Platform) -> None:
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-hpo-tuning",
        [
            scheduled(
                "createHyperParameterTuningJob.sync",
                {"HyperParameterTuningJobName": "ops-tc-hpo-0a1b2c3d4e5f"},
                7,
            )
        ],
    )
    platform.client("sagemaker").create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="ops-tc-hpo-0a1b2c3d4e5f",
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": 10,
                "MaxParallelTrainingJobs": 2,
                "MaxRuntimeInSeconds": 7200,
            },
        },
    )
    job = sagemaker_backend().hyper_parameter_tuning_jobs["ops-tc-hpo-0a1b2c3d4e5f"]
    job.creation_time = platform.clock.now - timedelta(minutes=30)
    job.hyper_parameter_tuning_job_status = "InProgress"
    job.hyper_parameter_tuning_end_time = None
    job.training_job_status_counters = {"Completed": 2, "InProgress": 2, "RetryableError": 0,
                                        "NonRetryableError": 0, "Stopped": 0}  # fmt: skip

    def best(value: float, name: str) -> dict[str, Any]:
        objective = {"Type": "Maximize", "MetricName": "validation:macro_f1", "Value": value}
        return {
            **job.best_training_job,
            "TrainingJobName": name,
            "FinalHyperParameterTuningJobObjectiveMetric": objective,
        }

    job.best_training_job = best(0.81, "ops-tc-hpo-0a1b2c3d4e5f-002-aa")

    def more_done() -> None:
        counters = {"Completed": 9, "InProgress": 1, "Stopped": 1}
        job.training_job_status_counters = {**job.training_job_status_counters, **counters}
        job.best_training_job = best(0.88, "ops-tc-hpo-0a1b2c3d4e5f-007-bb")

    def done() -> None:
        job.hyper_parameter_tuning_job_status = "Completed"
        job.training_job_status_counters = {**job.training_job_status_counters,
                                            "Completed": 10, "InProgress": 0}  # fmt: skip
        finish(
            executions("ops-text-classifier-hpo-tuning")[0],
            "SUCCEEDED",
            output={"best": "x"},
            at=platform.clock.now,
        )

    platform.clock.on_sleep += [more_done, done]
    result = platform.run("tune", "watch", run, "--interval", "300")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Tuning job ops-tc-hpo-0a1b2c3d4e5f",
        "09:00:00  InProgress: 2 done, 2 running, 0 failed, 0 stopped; best validation:macro_f1 "
        "= 0.81 (ops-tc-hpo-0a1b2c3d4e5f-002-aa)",
        "09:05:00  InProgress: 9 done, 1 running, 0 failed, 1 stopped; best validation:macro_f1 "
        "= 0.88 (ops-tc-hpo-0a1b2c3d4e5f-007-bb)",
        "09:10:00  Completed: 10 done, 0 running, 0 failed, 1 stopped; best validation:macro_f1 "
        "= 0.88 (ops-tc-hpo-0a1b2c3d4e5f-007-bb)",
    ]
    assert "10 done, 0 running, 0 failed, 1 stopped of 10 (2 at a time)" in result.stdout
    assert "0:40:00 of 2:00:00 (1:20:00 left)" in result.stdout


def test_watch_refuses_what_is_no_run(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run("train", "watch", "retrain-7")
    assert result.exit_code == 2
    assert "'retrain-7' is not an execution ARN" in result.stderr
    missing = "arn:aws:states:us-east-1:123456789012:execution:ops-x:retrain-7"
    result = platform.run("tune", "watch", missing)
    assert result.exit_code == 4
    assert f"no run {missing} in account 123456789012, us-east-1" in result.stderr


def test_train_start_sends_the_checked_overrides(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "train", "start", "text-classifier", "--hp", "epochs=20", "--hp", "learning_rate=0.005",
        "--channel", "train=s3://ops-data/labeling/batch-7/output.manifest",
        "--instance-type", "ml.g5.2xlarge", "--name", "retrain-7", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [execution] = executions("ops-text-classifier-training")
    expected = {
        "hyperparameters": {"epochs": "20", "learning_rate": "0.005"},
        "channels": {"train": "s3://ops-data/labeling/batch-7/output.manifest"},
        "instance_type": "ml.g5.2xlarge",
    }
    assert json.loads(execution.execution_input) == expected
    assert execution.name == "retrain-7"
    assert json.loads(result.stdout) == {
        "workflow": "text-classifier",
        "execution_arn": execution.execution_arn,
        "input": expected,
    }
    # Without overrides the input is empty: the run uses the definition as deployed.
    result = platform.run("train", "start", "ops-text-classifier")
    assert result.exit_code == 0, result.output
    assert json.loads(executions("ops-text-classifier-training")[1].execution_input) == {}
    assert "Follow it: smkit train watch arn:aws:states:us-east-1:" in result.stdout


def test_start_refuses_what_the_state_machine_would(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "train", "start", "text-classifier", "--hp", "dropout=0.2",
        "--channel", "validation=s3://ops-data/text-classifier/validation/v2/",
        "--channel", "train=s3://ops-data/private/all.manifest",
        "--instance-type", "ml.p4d.24xlarge",
    )  # fmt: skip
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    for fragment in (
        "hyperparameters text-classifier lets a run set: epochs, learning_rate, batch_size "
        "(got dropout)",
        "channels text-classifier lets a run point elsewhere: train (got validation)",
        "channel train must be an S3 URI under s3://ops-data/labeling/ (the job may read "
        "nothing else; got s3://ops-data/private/all.manifest)",
        "instance type ml.p4d.24xlarge is not allowed for text-classifier; allowed: "
        "ml.g5.xlarge, ml.g5.2xlarge",
    ):
        assert fragment in message, fragment
    result = platform.run("tune", "start", "text-classifier-hpo", "--hp", "learning_rate=0.1")
    assert result.exit_code == 2
    assert (
        "hyperparameters text-classifier-hpo lets a run set: epochs, batch_size (got "
        "learning_rate) (tuned: learning_rate)" in result.stderr
    )
    result = platform.run("train", "start", "text-classifier", "--hp", "epochs")
    assert result.exit_code == 2
    assert "--hp takes name=value (got 'epochs')" in result.stderr
    result = platform.run("train", "start", "deepar")
    assert result.exit_code == 2
    assert "no training definition 'deepar' in" in result.stderr
    assert executions("ops-text-classifier-training") == []
    assert executions("ops-text-classifier-hpo-tuning") == []


def test_tune_start_wait_follows_the_tuning_job(platform: Platform) -> None:
    platform.deploy_ops()
    name = "ops-tc-hpo-5e6f7a8b9c0d"

    def tuning_started() -> None:
        execution = executions("ops-text-classifier-hpo-tuning")[0]
        event = scheduled(
            "createHyperParameterTuningJob.sync", {"HyperParameterTuningJobName": name}, 9
        )
        execution.get_execution_history = lambda role_arn: [event]
        platform.client("sagemaker").create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            HyperParameterTuningJobConfig={
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2},
            },
        )

    def finished() -> None:
        finish(
            executions("ops-text-classifier-hpo-tuning")[0],
            "SUCCEEDED",
            output={"tuning_job": name},
            at=platform.clock.now,
        )

    platform.clock.on_sleep += [tuning_started, finished]
    result = platform.run("tune", "start", "text-classifier-hpo", "--hp", "epochs=5", "--wait")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert json.loads(executions("ops-text-classifier-hpo-tuning")[0].execution_input) == {
        "hyperparameters": {"epochs": "5"}
    }
    assert f"Tuning job {name}" in out
    # moto's tuning job: one training job completed, its best objective "Accuracy" 1.
    assert "Completed: 1 done, 0 running, 0 failed, 0 stopped; best Accuracy = 1" in out
    assert "tuning_job  ops-tc-hpo-5e6f7a8b9c0d" in out


def test_start_checks_every_flag_locally(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run(
        "train", "start", "text-classifier", "--hp", "epochs=abc", "--hp", "learning_rate=fast",
        "--hp", "batch_size=64",
    )  # fmt: skip
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert (
        "hyperparameter epochs of text-classifier must be an integer, as its value 10 "
        "(got 'abc')" in message
    )
    assert (
        "hyperparameter learning_rate of text-classifier must be a number, as its value 0.01 "
        "(got 'fast')" in message
    )
    for bad in ("bad name", "a/b", "x" * 81):
        result = platform.run("tune", "start", "text-classifier-hpo", "--name", bad)
        assert result.exit_code == 2, bad
        assert (
            "--name must be 1-80 letters, digits, hyphens and underscores (Step Functions "
            f"names with CloudWatch logging; got {bad!r})" in " ".join(result.stderr.split())
        )
    assert executions("ops-text-classifier-training") == []
    assert executions("ops-text-classifier-hpo-tuning") == []


def test_reusing_a_finished_runs_name_says_why(platform: Platform) -> None:
    platform.deploy_ops()
    start = ("train", "start", "text-classifier", "--hp", "epochs=20", "--name", "retrain-7")
    assert platform.run(*start).exit_code == 0
    finished = datetime(2026, 3, 2, 9, 42, tzinfo=UTC)
    finish(executions("ops-text-classifier-training")[0], "SUCCEEDED", output={}, at=finished)

    result = platform.run(*start)

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert (
        "a run named 'retrain-7' already ran with this same input and ended SUCCEEDED on "
        "2026-03-02 09:42 UTC; Step Functions keeps a run's name for 90 days, so it cannot "
        "start again: choose another name" in message
    )
    assert "another input" not in message
    assert (
        "See that run: smkit train watch arn:aws:states:us-east-1:123456789012:execution:"
        "ops-text-classifier-training:retrain-7" in message
    )
    # Another input under a running run's name.
    platform.run("train", "start", "text-classifier", "--name", "retrain-8")
    result = platform.run(*start[:-1], "retrain-8")
    assert result.exit_code == 2
    assert "a run named 'retrain-8' is going with another input: choose another name" in (
        result.stderr
    )


def test_watch_refuses_another_workflows_runs(platform: Platform) -> None:
    platform.deploy_ops()
    sfn = platform.client("stepfunctions")
    labeling = sfn.start_execution(
        stateMachineArn=platform.deploy_outputs["LabelingWorkflowSentimentArn"], name="batch-7"
    )["executionArn"]
    training = sfn.start_execution(
        stateMachineArn=platform.deploy_outputs["TextClassifierTrainingStateMachineArn"],
        name="retrain-7",
    )["executionArn"]
    stranger = sfn.start_execution(
        stateMachineArn=platform.state_machine("someone-elses"), name="x"
    )["executionArn"]
    # Following one of these runs would never end: the first poll fails the test instead.
    platform.clock.on_sleep += [lambda: pytest.fail("followed another workflow's run")] * 3

    result = platform.run("train", "watch", labeling)
    assert result.exit_code == 2
    assert (
        f"{labeling} is a run of the labeling workflow sentiment, not of a training workflow"
        in " ".join(result.stderr.split())
    )
    result = platform.run("tune", "watch", training)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert f"{training} is a run of the training workflow text-classifier, not of a tuning" in (
        message
    )
    assert f"Follow it with: smkit train watch {training}" in message
    result = platform.run("train", "watch", stranger)
    assert result.exit_code == 2
    assert (
        f"{stranger} is a run of someone-elses, which is no training workflow of "
        f"{platform.config} (training workflows: text-classifier)"
        in " ".join(result.stderr.split())
    )
    assert platform.clock.slept == []


def test_wait_off_a_terminal_prints_a_progress_line_a_minute(platform: Platform) -> None:
    platform.deploy_ops()
    run = start_run(
        platform,
        "ops-text-classifier-training",
        [scheduled("createTrainingJob.sync", {"TrainingJobName": "ops-tc-abc-1"}, 5)],
    )
    job = platform.training_job("ops-tc-abc-1", "InProgress")
    job.secondary_status = "Training"
    job.secondary_status_transitions = []
    job.final_metric_data_list = []

    def done() -> None:
        finish(executions("ops-text-classifier-training")[0], "SUCCEEDED", output={},
               at=platform.clock.now)  # fmt: skip

    # Nothing changes for 4 minutes, polled every 30 s.
    platform.clock.on_sleep += [lambda: None] * 7 + [done]
    result = platform.run("train", "watch", run, "--interval", "30")

    assert result.exit_code == 0, result.output
    progress = [line for line in result.stdout.splitlines() if "retrain-7: RUNNING" in line]
    assert progress == [
        "09:01:00  retrain-7: RUNNING, 0:01:00",
        "09:02:00  retrain-7: RUNNING, 0:02:00",
        "09:03:00  retrain-7: RUNNING, 0:03:00",
    ]


def test_interval_zero_is_refused(platform: Platform) -> None:
    result = platform.run("train", "watch", "arn", "--interval", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--interval': 0.0 is not in the range x>=1." in result.stderr


class _RecordingCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"MetricDataResults": [{"Id": "m0", "Timestamps": [], "Values": []}]}


def test_metrics_are_not_asked_for_within_the_second_the_job_started() -> None:
    # CloudWatch takes whole seconds: StartTime and EndTime within one second are sent
    # equal, and GetMetricData refuses them ("StartTime must not equal EndTime").
    from types import SimpleNamespace

    from smkit_cli.jobs import TrainingView

    cloudwatch = _RecordingCloudWatch()
    operator = SimpleNamespace(aws=SimpleNamespace(client=lambda service: cloudwatch))
    view = TrainingView(operator, emit=lambda line: None)  # type: ignore[arg-type]
    now = datetime(2026, 3, 2, 9, 0, 0, 900_000, tzinfo=UTC)
    job = {
        "TrainingJobName": "demo-1",
        "CreationTime": now - timedelta(seconds=5),
        "AlgorithmSpecification": {"MetricDefinitions": [{"Name": "loss", "Regex": "x"}]},
    }
    view._latest_metrics({**job, "TrainingStartTime": now - timedelta(milliseconds=600)}, now)
    assert cloudwatch.calls == []
    view._latest_metrics({**job, "TrainingStartTime": now - timedelta(seconds=1)}, now)
    assert len(cloudwatch.calls) == 1
