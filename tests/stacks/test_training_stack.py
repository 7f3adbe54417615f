"""The model registry and training stacks of the full config (the default config has
neither), resource by resource."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match

from stacks.model_registry_stack import logical_id
from stacks.platform import platform_tags
from tests.oracles.stepfunctions import sagemaker_requests, state_machines, validate_request
from tests.oracles.synth import Synthesis

GROUPS = {
    "text-classifier": "TextClassifierModelPackageGroup",
    "deepar-demand": "DeeparDemandModelPackageGroup",
}


def definitions(full_synth: Synthesis) -> dict[str, dict[str, Any]]:
    """State machine definitions by workflow (`TextClassifierTraining`...)."""
    found = {}
    for logical, definition in state_machines(full_synth.template("Training")).items():
        workflow = re.match(r"^([A-Za-z]+?(Training|Tuning))", logical)
        assert workflow is not None, logical
        found[workflow.group(1)] = definition
    return found


def test_default_config_has_no_training(default_synth: Synthesis) -> None:
    assert default_synth.stack_names == ["smkit-Foundation"]
    bucket = default_synth.template("Foundation")["Resources"]["DataBucket"]["Properties"]
    assert "NotificationConfiguration" not in bucket


def test_registry_is_stateful_with_pinned_ids_and_outputs(full_synth: Synthesis) -> None:
    stack = full_synth.platform.model_registry
    assert stack is not None and stack.termination_protection is True
    template = full_synth.template("ModelRegistry")
    for name, expected in GROUPS.items():
        assert logical_id(name) == expected
        group = template["Resources"][expected]
        assert group["Type"] == "AWS::SageMaker::ModelPackageGroup"
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"
        assert group["Properties"]["ModelPackageGroupName"] == f"smkit-full-{name}"
        assert {"Key": "smkit:platform", "Value": "smkit-full"} in group["Properties"]["Tags"]
        outputs = template["Outputs"]
        assert outputs[f"{expected}Name"]["Value"] == f"smkit-full-{name}"
        assert outputs[f"{expected}Arn"]["Value"] == {
            "Fn::GetAtt": [expected, "ModelPackageGroupArn"]
        }


def test_training_stack_is_stateless_and_deploys_after_the_registry(
    full_synth: Synthesis,
) -> None:
    training = full_synth.platform.training
    assert training is not None and training.termination_protection is False
    assert full_synth.platform.model_registry in training.dependencies
    assert sorted(definitions(full_synth)) == [
        "DeeparDemandHpoTuning",
        "DeeparDemandTraining",
        "TextClassifierHpoTuning",
        "TextClassifierTraining",
    ]
    retained = [
        logical
        for logical, resource in full_synth.template("Training")["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain" and resource["Type"] != "AWS::Logs::LogGroup"
    ]
    assert retained == []
    # The kit's own outputs; CDK adds `PublishOutput...` ones for stacks that read the
    # state machines (Studio users may start the workflows).
    outputs = [
        key
        for key in full_synth.template("Training")["Outputs"]
        if not key.startswith("PublishOutput")
    ]
    assert sorted(outputs) == [
        "DeeparDemandHpoTuningStateMachineArn",
        "DeeparDemandTrainingStateMachineArn",
        "TextClassifierHpoTuningStateMachineArn",
        "TextClassifierTrainingStateMachineArn",
    ]


def test_every_job_request_of_every_workflow_matches_botocore(full_synth: Synthesis) -> None:
    operations = {}
    for workflow, definition in definitions(full_synth).items():
        for request in sagemaker_requests(definition):
            operations.setdefault(workflow, []).append(request.operation)
            assert validate_request(request.operation, request.parameters) == [], (
                workflow,
                request.state,
            )
    assert operations["TextClassifierTraining"] == [
        "DescribeTrainingJob",
        "CreateTrainingJob",
        "CreateModelPackage",
    ]
    assert sorted(operations["DeeparDemandHpoTuning"]) == [
        "CreateHyperParameterTuningJob",
        "CreateModelPackage",
        "DescribeHyperParameterTuningJob",
        "DescribeTrainingJob",
    ]


def test_text_classifier_trains_on_a_gpu_from_its_image_asset_in_the_vpc(
    full_synth: Synthesis,
) -> None:
    request = definitions(full_synth)["TextClassifierTraining"]["States"]["Train"]["Parameters"]
    # The image asset's URI (an Fn::Sub of the bootstrap repository) is known at deploy.
    assert "cdk-hnb659fds-container-assets-" in json.dumps(full_synth.template("Training"))
    assert len(request["AlgorithmSpecification"]["MetricDefinitions"]) == 5
    assert request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["AttributeNames"] == [
        "source",
        "sentiment",
        "sentiment-metadata",
    ]
    assert request["InputDataConfig"][0]["RecordWrapperType"] == "RecordIO"
    assert request["EnableManagedSpotTraining"] is True
    assert set(request["VpcConfig"]) == {"SecurityGroupIds", "Subnets"}
    expected_tags = [{"Key": k, "Value": v} for k, v in platform_tags(full_synth.settings).items()]
    assert request["Tags"] == expected_tags
    states = definitions(full_synth)["TextClassifierTraining"]["States"]
    package = states["RegisterModel"]["Parameters"]
    assert package["ModelPackageGroupName"] == "smkit-full-text-classifier"
    # The package serves from the inference image (a second image asset).
    manifest = full_synth.outdir / "smkit-full-Training.assets.json"
    images = json.loads(manifest.read_text())["dockerImages"]
    assert len(images) == 2
    staged = [full_synth.outdir / image["source"]["directory"] for image in images.values()]
    assert all((folder / "Dockerfile").is_file() for folder in staged)
    # The training image (with `train`) and the serving image (with `serve`).
    assert sorted(n for f in staged for n in ("train", "serve") if (f / n).is_file()) == [
        "serve",
        "train",
    ]
    assert (
        package["InferenceSpecification"]["Containers"][0]["Image"] == "${Sub|resolved-at-deploy}"
    )


def test_deepar_uses_the_regional_builtin_image_and_runs_weekly(full_synth: Synthesis) -> None:
    template = full_synth.template("Training")
    assert template["Mappings"]["SageMakerBuiltinImageRegistries"]["us-east-1"] == {
        "forecastingdeepar": "522234722520"
    }
    request = definitions(full_synth)["DeeparDemandTraining"]["States"]["Train"]["Parameters"]
    assert request["AlgorithmSpecification"]["TrainingImage"].startswith(
        "${FindInMap:SageMakerBuiltinImageRegistries|resolved-at-deploy}.dkr.ecr.us-east-1."
    )
    assert "MetricDefinitions" not in request["AlgorithmSpecification"]
    assert "CheckpointConfig" not in request
    full_synth.assertions("Training").has_resource_properties(
        "AWS::Events::Rule", {"ScheduleExpression": "cron(0 3 ? * MON *)"}
    )


def test_new_labels_start_a_text_classifier_run(full_synth: Synthesis) -> None:
    bucket = full_synth.template("Foundation")["Resources"]["DataBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    full_synth.assertions("Training").has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": Match.object_like(
                        {"object": {"key": [{"wildcard": "labeling/*output.manifest"}]}}
                    )
                }
            ),
        },
    )


@pytest.mark.parametrize("workflow", ["TextClassifierHpo", "DeeparDemandHpo"])
def test_tuning_job_names_and_objectives(full_synth: Synthesis, workflow: str) -> None:
    states = definitions(full_synth)[f"{workflow}Tuning"]["States"]
    name = states["NameTuningJob"]["Parameters"]["job.$"]
    prefix = re.fullmatch(r"States\.Format\('([a-z0-9-]+)-\{\}', \$\.run_id\)", name)
    assert prefix is not None
    assert len(prefix.group(1)) + 1 + 12 <= 32
    objective = states["Tune"]["Parameters"]["HyperParameterTuningJobConfig"][
        "HyperParameterTuningJobObjective"
    ]
    assert objective in (
        {"Type": "Maximize", "MetricName": "validation:macro_f1"},
        {"Type": "Minimize", "MetricName": "test:RMSE"},
    )


def _job_requests(full_synth: Synthesis) -> dict[str, dict[str, Any]]:
    """Each workflow's CreateTrainingJob request or tuning TrainingJobDefinition."""
    found = {}
    for workflow, definition in definitions(full_synth).items():
        for request in sagemaker_requests(definition):
            if request.operation == "CreateTrainingJob":
                found[workflow] = request.parameters
            elif request.operation == "CreateHyperParameterTuningJob":
                found[workflow] = request.parameters["TrainingJobDefinition"]
    return found


def test_spot_waits_fit_the_algorithm_and_runs_cannot_change_them(full_synth: Synthesis) -> None:
    # TRAIN-1: DeepAR (no checkpoints) trains and tunes on demand in the full example.
    # TRAIN-2/4: every spot request carries a MaxWaitTimeInSeconds covering its runtime.
    requests = _job_requests(full_synth)
    assert sorted(requests) == [
        "DeeparDemandHpoTuning",
        "DeeparDemandTraining",
        "TextClassifierHpoTuning",
        "TextClassifierTraining",
    ]
    for workflow, request in requests.items():
        stopping = request["StoppingCondition"]
        spot = request["EnableManagedSpotTraining"]
        assert spot is workflow.startswith("TextClassifier"), workflow
        if spot:
            assert stopping["MaxWaitTimeInSeconds"] >= stopping["MaxRuntimeInSeconds"]
            assert "CheckpointConfig" in request
        else:
            assert stopping == {"MaxRuntimeInSeconds": 120 * 60}
            assert "CheckpointConfig" not in request
        # The execution input may override hyperparameters, channels and the instance type
        # only: spot and the stopping condition are literals of the request.
        assert "EnableManagedSpotTraining.$" not in request
        assert not any(key.endswith(".$") for key in stopping), workflow
