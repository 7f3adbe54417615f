"""The budget guard: a topic the budget notifies on a breach, and the function that
stops the platform's running SageMaker jobs and notebooks when it does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..common import Problems, PythonFunction, acknowledge, acknowledge_wildcards

RUNTIME_DIR = Path(__file__).parent / "runtime"

IGNORED_MESSAGE = "budget guard ignored a message"
"""The log record the function writes for a message it does not act on (runtime/handler.py
writes it; the metric filter counts it)."""
METRIC_NAMESPACE = "smkit/BudgetGuard"
IGNORED_METRIC = "IgnoredMessages"

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

    The budget sends the breach notification to `topic`, a topic of its own. `function`
    first checks the message: it acts only on an AWS Budgets notification of actual spend
    for one of `budget_names`; anything else (an empty or malformed event, a CloudWatch
    alarm, a forecast, another budget of the account) is logged and ignored, and an alarm
    tells the alerts topic that a message was ignored (so a changed Budgets message
    format cannot switch the guard off silently). Then it stops in-progress tuning,
    training, processing and transform jobs and running notebook instances tagged
    `tag_key` = `tag_value`, and the running apps of `studio_domain_ids` (DeleteApp: the
    space and its volume stay), publishes what it stopped and what failed to `alerts_topic`,
    and fails the invocation when any call failed: Lambda retries it twice, then sends
    the event to `alerts_topic`, and an alarm on the function's errors goes there too.

    Its role may list SageMaker resources and read their tags, and may stop, describe,
    scale and cap only resources carrying the platform tag (`aws:ResourceTag` condition
    on every stoppable resource type, on endpoints and on Application Auto Scaling's
    scalable targets), and delete (stop) only apps of the platform's Studio domains. It
    may delete nothing else.
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
        budget_names: Sequence[str],
        dry_run: bool = False,
        scale_endpoints_to_minimum: bool = False,
        studio_domain_ids: Sequence[str] = (),
        timeout: Duration = Duration.minutes(5),
        log_retention_days: int = 365,
    ) -> None:
        """
        :param encryption_key: Key of the guard topic, the log group and the environment.
            Its policy must let budgets.amazonaws.com use it (the platform key does).
        :param alerts_topic: Where the guard reports, and where its alarms go.
        :param tag_key: Tag that marks the platform's resources, e.g. `smkit:platform`.
            1-128 characters.
        :param tag_value: Its value on the platform's resources. 0-256 characters.
        :param budget_names: The budgets whose notifications the guard acts on (the
            budget sends them to `topic`). At least one; each 1-100 characters.
        :param dry_run: Report only, change nothing. Default: False.
        :param scale_endpoints_to_minimum: Cap autoscaled endpoint variants at their
            autoscaling minimum. Default: False (endpoints are left running).
        :param studio_domain_ids: Studio domains whose running JupyterLab, Code Editor and
            other apps the guard stops (DeleteApp: the space and its volume stay).
            Default: none.
        :param timeout: Longest one run may take. Default: 5 minutes. Valid range:
            1-15 minutes.
        :param log_retention_days: Default: 365. One of CloudWatch Logs' retention periods.
        """
        super().__init__(scope, id_)
        names = list(budget_names)
        problems = Problems("BudgetGuard")
        problems.check(
            0 < len(tag_key) <= 128, f"tag_key must be 1-128 characters (got {tag_key!r})"
        )
        problems.check(
            len(tag_value) <= 256,
            f"tag_value must be at most 256 characters (got {len(tag_value)})",
        )
        problems.check(
            bool(names) and all(0 < len(n) <= 100 for n in names),
            f"budget_names must name 1 or more budgets of 1-100 characters (got {names})",
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
                "BUDGET_NAMES": json.dumps(names),
                "ALERTS_TOPIC_ARN": alerts_topic.topic_arn,
                "DRY_RUN": str(dry_run).lower(),
                "SCALE_ENDPOINTS": str(scale_endpoints_to_minimum).lower(),
                "STUDIO_DOMAIN_IDS": Fn.to_json_string(list(studio_domain_ids)),
            },
            timeout=timeout,
            log_retention_days=log_retention_days,
        )
        self.function = function.function
        """The guard's Lambda function."""
        self.role = function.role
        """The function's role: list, read tags, stop, describe and cap; nothing else."""
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
        if studio_domain_ids:
            self._grant_studio(studio_domain_ids)
        self._alarm(alerts_topic, tag_value)

    def _alarm(self, alerts_topic: sns.ITopic, tag_value: str) -> None:
        self.errors_alarm = cloudwatch.Alarm(
            self,
            "ErrorsAlarm",
            metric=self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"The budget guard of {tag_value} failed: a stop or its report did not go "
                "through. Read the alert it sent and the function's log; stop what is listed "
                "as FAILED yourself."
            ),
        )
        """Alarm on the function's errors (a failed stop fails the run), to the alerts
        topic."""
        self.errors_alarm.add_alarm_action(cw_actions.SnsAction(alerts_topic))

        # The function logs one JSON record per ignored message; count them per platform.
        logs.MetricFilter(
            self,
            "IgnoredMessages",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.string_value("$.message", "=", IGNORED_MESSAGE),
            metric_namespace=METRIC_NAMESPACE,
            metric_name=IGNORED_METRIC,
            metric_value="1",
            dimensions={"Platform": "$.platform"},
            unit=cloudwatch.Unit.COUNT,
        )
        self.ignored_alarm = cloudwatch.Alarm(
            self,
            "IgnoredMessagesAlarm",
            metric=cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name=IGNORED_METRIC,
                dimensions_map={"Platform": tag_value},
                statistic="Sum",
                period=Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"The budget guard of {tag_value} ignored a message on its topic (not a "
                "notification of actual spend for its budget). If the budget was breached, "
                "the guard did not act: its log says why."
            ),
        )
        """Alarm when the function ignores a message, to the alerts topic."""
        self.ignored_alarm.add_alarm_action(cw_actions.SnsAction(alerts_topic))

    def _grant_studio(self, domain_ids: Sequence[str]) -> None:
        stack = Stack.of(self)
        apps = [
            stack.format_arn(service="sagemaker", resource="app", resource_name=f"{domain}/*")
            for domain in domain_ids
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ListStudioApps", actions=["sagemaker:ListApps"], resources=["*"]
            )
        )
        # COST-6: DeleteApp stops an app; its space and the space's volume stay
        # (studio-updated-spaces.html). Only apps of the platform's own domain.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StopThePlatformDomainsAppsOnly",
                actions=["sagemaker:DeleteApp", "sagemaker:DescribeApp"],
                resources=apps,
            )
        )
        acknowledge_wildcards(
            self.role,
            reason="The guard stops whichever apps of the platform's Studio domain run when "
            "the budget is breached; app names are chosen in Studio, so the statement names "
            "the domain and not the apps.",
            resources=apps,
        )

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
            scalable_targets = stack.format_arn(
                service="application-autoscaling", resource="scalable-target", resource_name="*"
            )
            statements += [
                iam.PolicyStatement(
                    sid="FindScalableTargets",
                    actions=["application-autoscaling:DescribeScalableTargets"],
                    resources=["*"],
                ),
                # COST-5: RegisterScalableTarget takes scalable-target ARNs and
                # aws:ResourceTag (Service Authorization Reference, Application Auto
                # Scaling); the kit's scalable targets carry the platform tag, another
                # deployment's do not, so the guard cannot cap someone else's endpoint.
                iam.PolicyStatement(
                    sid="CapThePlatformsScalableTargetsOnly",
                    actions=["application-autoscaling:RegisterScalableTarget"],
                    resources=[scalable_targets],
                    conditions=tagged,
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
            wildcard_resources += [*arns("endpoint-config"), scalable_targets]
        for statement in statements:
            self.role.add_to_policy(statement)

        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "SageMaker's List* actions (ListTrainingJobs, ListNotebookInstances, ListEndpoints "
            "...) and Application Auto Scaling's DescribeScalableTargets accept no resource "
            "ARN; what the guard may change is limited by the tag-conditioned statements.",
        )
        acknowledge_wildcards(
            self.role,
            reason=(
                "The guard acts on whichever of the platform's jobs, notebooks, endpoints and "
                "scalable targets run when the budget is breached, so it cannot name them in "
                "advance (scalable targets have generated ids); it may read tags of these "
                "resource types, and stop, describe, scale or cap them only when they carry "
                "the platform tag."
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
