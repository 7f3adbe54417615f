"""A SageMaker endpoint managed by CloudFormation: model, endpoint configuration and
endpoint, with its execution role, logs, alarms, autoscaling, data capture and
blue/green deployment."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnCondition, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..common import acknowledge, acknowledge_wildcards, has_local_nvme_storage
from ..common.execution_role import grant_network_interfaces
from ..foundation import NetworkPlacement
from .model_source import ModelSource
from .options import (
    AlarmThresholds,
    AsyncVariant,
    Autoscaling,
    DataCapture,
    Deployment,
    EndpointVariant,
    ServerlessVariant,
)
from .rules import validate
from .scaling import add_autoscaling

VARIANT_NAME = "AllTraffic"
"""The one production variant. Blue/green updates need the same name in every config."""


class Endpoint(Construct):
    """A SageMaker endpoint: `AWS::SageMaker::Model`, `EndpointConfig` and `Endpoint`.

    - Updates are blue/green: any change replaces the endpoint configuration (it is
      immutable; model and configuration have generated names, so old and new coexist
      during the update) and the endpoint moves to it, shifting traffic as
      `deployment` says and rolling back when an alarm fires.
    - Two alarms, on 5xx errors and p99 model latency, watch every deployment and
      notify `alerts_topic`.
    - The execution role may read the model artifact, pull the image, use the key,
      write its logs, data capture and async results, and nothing else.
    - Instance-backed storage volumes are encrypted with the platform key, except on
      instance types with local NVMe storage, which the hardware encrypts.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint_name: str,
        model: ModelSource,
        variant: EndpointVariant,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic | None = None,
        data_bucket: s3.IBucket | None = None,
        data_prefix: str | None = None,
        autoscaling: Autoscaling | None = None,
        data_capture: DataCapture | None = None,
        deployment: Deployment | None = None,
        alarms: AlarmThresholds | None = None,
        network: NetworkPlacement | None = None,
        network_isolation: bool | None = None,
        volume_encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        condition: CfnCondition | None = None,
    ) -> None:
        """
        :param endpoint_name: Name clients invoke. 1-63 letters, digits and hyphens,
            starting and ending with a letter or digit. Changing it replaces the endpoint.
        :param model: What the endpoint serves (`ModelSource`).
        :param variant: `InstanceVariant`, `ServerlessVariant` or `AsyncVariant`.
        :param encryption_key: KMS key of logs, data capture, async results and topics,
            and of instance storage volumes by default.
        :param alerts_topic: Where the alarms notify. Default: nowhere (they still roll
            deployments back).
        :param data_bucket: Bucket of data capture and async payloads. Required with
            data capture or an async variant. Default: none.
        :param data_prefix: Key prefix of this endpoint's data in `data_bucket`.
            Default: `inference/<endpoint_name>/`.
        :param autoscaling: Instance count scaling. Default: none (fixed count). Not for
            serverless variants.
        :param data_capture: Request/response capture. Default: none. Not for serverless
            variants.
        :param deployment: Blue/green rollout of updates. Default: all at once, 5 minutes
            of baking, rollback on alarm.
        :param alarms: Thresholds of the error and latency alarms. Default:
            `AlarmThresholds()`.
        :param network: Subnets and security groups of the model containers. Default:
            SageMaker-managed networking. Not for serverless variants.
        :param network_isolation: No network access from the containers. Default: on
            when `network` is given. Not for serverless variants.
        :param volume_encryption_key: Key of the instances' storage volumes. Default:
            `encryption_key` on instance types with EBS storage, none on those with
            local NVMe storage (SageMaker refuses a key there) and serverless variants.
        :param log_retention: Of the endpoint's log group. Default: three months.
        :param log_removal_policy: Of the log group. Default: RETAIN (delete it by hand
            before creating an endpoint of the same name again).
        :param condition: Create the model, endpoint configuration, endpoint and its
            autoscaling only while this condition holds, e.g. once a stack parameter names
            the model version to serve (an endpoint that follows a model package group
            has none before its first approval). Role, log group, alarms and async topics
            always exist. Default: always.
        """
        super().__init__(scope, id_)
        deployment = deployment or Deployment.all_at_once()
        alarms = alarms or AlarmThresholds()
        if network_isolation is None:
            network_isolation = network is not None and not isinstance(variant, ServerlessVariant)
        validate(
            endpoint_name=endpoint_name,
            model=model,
            variant=variant,
            data_bucket=data_bucket,
            autoscaling=autoscaling,
            data_capture=data_capture,
            deployment=deployment,
            alarms=alarms,
            network=network,
            network_isolation=network_isolation,
            volume_encryption_key=volume_encryption_key,
        )

        self.endpoint_name = endpoint_name
        """The endpoint's name, as clients invoke it."""
        self.variant = variant
        """The variant the endpoint runs."""
        self.variant_name = VARIANT_NAME
        """Name of the endpoint's production variant."""
        self._encryption_key = encryption_key
        self._data_bucket = data_bucket
        prefix = data_prefix if data_prefix is not None else f"inference/{endpoint_name}/"
        self._data_prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
        # S3 objects the role reads and writes by prefix, for the cdk-nag acknowledgement.
        self._read_resources: list[str] = []
        self._write_resources: list[str] = []

        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker endpoint {endpoint_name}: model, logs, captured data",
        )
        """The execution role of the model's containers."""
        # ENDPOINT-15 (DataCaptureConfig API page): SageMaker writes captured data, async
        # results and volumes with the platform key as this role.
        encryption_key.grant(self.role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/sagemaker/Endpoints/{endpoint_name}",
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        """The log group SageMaker writes the containers' output to."""
        self.log_group.grant(
            self.role,
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        if network is not None:
            grant_network_interfaces(self.role, network)

        self.model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=model.bind(self, self.role),
            enable_network_isolation=network_isolation,
            vpc_config=(
                sagemaker.CfnModel.VpcConfigProperty(
                    security_group_ids=list(network.security_group_ids),
                    subnets=list(network.subnet_ids),
                )
                if network is not None
                else None
            ),
        )
        """`AWS::SageMaker::Model` (generated name: a replacement never collides)."""

        self.success_topic: sns.Topic | None = None
        """Async variants: where SageMaker announces each finished request."""
        self.error_topic: sns.Topic | None = None
        """Async variants: where SageMaker announces each failed request."""
        async_config = self._async_config(variant) if isinstance(variant, AsyncVariant) else None

        # ENDPOINT-14 (CreateEndpointConfig API page): no key on local NVMe storage.
        if volume_encryption_key is None and _has_ebs_volume(variant):
            volume_encryption_key = encryption_key
        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=[self._production_variant(variant)],
            kms_key_id=volume_encryption_key.key_arn if volume_encryption_key else None,
            data_capture_config=self._data_capture_config(data_capture) if data_capture else None,
            async_inference_config=async_config,
        )
        """`AWS::SageMaker::EndpointConfig`. Immutable: any change replaces it (generated
        name) and the endpoint updates to the new one, blue/green."""

        self.metric_namespace = "AWS/SageMaker"
        """CloudWatch namespace of the endpoint's invocation metrics."""
        self.error_alarm = self._alarm(
            "ServerErrorsAlarm",
            self.metric_invocation_5xx_errors(period=alarms.period),
            threshold=alarms.server_errors,
            evaluation_periods=alarms.evaluation_periods,
            description=f"{endpoint_name}: {alarms.server_errors} or more 5xx errors per "
            f"{alarms.period.to_seconds()} s",
        )
        """Fires on 5xx errors; rolls deployments back."""
        latency_microseconds = int(alarms.p99_model_latency.to_milliseconds() * 1000)
        self.latency_alarm = self._alarm(
            "ModelLatencyAlarm",
            self.metric_model_latency(period=alarms.period),
            threshold=latency_microseconds,
            evaluation_periods=alarms.evaluation_periods,
            description=f"{endpoint_name}: p99 model latency above "
            f"{alarms.p99_model_latency.to_milliseconds()} ms",
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        """Fires when p99 ModelLatency (microseconds) exceeds the threshold."""
        if alerts_topic is not None:
            for alarm in (self.error_alarm, self.latency_alarm):
                alarm.add_alarm_action(cw_actions.SnsAction(alerts_topic))

        scaled = autoscaling is not None and not isinstance(variant, ServerlessVariant)
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=self._deployment_config(deployment),
            **_retained_variant_properties(scaled),
        )
        """`AWS::SageMaker::Endpoint`. Its fixed name is what clients invoke; only a
        new name replaces it."""
        # A conditional endpoint is referred to by its name, which never changes: a Ref to a
        # resource that may not exist would break the template.
        self.endpoint_arn = (
            Stack.of(self).format_arn(
                service="sagemaker", resource="endpoint", resource_name=endpoint_name.lower()
            )
            if condition is not None
            else self.endpoint.ref
        )
        """ARN of the endpoint."""
        self.condition = condition
        """The condition the endpoint exists under (None: always); what refers to its
        attributes (a monitoring schedule) needs the same."""

        before_scaling = set(self.node.children)
        self.scaling = (
            add_autoscaling(
                self, variant, autoscaling, self.endpoint.attr_endpoint_name, VARIANT_NAME
            )
            if autoscaling is not None and not isinstance(variant, ServerlessVariant)
            else None
        )
        """The scalable target, where autoscaling is on."""
        if condition is not None:
            scaling_parts = [c for c in self.node.children if c not in before_scaling]
            for part in [self.model, self.endpoint_config, self.endpoint, *scaling_parts]:
                for node in part.node.find_all():
                    if isinstance(node, CfnResource):
                        node.cfn_options.condition = condition

        # SageMaker checks the role's permissions when it creates the model and starts
        # the endpoint: both wait for the role's policy.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.model.node.add_dependency(policy)
            self.endpoint.node.add_dependency(policy)
        self._acknowledge(model)

    # --- grants and metrics ---------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` invoke the endpoint. For async variants: InvokeEndpointAsync,
        writing requests under the input prefix and reading results and failures."""
        if not isinstance(self.variant, AsyncVariant):
            return iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["sagemaker:InvokeEndpoint"],
                resource_arns=[self.endpoint_arn],
            )
        bucket = self._bucket()
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpointAsync"],
            resource_arns=[self.endpoint_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject"],
            resource_arns=[bucket.arn_for_objects(f"{self.async_prefix('input')}*")],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[
                bucket.arn_for_objects(f"{self.async_prefix('output')}*"),
                bucket.arn_for_objects(f"{self.async_prefix('failures')}*"),
            ],
        )
        self._encryption_key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey")
        return grant

    def metric(
        self,
        metric_name: str,
        *,
        statistic: str = "Sum",
        period: Duration | None = None,
        per_variant: bool = True,
    ) -> cloudwatch.Metric:
        """A metric of this endpoint in AWS/SageMaker (by endpoint and variant, or by
        endpoint only for the async backlog metrics with `per_variant=False`)."""
        dimensions = {"EndpointName": self.endpoint_name}
        if per_variant:
            dimensions["VariantName"] = self.variant_name
        return cloudwatch.Metric(
            namespace=self.metric_namespace,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period or Duration.minutes(1),
        )

    def metric_invocations(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests sent to the model (Sum)."""
        return self.metric("Invocations", period=period)

    def metric_invocation_5xx_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests the model answered with a 5xx status (Sum)."""
        return self.metric("Invocation5XXErrors", period=period)

    def metric_invocation_4xx_errors(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests the model answered with a 4xx status (Sum)."""
        return self.metric("Invocation4XXErrors", period=period)

    def metric_model_latency(
        self, *, statistic: str = "p99", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Time the model took to answer, in microseconds. Default statistic: p99."""
        return self.metric("ModelLatency", statistic=statistic, period=period)

    def metric_overhead_latency(
        self, *, statistic: str = "p99", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Time SageMaker added around the model, in microseconds. Default: p99."""
        return self.metric("OverheadLatency", statistic=statistic, period=period)

    def metric_backlog_size(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Async variants: requests waiting in the queue (Average)."""
        return self.metric(
            "ApproximateBacklogSize", statistic="Average", period=period, per_variant=False
        )

    def async_prefix(self, kind: str) -> str:
        """Async variants: the key prefix of `input`, `output` or `failures` in the data bucket."""
        return f"{self._data_prefix}async/{kind}/"

    # --- pieces ---------------------------------------------------------------------------

    def _bucket(self) -> s3.IBucket:
        if self._data_bucket is None:  # _validate guarantees one where needed
            raise RuntimeError(f"endpoint {self.endpoint_name} has no data bucket")
        return self._data_bucket

    def _production_variant(
        self, variant: EndpointVariant
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        if isinstance(variant, ServerlessVariant):
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.model.attr_model_name,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    memory_size_in_mb=variant.memory_size_mb,
                    max_concurrency=variant.max_concurrency,
                    provisioned_concurrency=variant.provisioned_concurrency,
                ),
            )
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=VARIANT_NAME,
            model_name=self.model.attr_model_name,
            instance_type=variant.instance_type,
            initial_instance_count=variant.initial_instance_count,
            initial_variant_weight=1.0,
        )

    def _data_capture_config(
        self, capture: DataCapture
    ) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        bucket = self._bucket()
        prefix = f"{self._data_prefix}data-capture/"
        iam.Grant.add_to_principal(
            grantee=self.role,
            actions=["s3:PutObject"],
            resource_arns=[bucket.arn_for_objects(f"{prefix}*")],
        )
        self._write_resources.append(bucket.arn_for_objects(f"{prefix}*"))
        wanted = {"Input": capture.capture_request, "Output": capture.capture_response}
        modes = [mode for mode, on in wanted.items() if on]
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=capture.sampling_percentage,
            destination_s3_uri=bucket.s3_url_for_object(prefix.rstrip("/")),
            kms_key_id=self._encryption_key.key_arn,
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode)
                for mode in modes
            ],
            capture_content_type_header=(
                sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    json_content_types=list(capture.json_content_types)
                )
                if capture.json_content_types
                else None
            ),
        )

    def _async_config(
        self, variant: AsyncVariant
    ) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
        bucket = self._bucket()
        self.success_topic, self.error_topic = (
            sns.Topic(
                self,
                f"Async{outcome}Topic",
                display_name=f"{self.endpoint_name}: async inference {outcome.lower()}",
                master_key=self._encryption_key,
                enforce_ssl=True,
            )
            for outcome in ("Success", "Error")
        )
        # ENDPOINT-18 (async-inference-check-predictions page). Publishing to the encrypted
        # topics also needs kms:GenerateDataKey and kms:Decrypt, which the role has on the
        # platform key.
        iam.Grant.add_to_principal(
            grantee=self.role,
            actions=["sns:Publish"],
            resource_arns=[self.success_topic.topic_arn, self.error_topic.topic_arn],
        )
        iam.Grant.add_to_principal(
            grantee=self.role,
            actions=["s3:GetObject"],
            resource_arns=[bucket.arn_for_objects(f"{self.async_prefix('input')}*")],
        )
        outputs = [
            bucket.arn_for_objects(f"{self.async_prefix(kind)}*") for kind in ("output", "failures")
        ]
        iam.Grant.add_to_principal(
            grantee=self.role, actions=["s3:PutObject"], resource_arns=outputs
        )
        self._read_resources.append(bucket.arn_for_objects(f"{self.async_prefix('input')}*"))
        self._write_resources.extend(outputs)
        return sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
            client_config=sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=(
                    variant.max_concurrent_invocations_per_instance
                )
            ),
            output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path=bucket.s3_url_for_object(self.async_prefix("output").rstrip("/")),
                s3_failure_path=bucket.s3_url_for_object(self.async_prefix("failures").rstrip("/")),
                kms_key_id=self._encryption_key.key_arn,
                notification_config=sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                    success_topic=self.success_topic.topic_arn,
                    error_topic=self.error_topic.topic_arn,
                ),
            ),
        )

    def _alarm(
        self,
        id_: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        evaluation_periods: int,
        description: str,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            id_,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=comparison,
            # No traffic is no failure: an idle endpoint must not roll a deployment back.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )

    def _deployment_config(
        self, deployment: Deployment
    ) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        size = (
            sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="CAPACITY_PERCENT", value=deployment.step_percent
            )
            if deployment.step_percent is not None
            else None
        )
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                    type=deployment.traffic_shift,
                    wait_interval_in_seconds=int(deployment.wait.to_seconds()),
                    canary_size=size if deployment.traffic_shift == "CANARY" else None,
                    linear_step_size=size if deployment.traffic_shift == "LINEAR" else None,
                ),
                termination_wait_in_seconds=int(deployment.termination_wait.to_seconds()),
                maximum_execution_timeout_in_seconds=int(
                    deployment.maximum_execution_timeout.to_seconds()
                ),
            ),
            auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[
                    sagemaker.CfnEndpoint.AlarmProperty(alarm_name=alarm.alarm_name)
                    for alarm in (self.error_alarm, self.latency_alarm)
                ]
            ),
        )

    def _acknowledge(self, model: ModelSource) -> None:
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:Describe*, ecr:GetAuthorizationToken and cloudwatch:PutMetricData (limited "
            "to the /aws/sagemaker/ namespaces by condition) have no resource-level scope",
        )
        acknowledge_wildcards(
            self.role,
            reason="The endpoint reads its own model artifact and async requests and writes "
            "objects with generated names under its own prefixes of the data bucket",
            resources=[*model.read_resources, *self._read_resources, *self._write_resources],
        )


def _has_ebs_volume(variant: EndpointVariant) -> bool:
    return not isinstance(variant, ServerlessVariant) and not has_local_nvme_storage(
        variant.instance_type
    )


def _retained_variant_properties(scaled: bool) -> dict[str, Any]:
    """What an update keeps of the live variant (ENDPOINT-1, AWS::SageMaker::Endpoint
    VariantProperty page).

    With autoscaling, Application Auto Scaling owns the instance count: an update keeps
    the live `DesiredInstanceCount` (by default SageMaker resets it to
    `InitialInstanceCount`, scaling a busy endpoint in at every deploy). The config still
    wins where it speaks: new min/max capacities reach the scalable target, which moves
    the count into the new range, and the weight (`DesiredWeight`, always 1 on the one
    variant) is taken from the new configuration. A fixed-count endpoint keeps nothing:
    its count is the config's.
    """
    if not scaled:
        return {}
    return {
        "retain_all_variant_properties": True,
        "exclude_retained_variant_properties": [
            sagemaker.CfnEndpoint.VariantPropertyProperty(variant_property_type="DesiredWeight")
        ],
    }
