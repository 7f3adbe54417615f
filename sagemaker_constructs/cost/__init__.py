"""Cost guardrails: a SageMaker budget with notifications, and the budget guard that
stops the platform's running SageMaker work when the budget is breached."""

from .budget import (
    SAGEMAKER_SERVICE,
    SageMakerBudget,
    allow_budgets_to_publish,
    budget_name,
    filter_expression,
)
from .guard import BudgetGuard

__all__ = [
    "SAGEMAKER_SERVICE",
    "BudgetGuard",
    "SageMakerBudget",
    "allow_budgets_to_publish",
    "budget_name",
    "filter_expression",
]
