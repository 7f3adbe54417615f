"""The role SageMaker jobs and models started from notebooks run as."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..common import Problems, acknowledge_wildcards
from ..common.execution_role import (
    account_repositories,
    grant_image_pull,
    grant_network_interfaces,
)
from ..foundation import NetworkPlacement


class NotebookJobRole(Construct):
    """Execution role of the training, tuning and processing jobs and the models that
    notebook code creates (the SDK defaults name it; notebooks may pass only it).

    It may read the data bucket and the artifacts bucket, write the data bucket and the
    artifacts bucket under `artifacts_prefix`, use the platform key (including grants for
    encrypted job volumes), write its logs and metrics, pull container images from this
    account's repositories in the region, and, with a `network`, create network
    interfaces in its subnets and security groups (changing them only in its VPC) to
    place a job there. It cannot start SageMaker jobs itself.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        artifacts_prefix: str = "notebooks/",
        network: NetworkPlacement | None = None,
        description: str = "Runs SageMaker jobs and models started from the platform's notebooks",
    ) -> None:
        """
        :param encryption_key: The platform's KMS key.
        :param data_bucket: Datasets (read and write).
        :param artifacts_bucket: Models and outputs (read; write under artifacts_prefix).
        :param artifacts_prefix: Where jobs write in the artifacts bucket. Default:
            `notebooks/`. Must end with `/` and not start with one.
        :param network: VPC placement of the jobs. Default: None (no VPC permissions).
        :param description: Of the role. Default: names the platform's notebooks.
        """
        super().__init__(scope, id_)
        problems = Problems("NotebookJobRole")
        problems.check(
            artifacts_prefix.endswith("/") and not artifacts_prefix.startswith("/"),
            f"artifacts_prefix must end with '/' and not start with one (got {artifacts_prefix!r})",
        )
        problems.raise_if_any()

        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=description,
        )
        """The role."""

        data_bucket.grant_read_write(self.role)
        artifacts_bucket.grant_read(self.role)
        artifacts_bucket.grant_read_write(self.role, f"{artifacts_prefix}*")
        encryption_key.grant_encrypt_decrypt(self.role)
        # SageMaker encrypts a job's volume with a grant it creates as the job's role.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        sagemaker_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[sagemaker_logs],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        # Images of this account and region (the platform's own and the CDK bootstrap
        # repository); AWS-owned images admit SageMaker by their repository policies.
        repositories = account_repositories(stack)
        grant_image_pull(self.role, [repositories])
        if network is not None:
            grant_network_interfaces(self.role, network)

        acknowledge_wildcards(
            self.role,
            reason="Jobs started from notebooks read all platform data, write only under the "
            "notebooks prefix, and use the platform key: the wildcards are object keys of the "
            "platform's own buckets and the KMS actions CDK grants for encrypt/decrypt.",
            actions=[
                "s3:GetObject*",
                "s3:GetBucket*",
                "s3:List*",
                "s3:DeleteObject*",
                "s3:Abort*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
            ],
            resources=[
                data_bucket.arn_for_objects("*"),
                artifacts_bucket.arn_for_objects("*"),
                artifacts_bucket.arn_for_objects(f"{artifacts_prefix}*"),
            ],
        )
        acknowledge_wildcards(
            self.role,
            reason="SageMaker writes a job's logs into log groups it names per job type "
            "(/aws/sagemaker/TrainingJobs, ProcessingJobs, Endpoints...), all under this prefix.",
            resources=[sagemaker_logs],
        )
        acknowledge_wildcards(
            self.role,
            reason="Notebook code picks its images at run time: the role pulls from any "
            "repository of this account and region (the platform's own images), none of "
            "another account's.",
            resources=[repositories],
        )
        acknowledge_wildcards(
            self.role,
            reason="ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource "
            "type; metrics are limited to SageMaker's namespaces by condition"
            + (
                "; the EC2 Describe calls SageMaker makes to place jobs in the VPC accept no "
                "resource either."
                if network is not None
                else "."
            ),
            resources=["*"],
        )
