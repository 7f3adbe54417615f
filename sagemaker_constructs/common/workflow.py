"""State machines the way the kit runs them: every event logged to an encrypted log
group, X-Ray tracing on, a time limit; and SageMaker `.sync` tasks that CDK has no
construct for, with exactly the IAM they need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .nag import acknowledge, acknowledge_wildcards
from .retention import retention_days, retention_problem
from .validation import Problems


class LoggedStateMachine(Construct):
    """A Standard state machine that logs every event (with execution data) to a
    log group encrypted with `encryption_key`, traces with X-Ray and stops after
    `timeout`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        definition: sfn.IChainable,
        encryption_key: kms.IKey,
        timeout: Duration,
        comment: str | None = None,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param definition: The first state (and its chain).
        :param encryption_key: Key of the log group.
        :param timeout: Longest an execution may run. Valid range: 1 second - 1 year.
        :param comment: Shown in the console. Default: none.
        :param log_retention_days: Default: 365. One of CloudWatch Logs' retention periods.
        """
        super().__init__(scope, id_)
        problems = Problems("LoggedStateMachine")
        seconds = timeout.to_seconds()
        problems.check(
            1 <= seconds <= 365 * 24 * 3600, f"timeout must be 1 second to 1 year (got {seconds} s)"
        )
        retention = retention_problem(log_retention_days)
        problems.check(retention is None, retention or "")
        problems.raise_if_any()

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=encryption_key,
            retention=retention_days(log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
            # Step Functions requires the /aws/vendedlogs/ prefix for its log groups'
            # resource policy to stay small.
            log_group_name=f"/aws/vendedlogs/states/{Stack.of(self).stack_name}-{id_}",
        )
        """The execution log group."""
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=timeout,
            comment=comment,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        """The state machine."""
        role = self.state_machine.role
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions adds these for tracing and logging: X-Ray's PutTraceSegments, "
            "PutTelemetryRecords, GetSamplingRules, GetSamplingTargets and CloudWatch Logs' "
            "log-delivery actions (CreateLogDelivery, DescribeResourcePolicies...) accept no "
            "resource ARN.",
        )


@dataclass(frozen=True)
class SageMakerJobKind:
    """What a `.sync` integration with one kind of SageMaker job needs."""

    create_action: str
    """Service integration action, e.g. `createTrainingJob`."""
    resource_type: str
    """ARN resource type of the job, e.g. `training-job`."""
    api_suffix: str
    """Suffix of the Create/Describe/Stop API names, e.g. `TrainingJob`."""
    events_rule: str | None
    """Managed EventBridge rule Step Functions uses to follow the job, if any."""
    extra_actions: tuple[str, ...] = ()
    """Further actions the integration calls on the job."""
    passes_role: bool = True
    """Whether the Create* request passes an execution role (a transform job runs as its
    model's role: its request names none)."""


TRAINING_JOB = SageMakerJobKind(
    "createTrainingJob",
    "training-job",
    "TrainingJob",
    "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
)
TUNING_JOB = SageMakerJobKind(
    "createHyperParameterTuningJob",
    "hyper-parameter-tuning-job",
    "HyperParameterTuningJob",
    "StepFunctionsGetEventsForSageMakerTuningJobsRule",
    ("sagemaker:ListTrainingJobsForHyperParameterTuningJob",),
)
PROCESSING_JOB = SageMakerJobKind(
    "createProcessingJob",
    "processing-job",
    "ProcessingJob",
    "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
)
# TRANSFORM-10 (CreateTransformJob API page: the request names a model, no role).
TRANSFORM_JOB = SageMakerJobKind(
    "createTransformJob",
    "transform-job",
    "TransformJob",
    "StepFunctionsGetEventsForSageMakerTransformJobsRule",
    passes_role=False,
)
# LABEL-1 (connect-sagemaker, sms-monitor-cloud-watch): SageMaker emits "SageMaker Ground
# Truth Labeling Job State Change" events and `.sync` follows the job through a managed
# rule like the other job kinds; AWS documents no name for that rule, so the grant covers
# Step Functions' SageMaker managed rules (a missing grant fails with "not authorized to
# create managed-rule").
LABELING_JOB = SageMakerJobKind(
    "createLabelingJob",
    "labeling-job",
    "LabelingJob",
    "StepFunctionsGetEventsForSageMaker*",
)


class SageMakerJobTask:
    """A `Task` state that runs one SageMaker job to completion (`.sync`).

    `parameters` is the API request exactly as SageMaker takes it (keys ending in
    `.$` are JSONPath); the tests validate it against botocore's input shape.
    `policy_statements` are what the state machine's role needs, scoped to jobs
    whose names start with `job_name_prefix` (SageMaker lower-cases job names in
    ARNs, so the prefix must be lower case).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        kind: SageMakerJobKind,
        parameters: Mapping[str, Any],
        job_name_prefix: str,
        passed_roles: Sequence[iam.IRole],
        keys_for_grants: Sequence[kms.IKey] = (),
        result_path: str | None = "$.job",
        result_selector: Mapping[str, Any] | None = None,
        comment: str | None = None,
        timeout_seconds: int | None = None,
    ) -> None:
        """
        :param kind: TRAINING_JOB, TUNING_JOB, PROCESSING_JOB, TRANSFORM_JOB or LABELING_JOB
            (or your own).
        :param parameters: The Create* request.
        :param job_name_prefix: Lower-case prefix of every job name this task creates.
        :param passed_roles: Roles the request passes to SageMaker (iam:PassRole,
            limited to sagemaker.amazonaws.com). None for a kind that passes no role.
        :param keys_for_grants: KMS keys the request names for volumes; SageMaker
            creates grants on them with the caller's credentials.
        :param result_path: Where the Describe* result goes in the state. Default: `$.job`.
        :param result_selector: Picks fields of the result. Default: all.
        :param comment: State comment. Default: none.
        :param timeout_seconds: The state fails with `States.Timeout` after this long (for
            jobs SageMaker sets no time limit on: catch it and stop the job). Default: none.
        """
        problems = Problems("SageMakerJobTask")
        problems.check(
            job_name_prefix == job_name_prefix.lower() and 1 <= len(job_name_prefix) <= 40,
            f"job_name_prefix must be 1-40 lower-case characters (got {job_name_prefix!r})",
        )
        problems.check(
            bool(passed_roles) == kind.passes_role,
            "passed_roles needs the role(s) the job runs as (got none)"
            if kind.passes_role
            else f"a {kind.resource_type} request passes no role (got {len(passed_roles)})",
        )
        problems.check(
            timeout_seconds is None or 1 <= timeout_seconds <= 365 * 86400,
            f"timeout_seconds must be 1 second to 1 year (got {timeout_seconds})",
        )
        problems.raise_if_any()

        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::sagemaker:{kind.create_action}.sync",
            "Parameters": dict(parameters),
        }
        if result_path is not None:
            state["ResultPath"] = result_path
        if result_selector is not None:
            state["ResultSelector"] = dict(result_selector)
        if comment:
            state["Comment"] = comment
        if timeout_seconds is not None:
            state["TimeoutSeconds"] = timeout_seconds
        self.state = sfn.CustomState(scope, id_, state_json=state)
        """The Task state; chain it, add retries and catches to it."""

        stack = Stack.of(scope)
        job_arn = stack.format_arn(
            service="sagemaker", resource=kind.resource_type, resource_name=f"{job_name_prefix}*"
        )
        self._job_arn = job_arn
        self._rule_arn = (
            stack.format_arn(service="events", resource="rule", resource_name=kind.events_rule)
            if kind.events_rule
            else None
        )
        self._job_name_prefix = job_name_prefix
        self._kind_name = kind.resource_type.replace("-", " ")
        suffix = kind.api_suffix
        self.policy_statements: list[iam.PolicyStatement] = [
            iam.PolicyStatement(
                actions=[
                    f"sagemaker:Create{suffix}",
                    f"sagemaker:Describe{suffix}",
                    f"sagemaker:Stop{suffix}",
                    "sagemaker:AddTags",
                    *kind.extra_actions,
                ],
                resources=[job_arn],
            ),
            iam.PolicyStatement(actions=["sagemaker:ListTags"], resources=[job_arn]),
        ]
        if passed_roles:
            self.policy_statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[role.role_arn for role in passed_roles],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            )
        """What the state machine's role needs for this task."""
        if self._rule_arn:
            self.policy_statements.append(
                iam.PolicyStatement(
                    actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                    resources=[self._rule_arn],
                )
            )
        if keys_for_grants:
            key_arns = [key.key_arn for key in keys_for_grants]
            self.policy_statements += [
                iam.PolicyStatement(
                    actions=["kms:CreateGrant"],
                    resources=key_arns,
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
                iam.PolicyStatement(actions=["kms:DescribeKey"], resources=key_arns),
            ]

    def grant(self, state_machine: sfn.StateMachine) -> None:
        """Give the state machine's role what this task needs."""
        for statement in self.policy_statements:
            state_machine.add_to_role_policy(statement)
        acknowledge_wildcards(
            state_machine.role,
            resources=[self._job_arn],
            reason=f"Job names are made per execution; the role may manage only {self._kind_name}s "
            f"whose names start with '{self._job_name_prefix}'.",
        )
        if self._rule_arn and "*" in self._rule_arn:
            acknowledge_wildcards(
                state_machine.role,
                resources=[self._rule_arn],
                reason="AWS documents no name for the managed EventBridge rule through which "
                "Step Functions follows this job kind (`.sync`); the role may create, describe "
                "and target only Step Functions' SageMaker managed rules.",
            )
