"""The full example's Model Monitor: the demand-forecast endpoint's data quality schedule,
baseline workflow and alarms in the Inference stack, and what the deploy rehearsal says
of them (moto's CloudFormation models neither type)."""

from __future__ import annotations

import json

from tests.oracles.synth import Synthesis


def test_the_monitored_endpoint_has_its_schedule_baseline_and_alarms(
    full_synth: Synthesis,
) -> None:
    schedules = full_synth.resources("Inference", "AWS::SageMaker::MonitoringSchedule")
    (schedule,) = [
        s
        for s in schedules.values()
        if s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"] == "DataQuality"
    ]
    props = schedule["Properties"]
    assert props["MonitoringScheduleName"] == "smkit-full-demand-forecast-data-quality"
    assert props["MonitoringScheduleConfig"]["ScheduleConfig"] == {
        "ScheduleExpression": "cron(0 0/6 ? * * *)"
    }
    tags = {t["Key"]: t["Value"] for t in props["Tags"]}
    assert tags["smkit:platform"] == "smkit-full"
    (definition,) = full_synth.resources(
        "Inference", "AWS::SageMaker::DataQualityJobDefinition"
    ).values()
    network = definition["Properties"]["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is True
    assert set(network["VpcConfig"]) == {"SecurityGroupIds", "Subnets"}
    mapping = full_synth.template("Inference")["Mappings"]["SageMakerBuiltinImageRegistries"]
    assert mapping["us-east-1"]["modelmonitor"] == "156813124566"
    outputs = full_synth.template("Inference")["Outputs"]
    assert "DemandForecastBaselineStateMachineArn" in outputs
    alarms = [
        a["Properties"]["MetricName"]
        for a in full_synth.resources("Inference", "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "smkit/ModelMonitor"
        and {"Name": "MonitoringSchedule", "Value": "smkit-full-demand-forecast-data-quality"}
        in a["Properties"]["Dimensions"]
    ]
    assert sorted(alarms) == ["ExecutionFailed", "Violations"]


def test_the_baseline_job_is_tagged_and_runs_in_the_vpc(full_synth: Synthesis) -> None:
    text = json.dumps(full_synth.template("Inference"))
    assert "createProcessingJob.sync" in text
    assert "smkit-full-demand-forecast-bl-" in text


def test_the_default_config_monitors_nothing(default_synth: Synthesis) -> None:
    assert not any(name.endswith("-Inference") for name in default_synth.stack_names)
