"""`smkit status`: one screen on the deployment: its stacks, labeling workforce, notebooks,
Studio's users, spaces and running apps, endpoints, running workflows and jobs, and the
budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from botocore.exceptions import ClientError
from rich.table import Table

from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..deployment import PLATFORM_TAG, Deployment, pascal
from ..errors import CliError, ExitCode
from ..waiting import duration, since
from .studio import studio_status


def expected_units(deployment: Deployment) -> list[str]:
    """The stacks the config deploys, in deployment order."""
    settings = deployment.settings
    units = ["Foundation"]
    if settings.cost is not None and settings.cost.budget is not None:
        units.append("Cost")
    if settings.notebooks is not None:
        units.append("Notebooks")
    if settings.studio is not None:
        units.append("Studio")
    if settings.inference is not None:
        units.append("Inference")
    labeling = settings.labeling
    if labeling is not None and labeling.workforce is not None:
        units.append("Workforce")
    if labeling is not None and (labeling.workflows or labeling.auto_labeling):
        units.append("Labeling")
    if settings.training is not None:
        units += ["ModelRegistry", "Training"]
    return units


def workflows(deployment: Deployment) -> list[tuple[str, str, str, str]]:
    """(kind, name, stack unit, output key) of every workflow (state machine) deployed."""
    found = []
    labeling = deployment.settings.labeling
    if labeling is not None:
        for workflow in labeling.workflows:
            key = f"LabelingWorkflow{pascal(workflow.name)}Arn"
            found.append(("labeling", workflow.name, "Labeling", key))
        for auto in labeling.auto_labeling:
            found.append(
                ("auto-labeling", auto.name, "Labeling", f"AutoLabeling{pascal(auto.name)}Arn")
            )
    return found


class Report:
    """What `status` found, section by section, and the stacks it could not read."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.problems: list[str] = []

    def section(self, key: str, read: Callable[[], Any]) -> None:
        """Read one section; a stack that is not deployed is reported, not fatal."""
        try:
            self.data[key] = read()
        except CliError as err:
            if err.exit_code != ExitCode.NOT_DEPLOYED:
                raise
            self.data[key] = None
            self.problems.append(err.message)


def _stacks(deployment: Deployment, report: Report) -> list[dict[str, str]]:
    rows = []
    for unit in expected_units(deployment):
        name = deployment.settings.stack_name(unit)
        try:
            deployment.outputs(unit)
        except CliError as err:
            if err.exit_code != ExitCode.NOT_DEPLOYED:
                raise
            report.problems.append(err.message)
        rows.append({"stack": name, "status": deployment.stack_statuses.get(unit, "NOT_DEPLOYED")})
    return rows


def _workforce(operator: Operator) -> dict[str, Any] | None:
    labeling = operator.deployment.settings.labeling
    if labeling is None or labeling.workforce is None:
        return None
    outputs = operator.deployment.outputs("Workforce")
    return {
        "name": outputs.get("WorkforceName"),
        "portal_url": outputs.get("LabelingPortalUrl"),
        "teams": [
            {
                "name": team.name,
                "workteam_arn": outputs.get(f"WorkTeam{pascal(team.name)}Arn"),
                "workers": len(team.workers),
            }
            for team in labeling.teams
        ],
    }


def _running_workflows(operator: Operator) -> list[dict[str, Any]]:
    """Runs in progress of every workflow of the deployment."""
    client = operator.aws.client("stepfunctions")
    now = operator.now()
    rows = []
    for kind, name, unit, key in workflows(operator.deployment):
        arn = operator.deployment.output(unit, key)
        pages = client.get_paginator("list_executions").paginate(
            stateMachineArn=arn, statusFilter="RUNNING"
        )
        for page in pages:
            for execution in page["executions"]:
                rows.append(
                    {
                        "kind": kind,
                        "workflow": name,
                        "run": execution["name"],
                        "started": execution["startDate"],
                        "elapsed": duration(since(execution["startDate"], now)),
                        "execution_arn": execution["executionArn"],
                    }
                )
    return rows


def _notebooks(operator: Operator) -> list[dict[str, Any]]:
    deployment = operator.deployment
    if deployment.settings.notebooks is None:
        return []
    sagemaker = operator.aws.client("sagemaker")
    rows = []
    for entry in deployment.settings.notebooks.instances:
        instance = deployment.notebook_name(entry.name)
        try:
            described = sagemaker.describe_notebook_instance(NotebookInstanceName=instance)
        except ClientError as err:
            if error_code(err) != "ValidationException":
                raise
            described = {"NotebookInstanceStatus": "NotFound"}
        rows.append(
            {
                "name": entry.name,
                "instance": instance,
                "instance_type": described.get("InstanceType", entry.instance_type),
                "status": described["NotebookInstanceStatus"],
                "owner": entry.owner,
            }
        )
    return rows


def _endpoints(operator: Operator) -> list[dict[str, Any]]:
    deployment = operator.deployment
    if deployment.settings.inference is None:
        return []
    sagemaker = operator.aws.client("sagemaker")
    rows = []
    for key in deployment.settings.inference.endpoints:
        name = deployment.output("Inference", f"{pascal(key)}EndpointName")
        try:
            described = sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as err:
            if error_code(err) != "ValidationException":
                raise
            described = {"EndpointStatus": "NotFound"}
        variants = described.get("ProductionVariants", [])
        rows.append(
            {
                "name": key,
                "endpoint": name,
                "status": described["EndpointStatus"],
                "instances": sum(int(v.get("CurrentInstanceCount", 0)) for v in variants),
                "failure_reason": described.get("FailureReason"),
            }
        )
    return rows


def _ours(sagemaker: Any, arn: str, prefix: str) -> bool:
    tags = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    return any(t["Key"] == PLATFORM_TAG and t["Value"] == prefix for t in tags)


def _jobs(operator: Operator) -> list[dict[str, Any]]:
    """Training and tuning jobs in progress that carry the platform's tag."""
    sagemaker = operator.aws.client("sagemaker")
    prefix = operator.deployment.prefix
    now = operator.now()
    rows = []
    kinds = (
        ("training", "list_training_jobs", "TrainingJobSummaries", "TrainingJob"),
        (
            "tuning",
            "list_hyper_parameter_tuning_jobs",
            "HyperParameterTuningJobSummaries",
            "HyperParameterTuningJob",
        ),
    )
    for kind, operation, key, field in kinds:
        pages = sagemaker.get_paginator(operation).paginate(StatusEquals="InProgress")
        for page in pages:
            for job in page[key]:
                if not _ours(sagemaker, job[f"{field}Arn"], prefix):
                    continue
                rows.append(
                    {
                        "kind": kind,
                        "name": job[f"{field}Name"],
                        "status": job[f"{field}Status"],
                        "created": job["CreationTime"],
                        "elapsed": duration(since(job["CreationTime"], now)),
                    }
                )
    return rows


def _budget(operator: Operator) -> dict[str, Any] | None:
    deployment = operator.deployment
    cost = deployment.settings.cost
    if cost is None or cost.budget is None:
        return None
    name = deployment.output("Cost", "BudgetName")
    budget = operator.aws.client("budgets").describe_budget(
        AccountId=deployment.account, BudgetName=name
    )["Budget"]
    limit = float(budget["BudgetLimit"]["Amount"])
    spend = budget.get("CalculatedSpend", {})
    actual = float(spend.get("ActualSpend", {}).get("Amount", 0))
    forecasted = spend.get("ForecastedSpend")
    return {
        "name": name,
        "limit_usd": limit,
        "actual_usd": actual,
        "forecasted_usd": float(forecasted["Amount"]) if forecasted else None,
        "percent_used": round(100 * actual / limit, 1) if limit else None,
        "guard_threshold_percent": cost.budget.guard.threshold_percent
        if cost.budget.guard
        else None,
    }


@click.command()
@json_option
@pass_operator
def status(operator: Operator, as_json: bool) -> None:
    """One screen on the deployed platform: stacks, workforce, notebooks, Studio (users,
    spaces, running apps), endpoints, running workflows and jobs, budget. Exits 4 if a
    stack of the config is missing."""
    deployment = operator.deployment
    report = Report()
    report.data["config"] = deployment.config
    report.data["name_prefix"] = deployment.prefix
    report.data["account"] = deployment.account
    report.data["region"] = operator.aws.region
    report.data["stacks"] = _stacks(deployment, report)
    report.section("workforce", lambda: _workforce(operator))
    report.section("notebooks", lambda: _notebooks(operator))
    report.section("studio", lambda: studio_status(operator))
    report.section("endpoints", lambda: _endpoints(operator))
    report.section("workflows", lambda: _running_workflows(operator))
    report.section("jobs", lambda: _jobs(operator))
    report.section("budget", lambda: _budget(operator))
    report.data["problems"] = report.problems = list(dict.fromkeys(report.problems))
    if as_json:
        operator.emit_json(report.data)
    else:
        _show(operator, report.data)
    if report.problems:
        raise CliError(
            "not everything the config deploys is deployed:\n  " + "\n  ".join(report.problems),
            ExitCode.NOT_DEPLOYED,
            hint=deployment.deploy_hint,
        )


def _show_studio(console: Any, studio: dict[str, Any] | None) -> None:
    if not studio:
        return
    console.print(f"Studio domain {studio['domain_id']}:")
    console.print(
        _table(
            "Studio users",
            ["user", "team", "status"],
            [[u["name"], u["team"], u["status"]] for u in studio["users"]],
        )
    )
    if studio["spaces"]:
        console.print(
            _table(
                "Studio spaces",
                ["space", "owner", "sharing", "status"],
                [[s["name"], s["owner"], s["sharing"], s["status"]] for s in studio["spaces"]],
            )
        )
    apps = studio["running_apps"]
    if apps:
        console.print(
            _table(
                "Running Studio apps",
                ["space", "app", "instance type", "status", "running for"],
                [
                    [
                        a["space"] or a["user"],
                        f"{a['app_type']} {a['app']}",
                        a["instance_type"],
                        a["status"],
                        a["running_for"],
                    ]
                    for a in apps
                ],
            )
        )
    else:
        console.print("No Studio app is running.")


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def _show(operator: Operator, data: dict[str, Any]) -> None:
    console = operator.console
    console.print(
        f"[bold]{data['name_prefix']}[/bold] from {data['config']} "
        f"(account {data['account']}, {data['region']})"
    )
    console.print(
        _table("Stacks", ["stack", "status"], [[s["stack"], s["status"]] for s in data["stacks"]])
    )
    workforce = data.get("workforce")
    if workforce:
        console.print(
            f"Workforce {workforce['name']}: workers sign in at "
            f"{workforce['portal_url'] or '(the portal URL of the existing workforce)'}",
            soft_wrap=True,
        )
        if workforce["teams"]:
            console.print(
                _table(
                    "Work teams",
                    ["team", "invited workers", "work team"],
                    [[t["name"], t["workers"], t["workteam_arn"]] for t in workforce["teams"]],
                )
            )
    if data.get("notebooks"):
        console.print(
            _table(
                "Notebooks",
                ["name", "instance", "type", "status", "owner"],
                [
                    [n["name"], n["instance"], n["instance_type"], n["status"], n["owner"]]
                    for n in data["notebooks"]
                ],
            )
        )
    _show_studio(console, data.get("studio"))
    if data.get("endpoints"):
        console.print(
            _table(
                "Endpoints",
                ["name", "endpoint", "status", "instances"],
                [
                    [e["name"], e["endpoint"], e["status"], e["instances"] or "serverless/0"]
                    for e in data["endpoints"]
                ],
            )
        )
    runs = data.get("workflows") or []
    if runs:
        console.print(
            _table(
                "Running workflows",
                ["kind", "workflow", "run", "elapsed"],
                [[r["kind"], r["workflow"], r["run"], r["elapsed"]] for r in runs],
            )
        )
    elif data.get("workflows") is not None and workflows(operator.deployment):
        console.print("No workflow run is in progress.")
    jobs = data.get("jobs") or []
    if jobs:
        console.print(
            _table(
                "Running jobs",
                ["kind", "name", "status", "elapsed"],
                [[j["kind"], j["name"], j["status"], j["elapsed"]] for j in jobs],
            )
        )
    elif data.get("jobs") is not None:
        console.print("No training or tuning job of the platform is running.")
    budget = data.get("budget")
    if budget:
        forecast = budget["forecasted_usd"]
        stopped = "jobs, notebooks and Studio apps" if data.get("studio") else "jobs and notebooks"
        console.print(
            f"Budget {budget['name']}: ${budget['actual_usd']:,.2f} of "
            f"${budget['limit_usd']:,.2f} this month ({budget['percent_used']}%)"
            + (f", forecast ${forecast:,.2f}" if forecast is not None else "")
            + (
                f"; the guard stops {stopped} at {budget['guard_threshold_percent']}%"
                if budget["guard_threshold_percent"] is not None
                else ""
            )
        )
