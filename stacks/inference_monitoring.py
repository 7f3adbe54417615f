"""Model Monitor for the endpoints of the inference stack that configure `monitoring`:
a data quality monitor (baseline workflow, schedule, alarms) and a model quality monitor
(schedule over auto-labeling's ground truth, alarms) per endpoint, and one function that
turns every monitoring run's violations into metrics."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.inference.endpoint import Endpoint
from sagemaker_constructs.inference.model_quality import ModelQualityMonitor
from sagemaker_constructs.inference.monitoring import (
    DataQualityMonitor,
    MonitoredSchedule,
    MonitoringBaseline,
    MonitoringMetrics,
)

from .settings import PlatformSettings


def model_quality_prefix(endpoint_name: str) -> str:
    """Key prefix of an endpoint's model quality files in the data bucket."""
    return f"monitoring/{endpoint_name}/model-quality/"


def ground_truth_prefixes(settings: PlatformSettings, workflow: str) -> dict[str, str]:
    """Where auto-labeling workflow `workflow` writes ground truth, by endpoint name: for
    each endpoint whose model quality takes its labels."""
    found: dict[str, str] = {}
    autos = settings.labeling.auto_labeling if settings.labeling else []
    spelled = {e.lower(): e for a in autos if a.name == workflow for e in a.endpoint_names}
    if settings.inference is None:
        return found
    for key, config in settings.inference.endpoints.items():
        quality = config.monitoring.model_quality if config.monitoring else None
        if quality is not None and quality.ground_truth_from == workflow:
            name = f"{settings.name_prefix}-{key}"
            # As the workflow's runs name it (the settings check it is one of them).
            found[spelled.get(name.lower(), name)] = f"{model_quality_prefix(name)}ground-truth/"
    return found


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
) -> tuple[dict[str, DataQualityMonitor], dict[str, ModelQualityMonitor]]:
    """The data and model quality monitors of the monitored endpoints, by key (none:
    nothing is added)."""
    inference = settings.inference
    monitors: dict[str, DataQualityMonitor] = {}
    model_monitors: dict[str, ModelQualityMonitor] = {}
    if inference is None:
        return monitors, model_monitors
    for key, config in inference.endpoints.items():
        if config.monitoring is None:
            continue
        endpoint = endpoints[key]
        name = endpoint.endpoint_name
        # The resource's name attribute orders the schedule after the endpoint; an
        # endpoint that may not exist is named (the schedule then depends on it below).
        endpoint_ref = endpoint.endpoint.attr_endpoint_name if endpoint.condition is None else name
        model = config.monitoring.model_quality
        if model is not None:
            model_monitors[key] = ModelQualityMonitor(
                scope,
                f"{key}-model-quality",
                endpoint_name=endpoint_ref,
                schedule_name=f"{name}-model-quality",
                data_bucket=data_bucket,
                captured_prefix=f"inference/{name}/data-capture/",
                monitoring_prefix=model_quality_prefix(name),
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                problem_type=model.problem_type,
                inference_attribute=model.inference_attribute,
                probability_attribute=model.probability_attribute,
                constraints_key=model.constraints,
                window_start=Duration.hours(model.window_start_hours),
                window_end=Duration.hours(model.window_end_hours),
                schedule_expression=model.schedule,
                instance_type=model.instance_type,
                instance_count=model.instance_count,
                volume_size_gb=model.volume_size_gb,
                max_runtime=Duration.minutes(model.max_runtime_minutes),
                network=network,
            )
        quality = config.monitoring.data_quality
        if quality is None:
            continue
        baseline = quality.baseline
        monitors[key] = DataQualityMonitor(
            scope,
            f"{key}-monitoring",
            endpoint_name=endpoint_ref,
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
    both: list[tuple[str, DataQualityMonitor | ModelQualityMonitor]] = [
        *monitors.items(),
        *model_monitors.items(),
    ]
    for key, monitor in both:
        endpoint = endpoints[key]
        if endpoint.condition is not None:
            # An endpoint that exists only once a version is approved: its schedule and
            # job definition (SageMaker checks the endpoint) exist only with it, after it.
            for part in (monitor.job_definition, monitor.schedule):
                part.cfn_options.condition = endpoint.condition
                part.node.add_dependency(endpoint.endpoint)
    schedules: list[MonitoredSchedule] = [*monitors.values(), *model_monitors.values()]
    if schedules:
        MonitoringMetrics(
            scope,
            "ModelMonitorMetrics",
            monitors=schedules,
            encryption_key=encryption_key,
            log_retention_days=inference.log_retention_days,
        )
    return monitors, model_monitors
