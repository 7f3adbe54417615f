"""States the training and tuning workflows share: describing a job, registering a
model package, publishing an alert, and the triggers that start a workflow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..common import acknowledge_wildcards

APPROVAL_STATUSES = ("PendingManualApproval", "Approved")


def describe_job(
    scope: Construct,
    id_: str,
    *,
    action: str,
    name_field: str,
    name_path: str,
    resource_arn: str,
    result_path: str,
) -> tasks.CallAwsService:
    """A Describe* call on a SageMaker job (SDK integration)."""
    return tasks.CallAwsService(
        scope,
        id_,
        service="sagemaker",
        action=action[0].lower() + action[1:],
        iam_action=f"sagemaker:{action}",
        iam_resources=[resource_arn],
        parameters={name_field: sfn.JsonPath.string_at(name_path)},
        result_path=result_path,
    )


@dataclass(frozen=True)
class ModelPackageSpec:
    """How a trained model is registered in the model registry."""

    group_name: str
    """Model package group (created by the registry stack)."""
    image_uri: str
    """Inference image of the package."""
    approval: str = "PendingManualApproval"
    """`PendingManualApproval` (someone approves it) or `Approved`."""
    content_types: Sequence[str] = ("application/json",)
    """Request MIME types the model accepts."""
    response_types: Sequence[str] = ("application/json",)
    """Response MIME types it returns."""


def register_model(
    scope: Construct,
    id_: str,
    *,
    spec: ModelPackageSpec,
    model_data_path: str,
    training_job_path: str,
    idempotency_path: str,
    tags: Mapping[str, str],
) -> tasks.CallAwsService:
    """CreateModelPackage for the model of one training job, tagged, idempotent per run
    (`ClientToken`), with the job and the execution in its metadata."""
    stack = Stack.of(scope)
    package_arns = [
        stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=spec.group_name
        ),
        stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{spec.group_name}/*"
        ),
    ]
    parameters: dict[str, Any] = {
        "ModelPackageGroupName": spec.group_name,
        "ModelPackageDescription": sfn.JsonPath.format(
            "Model of training job {} (execution {})",
            sfn.JsonPath.string_at(training_job_path),
            sfn.JsonPath.string_at("$$.Execution.Name"),
        ),
        "ClientToken": sfn.JsonPath.string_at(idempotency_path),
        "ModelApprovalStatus": spec.approval,
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": spec.image_uri,
                    "ModelDataUrl": sfn.JsonPath.string_at(model_data_path),
                }
            ],
            "SupportedContentTypes": list(spec.content_types),
            "SupportedResponseMIMETypes": list(spec.response_types),
        },
        "CustomerMetadataProperties": {
            "TrainingJobName": sfn.JsonPath.string_at(training_job_path),
            "ExecutionArn": sfn.JsonPath.string_at("$$.Execution.Id"),
        },
    }
    if tags:
        parameters["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return tasks.CallAwsService(
        scope,
        id_,
        service="sagemaker",
        action="createModelPackage",
        iam_action="sagemaker:CreateModelPackage",
        iam_resources=package_arns,
        additional_iam_statements=[
            iam.PolicyStatement(actions=["sagemaker:AddTags"], resources=package_arns)
        ],
        parameters=parameters,
        result_selector={"ModelPackageArn.$": "$.ModelPackageArn"},
        result_path="$.model_package",
    )


def notify(
    scope: Construct,
    id_: str,
    *,
    topic: sns.ITopic,
    subject: str,
    message: Mapping[str, Any],
) -> tasks.SnsPublish:
    """Publish one JSON alert to the alerts topic."""
    return tasks.SnsPublish(
        scope,
        id_,
        topic=topic,
        subject=subject[:100],
        message=sfn.TaskInput.from_object(dict(message)),
        result_path=sfn.JsonPath.DISCARD,
    )


def grant_publish(state_machine: sfn.StateMachine, topic: sns.ITopic, key: kms.IKey) -> None:
    """An encrypted topic needs the publisher to use its key too."""
    key.grant(state_machine, "kms:Decrypt", "kms:GenerateDataKey*")
    topic.grant_publish(state_machine)
    acknowledge_wildcards(
        state_machine.role,
        actions=["kms:GenerateDataKey*"],
        reason="Publishing to the KMS-encrypted alerts topic makes SNS generate a data key "
        "(GenerateDataKey and its variants) with the platform key, the only key granted.",
    )


@dataclass(frozen=True)
class NewDataTrigger:
    """Start a run when an object is created under a prefix of the data bucket."""

    prefix: str
    """Key prefix watched, e.g. `labeling/text/`."""
    suffix: str | None = None
    """Only keys ending so (a marker object such as `output.manifest` or `_SUCCESS`),
    so that an upload of many files starts one run, not one per file. Default: any key."""
    channel: str | None = None
    """A channel whose data URI becomes the new object's URI (e.g. the manifest a
    labeling job just wrote). Default: none, the run reads the configured data."""

    def key_filter(self) -> dict[str, str]:
        """The EventBridge filter on `detail.object.key`."""
        if self.suffix:
            return {"wildcard": f"{self.prefix}*{self.suffix}"}
        return {"prefix": self.prefix}


def add_triggers(
    scope: Construct,
    state_machine: sfn.IStateMachine,
    *,
    schedule: events.Schedule | None,
    new_data: NewDataTrigger | None,
    data_bucket: s3.IBucket,
) -> list[events.Rule]:
    """EventBridge rules that start `state_machine` on a schedule and on new data
    (the data bucket must send its events to EventBridge)."""
    rules = []
    if schedule is not None:
        rules.append(
            events.Rule(
                scope,
                "Schedule",
                description="Starts a run on schedule",
                schedule=schedule,
                targets=[
                    targets.SfnStateMachine(
                        state_machine, input=events.RuleTargetInput.from_object({})
                    )
                ],
            )
        )
    if new_data is not None:
        run_input: dict[str, Any] = {}
        if new_data.channel:
            key = events.EventField.from_path("$.detail.object.key")
            run_input = {"channels": {new_data.channel: f"s3://{data_bucket.bucket_name}/{key}"}}
        rules.append(
            events.Rule(
                scope,
                "OnNewData",
                description=f"Starts a run when data lands under {new_data.prefix}",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [data_bucket.bucket_name]},
                        "object": {"key": [new_data.key_filter()]},
                    },
                ),
                targets=[
                    targets.SfnStateMachine(
                        state_machine, input=events.RuleTargetInput.from_object(run_input)
                    )
                ],
            )
        )
    return rules


def failure_branch(
    scope: Construct,
    *,
    topic: sns.ITopic,
    title: str,
    kind: str,
    status_field: str,
) -> sfn.Choice:
    """States that alert with SageMaker's FailureReason (or the job's status where it
    gives none) and fail the execution. They expect the job's name at `$.names.job`
    and its Describe* output at `$.failed`."""
    reason = sfn.Choice(scope, "HasFailureReason")
    take_reason = sfn.Pass(
        scope,
        "TakeFailureReason",
        parameters={"text.$": "$.failed.FailureReason"},
        result_path="$.reason",
    )
    no_reason = sfn.Pass(
        scope,
        "NoFailureReason",
        parameters={
            "text.$": "States.Format('the job ended {} without a failure reason', "
            f"$.failed.{status_field})"
        },
        result_path="$.reason",
    )
    alert = notify(
        scope,
        "NotifyFailure",
        topic=topic,
        subject=f"{title}: {kind} failed",
        message={
            "workflow": title,
            "outcome": "FAILED",
            "execution": sfn.JsonPath.execution_id,
            "job": sfn.JsonPath.string_at("$.names.job"),
            "status": sfn.JsonPath.string_at(f"$.failed.{status_field}"),
            "failure_reason": sfn.JsonPath.string_at("$.reason.text"),
        },
    )
    failed = sfn.Fail(
        scope,
        "JobFailed",
        error=f"{kind.title().replace(' ', '')}Failed",
        cause_path="$.reason.text",
    )
    # An empty FailureReason explains nothing either.
    reason.when(
        sfn.Condition.and_(
            sfn.Condition.is_present("$.failed.FailureReason"),
            sfn.Condition.not_(sfn.Condition.string_equals("$.failed.FailureReason", "")),
        ),
        take_reason,
    )
    reason.otherwise(no_reason)
    take_reason.next(alert)
    no_reason.next(alert)
    alert.next(failed)
    return reason


def error_branch(scope: Construct, *, topic: sns.ITopic, title: str) -> tasks.SnsPublish:
    """States that alert with a Step Functions error caught at `$.error` (a request
    SageMaker refused, a missing permission...) and fail the execution with it."""
    alert = notify(
        scope,
        "NotifyError",
        topic=topic,
        subject=f"{title}: workflow error",
        message={
            "workflow": title,
            "outcome": "ERROR",
            "execution": sfn.JsonPath.execution_id,
            "error": sfn.JsonPath.string_at("$.error.Error"),
            "cause": sfn.JsonPath.string_at("$.error.Cause"),
        },
    )
    alert.next(
        sfn.Fail(scope, "WorkflowFailed", error_path="$.error.Error", cause_path="$.error.Cause")
    )
    return alert


def workflow_timeout(seconds: float) -> Duration:
    """A state machine timeout of `seconds` plus an hour of slack, at most a year."""
    return Duration.seconds(min(int(seconds) + 3600, 365 * 86400))
