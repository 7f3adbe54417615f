"""A monthly AWS Budgets budget on SageMaker spend, with notifications."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..common import Problems

SAGEMAKER_SERVICE = "Amazon SageMaker"
"""The service's name in AWS Budgets' `Service` cost filter."""

# AWS Budgets: five notifications per budget, ten e-mail subscribers per notification,
# budget names without ':' or '\'.
MAX_NOTIFICATIONS = 5
MAX_EMAILS = 10
_PUBLISH_SID = "BudgetsPublishFromThisAccount"


def allow_budgets_to_publish(topic: sns.ITopic) -> None:
    """Let AWS Budgets publish to `topic`, for budgets of this account only (the
    statement AWS documents: `aws:SourceAccount` and an `aws:SourceArn` of this account's
    budgets). Adding it twice to one topic is harmless: CDK keeps identical statements
    once."""
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid=_PUBLISH_SID,
            principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:budgets::{Aws.ACCOUNT_ID}:*"},
            },
        )
    )


class SageMakerBudget(Construct):
    """A monthly COST budget on one tag's Amazon SageMaker spend.

    - Filters: service `Amazon SageMaker` and the cost allocation tag `tag_key` =
      `tag_value` (`TagKeyValue` `user:<key>$<value>`). The tag counts only once it is
      activated as a cost allocation tag in the Billing console.
    - Credits and refunds are left out, so the budget tracks what resources burn even in
      an account with promotional credits (which would otherwise keep spend near zero
      and never trigger a notification).
    - Notifications: one per threshold (actual and forecasted, percent of the limit), to
      `alerts_topic` and `emails`. With `guard_topic`, actual spend passing
      `guard_threshold_percent` goes to the guard topic instead of the alerts topic (a
      notification takes one SNS subscriber); the guard reports to the alerts topic.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        budget_name: str,
        monthly_limit_usd: float,
        tag_key: str,
        tag_value: str,
        alerts_topic: sns.ITopic,
        actual_thresholds_percent: Sequence[int] = (50, 80, 100),
        forecasted_thresholds_percent: Sequence[int] = (100,),
        emails: Sequence[str] = (),
        guard_topic: sns.ITopic | None = None,
        guard_threshold_percent: int = 100,
    ) -> None:
        """
        :param budget_name: Unique in the account. 1-100 characters, no ':' or '\\'.
        :param monthly_limit_usd: Limit in USD. Greater than 0.
        :param tag_key: Cost allocation tag key, e.g. `smkit:platform`. 1-128 characters.
        :param tag_value: Value of that tag on the resources counted.
        :param alerts_topic: SNS topic notified; it gets a statement letting Budgets publish.
        :param actual_thresholds_percent: Default: 50, 80, 100. Each 1-1000, unique.
        :param forecasted_thresholds_percent: Default: 100. Each 1-1000, unique.
        :param emails: Addresses Budgets e-mails directly. Default: none. At most 10.
        :param guard_topic: Topic of the budget guard. Default: none (no guard).
        :param guard_threshold_percent: Actual spend at which the guard topic is notified.
            Default: 100. Valid range: 1-1000.
        """
        super().__init__(scope, id_)
        actual = list(actual_thresholds_percent)
        forecasted = list(forecasted_thresholds_percent)
        problems = Problems("SageMakerBudget")
        problems.check(
            0 < len(budget_name) <= 100 and not set(budget_name) & {":", "\\"},
            f"budget_name must be 1-100 characters without ':' or '\\' (got {budget_name!r})",
        )
        problems.check(
            monthly_limit_usd > 0,
            f"monthly_limit_usd must be greater than 0 (got {monthly_limit_usd})",
        )
        problems.check(
            0 < len(tag_key) <= 128, f"tag_key must be 1-128 characters (got {tag_key!r})"
        )
        for name, values in (("actual", actual), ("forecasted", forecasted)):
            problems.check(
                all(1 <= v <= 1000 for v in values) and len(set(values)) == len(values),
                f"{name}_thresholds_percent must be unique values of 1-1000 (got {values})",
            )
        problems.check(
            1 <= guard_threshold_percent <= 1000,
            f"guard_threshold_percent must be 1-1000 (got {guard_threshold_percent})",
        )
        guard_extra = guard_topic is not None and guard_threshold_percent not in actual
        count = len(actual) + len(forecasted) + int(guard_extra)
        problems.check(
            0 < count <= MAX_NOTIFICATIONS,
            f"a budget takes 1-{MAX_NOTIFICATIONS} notifications (got {count})",
        )
        problems.check(
            len(emails) <= MAX_EMAILS, f"emails takes at most {MAX_EMAILS} (got {len(emails)})"
        )
        problems.raise_if_any()

        allow_budgets_to_publish(alerts_topic)
        if guard_topic is not None:
            allow_budgets_to_publish(guard_topic)
            if guard_extra:
                actual.append(guard_threshold_percent)

        def notification(
            kind: str, threshold: int
        ) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            topic = alerts_topic
            if (
                guard_topic is not None
                and kind == "ACTUAL"
                and threshold == guard_threshold_percent
            ):
                topic = guard_topic
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[
                    budgets.CfnBudget.SubscriberProperty(
                        subscription_type="SNS", address=topic.topic_arn
                    ),
                    *(
                        budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=e)
                        for e in emails
                    ),
                ],
            )

        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_limit_usd, unit="USD"),
                cost_filters={
                    "Service": [SAGEMAKER_SERVICE],
                    "TagKeyValue": [f"user:{tag_key}${tag_value}"],
                },
                cost_types=budgets.CfnBudget.CostTypesProperty(
                    include_credit=False, include_refund=False
                ),
            ),
            notifications_with_subscribers=[
                *(notification("ACTUAL", t) for t in sorted(actual)),
                *(notification("FORECASTED", t) for t in sorted(forecasted)),
            ],
        )
        """The AWS::Budgets::Budget."""
        self.budget_name = budget_name
        """The budget's name, as the Budgets console shows it."""
