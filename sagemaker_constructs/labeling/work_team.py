"""Work teams of the private workforce, each with an encrypted topic that tells its
workers when tasks are waiting."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ..common import Problems
from .workforce import Workforce

SAGEMAKER = "sagemaker.amazonaws.com"


class NotificationKey(Construct):
    """A KMS key for work teams' notification topics.

    Ground Truth publishes task notifications as the SageMaker service itself, so the key
    policy must let `sagemaker.amazonaws.com` generate data keys (for this account only).
    A key of its own keeps that service permission off the platform key, which protects
    the data.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param alias: Key alias, starting with `alias/`.
        :param removal_policy: Default: RETAIN.
        """
        super().__init__(scope, id_)
        Problems("NotificationKey").check(
            alias.startswith("alias/") and not alias.startswith("alias/aws/"),
            f"alias must start with 'alias/' and not 'alias/aws/' (got {alias!r})",
        )
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description="Work team task notifications (Ground Truth)",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        """The KMS key."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SageMakerPublishesTaskNotifications",
                principals=[iam.ServicePrincipal(SAGEMAKER)],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )


class WorkTeam(Construct):
    """An `AWS::SageMaker::Workteam` of a private workforce, and an SNS topic (KMS,
    TLS-only) Ground Truth notifies its workers through; `worker_emails` are subscribed
    (each confirms once by e-mail)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        workteam_name: str,
        workforce: Workforce,
        team: str,
        notification_key: kms.IKey,
        description: str = "Labeling team",
        groups: Sequence[str] = (),
        worker_emails: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param workteam_name: Name of the work team. 1-63 letters, digits and hyphens.
        :param workforce: The private workforce it belongs to.
        :param team: The team's name in the workforce (its Cognito group).
        :param notification_key: Key of the topic; must let SageMaker publish
            (`NotificationKey`).
        :param description: Shown to workers. Default: "Labeling team". 1-200 characters.
        :param groups: Identity-provider groups of the team (OIDC or existing workforce).
            Default: a group named like the team.
        :param worker_emails: Subscribed to the task notifications. Default: none.
        :param removal_policy: Of the work team and the topic. Default: RETAIN.
        """
        super().__init__(scope, id_)
        problems = Problems("WorkTeam")
        problems.check(
            1 <= len(workteam_name) <= 63
            and workteam_name[:1].isalnum()
            and all(c.isalnum() or c == "-" for c in workteam_name),
            f"workteam_name must be 1-63 letters, digits and hyphens (got {workteam_name!r})",
        )
        problems.check(
            1 <= len(description) <= 200,
            f"description must be 1-200 characters (got {len(description)})",
        )
        problems.raise_if_any()

        stack = Stack.of(self)
        self.topic = sns.Topic(
            self,
            "Notifications",
            display_name=f"Labeling tasks for {workteam_name}"[:100],
            master_key=notification_key,
            enforce_ssl=True,
        )
        """Where Ground Truth announces new and expiring tasks of this team."""
        self.topic.apply_removal_policy(removal_policy)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SageMakerPublishesTaskNotifications",
                principals=[iam.ServicePrincipal(SAGEMAKER)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="sagemaker", resource="workteam", resource_name="*"
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        for email in worker_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.workteam = sagemaker.CfnWorkteam(
            self,
            "Workteam",
            workteam_name=workteam_name,
            workforce_name=workforce.workforce_name,
            description=description,
            member_definitions=[workforce.member_definition(team, groups)],
            notification_configuration=sagemaker.CfnWorkteam.NotificationConfigurationProperty(
                notification_topic_arn=self.topic.topic_arn
            ),
        )
        """The work team."""
        self.workteam.apply_removal_policy(removal_policy)
        if workforce.resource is not None:
            self.workteam.node.add_dependency(workforce.resource)
        self.workteam_arn = self.workteam.attr_workteam_arn
        """ARN of the work team (labeling jobs name it)."""
        self.portal_url = workforce.portal_url
        """Where the team's workers sign in, where known."""
