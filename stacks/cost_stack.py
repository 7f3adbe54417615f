"""Cost guardrails: the platform's SageMaker budget, per-team budgets and the budget
guard. Stateless: budgets hold no data, and the guard's log group is retained."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.cost import BudgetGuard, SageMakerBudget, budget_name

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
        studio_domain_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param settings: The deployment's settings.
        :param budget: Its `cost.budget` section.
        :param platform_tag: The tag every resource of the deployment carries (key, value).
        :param encryption_key: The platform key (the guard's topic, logs, environment).
        :param alerts_topic: The platform's alerts topic.
        :param studio_domain_id: The platform's Studio domain, whose apps the guard stops.
            Default: none.
        """
        super().__init__(scope, id_, **kwargs)
        tag_key, tag_value = platform_tag
        platform_budget = budget_name(f"{settings.name_prefix}-sagemaker-monthly")
        team_budget_names = {
            team.team: budget_name(f"{settings.name_prefix}-sagemaker-team-{team.team}")
            for team in budget.teams
        }
        _check_unique(platform_budget, team_budget_names)

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
                budget_names=[platform_budget],
                dry_run=budget.guard.dry_run,
                scale_endpoints_to_minimum=budget.guard.scale_endpoints_to_minimum,
                studio_domain_ids=[studio_domain_id] if studio_domain_id else [],
            )

        self.budget = SageMakerBudget(
            self,
            "Budget",
            budget_name=platform_budget,
            monthly_limit_usd=budget.monthly_limit_usd,
            tags={tag_key: tag_value},
            alerts_topic=alerts_topic,
            actual_thresholds_percent=budget.actual_thresholds_percent,
            forecasted_thresholds_percent=budget.forecasted_thresholds_percent,
            emails=budget.emails,
            guard_topic=self.guard.topic if self.guard else None,
            guard_threshold_percent=budget.guard.threshold_percent if budget.guard else 100,
        )
        """The platform's budget."""

        # Named after the team, not its position, so reordering `teams` replaces nothing.
        # A team budget counts the team's spend on this platform: both tags.
        self.team_budgets = {
            team.team: SageMakerBudget(
                self,
                _team_construct_id(team.team),
                budget_name=team_budget_names[team.team],
                monthly_limit_usd=team.monthly_limit_usd,
                tags={tag_key: tag_value, budget.team_tag_key: team.team},
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


def _team_construct_id(team: str) -> str:
    """`Team-<team>`; a construct id cannot hold '/', so a team with one gets its '/'
    replaced and a hash of the team, keeping "a/b" and "a-b" apart."""
    if "/" not in team:
        return f"Team-{team}"
    digest = hashlib.sha256(team.encode("utf-8")).hexdigest()[:8]
    return f"Team-{team.replace('/', '-')}-{digest}"


def _check_unique(platform_budget: str, team_budgets: dict[str, str]) -> None:
    """Refuse two budgets of one name (COST-3, API_budgets_Budget: unique in an account)."""
    owners: dict[str, str] = {platform_budget: "the platform budget"}
    for index, (team, name) in enumerate(team_budgets.items()):
        if name in owners:
            raise ValueError(
                f"cost.budget.teams[{index}].team: team {team!r} would get the budget name "
                f"{name!r}, which {owners[name]} already has; budget names are unique in an "
                "account, so rename the team"
            )
        owners[name] = f"team {team!r}"
