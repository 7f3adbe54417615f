"""The tuning workflow: a hyperparameter tuning job over one training definition, the
best training job registered as a model package, the outcome sent to the alerts topic.

CDK has no tuning task; this one runs `createHyperParameterTuningJob.sync` with a
TrainingJobDefinition rendered by the same `TrainingJob` the training workflow uses,
so tuning jobs get spot, checkpoints, VPC, isolation and encryption alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..common import (
    TUNING_JOB,
    LoggedStateMachine,
    Problems,
    SageMakerJobTask,
    acknowledge_wildcards,
)
from .job import TrainingJob
from .job_rules import JsonPath
from .overrides import InputCheck, OverridePolicy
from .steps import (
    APPROVAL_STATUSES,
    ModelPackageSpec,
    NewDataTrigger,
    add_triggers,
    describe_job,
    error_branch,
    failure_branch,
    grant_publish,
    notify,
    register_model,
    workflow_timeout,
)
from .tuning_rules import (
    MAX_TUNING_JOB_NAME,
    MAX_TUNING_JOB_NAME_PREFIX,
    RUN_ID_LENGTH,
    Range,
    grid_size,
    objective_direction,
    render_ranges,
    tuning_problems,
)


class TuningWorkflow(Construct):
    """A state machine that tunes one training definition and registers the best model.

    1. Checks the execution input like the training workflow (tuned hyperparameters
       cannot be overridden; static ones on the allow-list can).
    2. Names the tuning job `<prefix>-<12 hex digits>` (lower case, at most 32
       characters: too short for the execution's MD5, so the digits come from a UUID
       drawn once per run) and runs it to the end (`createHyperParameterTuningJob.sync`).
       Its training jobs are named `<tuning job>-<n>-<hash>` by SageMaker and carry the
       tuning job's tags.
    3. Registers the best training job's model in `model_package`'s group.
    4. Publishes the outcome (best objective value and hyperparameters, or SageMaker's
       FailureReason) to the alerts topic.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        job: TrainingJob,
        job_name_prefix: str,
        objective_metric: str,
        ranges: Sequence[Range],
        model_package: ModelPackageSpec,
        alerts_topic: sns.ITopic,
        encryption_key: kms.IKey,
        title: str,
        objective_type: str | None = None,
        strategy: str = "Bayesian",
        max_jobs: int | None = 10,
        max_parallel_jobs: int = 2,
        max_runtime: Duration | None = None,
        early_stopping: str = "Off",
        hyperband_min_resource: int | None = None,
        hyperband_max_resource: int | None = None,
        warm_start_parents: Sequence[str] = (),
        warm_start_type: str = "TransferLearning",
        random_seed: int | None = None,
        overridable_hyperparameters: Sequence[str] = (),
        overridable_channels: Sequence[str] = (),
        schedule: events.Schedule | None = None,
        new_data: NewDataTrigger | None = None,
        tags: Mapping[str, str] | None = None,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param job: The training definition the tuning job's training jobs follow.
        :param job_name_prefix: Lower-case prefix of tuning job names. At most 19 characters.
        :param objective_metric: The metric to optimize: one of the job's metric definitions
            or, for a built-in algorithm, one of its metrics (e.g. DeepAR's `test:RMSE`).
        :param ranges: The hyperparameters to tune (continuous, integer, categorical).
        :param model_package: Where and how the best model is registered.
        :param alerts_topic: Receives the outcome of every run.
        :param encryption_key: Key of the execution logs and of the alerts topic.
        :param title: Names the workflow in alerts.
        :param objective_type: `Maximize` or `Minimize`. Default: the direction AWS publishes
            for a built-in algorithm's metric; required for other metrics.
        :param strategy: `Bayesian` (default), `Random`, `Hyperband` or `Grid` (categorical
            ranges only; runs every combination).
        :param max_jobs: Training jobs in all. Default: 10. Must be None with Grid.
        :param max_parallel_jobs: Training jobs at once. Default: 2. At most max_jobs.
        :param max_runtime: Longest the tuning job may run. Default: no limit beyond the jobs'.
            Valid range: 120 seconds - 30 days.
        :param early_stopping: `Off` (default) or `Auto` (not with Hyperband, which stops
            jobs itself).
        :param hyperband_min_resource: With Hyperband: least epochs a job runs. Default: none.
        :param hyperband_max_resource: With Hyperband: most epochs a job runs. Default: none.
        :param warm_start_parents: Earlier tuning jobs to start from (1-5). Default: none.
        :param warm_start_type: `TransferLearning` (default) or `IdenticalDataAndAlgorithm`.
        :param random_seed: Makes the search reproducible. Default: none.
        :param overridable_hyperparameters: Static hyperparameters the input may set.
        :param overridable_channels: Channels whose data URI the input may set.
        :param schedule: Start a run on this schedule. Default: none.
        :param new_data: Start a run when data lands under a prefix. Default: none.
        :param tags: Tags of the tuning job (and its training jobs) and of the model package.
        :param log_retention_days: Of the execution logs. Default: 365.
        """
        super().__init__(scope, id_)
        ranges = list(ranges)
        tuned = {r.name for r in ranges}
        static = {k: v for k, v in job.hyperparameters.items() if k not in tuned}
        problems = Problems("TuningWorkflow")
        problems.check(
            bool(re.fullmatch(r"[a-z0-9](-*[a-z0-9])*", job_name_prefix))
            and len(job_name_prefix) <= MAX_TUNING_JOB_NAME_PREFIX,
            f"job_name_prefix must be 1-{MAX_TUNING_JOB_NAME_PREFIX} lower-case letters, digits "
            f"and hyphens: tuning job names '<prefix>-<{RUN_ID_LENGTH} hex>' have at most "
            f"{MAX_TUNING_JOB_NAME} characters (got {job_name_prefix!r})",
        )
        for problem in tuning_problems(
            profile=job.profile,
            hyperparameters=job.hyperparameters,
            channels=[c.name for c in job.channels],
            metrics=list(job.metric_definitions),
            objective_metric=objective_metric,
            objective_type=objective_type,
            ranges=ranges,
            strategy=strategy,
            max_jobs=max_jobs,
            max_parallel_jobs=max_parallel_jobs,
            early_stopping=early_stopping,
            hyperband=(hyperband_min_resource, hyperband_max_resource),
            warm_start_parents=warm_start_parents,
            warm_start_type=warm_start_type,
            overridable_hyperparameters=overridable_hyperparameters,
            max_runtime_s=int(max_runtime.to_seconds()) if max_runtime is not None else None,
        ):
            problems.add(problem)
        problems.check(
            random_seed is None or random_seed >= 0,
            f"random_seed must be 0 or more (got {random_seed})",
        )
        problems.check(
            model_package.approval in APPROVAL_STATUSES,
            f"model approval must be one of {', '.join(APPROVAL_STATUSES)} "
            f"(got {model_package.approval!r})",
        )
        policy, policy_problems = OverridePolicy.for_job(
            job,
            hyperparameters=static,
            overridable_hyperparameters=overridable_hyperparameters,
            overridable_channels=overridable_channels,
        )
        for problem in policy_problems:
            problems.add(problem)
        problems.raise_if_any()
        objective_type = objective_type or objective_direction(job.profile, objective_metric)

        prefix = job_name_prefix
        job.grant_job_logs(f"{prefix}-")
        stack = Stack.of(self)
        check = InputCheck(self, policy=policy)
        start_run = sfn.Pass(
            self,
            "StartRun",
            comment="The run's ID: 12 hex digits of a UUID (tuning job names are short)",
            parameters={
                "run.$": "$.run",
                "run_id.$": "States.ArrayGetItem(States.StringSplit(States.UUID(), '-'), 4)",
                "defaults": {
                    "best": {"FinalHyperParameterTuningJobObjectiveMetric": {}},
                },
            },
        )
        name = sfn.Pass(
            self,
            "NameTuningJob",
            parameters={
                "job.$": f"States.Format('{prefix}-{{}}', $.run_id)",
                "checkpoints.$": f"States.Format('{job.checkpoint_root}{{}}/', $.run_id)",
            },
            result_path="$.names",
        )
        config: dict[str, Any] = {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {
                "Type": objective_type,
                "MetricName": objective_metric,
            },
            "ResourceLimits": _resource_limits(max_jobs, max_parallel_jobs, max_runtime),
            "ParameterRanges": render_ranges(ranges),
            "TrainingJobEarlyStoppingType": early_stopping,
        }
        if strategy == "Hyperband" and (hyperband_min_resource or hyperband_max_resource):
            hyperband: dict[str, int] = {}
            if hyperband_min_resource is not None:
                hyperband["MinResource"] = hyperband_min_resource
            if hyperband_max_resource is not None:
                hyperband["MaxResource"] = hyperband_max_resource
            config["StrategyConfig"] = {"HyperbandStrategyConfig": hyperband}
        if random_seed is not None:
            config["RandomSeed"] = random_seed
        request: dict[str, Any] = {
            "HyperParameterTuningJobName.$": "$.names.job",
            "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinition": job.tuning_definition(
                static_hyperparameters=JsonPath("$.run.hyperparameters"),
                instance_type=JsonPath("$.run.instance_type"),
                channel_uris={
                    c.name: JsonPath("$.run.channels").member(c.name) for c in job.channels
                },
                checkpoint_uri=JsonPath("$.names.checkpoints") if job.checkpoints else None,
            ),
        }
        if warm_start_parents:
            request["WarmStartConfig"] = {
                "ParentHyperParameterTuningJobs": [
                    {"HyperParameterTuningJobName": parent} for parent in warm_start_parents
                ],
                "WarmStartType": warm_start_type,
            }
        if tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.tune_task = SageMakerJobTask(
            self,
            "Tune",
            kind=TUNING_JOB,
            parameters=request,
            job_name_prefix=f"{prefix}-",
            passed_roles=[job.role],
            keys_for_grants=[job.encryption_key] if job.volume_key_used else [],
            result_path="$.tuning",
            comment="Runs the tuning job to its end; stopping the execution stops it",
        )
        """The tuning Task state and its IAM statements."""
        tune = self.tune_task.state

        own_tuning_jobs = stack.format_arn(
            service="sagemaker",
            resource="hyper-parameter-tuning-job",
            resource_name=f"{prefix}-*",
        )
        own_training_jobs = stack.format_arn(
            service="sagemaker", resource="training-job", resource_name=f"{prefix}-*"
        )
        describe_failed = describe_job(
            self,
            "DescribeFailedTuningJob",
            action="DescribeHyperParameterTuningJob",
            name_field="HyperParameterTuningJobName",
            name_path="$.names.job",
            resource_arn=own_tuning_jobs,
            result_path="$.failed",
        )
        explain_failure = failure_branch(
            self,
            topic=alerts_topic,
            title=title,
            kind="tuning job",
            status_field="HyperParameterTuningJobStatus",
        )
        notify_error = error_branch(self, topic=alerts_topic, title=title)
        has_best = sfn.Choice(self, "HasBestTrainingJob")
        no_best = sfn.Pass(
            self,
            "NoBestTrainingJob",
            parameters={
                "HyperParameterTuningJobStatus.$": "$.tuning.HyperParameterTuningJobStatus",
                "FailureReason": "no training job of the tuning job completed with an objective "
                "metric value",
            },
            result_path="$.failed",
        )
        describe_best = describe_job(
            self,
            "DescribeBestTrainingJob",
            action="DescribeTrainingJob",
            name_field="TrainingJobName",
            name_path="$.tuning.BestTrainingJob.TrainingJobName",
            resource_arn=own_training_jobs,
            result_path="$.best",
        )
        describe_best.add_catch(notify_error, errors=["States.ALL"], result_path="$.error")
        register = register_model(
            self,
            "RegisterModel",
            spec=model_package,
            model_data_path="$.best.ModelArtifacts.S3ModelArtifacts",
            training_job_path="$.best.TrainingJobName",
            idempotency_path="$.names.job",
            tags=tags or {},
        )
        register.add_retry(
            errors=["States.TaskFailed"], interval=Duration.seconds(5), max_attempts=3
        )
        register.add_catch(notify_error, errors=["States.ALL"], result_path="$.error")
        summarize = sfn.Pass(
            self,
            "Summarize",
            parameters={
                "best.$": "States.JsonMerge($.defaults.best, $.tuning.BestTrainingJob, false)"
            },
            result_path="$.summary",
        )
        notify_succeeded = notify(
            self,
            "NotifySuccess",
            topic=alerts_topic,
            subject=f"{title}: best model registered",
            message={
                "workflow": title,
                "outcome": "SUCCEEDED",
                "execution": sfn.JsonPath.execution_id,
                "tuning_job": sfn.JsonPath.string_at("$.names.job"),
                "best_training_job": sfn.JsonPath.string_at("$.best.TrainingJobName"),
                "objective": sfn.JsonPath.object_at(
                    "$.summary.best.FinalHyperParameterTuningJobObjectiveMetric"
                ),
                "tuned_hyperparameters": sfn.JsonPath.object_at(
                    "$.tuning.BestTrainingJob.TunedHyperParameters"
                ),
                "model_package": sfn.JsonPath.string_at("$.model_package.ModelPackageArn"),
                "approval": model_package.approval,
            },
        )
        done = sfn.Pass(
            self,
            "Done",
            comment="The execution's output: what was tuned and registered",
            parameters={
                "tuning_job.$": "$.names.job",
                "best_training_job.$": "$.best.TrainingJobName",
                "model_artifacts.$": "$.best.ModelArtifacts.S3ModelArtifacts",
                "model_package.$": "$.model_package.ModelPackageArn",
                "approval": model_package.approval,
            },
        )

        tune.add_catch(describe_failed, errors=["States.ALL"], result_path="$.error")
        describe_failed.add_catch(notify_error, errors=["States.ALL"], result_path="$.describe")
        describe_failed.next(explain_failure)
        no_best.next(explain_failure)
        check.next(start_run).next(name).next(tune).next(has_best)
        has_best.when(
            sfn.Condition.is_present("$.tuning.BestTrainingJob.TrainingJobName"), describe_best
        )
        has_best.otherwise(no_best)
        describe_best.next(register).next(summarize).next(notify_succeeded).next(done)

        if max_runtime is not None:
            expected_s = max_runtime.to_seconds()
        else:
            jobs = max_jobs if max_jobs is not None else grid_size(ranges)
            rounds = math.ceil(jobs / max_parallel_jobs)
            expected_s = rounds * (job.max_wait or job.max_runtime).to_seconds()
        # Named after this construct: the log group's name must be unique in the stack.
        self.logged = LoggedStateMachine(
            self,
            f"{id_}Workflow",
            definition=check.start,
            encryption_key=encryption_key,
            timeout=workflow_timeout(expected_s),
            comment=f"{title}: tune, register the best model, alert",
            log_retention_days=log_retention_days,
        )
        self.state_machine = self.logged.state_machine
        """The state machine; start it to tune."""
        self.tune_task.grant(self.state_machine)
        grant_publish(self.state_machine, alerts_topic, encryption_key)
        acknowledge_wildcards(
            self.state_machine.role,
            resources=[
                own_tuning_jobs,
                own_training_jobs,
                stack.format_arn(
                    service="sagemaker",
                    resource="model-package",
                    resource_name=f"{model_package.group_name}/*",
                ),
            ],
            reason="Tuning and training jobs and model package versions are named per run; "
            f"the workflow may describe only jobs named '{prefix}-*' and create packages only "
            f"in group {model_package.group_name}.",
        )
        self.rules = add_triggers(
            self,
            self.state_machine,
            schedule=schedule,
            new_data=new_data,
            data_bucket=job.data_bucket,
        )
        """EventBridge rules that start runs (schedule, new data)."""


def _resource_limits(
    max_jobs: int | None, max_parallel_jobs: int, max_runtime: Duration | None
) -> dict[str, int]:
    limits: dict[str, int] = {}
    if max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = max_jobs
    limits["MaxParallelTrainingJobs"] = max_parallel_jobs
    if max_runtime is not None:
        limits["MaxRuntimeInSeconds"] = int(max_runtime.to_seconds())
    return limits
