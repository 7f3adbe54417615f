"""Integration case: foundation + one notebook instance.

Deploys the Foundation and Notebooks stacks with one small notebook (ml.t3.medium, 5 GB,
idle stop on), then asserts:

1. the instance reaches InService (polled every 30 s for up to 20 minutes);
2. its lifecycle script ran: the instance's CloudWatch log stream
   (`/aws/sagemaker/NotebookInstances`, `<name>/LifecycleConfigOnStart`) says the SageMaker
   SDK defaults file was written and the idle-stop timer installed;
3. the test stops it: StopNotebookInstance, then Stopped (up to 10 minutes).

`cdk destroy` then deletes the instance, its lifecycle configuration, roles, key (scheduled
for deletion) and emptied buckets.

Worst case: 30 minutes, $0.10 (ml.t3.medium at about $0.05 an hour in us-east-1 for at
most 30 minutes, a 5 GB volume for an hour, one KMS key for an hour, a few API calls).
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aws_cdk import Duration
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from tests.integ.support import (
    NOTEBOOK_LOG_GROUP,
    IntegCase,
    allow,
    build_case,
    case_settings,
    finish,
    integ_test,
    new_app,
    synth_main,
)

CONFIG = """
    name_prefix: smkit-it-nb
    environment: dev
    termination_protection: false
    tags:
      project: sagemaker-platform-kit-integ
    network:
      mode: none
    notebooks:
      log_retention_days: 30
      instances:
        - name: probe
          owner: integ@example.com
          instance_type: ml.t3.medium
          volume_size_gb: 5
          idle_minutes: 60
"""
PREFIX = "smkit-it-nb"
NOTEBOOK = f"{PREFIX}-probe"
SDK_DEFAULTS_LINE = "SageMaker SDK defaults written to /etc/xdg/sagemaker/config.yaml"
IDLE_STOP_LINE = "idle stop scheduled by (cron|a systemd timer): after 60 idle minutes"


def build(outdir: str | None = None) -> IntegCase:
    app = new_app(outdir)
    settings = case_settings(CONFIG, source="tests/integ/integ_notebook.py")
    platform, stacks = build_case(app, settings)
    test = integ_test(app, "Notebook", stacks)
    checks = test.assertions

    in_service = checks.aws_api_call(
        "SageMaker", "describeNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    in_service.expect(ExpectedResult.object_like({"NotebookInstanceStatus": "InService"}))
    in_service.wait_for_assertions(
        interval=Duration.seconds(30), total_timeout=Duration.minutes(20)
    )

    stream = f"{NOTEBOOK}/LifecycleConfigOnStart"
    previous = in_service
    for line in (SDK_DEFAULTS_LINE, IDLE_STOP_LINE):
        logged = checks.aws_api_call(
            "CloudWatchLogs",
            "filterLogEvents",
            {"logGroupName": NOTEBOOK_LOG_GROUP, "logStreamNames": [stream]},
        )
        logged.expect(
            ExpectedResult.object_like(
                {
                    "events": Match.array_with(
                        [Match.object_like({"message": Match.string_like_regexp(line)})]
                    )
                }
            )
        )
        # The agent ships the script's output a little after the instance is InService.
        logged.wait_for_assertions(interval=Duration.seconds(20), total_timeout=Duration.minutes(5))
        # Named explicitly: the IAM prefix of CloudWatch Logs is `logs`.
        allow(logged, ["logs:FilterLogEvents"], ["*"])
        previous.next(logged)
        previous = logged

    stop = checks.aws_api_call(
        "SageMaker", "stopNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    previous.next(stop)
    stopped = checks.aws_api_call(
        "SageMaker", "describeNotebookInstance", {"NotebookInstanceName": NOTEBOOK}
    )
    stopped.expect(ExpectedResult.object_like({"NotebookInstanceStatus": "Stopped"}))
    stopped.wait_for_assertions(interval=Duration.seconds(30), total_timeout=Duration.minutes(10))
    stop.next(stopped)

    finish(app)
    return IntegCase(app=app, platform=platform, test=test)


if __name__ == "__main__":
    synth_main(build)
