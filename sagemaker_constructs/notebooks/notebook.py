"""A secure SageMaker notebook instance with kernels, idle stop and SDK defaults."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, Fn, RemovalPolicy, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..common import (
    Problems,
    acknowledge,
    acknowledge_wildcards,
    describe_allowed,
    retention_days,
    retention_problem,
)
from ..common.instance_types import NOTEBOOK_INSTANCE_TYPES
from ..foundation import NetworkPlacement
from .kernels import Kernel, PackageSources, check_kernels
from .platforms import DEFAULT_PLATFORM, instance_type_problem, platform_problem
from .repository import GitRepository
from .scripts import MAX_LENGTHS, OnStartScript, on_start_script
from .sdk_config import sdk_defaults, to_yaml
from .work_access import (
    acknowledge_notebook_work,
    grant_notebook_work,
    log_group_arn,
    sagemaker_arn,
)

_NAME = re.compile(r"[a-z0-9](-*[a-z0-9])*")

IDLE_STOP_NAMESPACE = "smkit/Notebooks"
IDLE_STOP_FAILURES = "IdleStopConsecutiveFailures"
"""Metric of the idle stop's `consecutive_failures` (dimension `Notebook`): runs in a row
that could not decide or act."""
NOTEBOOK_LOG_GROUP = "/aws/sagemaker/NotebookInstances"
"""Where SageMaker writes the lifecycle script's output and Jupyter's log, as the notebook's
role (one stream per notebook and hook: `<name>/LifecycleConfigOnStart`, ...)."""


def idle_stop_log_group(notebook_name: str) -> str:
    """Name of the log group of a notebook's idle-stop decisions."""
    return f"/smkit/notebooks/{notebook_name}/idle-stop"


class NotebookInstance(Construct):
    """A SageMaker notebook instance for one person or team.

    - Encrypted volume (the platform's KMS key), IMDSv2 only, root access off by default,
      `Owner` tag; in a VPC (first subnet, the placement's security groups) with direct
      internet access off unless asked for.
    - Its own role: read/write the data bucket, read the artifacts bucket and write its own
      prefix there (`notebooks/<name>/`), use the platform key, the SageMaker actions of
      training, tuning, processing and models, describe and invoke endpoints, read
      SageMaker's logs, pass only `job_role` (to SageMaker), stop only itself.
    - A lifecycle configuration (on start): the SageMaker SDK defaults file, the idle
      stop (cron, embedded script, decisions in an encrypted log group of its own) and the
      kernels (conda environments on the volume, built in the background).
    - An alarm when the idle stop fails `idle_stop_alarm_runs` runs in a row (Jupyter did
      not answer, or an AWS call failed): the instance is then never stopped when idle.
    - Git repositories: a default one and up to three more.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        notebook_name: str,
        owner: str,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        job_role: iam.IRole,
        instance_type: str = "ml.t3.medium",
        volume_size_gb: int = 20,
        platform_identifier: str = DEFAULT_PLATFORM,
        root_access: bool = False,
        network: NetworkPlacement | None = None,
        direct_internet_access: bool | None = None,
        kernels: Sequence[Kernel] = (),
        package_sources: PackageSources | None = None,
        idle_stop_minutes: int | None = 60,
        idle_stop_alarm_runs: int = 3,
        alerts_topic: sns.ITopic | None = None,
        log_retention_days: int = 365,
        default_repository: GitRepository | None = None,
        additional_repositories: Sequence[GitRepository] = (),
        sdk_tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param notebook_name: Instance name: 1-63 lower-case letters, digits and hyphens,
            starting and ending with a letter or digit (lower case: SageMaker lower-cases
            the name in the instance's ARN, which the role's policy names).
        :param owner: Who uses it; the `Owner` tag. 1-256 characters.
        :param encryption_key: The platform's KMS key (volume, buckets, logs).
        :param data_bucket: The platform's data bucket (read and write).
        :param artifacts_bucket: The artifacts bucket (read; write under `notebooks/<name>/`).
        :param job_role: The role jobs and models from this notebook run as: the SDK
            defaults name it, and it is the only role the notebook may pass.
        :param instance_type: Default: ml.t3.medium. A SageMaker notebook instance type
            that the platform runs (Amazon Linux 2023: no ml.p2, p3, p3dn, g3, inf1).
        :param volume_size_gb: Default: 20. Valid range: 5-16384.
        :param platform_identifier: Default: notebook-al2023-v1. One of
            PLATFORM_IDENTIFIERS (Amazon Linux 2 and older are refused: AWS no longer
            starts them).
        :param root_access: Root for the notebook's users. Default: False.
        :param network: VPC placement. Default: None (SageMaker-managed networking).
        :param direct_internet_access: Default: True without a network, False with one.
            False needs a network.
        :param kernels: Kernels to build. Default: none. Unique names.
        :param package_sources: Where kernels come from. Default: conda-forge and PyPI.
        :param idle_stop_minutes: Minutes without activity before the instance stops.
            Default: 60. Valid range: 10-1440; None turns the idle stop off.
        :param idle_stop_alarm_runs: Runs in a row (5 minutes apart) in which the idle
            stop could not decide or act before its alarm goes off. Default: 3. Valid
            range: 1-288.
        :param alerts_topic: Where the idle stop's alarm notifies. Default: nowhere (the
            alarm still shows in CloudWatch).
        :param log_retention_days: Of the idle-stop log group. Default: 365. One of
            CloudWatch Logs' retention periods.
        :param default_repository: Repository Jupyter opens in. Default: none.
        :param additional_repositories: Up to 3 more. Default: none.
        :param sdk_tags: Tags the SDK defaults put on jobs and models; `Owner` and
            `smkit:notebook` are added. Default: none besides those.
        :param removal_policy: Of the instance (its volume holds the user's work), its
            lifecycle configuration and its log group. Default: RETAIN.
        """
        super().__init__(scope, id_)
        sources = package_sources or PackageSources()
        internet = network is None if direct_internet_access is None else direct_internet_access
        problems = Problems("NotebookInstance")
        problems.check(
            len(notebook_name) <= 63 and bool(_NAME.fullmatch(notebook_name)),
            "notebook_name must be 1-63 lower-case letters, digits and hyphens, starting and "
            f"ending with a letter or digit (got {notebook_name!r})",
        )
        problems.check(0 < len(owner) <= 256, f"owner must be 1-256 characters (got {owner!r})")
        problems.check(
            instance_type in NOTEBOOK_INSTANCE_TYPES,
            f"instance_type must be a notebook instance type: "
            f"{describe_allowed(NOTEBOOK_INSTANCE_TYPES)} (got {instance_type!r})",
        )
        problems.check(
            5 <= volume_size_gb <= 16384,
            f"volume_size_gb must be 5-16384 (got {volume_size_gb})",
        )
        # NOTEBOOK-1 (nbi-al2.html) and NOTEBOOK-2 (nbi-al2023.html): see platforms.py.
        platform = platform_problem(platform_identifier)
        problems.check(platform is None, f"platform_identifier {platform}")
        unsupported = instance_type_problem(instance_type, platform_identifier)
        problems.check(unsupported is None, f"instance_type {unsupported}")
        problems.check(
            network is not None or internet,
            "direct_internet_access=False needs a network (AWS allows it only with a subnet)",
        )
        if idle_stop_minutes is not None:
            problems.check(
                10 <= idle_stop_minutes <= 1440,
                f"idle_stop_minutes must be 10-1440 or None (got {idle_stop_minutes})",
            )
        problems.check(
            1 <= idle_stop_alarm_runs <= 288,
            f"idle_stop_alarm_runs must be 1-288 (got {idle_stop_alarm_runs})",
        )
        retention = retention_problem(log_retention_days)
        problems.check(retention is None, retention or "")
        problems.check(
            len(additional_repositories) <= 3,
            f"additional_repositories takes at most 3 (got {len(additional_repositories)})",
        )
        check_kernels(kernels, sources, problems)
        problems.raise_if_any()

        stack = Stack.of(self)
        self.notebook_name = notebook_name
        """The instance's name."""
        self.notebook_arn = stack.format_arn(
            service="sagemaker", resource="notebook-instance", resource_name=notebook_name
        )
        """The instance's ARN (known before it exists, so policies can name it)."""
        self.artifacts_prefix = f"notebooks/{notebook_name}"
        """Its own prefix in the artifacts bucket (SDK uploads and job outputs)."""

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Notebook instance {notebook_name}",
        )
        """The notebook's execution role (its users act with it)."""
        self._grant_platform_access(encryption_key, data_bucket, artifacts_bucket, job_role)

        self.log_group: logs.LogGroup | None = None
        """The idle stop's decisions (None when the idle stop is off)."""
        self.idle_stop_alarm: cloudwatch.Alarm | None = None
        """In alarm while the idle stop keeps failing (None when the idle stop is off)."""
        log_group_name = idle_stop_log_group(notebook_name)
        if idle_stop_minutes is not None:
            # A fixed name (the instance's own name is fixed too) keeps the lifecycle script
            # free of a generated name of unknown length; outside /aws/sagemaker/, so job
            # roles that write SageMaker's logs cannot write here.
            self.log_group = logs.LogGroup(
                self,
                "IdleStopLogs",
                log_group_name=log_group_name,
                encryption_key=encryption_key,
                retention=retention_days(log_retention_days),
                removal_policy=removal_policy,
            )
            self.log_group.grant_write(self.role)
            self.idle_stop_alarm = self._idle_stop_alarm(idle_stop_alarm_runs, alerts_topic)
        # The SDK describes the notebook it runs in; the idle stop also stops it.
        own_actions = ["sagemaker:DescribeNotebookInstance"]
        if idle_stop_minutes is not None:
            own_actions.append("sagemaker:StopNotebookInstance")
        self.role.add_to_policy(
            iam.PolicyStatement(actions=own_actions, resources=[self.notebook_arn])
        )

        tags = {**(sdk_tags or {}), "Owner": owner, "smkit:notebook": notebook_name}
        defaults = sdk_defaults(
            job_role_arn=job_role.role_arn,
            bucket_name=artifacts_bucket.bucket_name,
            key_prefix=self.artifacts_prefix,
            kms_key_id=encryption_key.key_arn,
            network=network,
            tags=tags,
        )
        bounds = {
            job_role.role_arn: MAX_LENGTHS["role_arn"],
            artifacts_bucket.bucket_name: MAX_LENGTHS["bucket_name"],
            encryption_key.key_arn: MAX_LENGTHS["key_arn"],
            stack.region: MAX_LENGTHS["region"],
        }
        if network is not None:
            bounds.update((s, MAX_LENGTHS["subnet_id"]) for s in network.subnet_ids)
            bounds.update((g, MAX_LENGTHS["security_group_id"]) for g in network.security_group_ids)
        self.on_start: OnStartScript = on_start_script(
            sdk_defaults_yaml=to_yaml(defaults),
            notebook_name=notebook_name,
            region=stack.region,
            idle_minutes=idle_stop_minutes,
            log_group_name=log_group_name if self.log_group else None,
            kernels=kernels,
            sources=sources,
            bounds=bounds,
        )
        """The rendered on-start script."""
        self._check_script_size(notebook_name)

        self.lifecycle_config = sagemaker.CfnNotebookInstanceLifecycleConfig(
            self,
            "LifecycleConfig",
            on_start=[
                sagemaker.CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty(
                    content=Fn.base64(self.on_start.text)
                )
            ],
        )
        """The lifecycle configuration (on start)."""
        # A retained instance keeps what it names: its lifecycle configuration too.
        self.lifecycle_config.apply_removal_policy(removal_policy)

        repositories = [
            *([default_repository] if default_repository else []),
            *additional_repositories,
        ]
        for repository in repositories:
            repository.grant_clone(self.role)

        self.instance = sagemaker.CfnNotebookInstance(
            self,
            "Resource",
            notebook_instance_name=notebook_name,
            instance_type=instance_type,
            role_arn=self.role.role_arn,
            kms_key_id=encryption_key.key_arn,
            volume_size_in_gb=volume_size_gb,
            platform_identifier=platform_identifier,
            root_access="Enabled" if root_access else "Disabled",
            direct_internet_access="Enabled" if internet else "Disabled",
            subnet_id=network.subnet_ids[0] if network else None,
            security_group_ids=list(network.security_group_ids) if network else None,
            instance_metadata_service_configuration=sagemaker.CfnNotebookInstance.InstanceMetadataServiceConfigurationProperty(
                minimum_instance_metadata_service_version="2"
            ),
            lifecycle_config_name=self.lifecycle_config.attr_notebook_instance_lifecycle_config_name,
            default_code_repository=default_repository.repository_name
            if default_repository
            else None,
            additional_code_repositories=[r.repository_name for r in additional_repositories]
            or None,
        )
        """The notebook instance."""
        self.instance.apply_removal_policy(removal_policy)
        # The role's policy must exist before the instance starts and runs its script.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.instance.node.add_dependency(policy)
        Tags.of(self.instance).add("Owner", owner, priority=300)
        self._acknowledge(network, internet, artifacts_bucket, data_bucket)

    def metric_idle_stop_failures(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Runs in a row in which the idle stop could not decide or act (Maximum)."""
        return cloudwatch.Metric(
            namespace=IDLE_STOP_NAMESPACE,
            metric_name=IDLE_STOP_FAILURES,
            dimensions_map={"Notebook": self.notebook_name},
            statistic="Maximum",
            period=period or Duration.minutes(10),
        )

    def _idle_stop_alarm(self, runs: int, topic: sns.ITopic | None) -> cloudwatch.Alarm:
        assert self.log_group is not None
        # Every decision line carries the count; the metric is that count.
        logs.MetricFilter(
            self,
            "IdleStopFailures",
            log_group=self.log_group,
            filter_pattern=logs.FilterPattern.number_value("$.consecutive_failures", ">=", 0),
            metric_namespace=IDLE_STOP_NAMESPACE,
            metric_name=IDLE_STOP_FAILURES,
            metric_value="$.consecutive_failures",
            dimensions={"Notebook": "$.notebook"},
        )
        # Runs are 5 minutes apart: each 10-minute period holds at least one. A stopped
        # notebook sends nothing, which is not a failure.
        alarm = cloudwatch.Alarm(
            self,
            "IdleStopFailing",
            metric=self.metric_idle_stop_failures(),
            threshold=runs,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"The idle stop of notebook {self.notebook_name} could not decide or act "
                f"{runs} runs in a row (Jupyter did not answer, or an AWS call failed), so "
                "the instance is not stopped when idle. Its reasons: log group "
                f"{idle_stop_log_group(self.notebook_name)}."
            ),
        )
        if topic is not None:
            alarm.add_alarm_action(cw_actions.SnsAction(topic))
        return alarm

    def grant_open(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` open this notebook's Jupyter (a presigned URL) and see it."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:CreatePresignedNotebookInstanceUrl",
                "sagemaker:DescribeNotebookInstance",
            ],
            resource_arns=[self.notebook_arn],
        )

    def grant_start_stop(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` start and stop this notebook."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:DescribeNotebookInstance",
                "sagemaker:StartNotebookInstance",
                "sagemaker:StopNotebookInstance",
            ],
            resource_arns=[self.notebook_arn],
        )

    def _grant_platform_access(
        self,
        key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        job_role: iam.IRole,
    ) -> None:
        grant_notebook_work(
            self.role,
            encryption_key=key,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=self.artifacts_prefix,
            job_role=job_role,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                resources=[self._log_group_arn(NOTEBOOK_LOG_GROUP)],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self._notebook_streams_arn()],
            )
        )

    def _sagemaker_arn(self, suffix: str) -> str:
        return sagemaker_arn(Stack.of(self), suffix)

    def _log_group_arn(self, name: str) -> str:
        return log_group_arn(Stack.of(self), name)

    def _notebook_streams_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{NOTEBOOK_LOG_GROUP}:log-stream:{self.notebook_name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _check_script_size(self, notebook_name: str) -> None:
        problem = self.on_start.size_problem(
            f"on-start lifecycle script of notebook {notebook_name!r}"
        )
        problems = Problems("NotebookInstance")
        problems.check(problem is None, problem or "")
        problems.raise_if_any()

    def _acknowledge(
        self,
        network: NetworkPlacement | None,
        internet: bool,
        artifacts_bucket: s3.IBucket,
        data_bucket: s3.IBucket,
    ) -> None:
        if network is None:
            acknowledge(
                self.instance,
                "AwsSolutions-SM1",
                "Network mode 'none' was chosen: the platform has no VPC, so the notebook uses "
                "SageMaker-managed networking.",
            )
        if internet:
            acknowledge(
                self.instance,
                "AwsSolutions-SM3",
                "Direct internet access is on by configuration (network mode 'none' allows "
                "nothing else, or the notebook's direct_internet_access setting asks for it).",
            )
        acknowledge_notebook_work(
            self.role,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=self.artifacts_prefix,
        )
        acknowledge_wildcards(
            self.role,
            reason="SageMaker names log streams per job and notebook: the role reads SageMaker's "
            "log groups and writes only its own notebook's streams.",
            resources=[
                self._log_group_arn(NOTEBOOK_LOG_GROUP),
                self._notebook_streams_arn(),
            ],
        )
        if self.log_group is not None:
            acknowledge_wildcards(
                self.role,
                reason="The idle stop writes a stream of its own notebook's log group; CDK's "
                "grant names the group's streams with a wildcard.",
                resources=[f"{self.log_group.log_group_arn}"],
            )
