"""`smkit status`: one screen on the deployment: its stacks, labeling workforce, notebooks,
Studio's users, spaces and running apps, endpoints, running workflows and jobs, and the
budget. A section that cannot be read
shows why in its place; the others are still shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.table import Table
from rich.text import Text

from ..aws import error_code, explain
from ..context import Operator, json_option, pass_operator
from ..deployment import PLATFORM_TAG, Deployment, pascal
from ..errors import CliError, ExitCode
from ..options import examples
from ..waiting import duration, since
from .studio import studio_status

# Which problem decides the exit code when sections failed for several reasons.
EXIT_PRIORITY = (ExitCode.NOT_DEPLOYED, ExitCode.CREDENTIALS, ExitCode.AWS_ERROR)


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
    if settings.transform is not None:
        units.append("Transform")
    return units


class Report:
    """What `status` found, section by section, and the problems met reading it."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        """Section -> why it could not be read."""
        self.problems: dict[str, ExitCode] = {}
        """Every problem (message -> its exit code), in the order met."""

    def section(self, key: str, read: Callable[[], Any]) -> None:
        """Read one section; a failure is recorded in its place, never fatal."""
        try:
            self.data[key] = read()
        except CliError as err:
            self.fail(key, err)
        except (ClientError, BotoCoreError) as err:
            self.fail(key, explain(err))

    def fail(self, key: str | None, err: CliError) -> None:
        """Record a problem, in section `key` if given."""
        if key is not None:
            self.data[key] = None
            self.errors[key] = err.message
        self.problems.setdefault(err.message, ExitCode(err.exit_code))

    @property
    def exit_code(self) -> ExitCode:
        """The documented code of the worst problem (EXIT_PRIORITY), OK without one."""
        codes = set(self.problems.values())
        for code in EXIT_PRIORITY:
            if code in codes:
                return code
        return max(codes, default=ExitCode.OK)


def _stacks(deployment: Deployment, report: Report) -> list[dict[str, str]]:
    rows = []
    for unit in expected_units(deployment):
        name = deployment.settings.stack_name(unit)
        status = None
        try:
            deployment.outputs(unit)
        except CliError as err:
            report.fail(None, err)
            status = "NOT_DEPLOYED" if err.exit_code == ExitCode.NOT_DEPLOYED else None
        except (ClientError, BotoCoreError) as err:
            report.fail(None, explain(err))
        rows.append({"stack": name, "status": deployment.stack_statuses.get(unit, status or "?")})
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
    """Runs in progress of every workflow of the deployment: labeling, auto-labeling,
    training and tuning. Workflows of a stack that is not deployed are left out (the
    stacks table says so); if that is every one, the section fails with the reason."""
    client = operator.aws.client("stepfunctions")
    now = operator.now()
    rows = []
    missing: list[CliError] = []
    flows = operator.deployment.workflows()
    for kind, name, unit, key in flows:
        try:
            arn = operator.deployment.output(unit, key)
        except CliError as err:
            if err.exit_code != ExitCode.NOT_DEPLOYED:
                raise
            missing.append(err)
            continue
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
    if flows and len(missing) == len(flows):
        raise missing[0]
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
    for key, settings in deployment.settings.inference.endpoints.items():
        name = deployment.output("Inference", f"{pascal(key)}EndpointName")
        try:
            described = sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as err:
            if error_code(err) != "ValidationException":
                raise
            described = {"EndpointStatus": "NotFound"}
        kind = settings.variant.kind
        instances, capacity = _capacity(kind, described)
        rows.append(
            {
                "name": key,
                "endpoint": name,
                "kind": kind,
                "status": described["EndpointStatus"],
                "instances": instances,
                "capacity": capacity,
                "failure_reason": described.get("FailureReason"),
            }
        )
    return rows


def _capacity(kind: str, described: dict[str, Any]) -> tuple[int | None, str]:
    """(instances running, what runs as a person reads it) from DescribeEndpoint: instance
    counts, serverless concurrency (and what is kept warm), or nothing for an endpoint
    that does not exist."""
    variants = described.get("ProductionVariants", [])
    if described["EndpointStatus"] == "NotFound" or not variants:
        return None, "none (not deployed)" if described["EndpointStatus"] == "NotFound" else ""
    serverless = [v["CurrentServerlessConfig"] for v in variants if "CurrentServerlessConfig" in v]
    if serverless:
        parts = []
        for config in serverless:
            warm = config.get("ProvisionedConcurrency")
            parts.append(
                f"serverless, up to {config.get('MaxConcurrency', '?')} at once"
                + (f", {warm} provisioned" if warm else "")
            )
        return None, "; ".join(parts)
    count = sum(int(v.get("CurrentInstanceCount", 0)) for v in variants)
    text = f"{count} instance{'s' if count != 1 else ''}"
    if kind == "async":
        text += " (async" + (": scaled to zero, starts on the next request)" if not count else ")")
    return count, text


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
    budgets = operator.aws.client("budgets")
    try:
        budget = budgets.describe_budget(AccountId=deployment.account, BudgetName=name)["Budget"]
    except budgets.exceptions.NotFoundException:
        raise CliError(
            f"budget {name} does not exist in account {deployment.account} (deleted outside "
            f"the stack {deployment.settings.stack_name('Cost')})",
            ExitCode.NOT_DEPLOYED,
        ) from None
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


@click.command(
    short_help="The deployed platform on one screen.",
    epilog=examples("smkit status", "smkit status --json --config config/my-team.yaml"),
)
@json_option
@pass_operator
def status(operator: Operator, as_json: bool) -> None:
    """One screen on the deployed platform: stacks, workforce, notebooks, Studio (users,
    spaces, running apps), endpoints, running labeling, training and tuning runs and jobs,
    and the budget.

    A section that cannot be read says why in its place, and the rest is shown. Then it
    exits 4 if something the config deploys is missing, else 5 if access to a section
    was denied, else 6 if AWS failed another read, else 0."""
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
    report.data["problems"] = list(report.problems)
    report.data["errors"] = report.errors
    if as_json:
        operator.emit_json(report.data)
    else:
        _show(operator, report)
    code = report.exit_code
    if code == ExitCode.OK:
        return
    header = (
        "not everything the config deploys is deployed"
        if code == ExitCode.NOT_DEPLOYED
        else "some sections could not be read"
    )
    raise CliError(
        f"{header}:\n  " + "\n  ".join(report.problems),
        code,
        hint=deployment.deploy_hint if code == ExitCode.NOT_DEPLOYED else None,
    )


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        # Names and ARNs wrap inside their cell rather than being cut.
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


SECTION_TITLES = {
    "workforce": "Workforce",
    "notebooks": "Notebooks",
    "studio": "Studio",
    "endpoints": "Endpoints",
    "workflows": "Running workflows",
    "jobs": "Running jobs",
    "budget": "Budget",
}


def _show(operator: Operator, report: Report) -> None:
    console = operator.console
    data = report.data
    console.print(
        f"[bold]{data['name_prefix']}[/bold] from {data['config']} "
        f"(account {data['account']}, {data['region']})",
        soft_wrap=True,
    )
    console.print(
        _table("Stacks", ["stack", "status"], [[s["stack"], s["status"]] for s in data["stacks"]])
    )
    for key, title in SECTION_TITLES.items():
        if key in report.errors:
            console.print(Text(f"{title}: {report.errors[key]}", style="red"), soft_wrap=True)
        else:
            SHOW[key](operator, data)


def _show_workforce(operator: Operator, data: dict[str, Any]) -> None:
    workforce = data.get("workforce")
    if not workforce:
        return
    operator.console.print(
        f"Workforce {workforce['name']}: workers sign in at "
        f"{workforce['portal_url'] or '(the portal URL of the existing workforce)'}",
        soft_wrap=True,
    )
    if workforce["teams"]:
        operator.console.print(
            _table(
                "Work teams",
                ["team", "invited workers", "work team"],
                [[t["name"], t["workers"], t["workteam_arn"]] for t in workforce["teams"]],
            )
        )


def _show_notebooks(operator: Operator, data: dict[str, Any]) -> None:
    if data.get("notebooks"):
        operator.console.print(
            _table(
                "Notebooks",
                ["name", "instance", "type", "status", "owner"],
                [
                    [n["name"], n["instance"], n["instance_type"], n["status"], n["owner"]]
                    for n in data["notebooks"]
                ],
            )
        )


def _show_studio(operator: Operator, data: dict[str, Any]) -> None:
    studio = data.get("studio")
    if not studio:
        return
    console = operator.console
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


def _show_endpoints(operator: Operator, data: dict[str, Any]) -> None:
    if data.get("endpoints"):
        operator.console.print(
            _table(
                "Endpoints",
                ["name", "endpoint", "kind", "status", "instances"],
                [
                    [e["name"], e["endpoint"], e["kind"], e["status"], e["capacity"]]
                    for e in data["endpoints"]
                ],
            )
        )


def _show_workflows(operator: Operator, data: dict[str, Any]) -> None:
    runs = data.get("workflows") or []
    if runs:
        operator.console.print(
            _table(
                "Running workflows",
                ["kind", "workflow", "run", "elapsed"],
                [[r["kind"], r["workflow"], r["run"], r["elapsed"]] for r in runs],
            )
        )
    elif data.get("workflows") is not None and operator.deployment.workflows():
        operator.console.print("No workflow run is in progress.")


def _show_jobs(operator: Operator, data: dict[str, Any]) -> None:
    jobs = data.get("jobs") or []
    if jobs:
        operator.console.print(
            _table(
                "Running jobs",
                ["kind", "name", "status", "elapsed"],
                [[j["kind"], j["name"], j["status"], j["elapsed"]] for j in jobs],
            )
        )
    elif data.get("jobs") is not None:
        operator.console.print("No training or tuning job of the platform is running.")


def _show_budget(operator: Operator, data: dict[str, Any]) -> None:
    budget = data.get("budget")
    if not budget:
        return
    forecast = budget["forecasted_usd"]
    stopped = "jobs, notebooks and Studio apps" if data.get("studio") else "jobs and notebooks"
    operator.console.print(
        f"Budget {budget['name']}: ${budget['actual_usd']:,.2f} of "
        f"${budget['limit_usd']:,.2f} this month ({budget['percent_used']}%)"
        + (f", forecast ${forecast:,.2f}" if forecast is not None else "")
        + (
            f"; the guard stops {stopped} at {budget['guard_threshold_percent']}%"
            if budget["guard_threshold_percent"] is not None
            else ""
        ),
        soft_wrap=True,
    )


SHOW: dict[str, Callable[[Operator, dict[str, Any]], None]] = {
    "workforce": _show_workforce,
    "notebooks": _show_notebooks,
    "studio": _show_studio,
    "endpoints": _show_endpoints,
    "workflows": _show_workflows,
    "jobs": _show_jobs,
    "budget": _show_budget,
}
