"""The budget guard: a topic the budget notifies on a breach, and the function that
stops the platform's running SageMaker jobs and notebooks when it does."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..common import Problems, PythonFunction, acknowledge, acknowledge_wildcards

RUNTIME_DIR = Path(__file__).parent / "runtime"

# SageMaker resource types the guard stops, with the actions it needs on each.
_STOPPABLE = {
    "hyper-parameter-tuning-job": (
        "StopHyperParameterTuningJob",
        "DescribeHyperParameterTuningJob",
    ),
    "training-job": ("StopTrainingJob", "DescribeTrainingJob"),
    "processing-job": ("StopProcessingJob", "DescribeProcessingJob"),
    "transform-job": ("StopTransformJob", "DescribeTransformJob"),
    "notebook-instance": ("StopNotebookInstance", "DescribeNotebookInstance"),
}
_LISTS = (
    "ListHyperParameterTuningJobs",
    "ListTrainingJobs",
    "ListProcessingJobs",
    "ListTransformJobs",
    "ListNotebookInstances",
    "ListEndpoints",
)


class BudgetGuard(Construct):
    """Stops the platform's running SageMaker work when its budget is breached.

    The budget sends the breach notification to `topic` (its own topic, so no other
    alert can trigger it and nothing has to be parsed out of Budgets' free-text
    messages); `function` then stops in-progress tuning, training, processing and
    transform jobs and running notebook instances tagged `tag_key` = `tag_value`, and
    publishes what it stopped and what failed to `alerts_topic`. If the function itself
    fails after Lambda's retries, the failed event goes to `alerts_topic` as well, so the
    breach is never silent.

    Its role may list SageMaker resources and read their tags, and may stop and describe
    only resources carrying the platform tag (`aws:ResourceTag` condition, supported on
    every stoppable resource type). It has no delete permission.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        tag_key: str,
        tag_value: str,
        dry_run: bool = False,
        scale_endpoints_to_minimum: bool = False,
        timeout: Duration = Duration.minutes(5),
        log_retention_days: int = 365,
    ) -> None:
        """
        :param encryption_key: Key of the guard topic, the log group and the environment.
            Its policy must let budgets.amazonaws.com use it (the platform key does).
        :param alerts_topic: Where the guard reports.
        :param tag_key: Tag that marks the platform's resources, e.g. `smkit:platform`.
            1-128 characters.
        :param tag_value: Its value on the platform's resources. 0-256 characters.
        :param dry_run: Report only, change nothing. Default: False.
        :param scale_endpoints_to_minimum: Cap autoscaled endpoint variants at their
            autoscaling minimum. Default: False (endpoints are left running).
        :param timeout: Longest one run may take. Default: 5 minutes. Valid range:
            1-15 minutes.
        :param log_retention_days: Default: 365. One of CloudWatch Logs' retention periods.
        """
        super().__init__(scope, id_)
        problems = Problems("BudgetGuard")
        problems.check(
            0 < len(tag_key) <= 128, f"tag_key must be 1-128 characters (got {tag_key!r})"
        )
        problems.check(
            len(tag_value) <= 256,
            f"tag_value must be at most 256 characters (got {len(tag_value)})",
        )
        minutes = timeout.to_seconds() / 60
        problems.check(1 <= minutes <= 15, f"timeout must be 1-15 minutes (got {minutes:g})")
        problems.raise_if_any()

        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="SageMaker budget guard",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        """The topic the budget notifies when the guard should act."""

        function = PythonFunction(
            self,
            "Function",
            code_dir=RUNTIME_DIR,
            description=(
                f"Budget guard of {tag_value}: stops its running SageMaker jobs and notebooks "
                "when its budget is breached and reports to the alerts topic"
            ),
            encryption_key=encryption_key,
            environment={
                "PLATFORM_TAG_KEY": tag_key,
                "PLATFORM_TAG_VALUE": tag_value,
                "ALERTS_TOPIC_ARN": alerts_topic.topic_arn,
                "DRY_RUN": str(dry_run).lower(),
                "SCALE_ENDPOINTS": str(scale_endpoints_to_minimum).lower(),
            },
            timeout=timeout,
            log_retention_days=log_retention_days,
        )
        self.function = function.function
        """The guard's Lambda function."""
        self.role = function.role
        """The function's role: list, read tags, stop and describe; nothing else."""
        self.log_group = function.log_group
        """The function's log group (JSON records, one report per run)."""

        self.topic.add_subscription(subscriptions.LambdaSubscription(self.function))
        alerts_topic.grant_publish(self.role)
        lambda_.EventInvokeConfig(
            self,
            "OnFailure",
            function=self.function,
            retry_attempts=2,
            on_failure=destinations.SnsDestination(alerts_topic),
        )
        self._grant(tag_key, tag_value, scale_endpoints_to_minimum)

    def _grant(self, tag_key: str, tag_value: str, scale_endpoints: bool) -> None:
        stack = Stack.of(self)

        def arns(*resource_types: str) -> list[str]:
            return [
                stack.format_arn(service="sagemaker", resource=t, resource_name="*")
                for t in resource_types
            ]

        tagged = {"StringEquals": {f"aws:ResourceTag/{tag_key}": tag_value}}
        statements = [
            iam.PolicyStatement(
                sid="ListRunningWork",
                actions=[f"sagemaker:{a}" for a in _LISTS],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ReadTagsToFindThePlatformsResources",
                actions=["sagemaker:ListTags"],
                resources=arns(*_STOPPABLE, "endpoint"),
            ),
            iam.PolicyStatement(
                sid="StopAndDescribeThePlatformsResourcesOnly",
                actions=sorted(f"sagemaker:{a}" for pair in _STOPPABLE.values() for a in pair),
                resources=arns(*_STOPPABLE),
                conditions=tagged,
            ),
        ]
        wildcard_resources = arns(*_STOPPABLE, "endpoint")
        if scale_endpoints:
            statements += [
                # Application Auto Scaling accepts no resource-level scoping here (scalable
                # targets have generated ids), but it checks that the caller may describe
                # and update the endpoint itself, which the next statement limits to the
                # platform's endpoints.
                iam.PolicyStatement(
                    sid="CapEndpointVariantsThroughAutoScaling",
                    actions=[
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:RegisterScalableTarget",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="ScaleThePlatformsEndpointsOnly",
                    actions=[
                        "sagemaker:DescribeEndpoint",
                        "sagemaker:DescribeEndpointConfig",
                        "sagemaker:UpdateEndpointWeightsAndCapacities",
                    ],
                    resources=arns("endpoint", "endpoint-config"),
                    conditions=tagged,
                ),
            ]
            wildcard_resources += arns("endpoint-config")
        for statement in statements:
            self.role.add_to_policy(statement)

        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "SageMaker's List* actions (ListTrainingJobs, ListNotebookInstances, ListEndpoints "
            "...) and Application Auto Scaling's DescribeScalableTargets / "
            "RegisterScalableTarget accept no resource ARN; what the guard may change is "
            "limited by the tag-conditioned statements.",
        )
        acknowledge_wildcards(
            self.role,
            reason=(
                "The guard acts on whichever of the platform's jobs, notebooks and endpoints "
                "run when the budget is breached, so it cannot name them in advance; it may "
                "read tags of these resource types, and stop, describe or scale them only when "
                "they carry the platform tag."
            ),
            resources=wildcard_resources,
        )
        acknowledge_wildcards(
            self.role,
            reason=(
                "grant_publish on the KMS-encrypted alerts topic: SNS needs the publisher to "
                "generate data keys under the platform key, and KMS names that permission "
                "family kms:GenerateDataKey*; the statement is limited to that one key."
            ),
            actions=["kms:GenerateDataKey*"],
        )
