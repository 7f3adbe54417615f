"""The budget's tag filters count spend only once their tag keys are active cost
allocation tags: the platform budget filters on
`smkit:platform`, team budgets on `team_tag_key`. An inactive key leaves the budget at
$0 and the guard never acts.

AWS lists a user-defined tag key up to 24 hours after a resource first carries it, so
before the first deploy the key is simply not there yet; and only an organization's
management account (or a standalone account) manages cost allocation tags."""

from __future__ import annotations

from ..deployment import PLATFORM_TAG, Deployment
from .findings import Finding, UnsettledError, collect


def _activate(key: str) -> str:
    return (
        "aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
        f"TagKey={key},Status=Active"
    )


def check_cost_tags(deployment: Deployment) -> list[Finding]:
    """One finding per tag key the config's budgets filter on (none without a budget)."""
    cost = deployment.settings.cost
    if cost is None or cost.budget is None:
        return []
    keys = [PLATFORM_TAG] + ([cost.budget.team_tag_key] if cost.budget.teams else [])
    try:
        listed = {
            str(tag["TagKey"]): str(tag["Status"])
            for tag in collect(
                deployment.aws.client("ce"),
                "ListCostAllocationTags",
                "CostAllocationTags",
                TagKeys=keys,
            )
        }
    except UnsettledError as unsettled:
        fix = (
            f"Only the organization's management account (or a standalone account) manages "
            f"cost allocation tags: ask its owner to check {', '.join(keys)}, or grant "
            f"{unsettled.permission}."
            if unsettled.permission
            else None
        )
        return [unsettled.finding("cost-tag", f"cost allocation tag {k}", fix) for k in keys]
    findings = []
    for key in keys:
        subject = f"cost allocation tag {key}"
        status = listed.get(key)
        if status == "Active":
            findings.append(Finding("cost-tag", subject, "pass", "active: budgets count by it"))
        elif status is None:
            findings.append(
                Finding(
                    "cost-tag",
                    subject,
                    "unknown",
                    "not listed yet: AWS lists a tag key up to 24 hours after a resource first "
                    "carries it; until it is active the budget counts none of the spend",
                    fix=f"After `make deploy`, once it is listed: {_activate(key)}",
                )
            )
        else:
            findings.append(
                Finding(
                    "cost-tag",
                    subject,
                    "fail",
                    f"{status.lower()}: the budget counts none of the spend tagged with it",
                    fix=_activate(key),
                )
            )
    return findings
