"""The platform's customer-managed KMS key."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..common import Problems

# Services that publish to the platform's KMS-encrypted SNS topics as themselves
# (not through a role of ours), so they must be named in the key policy:
# CloudWatch alarms, AWS Budgets notifications and EventBridge rules.
DEFAULT_PUBLISHING_SERVICES: tuple[str, ...] = (
    "cloudwatch.amazonaws.com",
    "budgets.amazonaws.com",
    "events.amazonaws.com",
)


class PlatformKey(Construct):
    """A customer-managed KMS key with yearly rotation for everything the platform stores.

    Who may use it:

    - roles of the platform (SageMaker execution roles, Lambdas, state machines) get
      `grant_*` permissions; SageMaker, S3, SNS and Step Functions then use the key on
      their behalf, so none of them is named in the key policy;
    - CloudWatch Logs encrypts log groups with it as the service itself, so the key
      policy allows `logs.<region>.amazonaws.com`, limited to this account's log groups;
    - the services in `publishing_services` may generate data keys and decrypt, limited
      to this account (`aws:SourceAccount`), so they can publish to encrypted topics.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        description: str = "sagemaker-platform-kit data, artifacts, logs and notifications",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        pending_window: Duration | None = None,
        publishing_services: Sequence[str] = DEFAULT_PUBLISHING_SERVICES,
    ) -> None:
        """
        :param alias: Key alias, e.g. `alias/smkit/platform`. Must start with `alias/`
            and not with `alias/aws/`; 1-256 characters of letters, digits, / _ -.
        :param description: Key description. Default: names the platform.
        :param removal_policy: What happens to the key when it leaves the stack.
            Default: RETAIN (data encrypted with it must stay readable).
        :param pending_window: Waiting period before a scheduled deletion. Default: 30 days.
            Valid range: 7-30 days.
        :param publishing_services: Service principals allowed to publish to SNS topics
            encrypted with this key. Default: CloudWatch, Budgets, EventBridge.
        """
        super().__init__(scope, id_)
        problems = Problems("PlatformKey")
        body = alias.removeprefix("alias/")
        problems.check(
            alias.startswith("alias/") and not alias.startswith("alias/aws/"),
            f"alias must start with 'alias/' and not 'alias/aws/' (got {alias!r})",
        )
        problems.check(
            0 < len(body) <= 250 and all(c.isalnum() or c in "/_-" for c in body),
            "alias must be 1-250 characters of letters, digits, / _ - after 'alias/' "
            f"(got {alias!r})",
        )
        if pending_window is not None:
            days = pending_window.to_days()
            problems.check(7 <= days <= 30, f"pending_window must be 7-30 days (got {days})")
        problems.raise_if_any()

        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy,
            pending_window=pending_window or Duration.days(30),
        )
        """The KMS key."""

        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs", resource="log-group", resource_name="*"
                        ).replace(":log-group/", ":log-group:")
                    }
                },
            )
        )
        if publishing_services:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="ServicesPublishToEncryptedTopics",
                    principals=[iam.ServicePrincipal(s) for s in publishing_services],
                    actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
                )
            )
