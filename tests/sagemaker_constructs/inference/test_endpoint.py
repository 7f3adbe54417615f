"""Template assertions on the endpoints of one synthesis: variants, autoscaling, data
capture, blue/green deployment, alarms, IAM, and the offline oracles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from sagemaker_constructs.inference import AsyncVariant, Endpoint
from sagemaker_constructs.inference.scaling import SERVICE_LINKED_ROLE
from tests.oracles.cfn_lint import lint
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.stepfunctions import render_intrinsics, validate_request

from .conftest import CLASSIFIER_IMAGE, NETWORK, PACKAGE_ARN, Endpoints, platform


def key_arn(endpoints: Endpoints) -> dict[str, Any]:
    return {"Fn::GetAtt": [endpoints.logical_id(endpoints.platform.key.node.default_child), "Arn"]}


def bucket_arn(endpoints: Endpoints, name: str) -> dict[str, Any]:
    bucket = getattr(endpoints.platform, name)
    return {"Fn::GetAtt": [endpoints.logical_id(bucket.node.default_child), "Arn"]}


def bucket_ref(endpoints: Endpoints, name: str) -> dict[str, Any]:
    bucket = getattr(endpoints.platform, name)
    return {"Ref": endpoints.logical_id(bucket.node.default_child)}


def objects(endpoints: Endpoints, name: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [bucket_arn(endpoints, name), f"/{pattern}"]]}


def s3_url(endpoints: Endpoints, name: str, key: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["s3://", bucket_ref(endpoints, name), f"/{key}"]]}


def statements(endpoints: Endpoints, endpoint: Endpoint) -> list[dict[str, Any]]:
    policy = endpoint.role.node.find_child("DefaultPolicy").node.default_child
    found: list[dict[str, Any]] = endpoints.properties(policy)["PolicyDocument"]["Statement"]
    return found


def resources_of(endpoints: Endpoints, type_: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in endpoints.json["Resources"].items()
        if resource["Type"] == type_
    }


# --- variants -------------------------------------------------------------------------------


def test_instance_variant_with_storage_encryption(endpoints: Endpoints) -> None:
    config = endpoints.properties(endpoints.forecast.endpoint_config)
    assert config["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": {
                "Fn::GetAtt": [endpoints.logical_id(endpoints.forecast.model), "ModelName"]
            },
            "InstanceType": "ml.c5.xlarge",
            "InitialInstanceCount": 2,
            "InitialVariantWeight": 1,
        }
    ]
    assert config["KmsKeyId"] == key_arn(endpoints)
    endpoint = endpoints.properties(endpoints.forecast.endpoint)
    assert endpoint["EndpointName"] == "smkit-forecast"
    assert endpoint["EndpointConfigName"] == {
        "Fn::GetAtt": [
            endpoints.logical_id(endpoints.forecast.endpoint_config),
            "EndpointConfigName",
        ]
    }


def test_model_and_config_have_generated_names_so_replacements_never_collide(
    endpoints: Endpoints,
) -> None:
    for endpoint in (endpoints.forecast, endpoints.classifier, endpoints.batch):
        assert "ModelName" not in endpoints.properties(endpoint.model)
        assert "EndpointConfigName" not in endpoints.properties(endpoint.endpoint_config)


def test_instance_type_with_local_nvme_storage_gets_no_volume_key(endpoints: Endpoints) -> None:
    config = endpoints.properties(endpoints.gpu.endpoint_config)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"
    assert "KmsKeyId" not in config


def test_serverless_variant(endpoints: Endpoints) -> None:
    config = endpoints.properties(endpoints.classifier.endpoint_config)
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 3072,
        "MaxConcurrency": 10,
        "ProvisionedConcurrency": 2,
    }
    assert "InstanceType" not in variant and "KmsKeyId" not in config
    model = endpoints.properties(endpoints.classifier.model)
    assert model["PrimaryContainer"] == {
        "Image": CLASSIFIER_IMAGE,
        "ModelDataUrl": "s3://team-models/text-classifier/model.tar.gz",
        "Mode": "SingleModel",
        "Environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
    }
    assert "VpcConfig" not in model and model["EnableNetworkIsolation"] is False


def test_async_variant_writes_results_under_its_prefix_and_notifies_topics(
    endpoints: Endpoints,
) -> None:
    batch = endpoints.batch
    assert batch.success_topic is not None and batch.error_topic is not None
    config = endpoints.properties(batch.endpoint_config)
    assert config["AsyncInferenceConfig"] == {
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
        "OutputConfig": {
            "S3OutputPath": s3_url(endpoints, "data_bucket", "inference/smkit-batch/async/output"),
            "S3FailurePath": s3_url(
                endpoints, "data_bucket", "inference/smkit-batch/async/failures"
            ),
            "KmsKeyId": key_arn(endpoints),
            "NotificationConfig": {
                "SuccessTopic": {
                    "Ref": endpoints.logical_id(batch.success_topic.node.default_child)
                },
                "ErrorTopic": {"Ref": endpoints.logical_id(batch.error_topic.node.default_child)},
            },
        },
    }
    for topic in (batch.success_topic, batch.error_topic):
        assert endpoints.properties(topic.node.default_child)["KmsMasterKeyId"] == key_arn(
            endpoints
        )
    assert batch.async_prefix("input") == "inference/smkit-batch/async/input/"


def test_model_package_source(endpoints: Endpoints) -> None:
    model = endpoints.properties(endpoints.batch.model)
    assert model["PrimaryContainer"] == {"ModelPackageName": PACKAGE_ARN}


def test_builtin_image_resolves_through_the_region_mapping(endpoints: Endpoints) -> None:
    image = endpoints.properties(endpoints.forecast.model)["PrimaryContainer"]["Image"]
    assert image["Fn::Join"][1][0] == {
        "Fn::FindInMap": [
            "SageMakerBuiltinImageRegistries",
            {"Ref": "AWS::Region"},
            "forecastingdeepar",
        ]
    }
    assert image["Fn::Join"][1][-1] == "/forecasting-deepar:1"


def test_vpc_and_network_isolation(endpoints: Endpoints) -> None:
    model = endpoints.properties(endpoints.forecast.model)
    assert model["VpcConfig"] == NETWORK.vpc_config()
    assert model["EnableNetworkIsolation"] is True


# --- autoscaling ----------------------------------------------------------------------------


def scaling_target(endpoints: Endpoints, endpoint: Endpoint) -> tuple[str, dict[str, Any]]:
    assert endpoint.scaling is not None
    target = endpoint.scaling.node.default_child
    return endpoints.logical_id(target), endpoints.properties(target)


def policies_of(endpoints: Endpoints, target_id: str) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in resources_of(
            endpoints, "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).values()
        if resource["Properties"]["ScalingTargetId"] == {"Ref": target_id}
    ]


def test_instance_autoscaling_tracks_invocations_per_instance(endpoints: Endpoints) -> None:
    target_id, target = scaling_target(endpoints, endpoints.forecast)
    assert target == {
        "ServiceNamespace": "sagemaker",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "ResourceId": {
            "Fn::Join": [
                "",
                [
                    "endpoint/",
                    {
                        "Fn::GetAtt": [
                            endpoints.logical_id(endpoints.forecast.endpoint),
                            "EndpointName",
                        ]
                    },
                    "/variant/AllTraffic",
                ],
            ]
        },
        "MinCapacity": 2,
        "MaxCapacity": 6,
        "RoleARN": {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":iam::",
                    {"Ref": "AWS::AccountId"},
                    f":{SERVICE_LINKED_ROLE}",
                ],
            ]
        },
    }
    (policy,) = policies_of(endpoints, target_id)
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
        },
        "TargetValue": 200,
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
    }


def test_async_autoscaling_tracks_backlog_and_starts_from_zero(endpoints: Endpoints) -> None:
    target_id, target = scaling_target(endpoints, endpoints.batch)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 4)
    policies = {p["PolicyType"]: p for p in policies_of(endpoints, target_id)}
    assert set(policies) == {"TargetTrackingScaling", "StepScaling"}
    endpoint_name = {"Fn::GetAtt": [endpoints.logical_id(endpoints.batch.endpoint), "EndpointName"]}
    tracking = policies["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["CustomizedMetricSpecification"] == {
        "Dimensions": [{"Name": "EndpointName", "Value": endpoint_name}],
        "MetricName": "ApproximateBacklogSizePerInstance",
        "Namespace": "AWS/SageMaker",
        "Statistic": "Average",
    }
    assert tracking["TargetValue"] == 5
    step = policies["StepScaling"]["StepScalingPolicyConfiguration"]
    assert step["AdjustmentType"] == "ChangeInCapacity"
    assert step["StepAdjustments"] == [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]
    (alarm,) = [
        r["Properties"]
        for r in resources_of(endpoints, "AWS::CloudWatch::Alarm").values()
        if r["Properties"]["MetricName"] == "HasBacklogWithoutCapacity"
    ]
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": endpoint_name}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    step_id = next(
        logical_id
        for logical_id, r in resources_of(
            endpoints, "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).items()
        if r["Properties"]["PolicyType"] == "StepScaling"
    )
    assert alarm["AlarmActions"] == [{"Ref": step_id}]


def test_serverless_and_fixed_endpoints_have_no_scalable_target(endpoints: Endpoints) -> None:
    assert endpoints.classifier.scaling is None and endpoints.gpu.scaling is None
    assert len(resources_of(endpoints, "AWS::ApplicationAutoScaling::ScalableTarget")) == 2


def test_autoscaled_endpoints_keep_their_live_instance_count_across_updates(
    endpoints: Endpoints,
) -> None:
    for scaled in (endpoints.forecast, endpoints.batch):
        properties = endpoints.properties(scaled.endpoint)
        assert properties["RetainAllVariantProperties"] is True
        assert properties["ExcludeRetainedVariantProperties"] == [
            {"VariantPropertyType": "DesiredWeight"}
        ]
    for unscaled in (endpoints.classifier, endpoints.gpu):
        properties = endpoints.properties(unscaled.endpoint)
        assert "RetainAllVariantProperties" not in properties
        assert "ExcludeRetainedVariantProperties" not in properties


# --- data capture ---------------------------------------------------------------------------


def test_data_capture_samples_into_the_data_bucket_with_kms(endpoints: Endpoints) -> None:
    capture = endpoints.properties(endpoints.forecast.endpoint_config)["DataCaptureConfig"]
    assert capture == {
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": s3_url(
            endpoints, "data_bucket", "inference/smkit-forecast/data-capture"
        ),
        "KmsKeyId": key_arn(endpoints),
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }
    response_only = endpoints.properties(endpoints.batch.endpoint_config)["DataCaptureConfig"]
    assert response_only["CaptureOptions"] == [{"CaptureMode": "Output"}]
    assert response_only["InitialSamplingPercentage"] == 100
    assert "DataCaptureConfig" not in endpoints.properties(endpoints.gpu.endpoint_config)


def test_every_key_of_an_endpoint_config_is_usable_by_its_execution_role(
    endpoints: Endpoints,
) -> None:
    # ENDPOINT-15: SageMaker writes captured data and async results (SSE-KMS) and the
    # volumes as the execution role, which must be allowed to use each key it is given.
    checked = 0
    for endpoint in (endpoints.forecast, endpoints.classifier, endpoints.batch, endpoints.gpu):
        config = endpoints.properties(endpoint.endpoint_config)
        keys = [
            config.get("KmsKeyId"),
            config.get("DataCaptureConfig", {}).get("KmsKeyId"),
            config.get("AsyncInferenceConfig", {}).get("OutputConfig", {}).get("KmsKeyId"),
        ]
        usable = [
            s["Resource"]
            for s in statements(endpoints, endpoint)
            if {"kms:Encrypt", "kms:GenerateDataKey"} <= set(s["Action"])
        ]
        for key in filter(None, keys):
            assert key in usable, (endpoint.endpoint_name, key)
            checked += 1
    assert checked == 5  # forecast: volume, capture; batch: volume, capture, results


# --- deployment and alarms ------------------------------------------------------------------


def test_canary_deployment_rolls_back_on_the_endpoint_alarms(endpoints: Endpoints) -> None:
    forecast = endpoints.forecast
    config = endpoints.properties(forecast.endpoint)["DeploymentConfig"]
    assert config == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                "WaitIntervalInSeconds": 600,
            },
            "TerminationWaitInSeconds": 300,
            "MaximumExecutionTimeoutInSeconds": 3600,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {
                    "AlarmName": {
                        "Ref": endpoints.logical_id(forecast.error_alarm.node.default_child)
                    }
                },
                {
                    "AlarmName": {
                        "Ref": endpoints.logical_id(forecast.latency_alarm.node.default_child)
                    }
                },
            ]
        },
    }


def test_linear_and_all_at_once_deployments(endpoints: Endpoints) -> None:
    linear = endpoints.properties(endpoints.classifier.endpoint)["DeploymentConfig"]
    assert linear["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        "WaitIntervalInSeconds": 120,
    }
    default = endpoints.properties(endpoints.gpu.endpoint)["DeploymentConfig"]
    assert default["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 300,
    }
    assert len(default["AutoRollbackConfiguration"]["Alarms"]) == 2


def test_alarms_watch_5xx_errors_and_p99_latency_and_notify_alerts(endpoints: Endpoints) -> None:
    alerts = {"Ref": endpoints.logical_id(endpoints.platform.alerts_topic.node.default_child)}
    dimensions = [
        {"Name": "EndpointName", "Value": "smkit-forecast"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    errors = endpoints.properties(endpoints.forecast.error_alarm.node.default_child)
    assert errors == {
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocation5XXErrors",
        "Dimensions": dimensions,
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 3,
        "Threshold": 5,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [alerts],
        "AlarmDescription": "smkit-forecast: 5 or more 5xx errors per 60 s",
    }
    latency = endpoints.properties(endpoints.forecast.latency_alarm.node.default_child)
    assert latency["MetricName"] == "ModelLatency"
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == 2_000_000  # ModelLatency is in microseconds
    assert latency["ComparisonOperator"] == "GreaterThanThreshold"
    assert latency["AlarmActions"] == [alerts]


def test_alarms_without_an_alerts_topic_still_guard_deployments() -> None:
    shared = platform()
    endpoint = shared.endpoint(alerts_topic=None)
    template = Template.from_stack(shared.stack)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Invocation5XXErrors", "AlarmActions": Match.absent()},
    )
    assert endpoint.error_alarm.alarm_name is not None


# --- IAM ------------------------------------------------------------------------------------


def test_execution_role_is_assumed_by_sagemaker_only_and_has_no_managed_policies(
    endpoints: Endpoints,
) -> None:
    role = endpoints.properties(endpoints.forecast.role.node.default_child)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role


def test_execution_role_least_privilege(endpoints: Endpoints) -> None:
    found = {
        json.dumps(s["Action"], sort_keys=True): s
        for s in statements(endpoints, endpoints.forecast)
    }
    assert found['["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]']["Resource"] == key_arn(
        endpoints
    )
    assert found['"s3:GetObject"']["Resource"] == objects(
        endpoints, "artifacts_bucket", "training/deepar/output/model.tar.gz"
    )
    assert found['"s3:PutObject"']["Resource"] == objects(
        endpoints, "data_bucket", "inference/smkit-forecast/data-capture/*"
    )
    log_group = endpoints.logical_id(endpoints.forecast.log_group.node.default_child)
    assert found[
        '["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", '
        '"logs:PutLogEvents"]'
    ]["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
    assert found['"cloudwatch:PutMetricData"']["Condition"] == {
        "StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}
    }
    # The VPC: network interfaces in the endpoint's subnets, changed only in its VPC.
    create = found['"ec2:CreateNetworkInterface"']["Resource"]
    assert {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ec2:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":subnet/subnet-0123456789abcdef0",
            ],
        ]
    } in create
    delete = found[
        '["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", '
        '"ec2:DeleteNetworkInterfacePermission"]'
    ]
    assert delete["Condition"]["ArnEquals"]["ec2:Vpc"]["Fn::Join"][1][-1] == (
        ":vpc/vpc-0123456789abcdef0"
    )
    # Nothing else: no ECR (the built-in image is AWS-owned), no wildcard S3 reads.
    assert len(found) == 8


def test_async_role_reads_requests_writes_results_and_publishes(endpoints: Endpoints) -> None:
    found = {
        json.dumps(s["Action"], sort_keys=True): s for s in statements(endpoints, endpoints.batch)
    }
    assert found['"s3:GetObject"']["Resource"] == [
        objects(endpoints, "artifacts_bucket", "training/deepar/*"),
        objects(endpoints, "data_bucket", "inference/smkit-batch/async/input/*"),
    ]
    assert sorted(found['"s3:PutObject"']["Resource"], key=json.dumps) == sorted(
        [
            objects(endpoints, "data_bucket", "inference/smkit-batch/data-capture/*"),
            objects(endpoints, "data_bucket", "inference/smkit-batch/async/failures/*"),
            objects(endpoints, "data_bucket", "inference/smkit-batch/async/output/*"),
        ],
        key=json.dumps,
    )
    assert sorted(found['"sns:Publish"']["Resource"], key=json.dumps) == sorted(
        [
            {"Ref": endpoints.logical_id(topic.node.default_child)}
            for topic in (endpoints.batch.success_topic, endpoints.batch.error_topic)
            if topic is not None
        ],
        key=json.dumps,
    )


def test_ecr_image_grants_pull_on_its_repository_only(endpoints: Endpoints) -> None:
    found = {
        json.dumps(s["Action"], sort_keys=True): s
        for s in statements(endpoints, endpoints.classifier)
    }
    pull = found[
        '["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]'
    ]
    assert (
        pull["Resource"]["Fn::Join"][1][-1] == ":ecr:us-east-1:123456789012:repository/classifier"
    )
    assert found['"s3:GetObject"']["Resource"] == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-models/text-classifier/model.tar.gz"],
        ]
    }


def test_model_and_endpoint_wait_for_the_role_policy(endpoints: Endpoints) -> None:
    policy = endpoints.logical_id(
        endpoints.forecast.role.node.find_child("DefaultPolicy").node.default_child
    )
    for construct in (endpoints.forecast.model, endpoints.forecast.endpoint):
        assert policy in endpoints.resource(endpoints.forecast, construct)["DependsOn"]


def test_log_group_is_named_for_sagemaker_encrypted_and_retained(endpoints: Endpoints) -> None:
    log_group = endpoints.resource(
        endpoints.forecast, endpoints.forecast.log_group.node.default_child
    )
    assert log_group["Properties"] == {
        "LogGroupName": "/aws/sagemaker/Endpoints/smkit-forecast",
        "KmsKeyId": key_arn(endpoints),
        "RetentionInDays": 90,
    }
    assert log_group["DeletionPolicy"] == "Retain"


# --- grants and metrics ---------------------------------------------------------------------


def test_grant_invoke_real_time_and_async() -> None:
    shared = platform()
    real_time = shared.endpoint("RealTime")
    queued = shared.endpoint(
        "Queued", endpoint_name="smkit-queued", variant=AsyncVariant("ml.m5.large")
    )
    caller = iam.Role(shared.stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    real_time.grant_invoke(caller)
    queued.grant_invoke(caller)
    template = Template.from_stack(shared.stack).to_json()
    logical_id = shared.stack.resolve(
        caller.node.find_child("DefaultPolicy").node.default_child.logical_id
    )
    found = {
        json.dumps(s["Action"]): s["Resource"]
        for s in template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]
    }
    assert found['"sagemaker:InvokeEndpoint"'] == {
        "Ref": shared.stack.resolve(real_time.endpoint.logical_id)
    }
    assert found['"sagemaker:InvokeEndpointAsync"'] == {
        "Ref": shared.stack.resolve(queued.endpoint.logical_id)
    }
    data = {
        "Fn::GetAtt": [
            shared.stack.resolve(shared.data_bucket.node.default_child.logical_id),
            "Arn",
        ]
    }
    assert found['"s3:PutObject"'] == {
        "Fn::Join": ["", [data, "/inference/smkit-queued/async/input/*"]]
    }
    assert len(found['"s3:GetObject"']) == 2
    assert '["kms:Decrypt", "kms:GenerateDataKey"]' in found


def test_metric_helpers_share_one_generic_metric(endpoints: Endpoints) -> None:
    forecast = endpoints.forecast
    latency = forecast.metric_model_latency()
    assert (latency.namespace, latency.metric_name, latency.statistic) == (
        "AWS/SageMaker",
        "ModelLatency",
        "p99",
    )
    assert latency.dimensions == {"EndpointName": "smkit-forecast", "VariantName": "AllTraffic"}
    assert forecast.metric_invocations().statistic == "Sum"
    assert forecast.metric_invocation_4xx_errors().metric_name == "Invocation4XXErrors"
    assert forecast.metric_overhead_latency(statistic="p50").statistic == "p50"
    backlog = endpoints.batch.metric_backlog_size()
    assert backlog.dimensions == {"EndpointName": "smkit-batch"}


# --- oracles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "operation"),
    [
        ("AWS::SageMaker::Model", "CreateModel"),
        ("AWS::SageMaker::EndpointConfig", "CreateEndpointConfig"),
        ("AWS::SageMaker::Endpoint", "CreateEndpoint"),
    ],
)
def test_sagemaker_resources_match_botocore_request_shapes(
    endpoints: Endpoints, resource_type: str, operation: str
) -> None:
    problems = []
    for logical_id, resource in resources_of(endpoints, resource_type).items():
        properties = render_intrinsics(resource["Properties"])
        # The names CloudFormation generates are required members of the API request.
        generated = {"CreateModel": "ModelName", "CreateEndpointConfig": "EndpointConfigName"}
        if operation in generated:
            properties[generated[operation]] = "generated-by-cloudformation"
        if operation == "CreateEndpoint":
            # What an update keeps of the variants is a parameter of UpdateEndpoint only.
            update = {k: properties.pop(k) for k in UPDATE_ONLY if k in properties}
            update |= {k: properties[k] for k in ("EndpointName", "EndpointConfigName")}
            problems += [f"{logical_id}: {p}" for p in validate_request("UpdateEndpoint", update)]
        problems += [f"{logical_id}: {p}" for p in validate_request(operation, properties)]
    assert problems == []


UPDATE_ONLY = ("RetainAllVariantProperties", "ExcludeRetainedVariantProperties")


def test_cdk_nag_and_cfn_lint_find_nothing(endpoints: Endpoints, tmp_path: Path) -> None:
    # Only the endpoints' findings: the stand-ins for the foundation's resources are bare.
    mine = tuple(
        f"Test/{e.node.id}/"
        for e in (endpoints.forecast, endpoints.classifier, endpoints.batch, endpoints.gpu)
    )
    findings = unacknowledged_findings(endpoints.platform.stack.node.root)
    assert [f for f in findings if f.split(" at ")[1].startswith(mine)] == []
    assert findings, "the stand-ins' findings show the oracle ran"
    path = tmp_path / "endpoints.template.json"
    path.write_text(json.dumps(endpoints.json))
    errors, _warnings = lint(path, regions=["us-east-1"])
    assert errors == []
