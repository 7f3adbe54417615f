"""The platform's alerts topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..common import Problems


class AlertsTopic(Construct):
    """A KMS-encrypted, TLS-only SNS topic where the platform reports what needs a
    person: failed jobs, budget breaches, alarms. E-mail subscribers must confirm."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        emails: Sequence[str] = (),
        display_name: str = "SageMaker platform alerts",
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param encryption_key: KMS key of the topic. Publishers need
            kms:GenerateDataKey* and kms:Decrypt on it (`grant_publish` adds them).
        :param emails: Addresses subscribed by e-mail. Default: none.
        :param display_name: Sender name of the e-mails. Default: "SageMaker platform
            alerts". At most 100 characters.
        :param removal_policy: Default: RETAIN, so confirmed e-mail subscriptions and
            other stacks' subscriptions survive the stack's deletion.
        """
        super().__init__(scope, id_)
        problems = Problems("AlertsTopic")
        problems.check(
            len(display_name) <= 100,
            f"display_name must be at most 100 characters (got {len(display_name)})",
        )
        for email in emails:
            problems.check(
                "@" in email and " " not in email,
                f"emails must be e-mail addresses (got {email!r})",
            )
        problems.raise_if_any()

        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=display_name,
            master_key=encryption_key,
            enforce_ssl=True,
        )
        """The SNS topic."""
        self.topic.apply_removal_policy(removal_policy)
        # A topic policy replaces SNS's default one, whose owner-account statement is what
        # lets CloudWatch alarms publish; without this statement every alarm action fails
        # with "... alarm:NAME is not authorized to perform: SNS:Publish" (re:Post,
        # cloudwatch-receive-sns-for-alarm-trigger). Limited to this account's alarms.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccountPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnLike": {
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
