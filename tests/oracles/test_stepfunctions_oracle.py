"""The botocore oracle itself: it finds SageMaker requests wherever a definition nests
them and reports what the SageMaker API would reject."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from tests.oracles.stepfunctions import (
    render_definition,
    sagemaker_requests,
    state_machines,
    validate_definition,
    validate_request,
)
from tests.oracles.synth import new_stack

GOOD_TRAINING: dict[str, Any] = {
    "TrainingJobName.$": "$.name",
    "AlgorithmSpecification": {"TrainingImage.$": "$.image", "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
    "EnableManagedSpotTraining": True,
    "HyperParameters.$": "$.hyperparameters",
}


def synthesized_definition(parameters: dict[str, Any]) -> dict[str, Any]:
    stack = new_stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    train = sfn.CustomState(
        stack,
        "Train",
        state_json={
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {**parameters, "RoleArn": role.role_arn},
        },
    )
    describe = sfn.CustomState(
        stack,
        "Describe",
        state_json={
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:describeTrainingJob",
            "Parameters": {"TrainingJobName.$": "$.name"},
        },
    )
    parallel = sfn.Parallel(stack, "Both").branch(train).branch(sfn.Pass(stack, "Nothing"))
    each = sfn.Map(stack, "Each", items_path="$.jobs").item_processor(describe)
    sfn.StateMachine(
        stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(parallel.next(each))
    )
    template = Template.from_stack(stack).to_json()
    (definition,) = state_machines(template).values()
    return definition


def test_finds_requests_in_parallel_branches_and_map_processors() -> None:
    definition = synthesized_definition(GOOD_TRAINING)
    requests = sagemaker_requests(definition)
    assert [(r.state, r.operation) for r in requests] == [
        ("Both.Branches[0].Train", "CreateTrainingJob"),
        ("Each.ItemProcessor.Describe", "DescribeTrainingJob"),
    ]
    assert requests[0].parameters["RoleArn"] == "${Role1ABCC5F0.Arn|resolved-at-deploy}"


def test_valid_requests_pass() -> None:
    assert validate_definition(synthesized_definition(GOOD_TRAINING)) == []


def test_every_kind_of_mistake_is_reported() -> None:
    bad = {
        **GOOD_TRAINING,
        "ResourceConfig": {
            "InstanceType": "ml.g5.huge",
            "InstanceCount": "1",
            "VolumeSizeInGB": 50,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 0},
        "AlgorithmSpecification": {"TrainingImage.$": "$.image", "TrainingInputMode": "Files"},
        "CheckpointConfig": {"S3Uri": "not-s3"},
        "EnableSpot": True,
    }
    del bad["OutputDataConfig"]
    problems = validate_definition(synthesized_definition(bad))
    prefix = "Both.Branches[0].Train (CreateTrainingJob): "
    assert all(p.startswith(prefix) for p in problems)
    text = "\n".join(p.removeprefix(prefix) for p in problems)
    assert (
        "AlgorithmSpecification.TrainingInputMode: 'Files' is not one of FastFile, File, Pipe"
        in text
    )
    assert "ResourceConfig.InstanceType: 'ml.g5.huge' is not one of" in text
    assert "CheckpointConfig.S3Uri: 'not-s3' does not match the pattern" in text
    assert 'Missing required parameter in input: "OutputDataConfig"' in text
    assert 'Unknown parameter in input: "EnableSpot"' in text
    assert "Invalid type for parameter ResourceConfig.InstanceCount, value: 1" in text
    assert "Invalid value for parameter StoppingCondition.MaxRuntimeInSeconds, value: 0" in text


def test_jsonpath_value_for_an_unknown_key_is_still_unknown() -> None:
    problems = validate_request(
        "DescribeTrainingJob", {"TrainingJobName.$": "$.n", "Nmae.$": "$.x"}
    )
    assert problems == ['Unknown parameter in input: "Nmae", must be one of: TrainingJobName']


def test_jsonata_expressions_count_as_present() -> None:
    assert (
        validate_request("DescribeTrainingJob", {"TrainingJobName": "{% $states.input.name %}"})
        == []
    )


def test_definition_substitutions_are_rendered() -> None:
    resource = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": {
                "Fn::Join": [
                    "",
                    [
                        '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"${Value}"',
                        ',"End":true}}}',
                    ],
                ]
            },
            "DefinitionSubstitutions": {"Value": {"Ref": "AWS::Region"}},
        },
    }
    assert render_definition(resource)["States"]["A"]["Result"] == "us-east-1"


def test_mapping_lookups_are_rendered_as_placeholders() -> None:
    resource = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionString": {
                "Fn::Join": [
                    "",
                    [
                        '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"arn:',
                        {"Fn::FindInMap": ["Accounts", {"Ref": "AWS::Region"}, "Account"]},
                        '","End":true}}}',
                    ],
                ]
            }
        },
    }
    assert (
        render_definition(resource)["States"]["A"]["Result"]
        == "arn:${FindInMap:Accounts|resolved-at-deploy}"
    )
