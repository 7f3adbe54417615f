"""Integration case: the budget guard in dry run finds a running notebook and stops nothing.

Deploys Foundation, Notebooks (one ml.t3.medium notebook, tagged `smkit:platform` like
every resource of the deployment) and Cost (the platform budget, and its guard with
`dry_run: true`), then asserts:

1. the notebook reaches InService (polled every 30 s for up to 20 minutes);
2. a simulated breach of the platform's budget, published to the guard's topic in AWS
   Budgets' notification format (`Budget Name: smkit-it-cg-sagemaker-monthly`,
   `Alert Type: ACTUAL`: the guard acts on nothing else), makes the guard log its report:
   a dry run whose list of what it would stop names the notebook;
3. the notebook is still InService: the guard stopped nothing;
4. the test stops the notebook (then Stopped, up to 10 minutes).

Worst case: 35 minutes and $0.10 (ml.t3.medium for at most 35 minutes, a 5 GB volume,
one KMS key and the Lambda invocations). The budget itself costs nothing (the first two
budgets of an account are free) and never fires in that time.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aws_cdk import Duration
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from sagemaker_constructs.cost import budget_name
from tests.integ.support import (
    IntegCase,
    allow,
    build_case,
    case_settings,
    finish,
    integ_test,
    new_app,
    synth_main,
)

PREFIX = "smkit-it-cg"
NOTEBOOK = f"{PREFIX}-probe"
CONFIG = f"""
    name_prefix: {PREFIX}
    environment: dev
    termination_protection: false
    tags:
      project: sagemaker-platform-kit-integ
    network:
      mode: none
    cost:
      budget:
        monthly_limit_usd: 10
        guard:
          threshold_percent: 100
          dry_run: true
    notebooks:
      log_retention_days: 30
      instances:
        - name: probe
          owner: integ@example.com
          instance_type: ml.t3.medium
          volume_size_gb: 5
          idle_minutes: 60
"""
BREACH = (
    "AWS Budget Notification\n"
    "Dear AWS Customer,\n"
    "You requested that we alert you when the ACTUAL Cost associated with your "
    f"{budget_name(f'{PREFIX}-sagemaker-monthly')} budget is greater than $10.00 for the "
    "current month.\n"
    f"Budget Name: {budget_name(f'{PREFIX}-sagemaker-monthly')}\n"
    "Budget Type: Cost\n"
    "Budgeted Amount: $10.00\n"
    "Alert Type: ACTUAL\n"
    "Alert Threshold: > $10.00\n"
    "ACTUAL Amount: $12.34\n"
)
"""A breach as AWS Budgets words it (only the `Budget Name` and `Alert Type` lines count)."""


def build(outdir: str | None = None) -> IntegCase:
    app = new_app(outdir)
    settings = case_settings(CONFIG, source="tests/integ/integ_cost_guard.py")
    platform, stacks = build_case(app, settings)
    test = integ_test(app, "CostGuard", stacks)
    checks = test.assertions
    assert platform.cost is not None and platform.cost.guard is not None
    guard = platform.cost.guard
    key_arn = platform.foundation.key.key_arn

    in_service = checks.aws_api_call(
        "SageMaker", "describeNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    in_service.expect(ExpectedResult.object_like({"NotebookInstanceStatus": "InService"}))
    in_service.wait_for_assertions(
        interval=Duration.seconds(30), total_timeout=Duration.minutes(20)
    )

    breach = checks.aws_api_call(
        "SNS",
        "publish",
        {"TopicArn": guard.topic.topic_arn, "Subject": "AWS Budgets: breach", "Message": BREACH},
    )
    allow(breach, ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn])
    report = checks.aws_api_call(
        "CloudWatchLogs",
        "filterLogEvents",
        {"logGroupName": guard.log_group.log_group_name, "filterPattern": '"budget guard report"'},
    )
    report.expect(
        ExpectedResult.object_like(
            {
                "events": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "message": Match.object_like(
                                    {
                                        "message": "budget guard report",
                                        "report": Match.object_like(
                                            {
                                                "platform": PREFIX,
                                                "dry_run": True,
                                                "stopped": Match.array_with(
                                                    [
                                                        {
                                                            "kind": "notebook instance",
                                                            "name": NOTEBOOK,
                                                        }
                                                    ]
                                                ),
                                                "failed": [],
                                            }
                                        ),
                                    }
                                )
                            }
                        )
                    ]
                )
            }
        )
    )
    report.wait_for_assertions(interval=Duration.seconds(15), total_timeout=Duration.minutes(5))
    allow(report, ["logs:FilterLogEvents", "kms:Decrypt"], ["*"])

    untouched = checks.aws_api_call(
        "SageMaker", "describeNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    untouched.expect(ExpectedResult.object_like({"NotebookInstanceStatus": "InService"}))
    stop = checks.aws_api_call(
        "SageMaker", "stopNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    stopped = checks.aws_api_call(
        "SageMaker", "describeNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    stopped.expect(ExpectedResult.object_like({"NotebookInstanceStatus": "Stopped"}))
    stopped.wait_for_assertions(interval=Duration.seconds(30), total_timeout=Duration.minutes(10))
    in_service.next(breach).next(report).next(untouched).next(stop).next(stopped)

    finish(app)
    return IntegCase(app=app, platform=platform, test=test)


if __name__ == "__main__":
    synth_main(build)
