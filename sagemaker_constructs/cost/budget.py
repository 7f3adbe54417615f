"""A monthly AWS Budgets budget on SageMaker spend, with notifications."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Aws
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..common import Problems

SAGEMAKER_SERVICE = "Amazon SageMaker"
"""The service's name in Cost Explorer's `SERVICE` dimension, which budgets filter on."""

METRIC = "UnblendedCost"
"""What a budget adds up: the cost as billed, before credits (which the filter drops)."""

EXCLUDED_RECORD_TYPES = ("Credit", "Refund")
"""Charge types left out of the budget (Cost Explorer's `RECORD_TYPE` dimension)."""

# AWS Budgets: five notifications per budget, ten e-mail subscribers per notification,
# budget names of 1-100 characters without ':', '\\' or "/action/".
MAX_NOTIFICATIONS = 5
MAX_EMAILS = 10
MAX_NAME_LENGTH = 100
_NOT_IN_NAMES = re.compile(r"[:\\/]")
_HASH_LENGTH = 8
_PUBLISH_SID = "BudgetsPublishFromThisAccount"


def budget_name(name: str) -> str:
    """`name` made a valid budget name, distinct for distinct names and the same on every
    synth (COST-3, API_budgets_Budget: 1-100 characters without ':', '\\' or "/action/",
    unique in the account).

    A valid name is kept as it is. Otherwise ':', '\\' and '/' become '-', the result is
    cut to leave room, and `-` plus the first 8 hex digits of the SHA-256 of the original
    name is appended: two names that differ only in a replaced character or after the
    cut still get different budget names, and adding or removing another budget never
    renames this one.
    """
    cleaned = _NOT_IN_NAMES.sub("-", name)
    if cleaned == name and 0 < len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    return f"{cleaned[: MAX_NAME_LENGTH - _HASH_LENGTH - 1]}-{digest}"


def allow_budgets_to_publish(topic: sns.ITopic) -> None:
    """Let AWS Budgets publish to `topic`, for budgets of this account only: the statement
    AWS documents, `aws:SourceAccount` and an `aws:SourceArn` of
    `arn:<partition>:budgets::<account>:*`. AWS documents no narrower source ARN (one
    budget's), so a receiver that must act on one budget only checks the budget name in
    the message itself (the budget guard does). Adding it twice to one topic is harmless:
    CDK keeps identical statements once."""
    # COST-4: budgets-sns-policy.html documents this statement and no narrower one.
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


def filter_expression(tags: Mapping[str, str]) -> budgets.CfnBudget.ExpressionProperty:
    """What a SageMaker budget counts: service `Amazon SageMaker` And each of `tags` And
    not a credit or refund."""
    expression = budgets.CfnBudget.ExpressionProperty
    return expression(
        and_=[
            expression(
                dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                    key="SERVICE", values=[SAGEMAKER_SERVICE]
                )
            ),
            *(
                expression(tags=budgets.CfnBudget.TagValuesProperty(key=key, values=[value]))
                for key, value in tags.items()
            ),
            expression(
                not_=expression(
                    dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                        key="RECORD_TYPE", values=list(EXCLUDED_RECORD_TYPES)
                    )
                )
            ),
        ]
    )


class SageMakerBudget(Construct):
    """A monthly COST budget on the Amazon SageMaker spend of resources carrying tags.

    - Counts (`FilterExpression`, with `Metrics` `UnblendedCost`): service
      `Amazon SageMaker` And every tag of `tags` (key = value) And not the charge types
      `Credit` and `Refund`. A tag counts only once it is activated as a cost allocation
      tag (Billing console, in the account that pays the bill); see docs/cost-guardrails.md.
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
        tags: Mapping[str, str],
        alerts_topic: sns.ITopic,
        actual_thresholds_percent: Sequence[int] = (50, 80, 100),
        forecasted_thresholds_percent: Sequence[int] = (100,),
        emails: Sequence[str] = (),
        guard_topic: sns.ITopic | None = None,
        guard_threshold_percent: int = 100,
    ) -> None:
        """
        :param budget_name: Unique in the account. 1-100 characters, no ':', '\\' or
            "/action/"; `budget_name()` makes any name one.
        :param monthly_limit_usd: Limit in USD. Greater than 0.
        :param tags: Cost allocation tags (key: value) the counted resources carry, all of
            them, e.g. `{"smkit:platform": "demo"}`. At least one. Keys 1-128 characters,
            values at most 256.
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
            0 < len(budget_name) <= MAX_NAME_LENGTH
            and not set(budget_name) & {":", "\\"}
            and "/action/" not in budget_name,
            f"budget_name must be 1-{MAX_NAME_LENGTH} characters without ':', '\\' or "
            f"'/action/' (got {budget_name!r})",
        )
        problems.check(
            monthly_limit_usd > 0,
            f"monthly_limit_usd must be greater than 0 (got {monthly_limit_usd})",
        )
        problems.check(len(tags) > 0, "tags must name at least one cost allocation tag")
        for key, value in tags.items():
            problems.check(0 < len(key) <= 128, f"tag keys must be 1-128 characters (got {key!r})")
            problems.check(
                len(value) <= 256,
                f"tag values must be at most 256 characters (got {len(value)} for {key!r})",
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
            # COST-2: FilterExpression goes with Metrics, never with the deprecated
            # CostFilters / CostTypes (API_budgets_CreateBudget).
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_limit_usd, unit="USD"),
                filter_expression=filter_expression(tags),
                metrics=[METRIC],
            ),
            notifications_with_subscribers=[
                *(notification("ACTUAL", t) for t in sorted(actual)),
                *(notification("FORECASTED", t) for t in sorted(forecasted)),
            ],
        )
        """The AWS::Budgets::Budget."""
        self.budget_name = budget_name
        """The budget's name, as the Budgets console shows it."""
