"""Cost guardrails: the platform's SageMaker budget, per-team budgets and the budget
guard. Stateless: budgets hold no data, and the guard's log group is retained."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.cost import BudgetGuard, SageMakerBudget

from .settings import PlatformSettings
from .settings.cost import BudgetSettings


class CostStack(Stack):
    """A monthly budget on the platform's SageMaker spend (by service and the
    `smkit:platform` tag), optional per-team budgets, and the budget guard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: PlatformSettings,
        budget: BudgetSettings,
        platform_tag: tuple[str, str],
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        """
        :param settings: The deployment's settings.
        :param budget: Its `cost.budget` section.
        :param platform_tag: The tag every resource of the deployment carries (key, value).
        :param encryption_key: The platform key (the guard's topic, logs, environment).
        :param alerts_topic: The platform's alerts topic.
        """
        super().__init__(scope, id_, **kwargs)
        tag_key, tag_value = platform_tag

        self.guard: BudgetGuard | None = None
        """The budget guard, when `cost.budget.guard` is set."""
        if budget.guard is not None:
            self.guard = BudgetGuard(
                self,
                "Guard",
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                tag_key=tag_key,
                tag_value=tag_value,
                dry_run=budget.guard.dry_run,
                scale_endpoints_to_minimum=budget.guard.scale_endpoints_to_minimum,
            )

        self.budget = SageMakerBudget(
            self,
            "Budget",
            budget_name=f"{settings.name_prefix}-sagemaker-monthly",
            monthly_limit_usd=budget.monthly_limit_usd,
            tag_key=tag_key,
            tag_value=tag_value,
            alerts_topic=alerts_topic,
            actual_thresholds_percent=budget.actual_thresholds_percent,
            forecasted_thresholds_percent=budget.forecasted_thresholds_percent,
            emails=budget.emails,
            guard_topic=self.guard.topic if self.guard else None,
            guard_threshold_percent=budget.guard.threshold_percent if budget.guard else 100,
        )
        """The platform's budget."""

        # Named after the team, not its position, so reordering `teams` replaces nothing.
        # Budget names may not hold ':', a backslash or "/action/".
        self.team_budgets = {
            team.team: SageMakerBudget(
                self,
                f"Team-{team.team.replace('/', '-')}",
                budget_name=re.sub(
                    r"[:\\/]", "-", f"{settings.name_prefix}-sagemaker-team-{team.team}"
                )[:100],
                monthly_limit_usd=team.monthly_limit_usd,
                tag_key=budget.team_tag_key,
                tag_value=team.team,
                alerts_topic=alerts_topic,
                actual_thresholds_percent=budget.actual_thresholds_percent,
                forecasted_thresholds_percent=budget.forecasted_thresholds_percent,
                emails=team.emails,
            )
            for team in budget.teams
        }
        """Per-team budgets by team."""

        CfnOutput(
            self,
            "BudgetName",
            value=self.budget.budget_name,
            description="AWS Budgets budget on the platform's SageMaker spend",
        )
        if self.guard is not None:
            CfnOutput(
                self,
                "GuardFunctionName",
                value=self.guard.function.function_name,
                description="Budget guard function (invoke it with a test event for a dry run)",
            )
