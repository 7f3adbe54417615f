"""One kind of training job: its execution role and the CreateTrainingJob request
(or a tuning job's training definition) that runs it.

CDK's SageMakerCreateTrainingJob cannot express managed spot training, checkpoints
or MaxWaitTimeInSeconds; this construct renders the whole request itself, so every
SageMaker option is available and the request is checked against botocore's shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..common import (
    TRAINING_JOB,
    ContainerImage,
    Problems,
    SageMakerJobTask,
    acknowledge,
    acknowledge_wildcards,
)
from ..common.execution_role import grant_network_interfaces
from ..common.instance_types import has_local_nvme_storage
from ..foundation import NetworkPlacement
from .algorithms import AlgorithmProfile
from .job_rules import (
    JsonPath,
    TrainingChannel,
    Value,
    default_max_wait_s,
    default_spot,
    training_job_problems,
)

MAX_RUNTIME = Duration.days(28)
"""SageMaker's limit on MaxRuntimeInSeconds."""
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


class TrainingJob(Construct):
    """A training job's execution role and request, for a workflow to run.

    The role may read only the channels' prefixes of the data bucket, write only under
    `artifacts_prefix` of the artifacts bucket (model output and checkpoints), use the
    key for that, pull its image, write its logs and metrics, and (in a VPC) manage its
    network interfaces there. Nothing else.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        image: ContainerImage,
        channels: Sequence[TrainingChannel],
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        artifacts_prefix: str,
        encryption_key: kms.IKey,
        instance_type: str,
        job_name_prefix: str,
        profile: AlgorithmProfile | None = None,
        hyperparameters: Mapping[str, str] | None = None,
        metric_definitions: Mapping[str, str] | None = None,
        input_mode: str = "File",
        gpu: bool = False,
        allowed_instance_types: Sequence[str] = (),
        instance_count: int = 1,
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.hours(4),
        spot: bool | None = None,
        max_wait: Duration | None = None,
        checkpoints: bool | None = None,
        network: NetworkPlacement | None = None,
        network_isolation: bool = True,
        inter_container_encryption: bool = True,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param image: The training image (asset, ECR, URI or built-in algorithm).
        :param channels: Input channels (1-20), each read from `data_bucket`.
        :param data_bucket: Bucket of the input data.
        :param artifacts_bucket: Bucket of model output and checkpoints.
        :param artifacts_prefix: Key prefix (ending in `/`) under which the job writes
            `output/` and `checkpoints/`.
        :param encryption_key: Key of the output (and of the volume, where the instance
            type has an EBS volume).
        :param instance_type: Default instance type. One of SageMaker's training types.
        :param job_name_prefix: Lower-case prefix of the names of the jobs that use this
            definition (their logs are the role's to write).
        :param profile: The algorithm's contract (hyperparameters, channels, metrics), checked
            at synth. Default: none (anything goes).
        :param hyperparameters: Static hyperparameters (name -> string value). At most 100.
        :param metric_definitions: Further metrics (name -> regex with one group) beyond the
            profile's. Not allowed for built-in algorithms. At most 40 in all.
        :param input_mode: `File` (default), `FastFile` or `Pipe`.
        :param gpu: The job needs NVIDIA GPUs: every instance type must have them. Default: False.
        :param allowed_instance_types: Further instance types a run may choose. Default: none.
        :param instance_count: Instances per job (distributed training). Default: 1.
            Valid range: 1-100.
        :param volume_size_gb: EBS volume per instance (ignored by SageMaker on instance types
            with local NVMe storage). Default: 30. Valid range: 1-16384.
        :param max_runtime: MaxRuntimeInSeconds. Default: 4 hours. Valid range: 1 second - 28 days.
        :param spot: Managed spot training (up to 90% cheaper; the job resumes from its
            checkpoints after an interruption). Default: on, except for a built-in algorithm
            that cannot checkpoint (DeepAR...), whose spot jobs SageMaker lets wait at most
            an hour in all.
        :param max_wait: With spot: how long the job may take including waiting for spot
            capacity; at least max_runtime. Default: twice max_runtime, at most 28 days (an
            hour for a built-in that cannot checkpoint).
        :param checkpoints: Sync /opt/ml/checkpoints to the artifacts bucket. Default: on,
            except for a built-in algorithm that writes no checkpoints.
        :param network: VPC placement. Default: none (SageMaker-managed network).
        :param network_isolation: No network access from the container. Default: True.
        :param inter_container_encryption: Encrypt traffic between instances. Default: True.
        :param environment: Container environment variables. Default: none. At most 100.
        :param tags: Tags of every job. Default: none. At most 50.
        """
        super().__init__(scope, id_)
        self.profile = profile
        self.channels = list(channels)
        self.data_bucket = data_bucket
        self.artifacts_bucket = artifacts_bucket
        self.artifacts_prefix = artifacts_prefix
        self.encryption_key = encryption_key
        self.instance_type = instance_type
        self.allowed_instance_types = [t for t in allowed_instance_types if t != instance_type]
        self.job_name_prefix = job_name_prefix
        self.hyperparameters = dict(hyperparameters or {})
        self.input_mode = input_mode
        self.instance_count = instance_count
        self.volume_size_gb = volume_size_gb
        self.max_runtime = max_runtime
        self.spot = default_spot(profile) if spot is None else spot
        """Whether jobs use managed spot training."""
        self.checkpoints = (
            (profile is None or profile.checkpointing) if checkpoints is None else checkpoints
        )
        """Whether jobs sync /opt/ml/checkpoints to the artifacts bucket."""
        self.network = network
        self.network_isolation = network_isolation
        self.inter_container_encryption = inter_container_encryption
        self.environment = dict(environment or {})
        self.tags = dict(tags or {})
        runtime_s = int(max_runtime.to_seconds())
        given_wait_s = int(max_wait.to_seconds()) if max_wait is not None else None
        if max_wait is None and self.spot:
            max_wait = Duration.seconds(default_max_wait_s(profile, runtime_s))
        self.max_wait = max_wait

        problems = Problems("TrainingJob")
        problems.check(
            bool(re.fullmatch(r"[a-z0-9](-*[a-z0-9])*", job_name_prefix))
            and len(job_name_prefix) <= 39,
            "job_name_prefix must be 1-39 lower-case letters, digits and hyphens, not ending "
            f"with a hyphen (got {job_name_prefix!r})",
        )
        problems.check(
            artifacts_prefix.endswith("/") and not artifacts_prefix.startswith("/"),
            f"artifacts_prefix must end with '/' and not start with one (got {artifacts_prefix!r})",
        )
        for problem in training_job_problems(
            profile=profile,
            channels=self.channels,
            input_mode=input_mode,
            instance_types=[instance_type, *self.allowed_instance_types],
            gpu=gpu,
            instance_count=instance_count,
            volume_size_gb=volume_size_gb,
            max_runtime_s=runtime_s,
            spot=self.spot,
            max_wait_s=given_wait_s,
            hyperparameters=self.hyperparameters,
            metric_definitions=dict(metric_definitions or {}),
            environment=self.environment,
        ):
            problems.add(problem)
        problems.check(len(self.tags) <= 50, f"at most 50 tags (got {len(self.tags)})")
        problems.raise_if_any()
        self.metric_definitions: dict[str, str] = {
            **(profile.metric_definitions() if profile is not None else {}),
            **(metric_definitions or {}),
        }
        """MetricDefinitions of every job (name -> regex)."""

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs SageMaker training jobs named {job_name_prefix}*",
        )
        """The execution role of the jobs."""
        self.image_uri = image.bind(self, self.role)
        """The training image's URI."""
        self._grant_job_permissions()
        self._log_prefixes: list[str] = []
        self.grant_job_logs(f"{job_name_prefix}-")

    # --- rendering ------------------------------------------------------------------------

    @property
    def output_uri(self) -> str:
        """Where model artifacts go (SageMaker appends `<job name>/output/model.tar.gz`)."""
        return f"s3://{self.artifacts_bucket.bucket_name}/{self.artifacts_prefix}output/"

    @property
    def checkpoint_root(self) -> str:
        """Prefix of the checkpoint folders, one per run."""
        return f"s3://{self.artifacts_bucket.bucket_name}/{self.artifacts_prefix}checkpoints/"

    def override_problems(self, overridable_hyperparameters: Sequence[str]) -> list[str]:
        """What is wrong with letting runs override these hyperparameters."""
        if self.profile is None:
            return []
        return self.profile.override_problems(
            overridable_hyperparameters,
            has_manifest=any(c.data_type == "AugmentedManifestFile" for c in self.channels),
        )

    def channel_uri(self, channel: TrainingChannel) -> str:
        """The channel's default data URI."""
        return f"s3://{self.data_bucket.bucket_name}/{channel.key}"

    def channel_access_uri(self, channel: TrainingChannel) -> str:
        """The URI prefix the channel's data must be under (what the role may read)."""
        return f"s3://{self.data_bucket.bucket_name}/{channel.read_prefix}"

    @property
    def volume_key_used(self) -> bool:
        """Whether requests name a volume KMS key: only where every instance type a run
        may use has an EBS volume (SageMaker refuses one for local NVMe storage, which
        the instance encrypts in hardware)."""
        return not any(
            has_local_nvme_storage(t) for t in [self.instance_type, *self.allowed_instance_types]
        )

    def training_request(
        self,
        *,
        job_name: Value,
        hyperparameters: Value | None = None,
        instance_type: Value | None = None,
        channel_uris: Mapping[str, Value] | None = None,
        checkpoint_uri: Value | None = None,
    ) -> dict[str, Any]:
        """The CreateTrainingJob request. Each value is a literal or a `JsonPath`.

        :param job_name: TrainingJobName.
        :param hyperparameters: Default: the static hyperparameters.
        :param instance_type: Default: the default instance type.
        :param channel_uris: S3Uri per channel. Default: each channel's default URI.
        :param checkpoint_uri: CheckpointConfig.S3Uri (ends with `/`); required with checkpoints.
        """
        request: dict[str, Any] = {}
        _put(request, "TrainingJobName", job_name)
        algorithm: dict[str, Any] = {
            "TrainingImage": self.image_uri,
            "TrainingInputMode": self.input_mode,
        }
        if self.metric_definitions:
            algorithm["MetricDefinitions"] = self._metric_definitions()
        request["AlgorithmSpecification"] = algorithm
        if hyperparameters is None:
            if self.hyperparameters:
                request["HyperParameters"] = dict(self.hyperparameters)
        else:
            _put(request, "HyperParameters", hyperparameters)
        request.update(
            self._shared_parts(
                instance_type=instance_type,
                channel_uris=channel_uris,
                checkpoint_uri=checkpoint_uri,
            )
        )
        if self.tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        return request

    def tuning_definition(
        self,
        *,
        static_hyperparameters: Value | None = None,
        instance_type: Value | None = None,
        channel_uris: Mapping[str, Value] | None = None,
        checkpoint_uri: Value | None = None,
    ) -> dict[str, Any]:
        """A tuning job's TrainingJobDefinition, rendered like `training_request` (spot,
        checkpoints, VPC and encryption included); the ranges go in the tuning config.

        :param static_hyperparameters: Default: the static hyperparameters.
        """
        algorithm: dict[str, Any] = {
            "TrainingImage": self.image_uri,
            "TrainingInputMode": self.input_mode,
        }
        if self.metric_definitions:
            algorithm["MetricDefinitions"] = self._metric_definitions()
        definition: dict[str, Any] = {"AlgorithmSpecification": algorithm}
        if static_hyperparameters is None:
            if self.hyperparameters:
                definition["StaticHyperParameters"] = dict(self.hyperparameters)
        else:
            _put(definition, "StaticHyperParameters", static_hyperparameters)
        definition.update(
            self._shared_parts(
                instance_type=instance_type,
                channel_uris=channel_uris,
                checkpoint_uri=checkpoint_uri,
            )
        )
        return definition

    def task(
        self,
        scope: Construct,
        id_: str,
        *,
        job_name_prefix: str,
        result_path: str | None = "$.job",
        comment: str | None = None,
        **request: Any,
    ) -> SageMakerJobTask:
        """A `.sync` Task state that runs one job of this definition; `request` takes
        `training_request`'s arguments."""
        return SageMakerJobTask(
            scope,
            id_,
            kind=TRAINING_JOB,
            parameters=self.training_request(**request),
            job_name_prefix=job_name_prefix,
            passed_roles=[self.role],
            keys_for_grants=[self.encryption_key] if self.volume_key_used else [],
            result_path=result_path,
            comment=comment,
        )

    # --- permissions ----------------------------------------------------------------------

    def grant_job_logs(self, job_name_prefix: str) -> None:
        """Let jobs named `job_name_prefix*` (e.g. those a tuning job starts) write their
        logs with this role."""
        if job_name_prefix in self._log_prefixes:
            return
        self._log_prefixes.append(job_name_prefix)
        stack = Stack.of(self)
        group = TRAINING_LOG_GROUP
        streams = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{group}:log-stream:{job_name_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[streams]
            )
        )
        acknowledge_wildcards(
            self.role,
            resources=[streams],
            reason="Training jobs name their log streams '<job name>/algo-<n>-<time>'; the "
            f"role may write only streams of jobs named '{job_name_prefix}*'.",
        )

    def _grant_job_permissions(self) -> None:
        role = self.role
        prefixes = sorted({c.read_prefix for c in self.channels})
        data_patterns = [f"{prefix}*" for prefix in prefixes]
        for pattern in data_patterns:
            self.data_bucket.grant_read(role, pattern)
        checkpoints = f"{self.artifacts_prefix}checkpoints/*"
        output = f"{self.artifacts_prefix}output/*"
        self.artifacts_bucket.grant_put(role, output)
        if self.checkpoints:
            # A restarted (spot) job first downloads what it checkpointed.
            self.artifacts_bucket.grant_read(role, checkpoints)
            self.artifacts_bucket.grant_put(role, checkpoints)

        stack = Stack.of(self)
        group = TRAINING_LOG_GROUP
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{group}:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": group}},
            )
        )
        if self.network is not None:
            grant_network_interfaces(self.role, self.network)

        object_arns = [self.data_bucket.arn_for_objects(p) for p in data_patterns]
        object_arns.append(self.artifacts_bucket.arn_for_objects(output))
        if self.checkpoints:
            object_arns.append(self.artifacts_bucket.arn_for_objects(checkpoints))
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
            resources=[
                *object_arns,
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=f"{group}:*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            ],
            reason="Scoped by the bucket grants to the channels' data prefixes (read) and this "
            "definition's output and checkpoint prefixes (write); SageMaker names the objects "
            "and the training log group's streams per job.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData and the EC2 Describe* calls SageMaker makes for VPC jobs "
            "accept no resource ARN; PutMetricData is limited to the training-jobs namespace.",
        )

    # --- request parts --------------------------------------------------------------------

    def _metric_definitions(self) -> list[dict[str, str]]:
        return [{"Name": n, "Regex": r} for n, r in self.metric_definitions.items()]

    def _shared_parts(
        self,
        *,
        instance_type: Value | None,
        channel_uris: Mapping[str, Value] | None,
        checkpoint_uri: Value | None,
    ) -> dict[str, Any]:
        uris = dict(channel_uris or {})
        unknown = sorted(set(uris) - {c.name for c in self.channels})
        if unknown:
            raise ValueError(f"channel_uris names unknown channels {unknown}")
        resources: dict[str, Any] = {}
        _put(resources, "InstanceType", instance_type or self.instance_type)
        resources["InstanceCount"] = self.instance_count
        resources["VolumeSizeInGB"] = self.volume_size_gb
        # TRAIN-19: ResourceConfig, no VolumeKmsKeyId on instance types with local storage.
        if self.volume_key_used:
            resources["VolumeKmsKeyId"] = self.encryption_key.key_arn
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": int(self.max_runtime.to_seconds())}
        # TRAIN-4: model-managed-spot-training page, spot needs MaxWaitTimeInSeconds (always set).
        if self.spot and self.max_wait is not None:
            stopping["MaxWaitTimeInSeconds"] = int(self.max_wait.to_seconds())
        parts: dict[str, Any] = {
            "RoleArn": self.role.role_arn,
            "InputDataConfig": [self._channel(c, uris.get(c.name)) for c in self.channels],
            "OutputDataConfig": {
                "S3OutputPath": self.output_uri,
                "KmsKeyId": self.encryption_key.key_arn,
            },
            "ResourceConfig": resources,
            "StoppingCondition": stopping,
            "EnableManagedSpotTraining": self.spot,
            "EnableNetworkIsolation": self.network_isolation,
            "EnableInterContainerTrafficEncryption": self.inter_container_encryption,
        }
        if self.checkpoints:
            if checkpoint_uri is None:
                raise ValueError("checkpoint_uri is required when checkpoints are on")
            checkpoint: dict[str, Any] = {}
            _put(checkpoint, "S3Uri", checkpoint_uri)
            parts["CheckpointConfig"] = checkpoint
        if self.network is not None:
            parts["VpcConfig"] = self.network.vpc_config()
        if self.environment:
            parts["Environment"] = dict(self.environment)
        return parts

    def _channel(self, channel: TrainingChannel, uri: Value | None) -> dict[str, Any]:
        source: dict[str, Any] = {"S3DataType": channel.data_type}
        _put(source, "S3Uri", uri if uri is not None else self.channel_uri(channel))
        source["S3DataDistributionType"] = channel.distribution
        if channel.attribute_names:
            source["AttributeNames"] = list(channel.attribute_names)
        rendered: dict[str, Any] = {
            "ChannelName": channel.name,
            "DataSource": {"S3DataSource": source},
            "CompressionType": channel.compression,
        }
        if channel.content_type:
            rendered["ContentType"] = channel.content_type
        if channel.input_mode:
            rendered["InputMode"] = channel.input_mode
        if channel.record_wrapper is not None:
            rendered["RecordWrapperType"] = channel.record_wrapper
        return rendered


def _put(target: dict[str, Any], key: str, value: Value) -> None:
    """Set `key` to a literal, or `key.$` to a JSONPath."""
    if isinstance(value, JsonPath):
        target[f"{key}.$"] = str(value)
    else:
        target[key] = value
