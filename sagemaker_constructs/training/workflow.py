"""The training workflow: check the execution input, train (retrying when SageMaker has
no capacity), register the model, tell the alerts topic how it went."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..common import LoggedStateMachine, Problems, acknowledge_wildcards
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

# FailureReasons of jobs that never got instances: worth another attempt.
CAPACITY_FAILURES = ("CapacityError*", "*InsufficientCapacity*", "*Insufficient capacity*")
HASH_LENGTH = 32
"""Hex digits of the MD5 that makes each run's job names unique."""
MAX_TRAINING_JOB_NAME = 63


def training_job_name_length(prefix: str, max_attempts: int) -> int:
    """Length of the longest job name a run makes: `<prefix>-<md5>-<attempt>`."""
    return len(prefix) + 1 + HASH_LENGTH + 1 + len(str(max_attempts))


class TrainingWorkflow(Construct):
    """A state machine that runs one training definition end to end.

    1. Checks the execution input against the allow-lists (see `overrides`), then
       resolves the run's hyperparameters, data URIs and instance type.
    2. Names the job `<prefix>-<MD5 of the execution ARN>-<attempt>` (lower case, at
       most 63 characters, unique per run and attempt: Step Functions keeps execution
       names unique per state machine for 90 days; a name reused later makes
       CreateTrainingJob fail with ResourceInUse rather than touch the old job) and runs
       it (`createTrainingJob.sync`; stopping the execution stops the job).
    3. When SageMaker had no capacity for it (`CapacityError...`), waits and tries again
       (a new job that resumes from the same checkpoints), up to `capacity_retries` times.
    4. Registers the model as a package in `model_package`'s group, idempotently.
    5. Publishes the outcome to the alerts topic: the model package, or SageMaker's
       FailureReason.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        job: TrainingJob,
        model_package: ModelPackageSpec,
        alerts_topic: sns.ITopic,
        encryption_key: kms.IKey,
        title: str,
        overridable_hyperparameters: Sequence[str] = (),
        overridable_channels: Sequence[str] = (),
        capacity_retries: int = 2,
        capacity_retry_delay: Duration = Duration.minutes(15),
        schedule: events.Schedule | None = None,
        new_data: NewDataTrigger | None = None,
        tags: Mapping[str, str] | None = None,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param job: The training job definition (role, image, channels, resources...).
            Its job_name_prefix must leave room for the run's hash: at most 28 characters.
        :param model_package: Where and how the model is registered.
        :param alerts_topic: Receives the outcome of every run.
        :param encryption_key: Key of the execution logs and of the alerts topic.
        :param title: Names the workflow in alerts, e.g. `smkit text-classifier`.
        :param overridable_hyperparameters: Hyperparameters the execution input may set.
            Default: none.
        :param overridable_channels: Channels whose data URI the execution input may set
            (within the channel's access prefix). Default: none. The instance types a run
            may choose are the job's `allowed_instance_types`.
        :param capacity_retries: Further attempts after a capacity failure. Default: 2.
            Valid range: 0-5.
        :param capacity_retry_delay: Wait before each further attempt. Default: 15 minutes.
            Valid range: 1 second - 1 day.
        :param schedule: Start a run on this schedule. Default: none.
        :param new_data: Start a run when data lands under a prefix. Default: none.
        :param tags: Tags of the model package. Default: none.
        :param log_retention_days: Of the execution logs. Default: 365.
        """
        super().__init__(scope, id_)
        prefix = job.job_name_prefix
        max_attempts = capacity_retries + 1
        problems = Problems("TrainingWorkflow")
        problems.check(
            0 <= capacity_retries <= 5, f"capacity_retries must be 0-5 (got {capacity_retries})"
        )
        delay_s = int(capacity_retry_delay.to_seconds())
        problems.check(
            1 <= delay_s <= 86400,
            f"capacity_retry_delay must be 1 second to 1 day (got {delay_s} s)",
        )
        length = training_job_name_length(prefix, max_attempts)
        problems.check(
            length <= MAX_TRAINING_JOB_NAME,
            f"job names '{prefix}-<32 hex>-<attempt>' would be {length} characters, over "
            f"SageMaker's {MAX_TRAINING_JOB_NAME}: shorten the job name prefix to at most "
            f"{MAX_TRAINING_JOB_NAME - (length - len(prefix))} characters",
        )
        problems.check(
            model_package.approval in APPROVAL_STATUSES,
            f"model approval must be one of {', '.join(APPROVAL_STATUSES)} "
            f"(got {model_package.approval!r})",
        )
        channels = {c.name: c for c in job.channels}
        if new_data is not None and new_data.channel is not None:
            channel = channels.get(new_data.channel)
            if channel is None or new_data.channel not in overridable_channels:
                problems.add(
                    f"new-data trigger: channel {new_data.channel!r} must be one of the "
                    f"overridable channels {sorted(overridable_channels)}"
                )
            elif not new_data.prefix.startswith(channel.read_prefix):
                problems.add(
                    f"new-data trigger: prefix {new_data.prefix!r} must be under channel "
                    f"{channel.name!r}'s access prefix {channel.read_prefix!r} (the job may "
                    "read nothing else)"
                )
        policy, policy_problems = OverridePolicy.for_job(
            job,
            hyperparameters=job.hyperparameters,
            overridable_hyperparameters=overridable_hyperparameters,
            overridable_channels=overridable_channels,
        )
        for problem in policy_problems:
            problems.add(problem)
        problems.raise_if_any()

        check = InputCheck(self, policy=policy)
        start_run = sfn.Pass(
            self,
            "StartRun",
            comment="The run's ID: the MD5 of the execution ARN",
            parameters={
                "run.$": "$.run",
                "run_id.$": "States.Hash($$.Execution.Id, 'MD5')",
                "attempt": 1,
                "defaults": {"job": {"FinalMetricDataList": []}},
            },
        )
        name_attempt = sfn.Pass(
            self,
            "NameAttempt",
            comment="Job names are lower case: SageMaker lower-cases them in ARNs",
            parameters={
                "job.$": f"States.Format('{prefix}-{{}}-{{}}', $.run_id, $.attempt)",
                # Every attempt of a run shares its checkpoints, so a retry resumes.
                "checkpoints.$": f"States.Format('{job.checkpoint_root}{{}}/', $.run_id)",
            },
            result_path="$.names",
        )
        channel_paths = {c.name: JsonPath("$.run.channels").member(c.name) for c in job.channels}
        self.train_task = job.task(
            self,
            "Train",
            job_name_prefix=f"{prefix}-",
            job_name=JsonPath("$.names.job"),
            hyperparameters=JsonPath("$.run.hyperparameters"),
            instance_type=JsonPath("$.run.instance_type"),
            channel_uris=channel_paths,
            checkpoint_uri=JsonPath("$.names.checkpoints") if job.checkpoints else None,
            comment="Runs the training job to its end; stopping the execution stops the job",
        )
        """The training Task state and its IAM statements."""
        train = self.train_task.state
        stack = Stack.of(self)
        own_jobs = stack.format_arn(
            service="sagemaker", resource="training-job", resource_name=f"{prefix}-*"
        )
        describe_failed = describe_job(
            self,
            "DescribeFailedJob",
            action="DescribeTrainingJob",
            name_field="TrainingJobName",
            name_path="$.names.job",
            resource_arn=own_jobs,
            result_path="$.failed",
        )
        capacity = sfn.Choice(self, "NoCapacity")
        wait = sfn.Wait(
            self,
            "WaitForCapacity",
            time=sfn.WaitTime.duration(capacity_retry_delay),
        )
        next_attempt = sfn.Pass(
            self,
            "NextAttempt",
            parameters={
                "run.$": "$.run",
                "run_id.$": "$.run_id",
                "attempt.$": "States.MathAdd($.attempt, 1)",
                "defaults.$": "$.defaults",
            },
        )
        explain_failure = failure_branch(
            self,
            topic=alerts_topic,
            title=title,
            kind="training job",
            status_field="TrainingJobStatus",
        )
        notify_error = error_branch(self, topic=alerts_topic, title=title)
        register = register_model(
            self,
            "RegisterModel",
            spec=model_package,
            model_data_path="$.job.ModelArtifacts.S3ModelArtifacts",
            training_job_path="$.job.TrainingJobName",
            idempotency_path="$.run_id",
            tags=tags or {},
        )
        summarize = sfn.Pass(
            self,
            "Summarize",
            parameters={"job.$": "States.JsonMerge($.defaults.job, $.job, false)"},
            result_path="$.summary",
        )
        notify_succeeded = notify(
            self,
            "NotifySuccess",
            topic=alerts_topic,
            subject=f"{title}: model registered",
            message={
                "workflow": title,
                "outcome": "SUCCEEDED",
                "execution": sfn.JsonPath.execution_id,
                "training_job": sfn.JsonPath.string_at("$.job.TrainingJobName"),
                "model_artifacts": sfn.JsonPath.string_at("$.job.ModelArtifacts.S3ModelArtifacts"),
                "model_package": sfn.JsonPath.string_at("$.model_package.ModelPackageArn"),
                "approval": model_package.approval,
                "final_metrics": sfn.JsonPath.object_at("$.summary.job.FinalMetricDataList"),
            },
        )

        train.add_catch(describe_failed, errors=["States.ALL"], result_path="$.error")
        describe_failed.add_catch(notify_error, errors=["States.ALL"], result_path="$.describe")
        register.add_retry(
            errors=["States.TaskFailed"],
            interval=Duration.seconds(5),
            max_attempts=3,
            backoff_rate=2,
        )
        register.add_catch(notify_error, errors=["States.ALL"], result_path="$.error")
        describe_failed.next(capacity)
        capacity.when(
            sfn.Condition.and_(
                sfn.Condition.is_present("$.failed.FailureReason"),
                sfn.Condition.or_(
                    *[
                        sfn.Condition.string_matches("$.failed.FailureReason", pattern)
                        for pattern in CAPACITY_FAILURES
                    ]
                ),
                sfn.Condition.number_less_than("$.attempt", max_attempts),
            ),
            wait.next(next_attempt).next(name_attempt),
        )
        capacity.otherwise(explain_failure)

        check.next(start_run).next(name_attempt).next(train)
        done = sfn.Pass(
            self,
            "Done",
            comment="The execution's output: what was trained and registered",
            parameters={
                "training_job.$": "$.job.TrainingJobName",
                "model_artifacts.$": "$.job.ModelArtifacts.S3ModelArtifacts",
                "model_package.$": "$.model_package.ModelPackageArn",
                "approval": model_package.approval,
            },
        )
        train.next(register).next(summarize).next(notify_succeeded).next(done)

        per_attempt = (job.max_wait or job.max_runtime).to_seconds()
        # Named after this construct: the log group's name must be unique in the stack.
        self.logged = LoggedStateMachine(
            self,
            f"{id_}Workflow",
            definition=check.start,
            encryption_key=encryption_key,
            timeout=workflow_timeout(max_attempts * per_attempt + capacity_retries * delay_s),
            comment=f"{title}: train, register the model, alert",
            log_retention_days=log_retention_days,
        )
        self.state_machine = self.logged.state_machine
        """The state machine; start it to train."""
        self.train_task.grant(self.state_machine)
        grant_publish(self.state_machine, alerts_topic, encryption_key)
        acknowledge_wildcards(
            self.state_machine.role,
            resources=[own_jobs, *_package_arns(stack, model_package.group_name)],
            reason="Jobs and model package versions are named per run; the workflow may "
            f"describe only training jobs named '{prefix}-*' and create packages only in "
            f"group {model_package.group_name}.",
        )
        self.rules = add_triggers(
            self,
            self.state_machine,
            schedule=schedule,
            new_data=new_data,
            data_bucket=job.data_bucket,
        )
        """EventBridge rules that start runs (schedule, new data)."""


def _package_arns(stack: Stack, group: str) -> list[str]:
    return [
        stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{group}/*")
    ]
