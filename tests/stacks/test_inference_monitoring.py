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


def test_the_text_classifier_has_model_quality_over_auto_labeling_ground_truth(
    full_synth: Synthesis,
) -> None:
    schedules = full_synth.resources("Inference", "AWS::SageMaker::MonitoringSchedule")
    (schedule,) = [
        s
        for s in schedules.values()
        if s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"] == "ModelQuality"
    ]
    assert schedule["Properties"]["MonitoringScheduleName"] == (
        "smkit-full-text-classifier-model-quality"
    )
    # The endpoint exists once a version is promoted: the schedule and its definition
    # exist with it (a reference to a resource that may not exist breaks the template).
    resources = full_synth.template("Inference")["Resources"]
    (endpoint_id,) = [
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::SageMaker::Endpoint"
        and r["Properties"]["EndpointName"] == "smkit-full-text-classifier"
    ]
    condition = resources[endpoint_id]["Condition"]
    assert schedule["Condition"] == condition and endpoint_id in schedule["DependsOn"]
    assert schedule["Properties"]["EndpointName"] == "smkit-full-text-classifier"
    assert schedule["Properties"]["MonitoringScheduleConfig"]["ScheduleConfig"] == {
        "ScheduleExpression": "cron(0 0 ? * * *)"
    }
    (definition,) = full_synth.resources(
        "Inference", "AWS::SageMaker::ModelQualityJobDefinition"
    ).values()
    assert definition["Condition"] == condition
    props = definition["Properties"]
    assert props["ModelQualityAppSpecification"]["ProblemType"] == "MulticlassClassification"
    job_input = props["ModelQualityJobInput"]
    assert job_input["EndpointInput"]["InferenceAttribute"] == "predictions[0].label"
    # The prefix the sentiment-auto workflow's ground-truth step writes under.
    assert json.dumps(job_input["GroundTruthS3Input"]).endswith(
        '/monitoring/smkit-full-text-classifier/model-quality/ground-truth"]]}}'
    )
    assert set(props["NetworkConfig"]["VpcConfig"]) == {"SecurityGroupIds", "Subnets"}
    assert props["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    alarms = [
        a["Properties"]["MetricName"]
        for a in full_synth.resources("Inference", "AWS::CloudWatch::Alarm").values()
        if {"Name": "MonitoringSchedule", "Value": "smkit-full-text-classifier-model-quality"}
        in a["Properties"].get("Dimensions", [])
    ]
    assert sorted(alarms) == ["ExecutionFailed", "Violations"]
    # Only the data quality monitor has a baseline workflow.
    outputs = full_synth.template("Inference")["Outputs"]
    assert "TextClassifierBaselineStateMachineArn" not in outputs
