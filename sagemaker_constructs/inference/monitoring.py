"""Model Monitor on an endpoint: the data-quality baseline (a workflow running the
analyzer over a dataset), the monitoring schedule over the captured data
(`AWS::SageMaker::DataQualityJobDefinition` + `AWS::SageMaker::MonitoringSchedule`), and
violations as CloudWatch metrics with alarms to the alerts topic.

The analyzer image is SageMaker's, resolved per region from the generated image table
(`ContainerImage.from_service("model-monitor")`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from aws_cdk import ArnFormat, CfnResource, Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..common import (
    PROCESSING_JOB,
    ContainerImage,
    LoggedStateMachine,
    Problems,
    PythonFunction,
    SageMakerJobTask,
    acknowledge,
    acknowledge_wildcards,
    has_local_nvme_storage,
)
from ..common.execution_role import grant_network_interfaces
from ..common.instance_types import PROCESSING_INSTANCE_TYPES
from ..foundation import NetworkPlacement
from ..training.steps import (
    describe_job,
    error_branch,
    failure_branch,
    grant_publish,
    notify,
    workflow_timeout,
)
from .monitoring_rules import MONITOR_IMAGE, schedule_problems

RUNTIME = Path(__file__).with_name("runtime")
PREPROCESSORS: dict[str, Path] = {
    "deepar": RUNTIME / "preprocessors" / "deepar.py",
    "classifier": RUNTIME / "preprocessors" / "classifier.py",
}
"""The kit's record preprocessors (Model Monitor runs one per captured invocation)."""
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
CONTAINER_BASE = "/opt/ml/processing"
BASELINE_INPUT = f"{CONTAINER_BASE}/input/baseline_dataset_input"
ENDPOINT_INPUT = f"{CONTAINER_BASE}/input/endpoint"
OUTPUT = f"{CONTAINER_BASE}/output"
METRICS_NAMESPACE = "smkit/ModelMonitor"
"""Where the kit publishes violations (dimensions Endpoint and MonitoringSchedule)."""
MAX_JOB_NAME_PREFIX = 30
"""A prefix that leaves room for `-<32 hex>` in a processing job's 63 characters."""


@dataclass(frozen=True)
class MonitoringBaseline:
    """The dataset a baseline job derives statistics and constraints from."""

    dataset_key: str
    """Key or key prefix of the dataset in the data bucket."""
    dataset_format: Literal["jsonlines", "csv"] = "jsonlines"
    """One flat JSON object per line, or CSV."""
    csv_header: bool = True
    """For CSV: the first line names the columns."""
    instance_type: str = "ml.m5.xlarge"
    """Instance type of the baseline job."""
    volume_size_gb: int = 20
    """Storage of the baseline job."""
    max_runtime: Duration = Duration.hours(1)
    """Longest the baseline job may run. Valid range: 1 second - 7 days."""

    def dataset_format_env(self) -> str:
        """The analyzer's `dataset_format` (as the SageMaker SDK's DatasetFormat writes it)."""
        if self.dataset_format == "csv":
            return json.dumps(
                {"csv": {"header": self.csv_header, "output_columns_position": "START"}}
            )
        return json.dumps({"json": {"lines": True}})


class DataQualityMonitor(Construct):
    """Data quality monitoring of one endpoint's captured requests.

    - A baseline workflow runs the analyzer over `baseline.dataset_key` and writes
      `statistics.json` and `constraints.json` under `<monitoring_prefix>baseline/`
      (always the same keys: the schedule reads them there; the versioned bucket keeps
      earlier baselines). Run it before the schedule's first run, and again when the
      model or its data changes.
    - The schedule analyses each period's captured data against that baseline and writes
      its reports under `<monitoring_prefix>reports/`.
    - Two alarms notify the alerts topic: violations in a run, and a run that failed.
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
        baseline: MonitoringBaseline,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        job_name_prefix: str,
        title: str,
        schedule_expression: str = "cron(0 * ? * * *)",
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        volume_size_gb: int = 20,
        max_runtime: Duration = Duration.hours(1),
        record_preprocessor: str | None = None,
        publish_feature_metrics: bool = False,
        network: NetworkPlacement | None = None,
        tags: Mapping[str, str] | None = None,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param endpoint_name: The endpoint monitored (use the endpoint resource's name
            attribute: the schedule must be created after the endpoint and deleted before).
        :param schedule_name: Name of the monitoring schedule (1-63 letters, digits, hyphens).
        :param data_bucket: Bucket of the captured data, the baseline dataset and reports.
        :param captured_prefix: Key prefix of the endpoint's data capture (ending in `/`).
        :param monitoring_prefix: Key prefix of the baseline and reports (ending in `/`).
        :param baseline: The baseline dataset and job.
        :param encryption_key: Key of the outputs, the volumes and the logs.
        :param alerts_topic: Where the alarms and the baseline workflow notify.
        :param job_name_prefix: Lower-case prefix of the baseline jobs' names (at most 30).
        :param title: Names the workflow in alerts, e.g. `smkit demand-forecast baseline`.
        :param schedule_expression: Model Monitor's cron forms (MONITOR-1). Default: hourly.
        :param instance_type: Of each monitoring job. Default: ml.m5.xlarge.
        :param instance_count: Of each monitoring job. Default: 1.
        :param volume_size_gb: Of each monitoring job. Default: 20.
        :param max_runtime: Of each monitoring job: at most the time between two runs
            (MONITOR-2). Default: 1 hour.
        :param record_preprocessor: `deepar` or `classifier` (`PREPROCESSORS`). Default: none.
        :param publish_feature_metrics: The analyzer's per-feature CloudWatch metrics.
            Default: off.
        :param network: Subnets and security groups of the jobs. Default: none.
        :param tags: Tags of the baseline jobs and the schedule. Default: none.
        :param log_retention_days: Of the baseline workflow's logs. Default: 365.
        """
        super().__init__(scope, id_)
        problems = Problems("DataQualityMonitor")
        for problem in schedule_problems(
            schedule_expression,
            max_runtime_s=int(max_runtime.to_seconds()),
            monitoring_type="DataQuality",
        ):
            problems.add(problem)
        for name, value in (
            ("instance_type", instance_type),
            ("baseline.instance_type", baseline.instance_type),
        ):
            problems.check(
                value in PROCESSING_INSTANCE_TYPES,
                f"{name} {value!r} is not an instance type processing jobs accept",
            )
        baseline_s = int(baseline.max_runtime.to_seconds())
        problems.check(
            1 <= baseline_s <= 7 * 86400,
            f"baseline.max_runtime must be 1 second to 7 days (got {baseline_s} s)",
        )
        problems.check(
            record_preprocessor is None or record_preprocessor in PREPROCESSORS,
            f"record_preprocessor must be one of {', '.join(PREPROCESSORS)} "
            f"(got {record_preprocessor!r})",
        )
        problems.check(
            job_name_prefix == job_name_prefix.lower()
            and 1 <= len(job_name_prefix) <= MAX_JOB_NAME_PREFIX,
            f"job_name_prefix must be 1-{MAX_JOB_NAME_PREFIX} lower-case characters "
            f"(got {job_name_prefix!r})",
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
        self.encryption_key = encryption_key
        self.baseline_prefix = f"{monitoring_prefix}baseline/"
        """Where the baseline's statistics.json and constraints.json are."""
        self.reports_prefix = f"{monitoring_prefix}reports/"
        """Where the monitoring jobs write their reports."""
        self._captured_prefix = captured_prefix
        self._tags = dict(tags or {})

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model Monitor of {schedule_name}: baseline and monitoring jobs",
        )
        """The role the baseline and monitoring jobs run as."""
        self.image_uri = ContainerImage.from_service(MONITOR_IMAGE).bind(self, self.role)
        """The analyzer image, resolved per region."""
        preprocessor_uri = None
        if record_preprocessor is not None:
            asset = s3_assets.Asset(
                self, "RecordPreprocessor", path=str(PREPROCESSORS[record_preprocessor])
            )
            asset.grant_read(self.role)
            preprocessor_uri = asset.s3_object_url
            acknowledge_wildcards(
                self.role,
                resources=[asset.bucket.arn_for_objects("*")],
                reason="The record preprocessor is a CDK file asset named by its hash in the "
                "CDK assets bucket; CDK's asset grant reads objects of that bucket only.",
            )
        self._grant(baseline, network)

        volume_key = encryption_key.key_arn
        self.job_definition = sagemaker.CfnDataQualityJobDefinition(
            self,
            "JobDefinition",
            data_quality_app_specification=sagemaker.CfnDataQualityJobDefinition.DataQualityAppSpecificationProperty(
                image_uri=self.image_uri,
                record_preprocessor_source_uri=preprocessor_uri,
                environment={
                    "publish_cloudwatch_metrics": "Enabled"
                    if publish_feature_metrics
                    else "Disabled"
                },
            ),
            data_quality_baseline_config=sagemaker.CfnDataQualityJobDefinition.DataQualityBaselineConfigProperty(
                constraints_resource=sagemaker.CfnDataQualityJobDefinition.ConstraintsResourceProperty(
                    s3_uri=self._uri(f"{self.baseline_prefix}constraints.json")
                ),
                statistics_resource=sagemaker.CfnDataQualityJobDefinition.StatisticsResourceProperty(
                    s3_uri=self._uri(f"{self.baseline_prefix}statistics.json")
                ),
            ),
            data_quality_job_input=sagemaker.CfnDataQualityJobDefinition.DataQualityJobInputProperty(
                endpoint_input=sagemaker.CfnDataQualityJobDefinition.EndpointInputProperty(
                    endpoint_name=endpoint_name,
                    local_path=ENDPOINT_INPUT,
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
            data_quality_job_output_config=sagemaker.CfnDataQualityJobDefinition.MonitoringOutputConfigProperty(
                kms_key_id=encryption_key.key_arn,
                monitoring_outputs=[
                    sagemaker.CfnDataQualityJobDefinition.MonitoringOutputProperty(
                        s3_output=sagemaker.CfnDataQualityJobDefinition.S3OutputProperty(
                            local_path=OUTPUT,
                            s3_uri=self._uri(self.reports_prefix.rstrip("/")),
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=sagemaker.CfnDataQualityJobDefinition.MonitoringResourcesProperty(
                cluster_config=sagemaker.CfnDataQualityJobDefinition.ClusterConfigProperty(
                    instance_count=instance_count,
                    instance_type=instance_type,
                    volume_size_in_gb=volume_size_gb,
                    volume_kms_key_id=None if has_local_nvme_storage(instance_type) else volume_key,
                )
            ),
            network_config=sagemaker.CfnDataQualityJobDefinition.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=(
                    sagemaker.CfnDataQualityJobDefinition.VpcConfigProperty(
                        security_group_ids=list(network.security_group_ids),
                        subnets=list(network.subnet_ids),
                    )
                    if network is not None
                    else None
                ),
            ),
            role_arn=self.role.role_arn,
            stopping_condition=sagemaker.CfnDataQualityJobDefinition.StoppingConditionProperty(
                max_runtime_in_seconds=int(max_runtime.to_seconds())
            ),
        )
        """`AWS::SageMaker::DataQualityJobDefinition` (generated name)."""
        self.schedule = monitoring_schedule(
            self,
            job_definition=self.job_definition,
            role=self.role,
            schedule_name=schedule_name,
            endpoint_name=endpoint_name,
            monitoring_type="DataQuality",
            schedule_expression=schedule_expression,
        )
        """`AWS::SageMaker::MonitoringSchedule`: created after the endpoint and the role's
        policy (SageMaker checks both), deleted before the endpoint."""

        self.baseline_workflow = self._baseline_workflow(
            baseline=baseline,
            job_name_prefix=job_name_prefix,
            alerts_topic=alerts_topic,
            title=title,
            network=network,
            log_retention_days=log_retention_days,
        )
        """The state machine that runs the baseline job."""

        self.violations_alarm = self._alarm(
            "ViolationsAlarm",
            "Violations",
            f"{schedule_name}: Model Monitor found violations of the baseline's constraints",
            alerts_topic,
        )
        """Fires when a monitoring run reports violations."""
        self.failed_alarm = self._alarm(
            "FailedRunAlarm",
            "ExecutionFailed",
            f"{schedule_name}: a Model Monitor run failed or was stopped",
            alerts_topic,
        )
        """Fires when a monitoring run fails or is stopped."""
        self._acknowledge()

    # --- metrics --------------------------------------------------------------------------

    def metric(self, name: str, *, period: Duration = Duration.hours(1)) -> cloudwatch.Metric:
        """A metric the kit publishes for this schedule (Violations, ExecutionFailed)."""
        return schedule_metric(self.endpoint_name, self.schedule_name, name, period)

    def _alarm(
        self, id_: str, metric: str, description: str, topic: sns.ITopic
    ) -> cloudwatch.Alarm:
        return schedule_alarm(
            self, id_, metric=self.metric(metric), description=description, topic=topic
        )

    # --- baseline workflow ----------------------------------------------------------------

    def _uri(self, key: str) -> str:
        return f"s3://{self.data_bucket.bucket_name}/{key}"

    def baseline_request(
        self, baseline: MonitoringBaseline, job_name: str, network: NetworkPlacement | None
    ) -> dict[str, Any]:
        """The CreateProcessingJob request of one baseline run (`job_name` a JSONPath)."""
        resources: dict[str, Any] = {
            "InstanceCount": 1,
            "InstanceType": baseline.instance_type,
            "VolumeSizeInGB": baseline.volume_size_gb,
        }
        if not has_local_nvme_storage(baseline.instance_type):
            resources["VolumeKmsKeyId"] = self.encryption_key.key_arn
        network_config: dict[str, Any] = {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
        }
        if network is not None:
            network_config["VpcConfig"] = network.vpc_config()
        request: dict[str, Any] = {
            "ProcessingJobName.$": job_name,
            "ProcessingInputs": [
                {
                    "InputName": "baseline_dataset_input",
                    "S3Input": {
                        "S3Uri": self._uri(baseline.dataset_key),
                        "LocalPath": BASELINE_INPUT,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "monitoring_output",
                        "S3Output": {
                            "S3Uri": self._uri(self.baseline_prefix.rstrip("/")),
                            "LocalPath": OUTPUT,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
                "KmsKeyId": self.encryption_key.key_arn,
            },
            "ProcessingResources": {"ClusterConfig": resources},
            "StoppingCondition": {"MaxRuntimeInSeconds": int(baseline.max_runtime.to_seconds())},
            "AppSpecification": {"ImageUri": self.image_uri},
            # MONITOR-7 (model-monitor-byoc-contract-inputs page): the analyzer's contract,
            # as the SageMaker SDK's suggest_baseline sets it.
            "Environment": {
                "dataset_format": baseline.dataset_format_env(),
                "dataset_source": BASELINE_INPUT,
                "output_path": OUTPUT,
                "publish_cloudwatch_metrics": "Disabled",
            },
            "NetworkConfig": network_config,
            "RoleArn": self.role.role_arn,
        }
        if self._tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in self._tags.items()]
        return request

    def _baseline_workflow(
        self,
        *,
        baseline: MonitoringBaseline,
        job_name_prefix: str,
        alerts_topic: sns.ITopic,
        title: str,
        network: NetworkPlacement | None,
        log_retention_days: int,
    ) -> LoggedStateMachine:
        name = sfn.Pass(
            self,
            "NameJob",
            comment="The job's name: the prefix and the MD5 of the execution ARN",
            parameters={
                "job.$": f"States.Format('{job_name_prefix}-{{}}', "
                "States.Hash($$.Execution.Id, 'MD5'))"
            },
            result_path="$.names",
        )
        self.baseline_task = SageMakerJobTask(
            self,
            "Baseline",
            kind=PROCESSING_JOB,
            parameters=self.baseline_request(baseline, "$.names.job", network),
            job_name_prefix=f"{job_name_prefix}-",
            passed_roles=[self.role],
            keys_for_grants=[self.encryption_key],
            comment="Runs the analyzer over the baseline dataset",
        )
        """The baseline Task state and its IAM statements."""
        task = self.baseline_task.state
        stack = Stack.of(self)
        own_jobs = stack.format_arn(
            service="sagemaker", resource="processing-job", resource_name=f"{job_name_prefix}-*"
        )
        describe_failed = describe_job(
            self,
            "DescribeFailedJob",
            action="DescribeProcessingJob",
            name_field="ProcessingJobName",
            name_path="$.names.job",
            resource_arn=own_jobs,
            result_path="$.failed",
        )
        explain_failure = failure_branch(
            self,
            topic=alerts_topic,
            title=title,
            kind="baseline job",
            status_field="ProcessingJobStatus",
        )
        notify_error = error_branch(self, topic=alerts_topic, title=title)
        succeeded = notify(
            self,
            "NotifySuccess",
            topic=alerts_topic,
            subject=f"{title}: baseline ready",
            message={
                "workflow": title,
                "outcome": "SUCCEEDED",
                "execution": sfn.JsonPath.execution_id,
                "job": sfn.JsonPath.string_at("$.names.job"),
                "statistics": self._uri(f"{self.baseline_prefix}statistics.json"),
                "constraints": self._uri(f"{self.baseline_prefix}constraints.json"),
            },
        )
        done = sfn.Pass(
            self,
            "Done",
            parameters={
                "baseline_job.$": "$.names.job",
                "statistics": self._uri(f"{self.baseline_prefix}statistics.json"),
                "constraints": self._uri(f"{self.baseline_prefix}constraints.json"),
            },
        )
        task.add_catch(describe_failed, errors=["States.ALL"], result_path="$.error")
        describe_failed.add_catch(notify_error, errors=["States.ALL"], result_path="$.describe")
        describe_failed.next(explain_failure)
        name.next(task).next(succeeded).next(done)
        logged = LoggedStateMachine(
            self,
            "BaselineWorkflow",
            definition=name,
            encryption_key=self.encryption_key,
            timeout=workflow_timeout(baseline.max_runtime.to_seconds()),
            comment=f"{title}: data quality baseline, alert",
            log_retention_days=log_retention_days,
        )
        self.baseline_task.grant(logged.state_machine)
        grant_publish(logged.state_machine, alerts_topic, self.encryption_key)
        acknowledge_wildcards(
            logged.state_machine.role,
            resources=[own_jobs],
            reason=f"Baseline job names are made per run; the workflow may describe only "
            f"processing jobs named '{job_name_prefix}-*'.",
        )
        return logged

    # --- permissions ----------------------------------------------------------------------

    def _grant(self, baseline: MonitoringBaseline, network: NetworkPlacement | None) -> None:
        self._reads = [
            f"{baseline.dataset_key}*",
            f"{self._captured_prefix}*",
            f"{self.baseline_prefix}*",
        ]
        self._writes = [f"{self.baseline_prefix}*", f"{self.reports_prefix}*"]
        self._log_arn = grant_monitoring_jobs(
            self.role,
            bucket=self.data_bucket,
            encryption_key=self.encryption_key,
            reads=self._reads,
            writes=self._writes,
            network=network,
        )

    def _acknowledge(self) -> None:
        acknowledge_monitoring_role(
            self.role,
            bucket=self.data_bucket,
            patterns=[*self._reads, *self._writes],
            log_arn=self._log_arn,
            reason="Model Monitor reads the baseline dataset and the endpoint's captured data "
            "and writes the baseline and reports under this endpoint's monitoring prefix "
            "(objects named per run); monitoring jobs, named by SageMaker, log to streams of "
            "the processing jobs' log group.",
        )


def monitoring_schedule(
    scope: Construct,
    *,
    job_definition: CfnResource,
    role: iam.Role,
    schedule_name: str,
    endpoint_name: str,
    monitoring_type: str,
    schedule_expression: str,
) -> sagemaker.CfnMonitoringSchedule:
    """The `AWS::SageMaker::MonitoringSchedule` of a job definition (data or model
    quality), both created after the role's policy: SageMaker checks the role's access
    when it creates them."""
    schedule = sagemaker.CfnMonitoringSchedule(
        scope,
        "Schedule",
        monitoring_schedule_name=schedule_name,
        endpoint_name=endpoint_name,
        monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
            # CloudFormation names the definition (a change replaces it under a new name)
            # and returns only its ARN: `...:<type>-job-definition/<name>`.
            monitoring_job_definition_name=Fn.select(
                1, Fn.split("/", job_definition.get_att("JobDefinitionArn").to_string())
            ),
            monitoring_type=monitoring_type,
            schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                schedule_expression=schedule_expression
            ),
        ),
    )
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is not None:
        job_definition.node.add_dependency(policy)
        schedule.node.add_dependency(policy)
    return schedule


def grant_monitoring_jobs(
    role: iam.Role,
    *,
    bucket: s3.IBucket,
    encryption_key: kms.IKey,
    reads: list[str],
    writes: list[str],
    network: NetworkPlacement | None,
) -> str:
    """What a Model Monitor job's role needs: read and write its keys of the data bucket,
    use the key, write the processing jobs' logs and SageMaker's metrics, run in the
    subnets. Returns the log group's ARN."""
    for pattern in reads:
        bucket.grant_read(role, pattern)
    for pattern in writes:
        bucket.grant_put(role, pattern)
    encryption_key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
    log_arn = Stack.of(role).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{PROCESSING_LOG_GROUP}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:DescribeLogStreams",
                "logs:PutLogEvents",
            ],
            resources=[log_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={
                "StringLike": {"cloudwatch:namespace": ["aws/sagemaker/*", "/aws/sagemaker/*"]}
            },
        )
    )
    if network is not None:
        grant_network_interfaces(role, network)
    return log_arn


def acknowledge_monitoring_role(
    role: iam.Role, *, bucket: s3.IBucket, patterns: list[str], log_arn: str, reason: str
) -> None:
    """The cdk-nag acknowledgements of `grant_monitoring_jobs`'s wildcards."""
    acknowledge_wildcards(
        role,
        actions=[
            "s3:GetObject*",
            "s3:GetBucket*",
            "s3:List*",
            "s3:Abort*",
            "kms:GenerateDataKey*",
            "kms:ReEncrypt*",
        ],
        resources=[*(bucket.arn_for_objects(p) for p in set(patterns)), log_arn],
        reason=reason,
    )
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudwatch:PutMetricData (limited to SageMaker's namespaces by condition) and the "
        "EC2 Describe* calls SageMaker makes for VPC jobs accept no resource ARN.",
    )


def schedule_alarm(
    scope: Construct, id_: str, *, metric: cloudwatch.Metric, description: str, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """An alarm when a schedule's kit metric (Violations, ExecutionFailed) reaches 1."""
    alarm = cloudwatch.Alarm(
        scope,
        id_,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        # No run in the period (nothing captured, or a daily schedule) is no problem.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


def schedule_metric(
    endpoint_name: str, schedule_name: str, name: str, period: Duration
) -> cloudwatch.Metric:
    """A metric the kit publishes for a schedule (Violations, ExecutionFailed)."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name},
        statistic="Maximum",
        period=period,
    )


class MonitoredSchedule(Protocol):
    """What the metrics function needs to know of a monitoring schedule."""

    @property
    def schedule_name(self) -> str: ...

    @property
    def endpoint_name(self) -> str: ...

    @property
    def data_bucket(self) -> s3.IBucket: ...

    @property
    def reports_prefix(self) -> str: ...


class MonitoringMetrics(Construct):
    """Publishes the violations of the given monitoring schedules as CloudWatch metrics
    (`METRICS_NAMESPACE`): a function on every ended processing job of the account
    (EventBridge) that keeps those of these schedules (runtime/monitor_metrics)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        monitors: Sequence[MonitoredSchedule],
        encryption_key: kms.IKey,
        log_retention_days: int = 365,
    ) -> None:
        """
        :param monitors: The schedules whose runs are measured (at least one).
        :param encryption_key: Key of the function's logs and environment.
        :param log_retention_days: Of the function's logs. Default: 365.
        """
        super().__init__(scope, id_)
        if not monitors:
            raise ValueError("Invalid MonitoringMetrics props: monitors needs at least one monitor")
        self.function = PythonFunction(
            self,
            "Function",
            code_dir=RUNTIME / "monitor_metrics",
            description="Publishes Model Monitor violations of the platform's monitoring "
            "schedules as CloudWatch metrics",
            encryption_key=encryption_key,
            environment={
                "SCHEDULES": Stack.of(self).to_json_string(
                    {m.schedule_name: m.endpoint_name for m in monitors}
                ),
                "NAMESPACE": METRICS_NAMESPACE,
            },
            timeout=Duration.minutes(1),
            log_retention_days=log_retention_days,
        )
        """The function (`function.function`)."""
        role = self.function.role
        stack = Stack.of(self)
        jobs = stack.format_arn(service="sagemaker", resource="processing-job", resource_name="*")
        role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:DescribeProcessingJob"], resources=[jobs])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        reports = []
        for monitor in monitors:
            monitor.data_bucket.grant_read(role, f"{monitor.reports_prefix}*")
            reports.append(monitor.data_bucket.arn_for_objects(f"{monitor.reports_prefix}*"))
        self.rule = events.Rule(
            self,
            "OnEndedJob",
            description="Every ended processing job: the function keeps the monitoring runs",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={"ProcessingJobStatus": ["Completed", "Failed", "Stopped"]},
            ),
            targets=[targets.LambdaFunction(self.function.function, retry_attempts=8)],
        )
        """The EventBridge rule that invokes the function."""
        acknowledge_wildcards(
            role,
            actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
            resources=[jobs, *reports],
            reason="SageMaker names monitoring jobs and their report folders per run; the "
            "function may describe processing jobs and read only the monitoring reports.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData accepts no resource ARN; it is limited to the kit's "
            "Model Monitor namespace by condition.",
        )
