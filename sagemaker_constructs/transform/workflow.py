"""The batch transform workflow: check the execution input, run the transform job to its
end or stop it at the time limit, tell the alerts topic how it went."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..common import LoggedStateMachine, Problems, acknowledge_wildcards
from ..training.job_rules import JsonPath
from ..training.steps import (
    add_triggers,
    describe_job,
    error_branch,
    failure_branch,
    grant_publish,
    notify,
    workflow_timeout,
)
from .job import TransformJob

INPUT_KEYS = ("input", "instance_type")
"""What the execution input may hold."""
# Counted with the allowed keys so that `$.keys.*` always matches several values.
_SENTINEL = "-"


class TransformWorkflow(Construct):
    """A state machine that runs one transform definition:

    1. Checks the execution input, `{"input": "s3://<data bucket>/<input prefix>...",
       "instance_type": "ml.m5.2xlarge"}` (both optional: the whole input prefix on the
       default instance type); anything else ends the run in a Fail state that says what
       is allowed.
    2. Names the job `<prefix>-<MD5 of the execution ARN>` and its output folder
       `<output prefix><same MD5>/`: a run never writes over another's results, and a
       name already used makes CreateTransformJob fail rather than touch the old job.
    3. Runs the job (`createTransformJob.sync`; stopping the execution stops the job).
       SageMaker sets no time limit on transform jobs: past `max_runtime` the workflow
       stops the job itself, alerts and fails.
    4. Publishes the outcome to the alerts topic: the results' S3 folder, or SageMaker's
       FailureReason.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        job: TransformJob,
        alerts_topic: sns.ITopic,
        encryption_key: kms.IKey,
        title: str,
        max_runtime: Duration = Duration.hours(1),
        schedule: events.Schedule | None = None,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param job: The transform definition (model, role, request).
        :param alerts_topic: Receives the outcome of every run.
        :param encryption_key: Key of the execution logs and of the alerts topic.
        :param title: Names the workflow in alerts, e.g. `smkit demand-batch`.
        :param max_runtime: Longest a job may run before the workflow stops it. Default:
            1 hour. Valid range: 1 minute - 28 days.
        :param schedule: Start a run over the whole input prefix on this schedule.
            Default: none.
        :param log_retention_days: Of the execution logs. Default: 365.
        """
        super().__init__(scope, id_)
        runtime_s = int(max_runtime.to_seconds())
        problems = Problems("TransformWorkflow")
        problems.check(
            60 <= runtime_s <= 28 * 86400,
            f"max_runtime must be 1 minute to 28 days (got {runtime_s} s)",
        )
        problems.raise_if_any()

        prefix = job.job_name_prefix
        defaults = {"input": job.input_uri(), "instance_type": job.instance_type}
        start = sfn.Pass(
            self,
            "StartRun",
            comment="The run's defaults and what its input may change",
            parameters={
                "input.$": "$",
                "kit": {
                    "defaults": defaults,
                    "allowed": {key: "" for key in (*INPUT_KEYS, _SENTINEL)},
                },
            },
        )
        shape = sfn.Choice(self, "InputIsAnObject")
        not_object = sfn.Fail(
            self,
            "InputNotAnObject",
            error="InvalidExecutionInput",
            cause="The execution input must be a JSON object such as "
            '{"input": "s3://...", "instance_type": "..."}',
        )
        shape.when(
            sfn.Condition.or_(
                sfn.Condition.is_string("$.input"),
                sfn.Condition.is_numeric("$.input"),
                sfn.Condition.is_boolean("$.input"),
                sfn.Condition.is_null("$.input"),
                sfn.Condition.is_present("$.input[0]"),
            ),
            not_object,
        )
        given = sfn.Pass(
            self,
            "ApplyDefaults",
            parameters={
                "given.$": "States.JsonMerge($.kit.defaults, $.input, false)",
                "input.$": "$.input",
                "kit.$": "$.kit",
            },
        )
        collect = sfn.Pass(
            self,
            "CollectKeys",
            parameters={
                "given.$": "$.given",
                "input.$": "$.input",
                "keys.$": "States.JsonMerge($.given, $.kit.allowed, false)",
            },
        )
        keep = {"given.$": "$.given", "input.$": "$.input"}
        list_keys = sfn.Pass(self, "ListKeys", parameters={**keep, "keys.$": "$.keys.*"})
        count = sfn.Pass(
            self, "CountKeys", parameters={**keep, "count.$": "States.ArrayLength($.keys)"}
        )
        check = sfn.Choice(self, "CheckInput")
        check.when(
            sfn.Condition.number_greater_than("$.count", len(INPUT_KEYS) + 1),
            sfn.Fail(
                self,
                "UnknownInputKey",
                error="InvalidExecutionInput",
                cause_path="States.Format('The execution input may only have the keys "
                f"{', '.join(INPUT_KEYS)}; got: {{}}', States.JsonToString($.input))",
            ),
        )
        input_prefix = job.input_uri()
        check.when(
            sfn.Condition.not_(
                sfn.Condition.and_(
                    sfn.Condition.is_string("$.given.input"),
                    sfn.Condition.string_matches("$.given.input", f"{input_prefix}*"),
                )
            ),
            sfn.Fail(
                self,
                "InputOutsideItsPrefix",
                error="InputOutsideItsPrefix",
                cause_path=f"States.Format('input must be an S3 URI under {input_prefix} (the "
                "job may read nothing else); got {}', States.JsonToString($.given.input))",
            ),
        )
        check.when(
            sfn.Condition.not_(
                sfn.Condition.or_(
                    *[
                        sfn.Condition.string_equals("$.given.instance_type", t)
                        for t in job.instance_types
                    ]
                )
            ),
            sfn.Fail(
                self,
                "InstanceTypeNotAllowed",
                error="InstanceTypeNotAllowed",
                cause_path="States.Format('instance_type must be one of "
                f"{', '.join(job.instance_types)}; got {{}}', "
                "States.JsonToString($.given.instance_type))",
            ),
        )
        name = sfn.Pass(
            self,
            "NameRun",
            comment="Job names are lower case: SageMaker lower-cases them in ARNs",
            parameters={
                "run.$": "$.given",
                "run_id.$": "States.Hash($$.Execution.Id, 'MD5')",
            },
        )
        names = sfn.Pass(
            self,
            "NameJob",
            parameters={
                "job.$": f"States.Format('{prefix}-{{}}', $.run_id)",
                "output.$": f"States.Format('{job.output_uri()}{{}}/', $.run_id)",
            },
            result_path="$.names",
        )
        self.transform_task = job.task(
            self,
            "Transform",
            timeout=max_runtime,
            job_name=JsonPath("$.names.job"),
            input_uri=JsonPath("$.run.input"),
            output_uri=JsonPath("$.names.output"),
            instance_type=JsonPath("$.run.instance_type"),
            comment="Runs the transform job to its end; stopping the execution stops the job",
        )
        """The transform Task state and its IAM statements."""
        transform = self.transform_task.state
        stack = Stack.of(self)
        own_jobs = stack.format_arn(
            service="sagemaker", resource="transform-job", resource_name=f"{prefix}-*"
        )
        stop = tasks.CallAwsService(
            self,
            "StopJob",
            comment="Past the time limit: stop the job (SageMaker keeps no output of it)",
            service="sagemaker",
            action="stopTransformJob",
            iam_action="sagemaker:StopTransformJob",
            iam_resources=[own_jobs],
            parameters={"TransformJobName": sfn.JsonPath.string_at("$.names.job")},
            result_path=sfn.JsonPath.DISCARD,
        )
        timed_out = notify(
            self,
            "NotifyTimeout",
            topic=alerts_topic,
            subject=f"{title}: transform stopped at its time limit",
            message={
                "workflow": title,
                "outcome": "STOPPED",
                "execution": sfn.JsonPath.execution_id,
                "job": sfn.JsonPath.string_at("$.names.job"),
                "reason": f"the job ran longer than {runtime_s // 60} minutes (the "
                "definition's max_runtime_minutes): it was stopped and wrote no output",
            },
        )
        stopped = sfn.Fail(
            self,
            "TimeLimitReached",
            error="TransformTimedOut",
            cause=f"The transform job ran longer than {runtime_s // 60} minutes and was stopped",
        )
        describe_failed = describe_job(
            self,
            "DescribeFailedJob",
            action="DescribeTransformJob",
            name_field="TransformJobName",
            name_path="$.names.job",
            resource_arn=own_jobs,
            result_path="$.failed",
        )
        explain_failure = failure_branch(
            self,
            topic=alerts_topic,
            title=title,
            kind="transform job",
            status_field="TransformJobStatus",
        )
        notify_error = error_branch(self, topic=alerts_topic, title=title)
        succeeded = notify(
            self,
            "NotifySuccess",
            topic=alerts_topic,
            subject=f"{title}: transform done",
            message={
                "workflow": title,
                "outcome": "SUCCEEDED",
                "execution": sfn.JsonPath.execution_id,
                "transform_job": sfn.JsonPath.string_at("$.names.job"),
                "input": sfn.JsonPath.string_at("$.run.input"),
                "output": sfn.JsonPath.string_at("$.names.output"),
            },
        )
        done = sfn.Pass(
            self,
            "Done",
            comment="The execution's output: the job and where its results are",
            parameters={
                "transform_job.$": "$.names.job",
                "input.$": "$.run.input",
                "output.$": "$.names.output",
                "instance_type.$": "$.run.instance_type",
            },
        )

        # TRANSFORM-9 (StopTransformJob API page): SageMaker sets no time limit on a
        # transform job; past max_runtime the workflow stops it.
        transform.add_catch(stop, errors=["States.Timeout"], result_path="$.error")
        transform.add_catch(describe_failed, errors=["States.ALL"], result_path="$.error")
        # A job that ended meanwhile cannot be stopped: alert all the same.
        stop.add_catch(timed_out, errors=["States.ALL"], result_path="$.stop_error")
        stop.next(timed_out)
        timed_out.next(stopped)
        describe_failed.add_catch(notify_error, errors=["States.ALL"], result_path="$.describe")
        describe_failed.next(explain_failure)

        start.next(shape)
        shape.otherwise(given)
        given.next(collect).next(list_keys).next(count).next(check)
        check.otherwise(name)
        name.next(names).next(transform).next(succeeded).next(done)

        self.logged = LoggedStateMachine(
            self,
            f"{id_}Workflow",
            definition=start,
            encryption_key=encryption_key,
            timeout=workflow_timeout(runtime_s),
            comment=f"{title}: batch transform, alert",
            log_retention_days=log_retention_days,
        )
        self.state_machine = self.logged.state_machine
        """The state machine; start it to transform."""
        self.transform_task.grant(self.state_machine)
        grant_publish(self.state_machine, alerts_topic, encryption_key)
        acknowledge_wildcards(
            self.state_machine.role,
            resources=[own_jobs],
            reason=f"Job names are made per run; the workflow may describe and stop only "
            f"transform jobs named '{prefix}-*'.",
        )
        self.rules = add_triggers(
            self, self.state_machine, schedule=schedule, new_data=None, data_bucket=job.data_bucket
        )
        """EventBridge rules that start runs (schedule)."""
