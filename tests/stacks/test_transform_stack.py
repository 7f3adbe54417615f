"""The full example's Transform stack: each transform builds its own model from its
endpoint's settings, runs in the platform's VPC with the platform key and tags, and its
workflow's request matches botocore."""

from __future__ import annotations

import json
from typing import Any

from tests.oracles.stepfunctions import sagemaker_requests, state_machines, validate_request
from tests.oracles.synth import Synthesis


def _model(full_synth: Synthesis, prefix: str) -> dict[str, Any]:
    (model,) = [
        r
        for logical_id, r in full_synth.resources("Transform", "AWS::SageMaker::Model").items()
        if logical_id.startswith(prefix)
    ]
    return model["Properties"]


def test_a_transform_of_an_endpoints_model_builds_the_same_model(full_synth: Synthesis) -> None:
    transform = _model(full_synth, "DemandBatchJob")
    (endpoint_model,) = [
        r["Properties"]
        for logical_id, r in full_synth.resources("Inference", "AWS::SageMaker::Model").items()
        if logical_id.startswith("demandforecast")
    ]
    # The image is resolved per region the same way; the artifact is the same object.
    assert transform["PrimaryContainer"]["Image"] == endpoint_model["PrimaryContainer"]["Image"]
    assert json.dumps(transform["PrimaryContainer"]["ModelDataUrl"]).endswith(
        '"/training/deepar-demand/output/model.tar.gz"]]}'
    )
    assert transform["EnableNetworkIsolation"] is True
    assert set(transform["VpcConfig"]) == {"SecurityGroupIds", "Subnets"}
    tags = {t["Key"]: t["Value"] for t in transform["Tags"]}
    assert tags["smkit:platform"] == "smkit-full"


def test_each_workflow_runs_its_definition(full_synth: Synthesis) -> None:
    requests = {
        logical_id: request.parameters
        for logical_id, definition in state_machines(full_synth.template("Transform")).items()
        for request in sagemaker_requests(definition)
        if request.operation == "CreateTransformJob"
    }
    assert len(requests) == 2
    for request in requests.values():
        assert validate_request("CreateTransformJob", request) == []
    demand = next(r for k, r in requests.items() if k.startswith("DemandBatch"))
    assert demand["BatchStrategy"] == "SingleRecord"
    assert demand["TransformInput"]["SplitType"] == "Line"
    assert demand["TransformOutput"]["AssembleWith"] == "Line"
    assert demand["TransformResources"]["InstanceCount"] == 2
    assert json.loads(demand["Environment"]["DEEPAR_INFERENCE_CONFIG"])["quantiles"] == [
        "0.1",
        "0.5",
        "0.9",
    ]
    assert demand["Environment"]["SAGEMAKER_MAX_PAYLOAD_IN_MB"] == "6"
    tags = {t["Key"]: t["Value"] for t in demand["Tags"]}
    assert tags == {
        "Project": "sagemaker-platform-kit",
        "Environment": "prod",
        "smkit:platform": "smkit-full",
        "CostCenter": "ml-platform",
        "Owner": "ml-platform@example.com",
        "DataClassification": "internal",
    }


def test_the_weekly_forecast_runs_after_mondays_training(full_synth: Synthesis) -> None:
    rules = full_synth.resources("Transform", "AWS::Events::Rule")
    assert [r["Properties"]["ScheduleExpression"] for r in rules.values()] == [
        "cron(0 6 ? * MON *)"
    ]
    outputs = full_synth.template("Transform")["Outputs"]
    assert {"DemandBatchTransformStateMachineArn", "SentimentBatchTransformStateMachineArn"} <= set(
        outputs
    )


def test_the_default_config_has_no_transform(default_synth: Synthesis) -> None:
    assert not any(name.endswith("-Transform") for name in default_synth.stack_names)
