"""The inference endpoints of a config (stateless: models, endpoint configurations and
endpoints are rebuilt from the model source at every deploy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.common import retention_days
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference.endpoint import Endpoint
from sagemaker_constructs.inference.model_source import ModelSource
from sagemaker_constructs.inference.options import (
    AlarmThresholds,
    AsyncVariant,
    Autoscaling,
    DataCapture,
    Deployment,
    EndpointVariant,
    InstanceVariant,
    ServerlessVariant,
    TrafficShiftType,
)
from sagemaker_constructs.inference.promotion import FollowedGroup, ModelApprovalWorkflow
from sagemaker_constructs.inference.runtime.promotion.versions import (
    parameter_pattern,
    version_parameter,
)

from .inference_monitoring import add_monitoring
from .model_registry_stack import model_package_group_name
from .model_sources import model_source
from .settings import PlatformSettings
from .settings.inference import (
    AsyncScalingSettings,
    AsyncVariantSettings,
    EndpointSettings,
    InstanceScalingSettings,
    InstanceVariantSettings,
    ModelPackageGroupSettings,
    ModelSettings,
    ServerlessVariantSettings,
)
from .training_stack import image_of


class InferenceStack(Stack):
    """One `Endpoint` per configured endpoint, named `<name_prefix>-<key>`.

    An endpoint whose model follows a model package group serves the version a stack
    parameter names (`<Key>ModelVersion`, empty until the first approval: no model or
    endpoint until then); the model approval workflow of this stack sets it
    (docs/model-approval.md)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: PlatformSettings,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        alerts_topic: sns.ITopic,
        network: NetworkPlacement | None,
        job_tags: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param job_tags: Tags of the jobs the stack's workflows start (Model Monitor
            baselines). Default: none.
        """
        super().__init__(scope, id_, **kwargs)
        inference = settings.inference
        if inference is None:
            raise ValueError("InferenceStack needs the `inference` section of the settings")
        self._artifacts_bucket = artifacts_bucket
        self._settings = settings

        self.endpoints: dict[str, Endpoint] = {}
        """The endpoints by their key in the config."""
        self.version_parameters: dict[str, CfnParameter] = {}
        """The parameter naming the version each endpoint that follows a group serves."""
        for key, config in inference.endpoints.items():
            serverless = isinstance(config.variant, ServerlessVariantSettings)
            condition = (
                self._version_parameter(key, config.model)
                if isinstance(config.model, ModelPackageGroupSettings)
                else None
            )
            endpoint = Endpoint(
                self,
                key,
                endpoint_name=f"{settings.name_prefix}-{key}",
                model=self._model_source(key, config.model),
                variant=_variant(config),
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                data_bucket=data_bucket,
                autoscaling=_autoscaling(config),
                data_capture=(
                    DataCapture(
                        sampling_percentage=config.data_capture.sampling_percentage,
                        capture_request=config.data_capture.capture_request,
                        capture_response=config.data_capture.capture_response,
                    )
                    if config.data_capture
                    else None
                ),
                deployment=_deployment(config),
                alarms=AlarmThresholds(
                    server_errors=config.alarms.server_errors,
                    p99_model_latency=Duration.millis(config.alarms.p99_model_latency_ms),
                    period=Duration.seconds(config.alarms.period_seconds),
                    evaluation_periods=config.alarms.evaluation_periods,
                ),
                # ENDPOINT-7 (serverless-endpoints page): serverless endpoints join no VPC.
                network=None if serverless else network,
                log_retention=retention_days(inference.log_retention_days),
                condition=condition,
            )
            self.endpoints[key] = endpoint
            self._outputs(key, endpoint)
        self.monitors, self.model_monitors = add_monitoring(
            self,
            settings=settings,
            endpoints=self.endpoints,
            data_bucket=data_bucket,
            encryption_key=encryption_key,
            alerts_topic=alerts_topic,
            network=network,
            tags=job_tags or {},
        )
        """Data quality monitors of the endpoints that configure it, by key; and
        `model_monitors`, their model quality monitors."""
        for key, monitor in self.monitors.items():
            CfnOutput(
                self,
                f"{_pascal(key)}BaselineStateMachineArn",
                value=monitor.baseline_workflow.state_machine.state_machine_arn,
                description=f"Start it to compute the {key} endpoint's data quality baseline",
            )
        self.model_approval = self._model_approval(encryption_key, alerts_topic)
        """The workflow that deploys approved versions, where an endpoint follows a group."""

    def _version_parameter(self, key: str, model: ModelPackageGroupSettings) -> CfnCondition:
        """The parameter naming the version `key` serves, and the condition that it names
        one. The approval workflow sets it; `cdk deploy` keeps its previous value."""
        group = model_package_group_name(self._settings, model.group)
        name = f"{self._settings.name_prefix}-{key}"
        # ENDPOINT-21 (template parameters page): the pattern pins the group. ENDPOINT-25
        # (UpdateStack API page): the stack has no transform, so the approval workflow's
        # UsePreviousTemplate applies the new value.
        parameter = CfnParameter(
            self,
            version_parameter(key),
            type="String",
            default="",
            allowed_pattern=parameter_pattern(group),
            constraint_description=f"must be empty or a version ARN of model package group {group}",
            description=(
                f"Model package version endpoint {name} serves. Set by the model approval "
                "workflow; `make deploy` keeps it (docs/model-approval.md): never pass it "
                "to `cdk deploy --parameters`."
            ),
        )
        self.version_parameters[key] = parameter
        return CfnCondition(
            self,
            f"{version_parameter(key)}Set",
            expression=Fn.condition_not(Fn.condition_equals(parameter.value_as_string, "")),
        )

    def _model_approval(
        self, encryption_key: kms.IKey, alerts_topic: sns.ITopic
    ) -> ModelApprovalWorkflow | None:
        inference = self._settings.inference
        assert inference is not None
        followed = inference.followed_groups()
        if not followed:
            return None
        workflow = ModelApprovalWorkflow(
            self,
            "ModelApproval",
            followers=[
                FollowedGroup(
                    endpoint=self.endpoints[key],
                    parameter=self.version_parameters[key],
                    group=model_package_group_name(self._settings, model.group),
                    promoted_from=(
                        self.endpoints[model.promote_from] if model.promote_from else None
                    ),
                )
                for key, model in followed.items()
            ],
            encryption_key=encryption_key,
            alerts_topic=alerts_topic,
        )
        CfnOutput(
            self,
            "ModelApprovalStateMachineArn",
            value=workflow.state_machine.state_machine_arn,
            description="The model approval workflow (smkit model approve starts it)",
        )
        return workflow

    def _model_source(self, key: str, model: ModelSettings) -> ModelSource:
        if isinstance(model, ModelPackageGroupSettings):
            training = self._settings.training
            assert training is not None  # PlatformSettings: a followed group is trained here
            definition = training.definitions[model.group]
            return ModelSource.from_model_package(
                self.version_parameters[key].value_as_string,
                image=image_of(definition.model_package.image or definition.image),
                model_data_bucket=self._artifacts_bucket,
                model_data_prefix=f"training/{model.group}/output/",
                environment=model.environment,
            )
        return model_source(
            self._settings,
            model,
            artifacts_bucket=self._artifacts_bucket,
            where=f"inference.endpoints.{key}",
        )

    def _outputs(self, key: str, endpoint: Endpoint) -> None:
        name = "".join(part.capitalize() for part in key.split("-"))
        CfnOutput(
            self,
            f"{name}EndpointName",
            value=endpoint.endpoint_name,
            description=f"Name of the {key} endpoint (InvokeEndpoint's EndpointName)",
        )
        if endpoint.success_topic and endpoint.error_topic:
            CfnOutput(
                self,
                f"{name}SuccessTopicArn",
                value=endpoint.success_topic.topic_arn,
                description=f"SNS topic announcing each finished {key} request",
            )
            CfnOutput(
                self,
                f"{name}ErrorTopicArn",
                value=endpoint.error_topic.topic_arn,
                description=f"SNS topic announcing each failed {key} request",
            )
            CfnOutput(
                self,
                f"{name}InputPrefix",
                value=endpoint.async_prefix("input"),
                description=f"Key prefix in the data bucket for {key} request payloads",
            )


def _pascal(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("-"))


def _variant(config: EndpointSettings) -> EndpointVariant:
    variant = config.variant
    if isinstance(variant, InstanceVariantSettings):
        return InstanceVariant(variant.instance_type, variant.initial_instance_count)
    if isinstance(variant, AsyncVariantSettings):
        return AsyncVariant(
            variant.instance_type,
            variant.initial_instance_count,
            variant.max_concurrent_invocations_per_instance,
        )
    return ServerlessVariant(
        memory_size_mb=variant.memory_size_mb,
        max_concurrency=variant.max_concurrency,
        provisioned_concurrency=variant.provisioned_concurrency,
    )


def _autoscaling(config: EndpointSettings) -> Autoscaling | None:
    variant = config.variant
    if isinstance(variant, InstanceVariantSettings) and variant.autoscaling:
        scaling: InstanceScalingSettings | AsyncScalingSettings = variant.autoscaling
        target = variant.autoscaling.target_invocations_per_instance
    elif isinstance(variant, AsyncVariantSettings) and variant.autoscaling:
        scaling = variant.autoscaling
        target = variant.autoscaling.target_backlog_per_instance
    else:
        return None
    return Autoscaling(
        max_capacity=scaling.max_capacity,
        min_capacity=scaling.min_capacity,
        target_value=target,
        scale_in_cooldown=Duration.seconds(scaling.scale_in_cooldown_seconds),
        scale_out_cooldown=Duration.seconds(scaling.scale_out_cooldown_seconds),
    )


_TRAFFIC_SHIFTS: dict[str, TrafficShiftType] = {
    "all_at_once": "ALL_AT_ONCE",
    "canary": "CANARY",
    "linear": "LINEAR",
}


def _deployment(config: EndpointSettings) -> Deployment:
    settings = config.deployment
    return Deployment(
        traffic_shift=_TRAFFIC_SHIFTS[settings.traffic_shift],
        step_percent=settings.step_percent,
        wait=Duration.seconds(settings.wait_seconds),
        termination_wait=Duration.seconds(settings.termination_wait_seconds),
        maximum_execution_timeout=Duration.seconds(settings.maximum_execution_timeout_seconds),
    )
