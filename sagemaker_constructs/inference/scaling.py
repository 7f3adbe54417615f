"""Application Auto Scaling of an endpoint variant's instance count.

Instance variants track `SageMakerVariantInvocationsPerInstance`. Async variants track
`ApproximateBacklogSizePerInstance`; when they may scale to zero, a step policy on
`HasBacklogWithoutCapacity` starts the first instance as soon as a request waits (target
tracking alone would wait until the backlog exceeds the target), as AWS documents it.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from constructs import Construct

from .options import AsyncVariant, Autoscaling, InstanceVariant

# Application Auto Scaling's service-linked role for SageMaker endpoints: naming it in the
# template lets the service create it when missing (AWS recommends it over a custom role).
SERVICE_LINKED_ROLE = (
    "role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def add_autoscaling(
    scope: Construct,
    variant: InstanceVariant | AsyncVariant,
    scaling: Autoscaling,
    endpoint_name: str,
    variant_name: str,
) -> appscaling.ScalableTarget:
    """Register the variant as a scalable target and attach its policies.

    `endpoint_name` should be the endpoint's `attr_endpoint_name`, so that the target is
    registered only once the endpoint exists.
    """
    target = appscaling.ScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        scalable_dimension="sagemaker:variant:DesiredInstanceCount",
        min_capacity=scaling.min_capacity,
        max_capacity=scaling.max_capacity,
        role=iam.Role.from_role_arn(
            scope,
            "AutoScalingRole",
            f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:{SERVICE_LINKED_ROLE}",
            mutable=False,
        ),
    )
    if isinstance(variant, InstanceVariant):
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=scaling.target_value,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scaling.scale_in_cooldown,
            scale_out_cooldown=scaling.scale_out_cooldown,
        )
        return target

    target.scale_to_track_metric(
        "BacklogPerInstance",
        target_value=scaling.target_value,
        custom_metric=_endpoint_metric(endpoint_name, "ApproximateBacklogSizePerInstance"),
        scale_in_cooldown=scaling.scale_in_cooldown,
        scale_out_cooldown=scaling.scale_out_cooldown,
    )
    if scaling.min_capacity == 0:
        # ENDPOINT-10 (async-inference-autoscale page): start again from zero.
        from_zero = appscaling.StepScalingAction(
            scope,
            "ScaleOutFromZero",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.AVERAGE,
            cooldown=scaling.scale_out_cooldown,
        )
        from_zero.add_adjustment(adjustment=1, lower_bound=0)
        alarm = cloudwatch.Alarm(
            scope,
            "BacklogWithoutCapacityAlarm",
            metric=_endpoint_metric(endpoint_name, "HasBacklogWithoutCapacity"),
            threshold=1,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            alarm_description="Requests wait while the async endpoint has no instance: start one",
        )
        alarm.add_alarm_action(cw_actions.ApplicationScalingAction(from_zero))
    return target


def _endpoint_metric(endpoint_name: str, metric_name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SageMaker",
        metric_name=metric_name,
        dimensions_map={"EndpointName": endpoint_name},
        statistic="Average",
        period=Duration.minutes(1),
    )
