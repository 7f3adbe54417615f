"""Model quality of a classifier endpoint: Model Monitor merges the endpoint's captured
predictions with ground-truth records (the labels people gave in auto-labeling, written
by `labeling/runtime/autolabel/monitor_labels.py`) and computes the problem type's
metrics (`AWS::SageMaker::ModelQualityJobDefinition` + `AWS::SageMaker::MonitoringSchedule`);
violations of the given constraints and failed runs alarm the alerts topic.

The analyzer image is the same as data quality's, resolved per region from the generated
image table (`ContainerImage.from_service("model-monitor")`).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..common import ContainerImage, Problems, has_local_nvme_storage
from ..common.instance_types import PROCESSING_INSTANCE_TYPES
from ..foundation import NetworkPlacement
from .monitoring import (
    ENDPOINT_INPUT,
    OUTPUT,
    acknowledge_monitoring_role,
    grant_monitoring_jobs,
    monitoring_schedule,
    schedule_alarm,
    schedule_metric,
)
from .monitoring_rules import (
    MAX_OFFSET_HOURS,
    MONITOR_IMAGE,
    offset,
    schedule_problems,
    window_problems,
)

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
"""MONITOR-11: Model Monitor's model-quality problem types."""


class ModelQualityMonitor(Construct):
    """Model quality monitoring of one endpoint's captured predictions against ground truth
    under `ground_truth_prefix` (records `{"groundTruthData", "eventMetadata": {"eventId"},
    "eventVersion"}` in `yyyy/mm/dd/hh/` folders, matched by the requests' InferenceId).

    Each run analyses the predictions captured from `window_start` to `window_end` before
    it (people label some time after the prediction) and writes its report under
    `<monitoring_prefix>reports/`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoint_name: str,
        schedule_name: str,
        data_bucket: s3.IBucket,
        captured_prefix: str,
        monitoring_prefix: str,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        problem_type: str = "MulticlassClassification",
        inference_attribute: str = "predictions[0].label",
        probability_attribute: str | None = None,
        constraints_key: str | None = None,
        window_start: Duration = Duration.days(7),
        window_end: Duration = Duration.days(1),
        schedule_expression: str = "cron(0 0 ? * * *)",
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        volume_size_gb: int = 20,
        max_runtime: Duration = Duration.hours(1),
        network: NetworkPlacement | None = None,
    ) -> None:
        """
        :param endpoint_name: The endpoint monitored (its resource's name attribute: the
            schedule is created after the endpoint and deleted before).
        :param schedule_name: Name of the monitoring schedule (1-63 letters, digits, hyphens).
        :param data_bucket: Bucket of the captured data, the ground truth and the reports.
        :param captured_prefix: Key prefix of the endpoint's data capture (ending in `/`).
        :param monitoring_prefix: Key prefix of this monitor's files (ending in `/`): the
            ground truth under `ground-truth/`, the reports under `reports/`.
        :param encryption_key: Key of the reports and the volumes.
        :param alerts_topic: Where the alarms notify.
        :param problem_type: One of `PROBLEM_TYPES`. Default: MulticlassClassification.
        :param inference_attribute: JSONPath of the predicted class in a captured response.
            Default: `predictions[0].label` (the classifier contract, one object a request).
        :param probability_attribute: JSONPath of its probability. Default: none.
        :param constraints_key: Key of a model-quality constraints.json in the data bucket.
            Default: none (runs report metrics and violate nothing).
        :param window_start: Predictions captured from this long before a run... Default: 7
            days. Whole hours, at most 9999.
        :param window_end: ...to this long before it (shorter than window_start). Default: 1 day.
        :param schedule_expression: Model Monitor's cron forms (MONITOR-1). Default: daily.
        :param instance_type: Of each monitoring job. Default: ml.m5.xlarge.
        :param instance_count: Of each monitoring job. Default: 1.
        :param volume_size_gb: Of each monitoring job. Default: 20.
        :param max_runtime: Of each run: at most the time between two runs, 30 minutes on
            an hourly schedule (MONITOR-2). Default: 1 hour.
        :param network: Subnets and security groups of the jobs. Default: none.
        """
        super().__init__(scope, id_)
        problems = Problems("ModelQualityMonitor")
        for problem in schedule_problems(
            schedule_expression,
            max_runtime_s=int(max_runtime.to_seconds()),
            monitoring_type="ModelQuality",
        ):
            problems.add(problem)
        start_h, end_h = int(window_start.to_hours()), int(window_end.to_hours())
        for problem in window_problems(start_h, end_h):
            problems.add(problem)
        problems.check(
            start_h <= MAX_OFFSET_HOURS,
            f"window_start must be at most {MAX_OFFSET_HOURS} hours (got {start_h})",
        )
        # MONITOR-11 (ModelQualityAppSpecification API page).
        problems.check(
            problem_type in PROBLEM_TYPES,
            f"problem_type must be one of {', '.join(PROBLEM_TYPES)} (got {problem_type!r})",
        )
        problems.check(
            instance_type in PROCESSING_INSTANCE_TYPES,
            f"instance_type {instance_type!r} is not an instance type processing jobs accept",
        )
        for name, prefix in (
            ("captured_prefix", captured_prefix),
            ("monitoring_prefix", monitoring_prefix),
        ):
            problems.check(prefix.endswith("/"), f"{name} must end with '/' (got {prefix!r})")
        problems.raise_if_any()

        self.endpoint_name = endpoint_name
        self.schedule_name = schedule_name
        """The monitoring schedule's name (the metrics' MonitoringSchedule dimension)."""
        self.data_bucket = data_bucket
        self.ground_truth_prefix = f"{monitoring_prefix}ground-truth/"
        """Where the ground-truth records go (`yyyy/mm/dd/hh/` below it)."""
        self.reports_prefix = f"{monitoring_prefix}reports/"
        """Where the monitoring runs write their reports."""

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model Monitor of {schedule_name}: model quality jobs",
        )
        """The role the ground-truth merge and monitoring jobs run as."""
        self.image_uri = ContainerImage.from_service(MONITOR_IMAGE).bind(self, self.role)
        """The analyzer image, resolved per region."""
        reads = [f"{captured_prefix}*", f"{self.ground_truth_prefix}*"]
        if constraints_key is not None:
            reads.append(constraints_key)
        writes = [f"{self.reports_prefix}*"]
        log_arn = grant_monitoring_jobs(
            self.role,
            bucket=data_bucket,
            encryption_key=encryption_key,
            reads=reads,
            writes=writes,
            network=network,
        )

        def uri(key: str) -> str:
            return f"s3://{data_bucket.bucket_name}/{key}"

        job = sagemaker.CfnModelQualityJobDefinition
        self.job_definition = job(
            self,
            "JobDefinition",
            model_quality_app_specification=job.ModelQualityAppSpecificationProperty(
                image_uri=self.image_uri, problem_type=problem_type
            ),
            model_quality_baseline_config=job.ModelQualityBaselineConfigProperty(
                constraints_resource=job.ConstraintsResourceProperty(s3_uri=uri(constraints_key))
            )
            if constraints_key is not None
            else None,
            model_quality_job_input=job.ModelQualityJobInputProperty(
                endpoint_input=job.EndpointInputProperty(
                    endpoint_name=endpoint_name,
                    local_path=ENDPOINT_INPUT,
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                    inference_attribute=inference_attribute,
                    probability_attribute=probability_attribute,
                    # MONITOR-8 (model-monitor-model-quality-schedule page: offsets).
                    start_time_offset=offset(start_h),
                    end_time_offset=offset(end_h),
                ),
                ground_truth_s3_input=job.MonitoringGroundTruthS3InputProperty(
                    s3_uri=uri(self.ground_truth_prefix.rstrip("/"))
                ),
            ),
            model_quality_job_output_config=job.MonitoringOutputConfigProperty(
                kms_key_id=encryption_key.key_arn,
                monitoring_outputs=[
                    job.MonitoringOutputProperty(
                        s3_output=job.S3OutputProperty(
                            local_path=OUTPUT,
                            s3_uri=uri(self.reports_prefix.rstrip("/")),
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=job.MonitoringResourcesProperty(
                cluster_config=job.ClusterConfigProperty(
                    instance_count=instance_count,
                    instance_type=instance_type,
                    volume_size_in_gb=volume_size_gb,
                    volume_kms_key_id=None
                    if has_local_nvme_storage(instance_type)
                    else encryption_key.key_arn,
                )
            ),
            network_config=job.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=job.VpcConfigProperty(
                    security_group_ids=list(network.security_group_ids),
                    subnets=list(network.subnet_ids),
                )
                if network is not None
                else None,
            ),
            role_arn=self.role.role_arn,
            stopping_condition=job.StoppingConditionProperty(
                max_runtime_in_seconds=int(max_runtime.to_seconds())
            ),
        )
        """`AWS::SageMaker::ModelQualityJobDefinition` (generated name)."""
        self.schedule = monitoring_schedule(
            self,
            job_definition=self.job_definition,
            role=self.role,
            schedule_name=schedule_name,
            endpoint_name=endpoint_name,
            monitoring_type="ModelQuality",
            schedule_expression=schedule_expression,
        )
        """`AWS::SageMaker::MonitoringSchedule` (MonitoringType ModelQuality)."""

        self.violations_alarm = schedule_alarm(
            self,
            "ViolationsAlarm",
            metric=self.metric("Violations"),
            description=f"{schedule_name}: model quality broke its constraints",
            topic=alerts_topic,
        )
        """Fires when a run reports violations of the constraints."""
        self.failed_alarm = schedule_alarm(
            self,
            "FailedRunAlarm",
            metric=self.metric("ExecutionFailed"),
            description=f"{schedule_name}: a Model Monitor run failed or was stopped",
            topic=alerts_topic,
        )
        """Fires when a run fails or is stopped."""
        acknowledge_monitoring_role(
            self.role,
            bucket=data_bucket,
            patterns=[*reads, *writes],
            log_arn=log_arn,
            reason="Model Monitor reads the endpoint's captured data and the ground truth "
            "(objects in hourly folders) and writes reports named per run under this "
            "endpoint's model-quality prefix; monitoring jobs, named by SageMaker, log to "
            "streams of the processing jobs' log group.",
        )

    def metric(self, name: str, *, period: Duration = Duration.hours(1)) -> cloudwatch.Metric:
        """A metric the kit publishes for this schedule (Violations, ExecutionFailed)."""
        return schedule_metric(self.endpoint_name, self.schedule_name, name, period)
