"""One kind of batch transform: the model it runs (`AWS::SageMaker::Model`, with its
execution role) and the CreateTransformJob request that runs it over an S3 prefix.

A transform job runs as its model's execution role: the role reads the input, writes the
results, uses the key, pulls the image and writes the job's logs, and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import (
    TRANSFORM_JOB,
    Problems,
    SageMakerJobTask,
    acknowledge,
    acknowledge_wildcards,
    has_local_nvme_storage,
)
from ..common.execution_role import grant_network_interfaces
from ..foundation import NetworkPlacement
from ..inference.model_source import ModelSource
from ..training.job_rules import JsonPath, Value
from .rules import TransformShape, transform_problems

TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"


class TransformJob(Construct):
    """A model and the request that runs a batch transform of it.

    Requests read objects under `input_prefix` of `data_bucket` and write results under
    `output_prefix` (one `<object>.out` per input object), encrypted with the key; the
    storage volume is encrypted with the key too, except on instance types with local
    NVMe storage (hardware-encrypted; SageMaker refuses a key there, TRANSFORM-7).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        model: ModelSource,
        data_bucket: s3.IBucket,
        input_prefix: str,
        output_prefix: str,
        encryption_key: kms.IKey,
        instance_type: str,
        job_name_prefix: str,
        allowed_instance_types: Sequence[str] = (),
        instance_count: int = 1,
        content_type: str = "application/jsonlines",
        accept: str = "application/jsonlines",
        split_type: str = "Line",
        batch_strategy: str = "MultiRecord",
        assemble_with: str = "Line",
        max_payload_mb: int = 6,
        max_concurrent_transforms: int = 1,
        invocation_timeout: Duration = Duration.minutes(10),
        invocation_max_retries: int = 1,
        environment: Mapping[str, str] | None = None,
        network: NetworkPlacement | None = None,
        network_isolation: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model: What runs (`ModelSource`: artifact and image, or a model package).
        :param data_bucket: Bucket of the input and the results.
        :param input_prefix: Key prefix (ending in `/`) of the objects a run may transform.
        :param output_prefix: Key prefix (ending in `/`) under which runs write results.
        :param encryption_key: Key of the results and of the storage volume.
        :param instance_type: Default instance type; one of SageMaker's transform types.
        :param job_name_prefix: Lower-case prefix of the job names; at most 30 characters.
        :param allowed_instance_types: Further types a run may choose. Default: none.
        :param instance_count: Instances per job. Default: 1. Valid range: 1-100.
        :param content_type: MIME type of the input. Default: application/jsonlines.
        :param accept: MIME type of the results. Default: application/jsonlines.
        :param split_type: None, Line, RecordIO or TFRecord. Default: Line.
        :param batch_strategy: MultiRecord or SingleRecord. Default: MultiRecord.
        :param assemble_with: None or Line. Default: Line.
        :param max_payload_mb: Largest request. Default: 6. Valid range: 1-100.
        :param max_concurrent_transforms: Requests per instance at once. Default: 1.
        :param invocation_timeout: Time one request may take. Default: 10 minutes.
            Valid range: 1 second - 1 hour.
        :param invocation_max_retries: Retries of a failed request. Default: 1. Valid
            range: 0-3.
        :param environment: The container's variables. Default: none. At most 16.
        :param network: Subnets and security groups of the model. Default: none.
        :param network_isolation: No network access from the container. Default: on.
        :param tags: Tags of every job. Default: none. At most 50.
        """
        super().__init__(scope, id_)
        self.instance_type = instance_type
        self.allowed_instance_types = [t for t in allowed_instance_types if t != instance_type]
        self.instance_types = [instance_type, *self.allowed_instance_types]
        self.environment = dict(environment or {})
        self.tags = dict(tags or {})
        problems = Problems("TransformJob")
        for where, message in transform_problems(
            TransformShape(
                instance_type=instance_type,
                allowed_instance_types=tuple(self.allowed_instance_types),
                split_type=split_type,
                batch_strategy=batch_strategy,
                assemble_with=assemble_with,
                max_payload_mb=max_payload_mb,
                max_concurrent_transforms=max_concurrent_transforms,
                environment=self.environment,
                algorithm=model.algorithm,
                job_name_prefix=job_name_prefix,
            )
        ):
            field = ".".join(map(str, where)).replace(
                "overridable.instance_types", "allowed_instance_types"
            )
            problems.add(f"{field}: {message}")
        for name, prefix in (("input_prefix", input_prefix), ("output_prefix", output_prefix)):
            problems.check(
                prefix.endswith("/") and not prefix.startswith("/"),
                f"{name} must be a key prefix ending with '/' (got {prefix!r})",
            )
        problems.check(
            not input_prefix.startswith(output_prefix)
            and not output_prefix.startswith(input_prefix),
            f"input_prefix and output_prefix must not contain each other ({input_prefix!r}, "
            f"{output_prefix!r}): a run would read earlier results",
        )
        problems.check(
            job_name_prefix == job_name_prefix.lower(),
            f"job_name_prefix must be lower case (got {job_name_prefix!r})",
        )
        problems.check(
            1 <= instance_count <= 100, f"instance_count must be 1-100 (got {instance_count})"
        )
        timeout_s = int(invocation_timeout.to_seconds())
        problems.check(
            1 <= timeout_s <= 3600, f"invocation_timeout must be 1-3600 seconds (got {timeout_s})"
        )
        problems.check(
            0 <= invocation_max_retries <= 3,
            f"invocation_max_retries must be 0-3 (got {invocation_max_retries})",
        )
        problems.check(len(self.tags) <= 50, f"at most 50 tags (got {len(self.tags)})")
        for problem in model.problems():
            problems.add(problem)
        problems.raise_if_any()

        self.data_bucket = data_bucket
        self.input_prefix = input_prefix
        self.output_prefix = output_prefix
        self.encryption_key = encryption_key
        self.job_name_prefix = job_name_prefix
        self.instance_count = instance_count
        self.content_type = content_type
        self.accept = accept
        self.split_type = split_type
        self.batch_strategy = batch_strategy
        self.assemble_with = assemble_with
        self.max_payload_mb = max_payload_mb
        self.max_concurrent_transforms = max_concurrent_transforms
        self.invocation_timeout_s = timeout_s
        self.invocation_max_retries = invocation_max_retries

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs SageMaker batch transform jobs named {job_name_prefix}*",
        )
        """The model's execution role: the role transform jobs run as."""
        self._grant(network)
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
        """`AWS::SageMaker::Model` (generated name: a change replaces it without a clash)."""
        # SageMaker checks the role's permissions when it creates the model.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.model.node.add_dependency(policy)
        acknowledge_wildcards(
            self.role,
            reason="The transform reads objects under its input prefix, writes results under "
            "its output prefix (SageMaker names them per job) and reads its model artifact; "
            "its log streams are named per job.",
            resources=[
                data_bucket.arn_for_objects(f"{input_prefix}*"),
                data_bucket.arn_for_objects(f"{output_prefix}*"),
                *model.read_resources,
                self._log_streams,
                self._log_group_arn,
            ],
            actions=[
                "s3:GetObject*",
                "s3:GetBucket*",
                "s3:List*",
                "s3:Abort*",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData (limited to the transform jobs' namespace by condition), "
            "ecr:GetAuthorizationToken and the EC2 Describe* calls SageMaker makes for VPC jobs "
            "accept no resource ARN.",
        )

    @property
    def model_name(self) -> str:
        """The model's generated name (CreateTransformJob's ModelName)."""
        return self.model.attr_model_name

    @property
    def volume_key_used(self) -> bool:
        """TRANSFORM-7: whether requests name a volume key (every type a run may use has an
        EBS volume)."""
        return not any(has_local_nvme_storage(t) for t in self.instance_types)

    def input_uri(self, key: str = "") -> str:
        """`s3://<data bucket>/<input_prefix><key>`."""
        return f"s3://{self.data_bucket.bucket_name}/{self.input_prefix}{key}"

    def output_uri(self, key: str = "") -> str:
        """`s3://<data bucket>/<output_prefix><key>`."""
        return f"s3://{self.data_bucket.bucket_name}/{self.output_prefix}{key}"

    def transform_request(
        self,
        *,
        job_name: Value,
        input_uri: Value,
        output_uri: Value,
        instance_type: Value | None = None,
    ) -> dict[str, Any]:
        """The CreateTransformJob request; each value a literal or a `JsonPath`."""
        request: dict[str, Any] = {}
        _put(request, "TransformJobName", job_name)
        request["ModelName"] = self.model_name
        request["MaxConcurrentTransforms"] = self.max_concurrent_transforms
        request["MaxPayloadInMB"] = self.max_payload_mb
        request["BatchStrategy"] = self.batch_strategy
        request["ModelClientConfig"] = {
            "InvocationsTimeoutInSeconds": self.invocation_timeout_s,
            "InvocationsMaxRetries": self.invocation_max_retries,
        }
        if self.environment:
            request["Environment"] = dict(self.environment)
        source: dict[str, Any] = {"S3DataType": "S3Prefix"}
        _put(source, "S3Uri", input_uri)
        request["TransformInput"] = {
            "DataSource": {"S3DataSource": source},
            "ContentType": self.content_type,
            "CompressionType": "None",
            "SplitType": self.split_type,
        }
        output: dict[str, Any] = {}
        _put(output, "S3OutputPath", output_uri)
        output.update(
            {
                "Accept": self.accept,
                "AssembleWith": self.assemble_with,
                "KmsKeyId": self.encryption_key.key_arn,
            }
        )
        request["TransformOutput"] = output
        resources: dict[str, Any] = {}
        _put(resources, "InstanceType", instance_type or self.instance_type)
        resources["InstanceCount"] = self.instance_count
        # TRANSFORM-7 (TransformResources API page): no key on local NVMe storage.
        if self.volume_key_used:
            resources["VolumeKmsKeyId"] = self.encryption_key.key_arn
        request["TransformResources"] = resources
        if self.tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        return request

    def task(
        self,
        scope: Construct,
        id_: str,
        *,
        timeout: Duration,
        result_path: str | None = "$.job",
        comment: str | None = None,
        **request: Any,
    ) -> SageMakerJobTask:
        """A `.sync` Task state running one job; `request` takes `transform_request`'s
        arguments. The state times out (`States.Timeout`) after `timeout`."""
        return SageMakerJobTask(
            scope,
            id_,
            kind=TRANSFORM_JOB,
            parameters=self.transform_request(**request),
            job_name_prefix=f"{self.job_name_prefix}-",
            passed_roles=[],
            keys_for_grants=[self.encryption_key],
            result_path=result_path,
            comment=comment,
            timeout_seconds=int(timeout.to_seconds()),
        )

    # --- permissions ----------------------------------------------------------------------

    @property
    def _log_group_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{TRANSFORM_LOG_GROUP}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    @property
    def _log_streams(self) -> str:
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{TRANSFORM_LOG_GROUP}:log-stream:{self.job_name_prefix}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _grant(self, network: NetworkPlacement | None) -> None:
        role = self.role
        self.data_bucket.grant_read(role, f"{self.input_prefix}*")
        self.data_bucket.grant_put(role, f"{self.output_prefix}*")
        # Results are encrypted with the key; volumes too (SageMaker creates a grant).
        self.encryption_key.grant(role, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:DescribeLogStreams"],
                resources=[self._log_group_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self._log_streams],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": TRANSFORM_LOG_GROUP}},
            )
        )
        if network is not None:
            grant_network_interfaces(role, network)


def _put(target: dict[str, Any], key: str, value: Value) -> None:
    """Set `key` to a literal, or `key.$` to a JSONPath."""
    if isinstance(value, JsonPath):
        target[f"{key}.$"] = str(value)
    else:
        target[key] = value
