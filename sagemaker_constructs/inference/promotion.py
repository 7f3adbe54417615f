"""The model approval workflow: approving a model package version deploys it to the
endpoints that follow its group, through their own blue/green deployment.

    approval = ModelApprovalWorkflow(
        stack, "ModelApproval",
        followers=[FollowedGroup(endpoint=staging, parameter=staging_version, group=group)],
        encryption_key=key, alerts_topic=alerts,
    )

Each follower's endpoint serves the version its stack parameter names (`Endpoint(...,
condition=...)` creates the endpoint once the parameter names one). The workflow owns
those parameters' values: on each "SageMaker Model Package State Change" event of a
followed group it runs `runtime/promotion/handler.py` in a loop, which updates the stack
with UpdateStack on its previous template, one parameter at a time, and follows the
update until CloudFormation has deployed it or rolled it back. The template stays what
`cdk deploy` last deployed, and `cdk deploy` keeps the parameters' values (it passes
UsePreviousValue for parameters it is not given): docs/model-approval.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CfnParameter, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..common import Problems, PythonFunction, acknowledge, acknowledge_wildcards
from ..common.workflow import LoggedStateMachine
from .endpoint import Endpoint
from .runtime.promotion.versions import Follower

RUNTIME_DIR = Path(__file__).parent / "runtime"
EVENT_DETAIL_TYPE = "SageMaker Model Package State Change"


@dataclass(frozen=True)
class FollowedGroup:
    """An endpoint that serves the latest approved version of a model package group."""

    endpoint: Endpoint
    """The endpoint (created under a condition on `parameter`)."""
    parameter: CfnParameter
    """The stack parameter naming the version it serves (default: empty)."""
    group: str
    """The model package group's name."""
    promoted_from: Endpoint | None = None
    """A staging endpoint of the same group: only versions promoted from there are
    deployed here. Default: none (every approved version)."""


class ModelApprovalWorkflow(Construct):
    """Deploys approved model package versions to the endpoints that follow their groups.

    - An EventBridge rule starts the state machine on every state change of a version of
      a followed group (approved, rejected, registered, deleted). The operator CLI may
      also start it (`{"group": ...}`); runs wait for older ones.
    - The state machine calls `function` until it is done, waiting `poll_interval`
      between calls while a deployment runs; a run fails when a deployment rolled back
      or the function failed, and tells the alerts topic why.
    - The function's role may read and update this stack (UpdateStack runs with the
      stack's own CloudFormation service role, the one `cdk deploy` uses), read and
      reject versions of the followed groups, list this workflow's runs and publish to
      the alerts topic. Nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        followers: Sequence[FollowedGroup],
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        poll_interval: Duration = Duration.minutes(1),
        timeout: Duration = Duration.hours(24),
        log_retention_days: int = 365,
    ) -> None:
        """
        :param followers: The endpoints that follow a group. At least one; each endpoint
            and parameter once; a `promoted_from` endpoint follows the same group.
        :param encryption_key: Key of the logs, the function's environment and the alerts
            topic.
        :param alerts_topic: Hears the outcome of every deployment and every failure.
        :param poll_interval: Wait between two looks at a running deployment. Default:
            1 minute. Valid range: 10 seconds - 15 minutes.
        :param timeout: Longest a run may take, deployments and waits for older runs
            included. Default: 24 hours. Valid range: 1-72 hours.
        :param log_retention_days: Default: 365. One of CloudWatch Logs' retention periods.
        """
        super().__init__(scope, id_)
        stack = Stack.of(self)
        problems = Problems("ModelApprovalWorkflow")
        problems.check(bool(followers), "followers needs at least one endpoint (got none)")
        names = [f.endpoint.endpoint_name for f in followers]
        problems.check(
            len(set(names)) == len(names), f"each endpoint may follow one group (got {names})"
        )
        parameters = [f.parameter.logical_id for f in followers]
        problems.check(
            len({id(f.parameter) for f in followers}) == len(followers),
            f"each follower needs its own parameter (got {parameters})",
        )
        for follower in followers:
            source = follower.promoted_from
            if source is None:
                continue
            staging = [f for f in followers if f.endpoint is source]
            problems.check(
                bool(staging) and staging[0].group == follower.group,
                f"{follower.endpoint.endpoint_name} is promoted from "
                f"{source.endpoint_name}, which must follow the same group "
                f"({follower.group}) among the followers",
            )
        poll = poll_interval.to_seconds()
        problems.check(
            10 <= poll <= 900, f"poll_interval must be 10 seconds - 15 minutes (got {poll} s)"
        )
        hours = timeout.to_hours()
        problems.check(1 <= hours <= 72, f"timeout must be 1-72 hours (got {hours:g})")
        problems.raise_if_any()

        self.followers = list(followers)
        """The endpoints this workflow deploys to."""
        groups = sorted({f.group for f in followers})
        runtime_followers = [
            Follower(
                endpoint=f.endpoint.endpoint_name,
                parameter=stack.resolve(f.parameter.logical_id),
                group=f.group,
                promoted_from=f.promoted_from.endpoint_name if f.promoted_from else None,
            ).to_json()
            for f in followers
        ]

        function = PythonFunction(
            self,
            "Step",
            code_dir=RUNTIME_DIR,
            handler="promotion.handler.handler",
            description=(
                f"Model approval of {stack.stack_name}: deploys the latest approved model "
                "package version to each endpoint that follows its group"
            )[:256],
            encryption_key=encryption_key,
            environment={
                "STACK_NAME": stack.stack_name,
                "FOLLOWERS": json.dumps(runtime_followers),
                "ALERTS_TOPIC_ARN": alerts_topic.topic_arn,
                "POLL_SECONDS": str(int(poll)),
            },
            timeout=Duration.minutes(2),
            log_retention_days=log_retention_days,
        )
        self.function = function.function
        """The workflow's step."""
        self.role = function.role
        """The step's role."""

        step = tasks.LambdaInvoke(
            self,
            "Reconcile",
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object(
                {
                    "state": sfn.JsonPath.entire_payload,
                    "execution": sfn.JsonPath.execution_id,
                    "started": sfn.JsonPath.execution_start_time,
                }
            ),
            payload_response_only=True,
            comment="Compare what each endpoint serves with the latest approved version; "
            "start or follow one deployment",
        )
        wait = sfn.Wait(
            self,
            "WaitForDeployment",
            time=sfn.WaitTime.seconds_path("$.wait_seconds"),
        )
        failed = sfn.Fail(
            self, "DeploymentRolledBack", error="ModelDeploymentRolledBack", cause_path="$.message"
        )
        notify_error = tasks.SnsPublish(
            self,
            "NotifyError",
            topic=alerts_topic,
            subject=f"[{stack.stack_name}] model approval workflow failed"[:100],
            message=sfn.TaskInput.from_object(
                {
                    "error": sfn.JsonPath.string_at("$.error.Error"),
                    "cause": sfn.JsonPath.string_at("$.error.Cause"),
                    "execution": sfn.JsonPath.execution_id,
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        ).next(sfn.Fail(self, "StepFailed", error="ModelApprovalStepFailed"))
        step.add_catch(notify_error, errors=["States.ALL"], result_path="$.error")
        definition = step.next(
            sfn.Choice(self, "Next")
            .when(sfn.Condition.string_equals("$.next", "wait"), wait.next(step))
            .when(sfn.Condition.string_equals("$.next", "failed"), failed)
            .otherwise(sfn.Succeed(self, "Done"))
        )
        workflow = LoggedStateMachine(
            self,
            "Workflow",
            definition=definition,
            encryption_key=encryption_key,
            timeout=timeout,
            comment=f"{stack.stack_name}: deploy approved model versions",
            log_retention_days=log_retention_days,
        )
        self.state_machine = workflow.state_machine
        """The workflow."""
        encryption_key.grant(self.state_machine, "kms:Decrypt", "kms:GenerateDataKey*")
        alerts_topic.grant_publish(self.state_machine)
        acknowledge_wildcards(
            self.state_machine.role,
            actions=["kms:GenerateDataKey*"],
            resources=[f"{self.function.function_arn}:*"],
            reason="Step Functions may invoke the step function's versions and aliases "
            "(LambdaInvoke's grant); publishing to the KMS-encrypted alerts topic makes SNS "
            "generate a data key (GenerateDataKey and its variants) with the platform key.",
        )

        self.rule = events.Rule(
            self,
            "OnVersionChange",
            description=f"Starts the model approval workflow of {stack.stack_name} when a "
            "version of a followed model package group changes",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[EVENT_DETAIL_TYPE],
                detail={"ModelPackageGroupName": groups},
            ),
            targets=[targets.SfnStateMachine(self.state_machine)],
        )
        """Starts a run on each state change of a version of a followed group."""
        self._grant(stack, groups, encryption_key, alerts_topic)

    def _grant(
        self,
        stack: Stack,
        groups: Sequence[str],
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
    ) -> None:
        stack_arn = stack.format_arn(
            service="cloudformation", resource="stack", resource_name=f"{stack.stack_name}/*"
        )
        # ENDPOINT-19 (UpdateStack API page): UpdateStack without a RoleARN runs as the
        # stack's own service role: CloudFormation
        # "uses this role even if the users don't have permission to pass it" (UpdateStack
        # API page), so the step needs no iam:PassRole.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:UpdateStack",
                ],
                resources=[stack_arn],
            )
        )
        versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{g}/*")
            for g in groups
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=versions,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"])
        )
        # A policy of its own: the function's default policy naming the state machine,
        # which names the function, would be a circular dependency.
        iam.Policy(
            self,
            "ListRuns",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:ListExecutions"],
                    resources=[self.state_machine.state_machine_arn],
                )
            ],
        )
        alerts_topic.grant_publish(self.role)
        encryption_key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey*")
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "sagemaker:ListModelPackages has no resource-level permissions (Service "
            "Authorization Reference); the role reads and changes versions only of the "
            "followed groups.",
        )
        acknowledge_wildcards(
            self.role,
            resources=[stack_arn, *versions],
            actions=["kms:GenerateDataKey*"],
            reason="The stack's ARN ends in an ID CloudFormation generates; versions of the "
            "followed groups are numbered as they are registered; publishing to the "
            "KMS-encrypted alerts topic makes SNS generate a data key with the platform key.",
        )
