"""`smkit status` against moto: stacks, notebooks, endpoints, running jobs, budget."""

from __future__ import annotations

import json
from pathlib import Path

from moto.cloudformation.models import cloudformation_backends

from tests.conftest import ROOT

from .conftest import (
    ACCOUNT,
    Platform,
    executions,
    finish,
    sagemaker_backend,
    with_async_endpoint,
)


def deploy_everything(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "InService")
    platform.endpoint("ops-demand-forecast", "InService")
    platform.endpoint("ops-text-classifier", "Updating")
    platform.training_job("ops-demand-0123-1", "InProgress")
    platform.training_job("other-team-job", "InProgress", tags={"smkit:platform": "other"})
    platform.training_job("ops-demand-old-1", "Completed")
    sfn = platform.client("stepfunctions")
    for name in ("batch-6", "batch-7"):
        sfn.start_execution(
            stateMachineArn=platform.deploy_outputs["LabelingWorkflowSentimentArn"], name=name
        )
    finish(executions("ops-sentiment")[0], "SUCCEEDED", output={})
    platform.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "ops-sagemaker-monthly",
            "BudgetLimit": {"Amount": "1000", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
            "CalculatedSpend": {
                "ActualSpend": {"Amount": "412.5", "Unit": "USD"},
                "ForecastedSpend": {"Amount": "890", "Unit": "USD"},
            },
        },
    )


def test_status_json_has_every_section(platform: Platform) -> None:
    deploy_everything(platform)
    sagemaker_backend().training_jobs[
        "ops-demand-0123-1"
    ].creation_time = platform.clock.now.replace(hour=8, minute=15)

    result = platform.run("status", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["account"] == ACCOUNT and data["region"] == "us-east-1"
    assert data["stacks"] == [
        {"stack": f"ops-{unit}", "status": "CREATE_COMPLETE"}
        for unit in (
            "Foundation",
            "Cost",
            "Notebooks",
            "Inference",
            "Workforce",
            "Labeling",
            "ModelRegistry",
            "Training",
            "Transform",
        )
    ]
    assert data["workforce"] == {
        "name": "ops-workforce",
        "portal_url": "https://abc123.labeling.us-east-1.sagemaker.aws",
        "teams": [
            {
                "name": "text-reviewers",
                "workteam_arn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/"
                "private-crowd/ops-text-reviewers",
                "workers": 2,
            }
        ],
    }
    assert [(w["kind"], w["workflow"], w["run"], w["elapsed"]) for w in data["workflows"]] == [
        ("labeling", "sentiment", "batch-7", "0:00:00")
    ]
    assert data["notebooks"] == [
        {
            "name": "research",
            "instance": "ops-research",
            "instance_type": "ml.t3.medium",
            "status": "InService",
            "owner": "research@example.com",
        }
    ]
    assert [(e["name"], e["endpoint"], e["status"], e["instances"]) for e in data["endpoints"]] == [
        ("demand-forecast", "ops-demand-forecast", "InService", 2),
        ("text-classifier", "ops-text-classifier", "Updating", 2),
    ]
    # Only the platform's own running jobs (tag smkit:platform = ops).
    assert [(j["kind"], j["name"], j["elapsed"]) for j in data["jobs"]] == [
        ("training", "ops-demand-0123-1", "0:45:00")
    ]
    assert data["budget"] == {
        "name": "ops-sagemaker-monthly",
        "limit_usd": 1000.0,
        "actual_usd": 412.5,
        "forecasted_usd": 890.0,
        "percent_used": 41.2,
        "guard_threshold_percent": 100,
    }
    assert data["problems"] == []


def test_status_screen(platform: Platform) -> None:
    deploy_everything(platform)
    result = platform.run("status")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ops from " in out and "(account 123456789012, us-east-1)" in out
    assert (
        "Workforce ops-workforce: workers sign in at "
        "https://abc123.labeling.us-east-1.sagemaker.aws" in out
    )
    for text in ("Work teams", "Stacks", "Notebooks", "Endpoints", "Running workflows",
                 "batch-7", "Running jobs", "ops-demand-0123-1"):  # fmt: skip
        assert text in out
    assert "other-team-job" not in out
    assert (
        "Budget ops-sagemaker-monthly: $412.50 of $1,000.00 this month (41.2%), forecast "
        "$890.00; the guard stops jobs and notebooks at 100%" in out
    )


def test_status_reports_missing_stacks_and_exits_4(platform: Platform) -> None:
    platform.deploy("Foundation", {})
    platform.deploy("Notebooks", {})
    platform.notebook("ops-research", "Stopped")

    result = platform.run("status", "--json")

    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert [s["status"] for s in data["stacks"]] == [
        "CREATE_COMPLETE",
        "NOT_DEPLOYED",
        "CREATE_COMPLETE",
        *["NOT_DEPLOYED"] * 6,
    ]
    assert data["notebooks"][0]["status"] == "Stopped"
    assert data["endpoints"] is None and data["budget"] is None
    assert data["workforce"] is None and data["workflows"] is None
    assert "not everything the config deploys is deployed:" in result.stderr
    assert "stack ops-Cost is not deployed in account 123456789012, us-east-1" in result.stderr
    for unit in ("Inference", "Workforce", "Labeling", "ModelRegistry", "Training"):
        assert f"stack ops-{unit} is not deployed in account 123456789012, us-east-1" in (
            result.stderr
        )


def test_status_of_a_failed_first_deployment(platform: Platform) -> None:
    platform.deploy("Foundation", {}, prefix="smkit")
    stacks = cloudformation_backends[ACCOUNT]["us-east-1"].stacks.values()
    next(s for s in stacks if s.name == "smkit-Foundation").status = "ROLLBACK_COMPLETE"

    result = platform.run("status", config=ROOT / "config" / "default.yaml")

    assert result.exit_code == 4
    assert (
        "stack smkit-Foundation is ROLLBACK_COMPLETE in account 123456789012, us-east-1: its "
        "first deployment failed: see the stack's events, delete it and deploy again"
    ) in " ".join(result.stderr.split())


DENIED_BUDGETS = {
    "Error": {
        "Code": "AccessDeniedException",
        "Message": "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: "
        "budgets:ViewBudget",
    }
}


def test_a_missing_budget_is_shown_in_place_and_the_rest_still_shown(platform: Platform) -> None:
    deploy_everything(platform)
    platform.client("budgets").delete_budget(AccountId=ACCOUNT, BudgetName="ops-sagemaker-monthly")

    result = platform.run("status")

    assert result.exit_code == 4
    out = result.stdout
    for section in ("Stacks", "Work teams", "Notebooks", "Endpoints", "Running workflows",
                    "Running jobs", "ops-demand-0123-1"):  # fmt: skip
        assert section in out, section
    assert (
        "Budget: budget ops-sagemaker-monthly does not exist in account 123456789012 "
        "(deleted outside the stack ops-Cost)" in out
    )
    assert "not everything the config deploys is deployed:" in result.stderr
    assert "budget ops-sagemaker-monthly does not exist" in result.stderr


def test_access_denied_to_one_section_shows_the_others_and_exits_5(platform: Platform) -> None:
    deploy_everything(platform)
    with platform.answering("DescribeBudget", DENIED_BUDGETS, service="budgets", status=400):
        result = platform.run("status", "--json")

    assert result.exit_code == 5
    data = json.loads(result.stdout)
    assert [j["name"] for j in data["jobs"]] == ["ops-demand-0123-1"]
    assert data["notebooks"][0]["status"] == "InService"
    assert data["budget"] is None
    assert data["errors"] == {
        "budget": "access denied to DescribeBudget: User: arn:aws:iam::123456789012:user/ana "
        "is not authorized to perform: budgets:ViewBudget"
    }
    assert "some sections could not be read:" in result.stderr
    assert "access denied to DescribeBudget" in result.stderr


def test_another_aws_error_in_one_section_exits_6_after_the_screen(platform: Platform) -> None:
    deploy_everything(platform)
    limited = {"Error": {"Code": "ValidationException", "Message": "Rate exceeded in a new way"}}
    with platform.answering("ListTrainingJobs", limited, status=400):
        result = platform.run("status")
    assert result.exit_code == 6
    assert "Running jobs: ListTrainingJobs failed (ValidationException): Rate exceeded" in (
        result.stdout
    )
    assert "Budget ops-sagemaker-monthly: $412.50 of $1,000.00" in result.stdout


def test_status_lists_training_and_tuning_runs(platform: Platform) -> None:
    deploy_everything(platform)
    sfn = platform.client("stepfunctions")
    sfn.start_execution(
        stateMachineArn=platform.deploy_outputs["TextClassifierTrainingStateMachineArn"],
        name="retrain-7",
    )
    sfn.start_execution(
        stateMachineArn=platform.deploy_outputs["TextClassifierHpoTuningStateMachineArn"],
        name="hpo-3",
    )

    result = platform.run("status", "--json")

    assert result.exit_code == 0, result.output
    runs = [(w["kind"], w["workflow"], w["run"]) for w in json.loads(result.stdout)["workflows"]]
    assert runs == [
        ("labeling", "sentiment", "batch-7"),
        ("training", "text-classifier", "retrain-7"),
        ("tuning", "text-classifier-hpo", "hpo-3"),
    ]


def test_instances_column_says_what_each_kind_of_endpoint_runs(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    # The DeepAR endpoint is not there; the classifier is serverless with 2 kept warm;
    # the async endpoint has scaled in to zero.
    serverless = {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 2}
    platform.endpoint("ops-text-classifier", variant={"ServerlessConfig": serverless})
    platform.endpoint(
        "ops-batch-scoring", variant={"InitialInstanceCount": 1, "InstanceType": "ml.c5.xlarge"}
    )
    sagemaker_backend().endpoints["ops-batch-scoring"].production_variants[0][
        "CurrentInstanceCount"
    ] = 0
    config = with_async_endpoint(tmp_path)

    result = platform.run("status", "--json", config=config)

    data = json.loads(result.stdout)
    assert [(e["name"], e["kind"], e["status"], e["instances"], e["capacity"])
            for e in data["endpoints"]] == [
        ("demand-forecast", "instance", "NotFound", None, "none (not deployed)"),
        ("text-classifier", "serverless", "InService", None,
         "serverless, up to 5 at once, 2 provisioned"),
        ("batch-scoring", "async", "InService", 0,
         "0 instances (async: scaled to zero, starts on the next request)"),
    ]  # fmt: skip
    screen = platform.run("status", config=config).stdout
    assert "serverless/0" not in screen
    assert "serverless, up to 5 at once, 2 provisioned" in screen
    assert "0 instances (async: scaled to zero, starts on the next request)" in screen


def test_tables_are_not_cut_at_80_columns_off_a_terminal(platform: Platform) -> None:
    deploy_everything(platform)
    result = platform.run("status", width=None)
    assert result.exit_code == 0, result.output
    arn = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/ops-text-reviewers"
    assert any(arn in line and "text-reviewers" in line for line in result.stdout.splitlines())
    assert "…" not in result.stdout
