"""`smkit monitor baseline` against moto: the endpoint's baseline workflow started, and
followed to its end with --wait."""

from __future__ import annotations

import json

from .conftest import Platform, executions, finish

OUTPUT = {
    "baseline_job": "ops-demand-forecast-bl-abc",
    "statistics": "s3://ops-data/monitoring/ops-demand-forecast/data-quality/baseline/statistics.json",
    "constraints": "s3://ops-data/monitoring/ops-demand-forecast/data-quality/baseline/constraints.json",
}


def test_baseline_starts_the_endpoints_workflow_and_follows_it(platform: Platform) -> None:
    platform.deploy_ops()

    def done() -> None:
        (execution,) = executions("ops-demand-forecast-baseline")
        finish(execution, "SUCCEEDED", output=OUTPUT)

    platform.clock.on_sleep.append(done)
    result = platform.run("monitor", "baseline", "demand-forecast", "--wait", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["endpoint"], shown["status"]) == ("demand-forecast", "SUCCEEDED")
    assert shown["output"]["constraints"].endswith("/baseline/constraints.json")
    (execution,) = executions("ops-demand-forecast-baseline")
    assert json.loads(execution.execution_input) == {}


def test_a_failed_baseline_exits_1_with_its_cause(platform: Platform) -> None:
    platform.deploy_ops()

    def failed() -> None:
        (execution,) = executions("ops-demand-forecast-baseline")
        finish(
            execution,
            "FAILED",
            error="BaselineJobFailed",
            cause="ClientError: no data under s3://ops-data/monitoring/demand/baseline.jsonl",
        )

    platform.clock.on_sleep.append(failed)
    result = platform.run("monitor", "baseline", "demand-forecast", "--wait")
    assert result.exit_code == 1
    assert "BaselineJobFailed" in result.output
    assert "no data under" in result.output


def test_an_endpoint_without_monitoring_is_refused(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run("monitor", "baseline", "text-classifier")
    assert result.exit_code == 2
    assert "endpoint text-classifier configures no data quality monitoring" in result.output
    assert "monitored: demand-forecast" in result.output
