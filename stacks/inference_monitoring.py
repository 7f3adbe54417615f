"""Model Monitor for the endpoints of the inference stack that configure `monitoring`:
one data quality monitor per endpoint (baseline workflow, schedule, alarms) and one
function that turns every monitoring run's violations into metrics."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference.endpoint import Endpoint
from sagemaker_constructs.inference.monitoring import (
    DataQualityMonitor,
    MonitoringBaseline,
    MonitoringMetrics,
)

from .settings import PlatformSettings


def add_monitoring(
    scope: Construct,
    *,
    settings: PlatformSettings,
    endpoints: Mapping[str, Endpoint],
    data_bucket: s3.IBucket,
    encryption_key: kms.IKey,
    alerts_topic: sns.ITopic,
    network: NetworkPlacement | None,
    tags: Mapping[str, str],
) -> dict[str, DataQualityMonitor]:
    """The monitors of every monitored endpoint, by its key (none: nothing is added)."""
    inference = settings.inference
    monitors: dict[str, DataQualityMonitor] = {}
    if inference is None:
        return monitors
    for key, config in inference.endpoints.items():
        if config.monitoring is None:
            continue
        endpoint = endpoints[key]
        quality = config.monitoring.data_quality
        baseline = quality.baseline
        name = endpoint.endpoint_name
        monitors[key] = DataQualityMonitor(
            scope,
            f"{key}-monitoring",
            # The resource's name attribute: the schedule waits for the endpoint.
            endpoint_name=endpoint.endpoint.attr_endpoint_name,
            schedule_name=f"{name}-data-quality",
            data_bucket=data_bucket,
            captured_prefix=f"inference/{name}/data-capture/",
            monitoring_prefix=f"monitoring/{name}/data-quality/",
            baseline=MonitoringBaseline(
                dataset_key=baseline.dataset,
                dataset_format=baseline.format,
                csv_header=baseline.csv_header,
                instance_type=baseline.instance_type,
                volume_size_gb=baseline.volume_size_gb,
                max_runtime=Duration.minutes(baseline.max_runtime_minutes),
            ),
            encryption_key=encryption_key,
            alerts_topic=alerts_topic,
            job_name_prefix=f"{name[:26]}-bl",
            title=f"{name} baseline",
            schedule_expression=quality.schedule,
            instance_type=quality.instance_type,
            instance_count=quality.instance_count,
            volume_size_gb=quality.volume_size_gb,
            max_runtime=Duration.minutes(quality.max_runtime_minutes),
            record_preprocessor=quality.record_preprocessor,
            publish_feature_metrics=quality.publish_feature_metrics,
            network=network,
            tags=tags,
            log_retention_days=inference.log_retention_days,
        )
    if monitors:
        MonitoringMetrics(
            scope,
            "ModelMonitorMetrics",
            monitors=list(monitors.values()),
            encryption_key=encryption_key,
            log_retention_days=inference.log_retention_days,
        )
    return monitors
