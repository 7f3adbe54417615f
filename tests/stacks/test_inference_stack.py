"""The Inference stack of the shipped configs: none by default; in the full config a
DeepAR real-time endpoint, the serverless text classifier (staging and production,
following the text-classifier model package group) and an async endpoint."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from stacks.inference_stack import InferenceStack
from stacks.settings import parse_settings
from tests.oracles.synth import FULL_CONFIG, Synthesis, cdk_json_context

PACKAGES = "arn:aws:sagemaker:us-east-1:123456789012:model-package"
DEEPAR_PACKAGE = f"{PACKAGES}/smkit-full-deepar-demand/1"


def by_type(synthesis: Synthesis, type_: str) -> dict[str, dict[str, Any]]:
    return synthesis.resources("Inference", type_)


def only(resources: dict[str, dict[str, Any]], prefix: str) -> dict[str, Any]:
    (found,) = [r for logical_id, r in resources.items() if logical_id.startswith(prefix)]
    return found


def test_default_config_deploys_no_endpoint(default_synth: Synthesis) -> None:
    assert default_synth.platform.inference is None
    assert default_synth.stack_names == ["smkit-Foundation"]


def test_full_config_has_endpoints_of_each_kind(full_synth: Synthesis) -> None:
    assert "smkit-full-Inference" in full_synth.stack_names
    inference = full_synth.platform.inference
    assert inference is not None and not inference.termination_protection
    endpoints = by_type(full_synth, "AWS::SageMaker::Endpoint")
    assert sorted(r["Properties"]["EndpointName"] for r in endpoints.values()) == [
        "smkit-full-batch-forecast",
        "smkit-full-demand-forecast",
        "smkit-full-text-classifier",
        "smkit-full-text-classifier-staging",
    ]
    configs = by_type(full_synth, "AWS::SageMaker::EndpointConfig")
    demand = only(configs, "demandforecast")["Properties"]
    assert demand["ProductionVariants"][0]["InstanceType"] == "ml.c5.xlarge"
    assert demand["DataCaptureConfig"]["InitialSamplingPercentage"] == 20
    staging = only(configs, "textclassifierstagingConfig")["Properties"]
    assert staging["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 5,
    }
    # Production runs on an instance: its model quality is monitored on captured requests.
    classifier = only(configs, "textclassifierConfig")["Properties"]
    assert classifier["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert classifier["DataCaptureConfig"]["InitialSamplingPercentage"] == 100
    batch = only(configs, "batchforecast")["Properties"]
    assert batch["AsyncInferenceConfig"]["ClientConfig"] == {
        "MaxConcurrentInvocationsPerInstance": 2
    }


def test_deepar_endpoint_rolls_out_as_a_canary_and_autoscales(full_synth: Synthesis) -> None:
    endpoint = only(by_type(full_synth, "AWS::SageMaker::Endpoint"), "demandforecast")
    routing = endpoint["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing == {
        "Type": "CANARY",
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        "WaitIntervalInSeconds": 600,
    }
    target = only(
        by_type(full_synth, "AWS::ApplicationAutoScaling::ScalableTarget"), "demandforecast"
    )
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (2, 4)


def test_instance_endpoints_run_in_the_private_vpc_and_serverless_does_not(
    full_synth: Synthesis,
) -> None:
    models = by_type(full_synth, "AWS::SageMaker::Model")
    for prefix in ("demandforecast", "batchforecast", "textclassifierModel"):
        properties = only(models, prefix)["Properties"]
        assert len(properties["VpcConfig"]["Subnets"]) == 2
    for prefix in ("demandforecast", "batchforecast"):
        assert only(models, prefix)["Properties"]["EnableNetworkIsolation"] is True
    classifier = only(models, "textclassifierstagingModel")["Properties"]
    assert "VpcConfig" not in classifier and classifier["EnableNetworkIsolation"] is False


def test_classifiers_serve_the_version_their_parameter_names(full_synth: Synthesis) -> None:
    template = full_synth.template("Inference")
    models = by_type(full_synth, "AWS::SageMaker::Model")
    for key, parameter in (
        ("textclassifierstagingModel", "TextClassifierStagingModelVersion"),
        ("textclassifierModel", "TextClassifierModelVersion"),
    ):
        model = only(models, key)
        assert model["Properties"]["PrimaryContainer"] == {"ModelPackageName": {"Ref": parameter}}
        assert model["Condition"] == f"{parameter}Set"
        assert template["Parameters"][parameter] == {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "(arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/"
            "smkit-full-text-classifier/[0-9]+)?",
            "ConstraintDescription": "must be empty or a version ARN of model package group "
            "smkit-full-text-classifier",
            "Description": template["Parameters"][parameter]["Description"],
        }
        assert template["Conditions"][f"{parameter}Set"] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]
        }
    assert (
        "never pass it to `cdk deploy --parameters`"
        in (template["Parameters"]["TextClassifierModelVersion"]["Description"])
    )


def test_an_endpoint_that_follows_a_group_exists_from_its_first_version(
    full_synth: Synthesis,
) -> None:
    template = full_synth.template("Inference")
    conditional = {
        r["Type"]
        for r in template["Resources"].values()
        if r.get("Condition") == "TextClassifierStagingModelVersionSet"
    }
    assert conditional == {
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
    }
    # Its role, logs and alarms exist before: the first version deploys with its alarms.
    for prefix in ("textclassifierstagingExecutionRole", "textclassifierstagingLogs"):
        assert not any(
            "Condition" in r for k, r in template["Resources"].items() if k.startswith(prefix)
        )
    endpoint = only(by_type(full_synth, "AWS::SageMaker::Endpoint"), "textclassifierstaging")
    alarms = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(alarms) == 2


def test_the_classifiers_may_pull_the_image_and_read_the_models_their_training_registers(
    full_synth: Synthesis,
) -> None:
    policies = by_type(full_synth, "AWS::IAM::Policy")
    policy = json.dumps(only(policies, "textclassifierstagingExecutionRoleDefaultPolicy"))
    assert "ecr:BatchGetImage" in policy and "container-assets" in policy
    assert "/training/text-classifier/output/*" in policy


def test_the_approval_workflow_starts_on_changes_of_the_followed_groups(
    full_synth: Synthesis,
) -> None:
    (rule,) = [
        r
        for k, r in by_type(full_synth, "AWS::Events::Rule").items()
        if k.startswith("ModelApprovalOnVersionChange")
    ]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["smkit-full-text-classifier"]},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "ModelApprovalWorkflowStateMachine558798F9"}
    function = only(by_type(full_synth, "AWS::Lambda::Function"), "ModelApprovalStep")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["STACK_NAME"] == "smkit-full-Inference"
    assert json.loads(variables["FOLLOWERS"]) == [
        {
            "endpoint": "smkit-full-text-classifier-staging",
            "parameter": "TextClassifierStagingModelVersion",
            "group": "smkit-full-text-classifier",
            "promoted_from": None,
        },
        {
            "endpoint": "smkit-full-text-classifier",
            "parameter": "TextClassifierModelVersion",
            "group": "smkit-full-text-classifier",
            "promoted_from": "smkit-full-text-classifier-staging",
        },
    ]
    outputs = full_synth.template("Inference")["Outputs"]
    assert outputs["ModelApprovalStateMachineArn"]["Value"] == {
        "Ref": "ModelApprovalWorkflowStateMachine558798F9"
    }
    # The endpoints follow the registry's groups: the registry is deployed first.
    inference = full_synth.assembly.get_stack_by_name("smkit-full-Inference")
    assert "smkit-full-ModelRegistry" in [d.id for d in inference.dependencies]


def test_the_approval_workflow_updates_only_its_own_stack_and_followed_groups(
    full_synth: Synthesis,
) -> None:
    policy = only(by_type(full_synth, "AWS::IAM::Policy"), "ModelApprovalStepRoleDefaultPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in statements}
    stack_actions = [
        "cloudformation:DescribeStackEvents",
        "cloudformation:DescribeStacks",
        "cloudformation:UpdateStack",
    ]
    assert by_action[json.dumps(stack_actions)] == (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/smkit-full-Inference/*"
    )
    assert (
        by_action[json.dumps(["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"])]
        == "arn:aws:sagemaker:us-east-1:123456789012:model-package/smkit-full-text-classifier/*"
    )
    assert by_action['"sagemaker:ListModelPackages"'] == "*"
    actions = {
        action
        for s in statements
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert not any(a.startswith("iam:") for a in actions)  # the stack's own role deploys
    runs = only(by_type(full_synth, "AWS::IAM::Policy"), "ModelApprovalListRuns")
    (statement,) = runs["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "states:ListExecutions"
    assert statement["Resource"] == {"Ref": "ModelApprovalWorkflowStateMachine558798F9"}


def test_async_endpoint_serves_an_approved_model_package(full_synth: Synthesis) -> None:
    container = only(by_type(full_synth, "AWS::SageMaker::Model"), "batchforecast")["Properties"][
        "PrimaryContainer"
    ]
    assert container == {"ModelPackageName": DEEPAR_PACKAGE}
    outputs = full_synth.template("Inference")["Outputs"]
    assert outputs["BatchForecastInputPrefix"]["Value"] == (
        "inference/smkit-full-batch-forecast/async/input/"
    )
    assert {"BatchForecastSuccessTopicArn", "BatchForecastErrorTopicArn"} <= set(outputs)


def test_alarms_notify_the_platform_alerts_topic(full_synth: Synthesis) -> None:
    alarms = [
        r["Properties"]
        for r in by_type(full_synth, "AWS::CloudWatch::Alarm").values()
        if r["Properties"]["MetricName"] in ("Invocation5XXErrors", "ModelLatency")
    ]
    assert len(alarms) == 8
    for alarm in alarms:
        (action,) = alarm["AlarmActions"]
        assert "AlertsTopic" in json.dumps(action)


def test_endpoints_carry_the_platform_tag(full_synth: Synthesis) -> None:
    for endpoint in by_type(full_synth, "AWS::SageMaker::Endpoint").values():
        assert {"Key": "smkit:platform", "Value": "smkit-full"} in endpoint["Properties"]["Tags"]


# --- model packages of the platform's own training ------------------------------------------


def _inference(endpoints: dict[str, Any]) -> Template:
    """The Inference stack of the full config with only `endpoints`, on stand-ins for the
    foundation's resources."""
    data = yaml.safe_load(FULL_CONFIG.read_text())
    data["inference"]["endpoints"] = endpoints
    data.pop("transform", None)  # its definitions name the full config's endpoints
    settings = parse_settings(yaml.safe_dump(data))
    app = cdk.App(context=cdk_json_context())
    env = cdk.Environment(account=settings.account, region=settings.region)
    shared = cdk.Stack(app, "Shared", env=env)
    key = kms.Key(shared, "Key", enable_key_rotation=True)
    stack = InferenceStack(
        app,
        "Inference",
        settings=settings,
        encryption_key=key,
        data_bucket=s3.Bucket(shared, "Data", encryption_key=key),
        artifacts_bucket=s3.Bucket(shared, "Artifacts", encryption_key=key),
        alerts_topic=sns.Topic(shared, "Alerts"),
        network=None,
        env=env,
    )
    return Template.from_stack(stack)


def _package_endpoint(arn: str, instance_type: str, **model: Any) -> dict[str, Any]:
    return {
        "model": {"source": "model_package", "arn": arn, **model},
        "variant": {"kind": "instance", "instance_type": instance_type},
    }


def test_a_deepar_package_of_the_platforms_training_serves_on_cpus_only() -> None:
    with pytest.raises(ValueError, match="forecasting-deepar serves on CPUs only"):
        _inference({"forecast": _package_endpoint(DEEPAR_PACKAGE, "ml.g5.xlarge")})


def test_an_image_other_than_the_one_the_training_registers_is_refused() -> None:
    xgboost = {"type": "builtin", "algorithm": "xgboost"}
    with pytest.raises(ValueError) as raised:
        _inference({"forecast": _package_endpoint(DEEPAR_PACKAGE, "ml.c5.xlarge", image=xgboost)})
    assert str(raised.value) == (
        f"inference.endpoints.forecast.model.image: built-in xgboost is not the image of "
        f"{DEEPAR_PACKAGE}, which training definition deepar-demand registers with built-in "
        "forecasting-deepar; remove model.image (the kit takes the definition's) or fix it"
    )


def test_a_deepar_group_serves_on_cpus_only() -> None:
    endpoint = {
        "model": {"source": "model_package_group", "group": "deepar-demand"},
        "variant": {"kind": "instance", "instance_type": "ml.g5.xlarge"},
    }
    with pytest.raises(ValueError, match="forecasting-deepar serves on CPUs only"):
        _inference({"forecast": endpoint})


def test_the_endpoint_may_pull_the_image_the_training_registers() -> None:
    # The text classifier's packages name the image built from containers/inference.
    package = f"{PACKAGES}/smkit-full-text-classifier/4"
    template = _inference({"classifier": _package_endpoint(package, "ml.g5.xlarge")})
    pulls = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in statement["Action"]
    ]
    assert len(pulls) == 1
    assert "container-assets" in json.dumps(pulls[0]["Resource"])


def test_the_inference_template_has_no_transform(full_synth: Synthesis) -> None:
    # ENDPOINT-25: the approval workflow updates the stack with UsePreviousTemplate.
    assert "Transform" not in full_synth.template("Inference")
