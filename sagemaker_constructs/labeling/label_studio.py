"""The IAM role that a Label Studio host assumes to work on an auto-labeling workflow's
runs in the data bucket (docs/label-studio.md).

Label Studio's S3 storages use the host's AWS credentials when they name none; the
host's AWS profile assumes this role. The role may do exactly what the storages do:

- list the workflow's runs (`ListObjectsV2` with a prefix: source sync, connection checks);
- read the tasks the runs write (`<runs>/*/label-studio/tasks/*`) and, for image
  workflows, the images it presigns URLs for (under `images_prefix`);
- write annotations (`<runs>/*/label-studio/annotations/*`), never delete them;
- use the platform key through S3 in this region, for this bucket only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..common import acknowledge_wildcards
from .runtime.autolabel.studio import ANNOTATIONS_DIR, TASKS_DIR


@dataclass(frozen=True)
class LabelStudioHost:
    """Who runs Label Studio: `ecs_task_role`, `ec2_instance_role` or `account`."""

    kind: str
    """`ecs_task_role`, `ec2_instance_role` or `account`."""
    principal_id: str
    """The role ARN, or the account id."""
    external_id: str | None = None
    """For `account`: what the other account must pass as sts:ExternalId."""

    @classmethod
    def ecs_task_role(cls, role_arn: str) -> LabelStudioHost:
        """The task role of an ECS task running Label Studio."""
        return cls("ecs_task_role", role_arn)

    @classmethod
    def ec2_instance_role(cls, role_arn: str) -> LabelStudioHost:
        """The instance-profile role of an EC2 instance running Label Studio."""
        return cls("ec2_instance_role", role_arn)

    @classmethod
    def account(cls, account_id: str, external_id: str) -> LabelStudioHost:
        """Another account, which must pass `external_id` (the confused-deputy guard)."""
        return cls("account", account_id, external_id)

    def principal(self) -> iam.IPrincipal:
        """The trust policy's principal."""
        if self.kind == "account":
            assert self.external_id is not None
            return iam.AccountPrincipal(self.principal_id).with_conditions(
                {"StringEquals": {"sts:ExternalId": self.external_id}}
            )
        return iam.ArnPrincipal(self.principal_id)


class LabelStudioRole(Construct):
    """The role a Label Studio host assumes (module docstring). One host runs one Label
    Studio whose storages all use the host's credentials, so the auto-labeling workflows
    of one host share its role: each adds its runs with `allow_runs`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        host: LabelStudioHost,
        data_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        description: str = "Label Studio's access to auto-labeling runs in the data bucket",
    ) -> None:
        """
        :param host: Who assumes the role.
        :param data_bucket: The bucket of the runs (SSE-KMS with an S3 Bucket Key).
        :param encryption_key: The bucket's key.
        :param description: The role's description.
        """
        super().__init__(scope, id_)
        self._bucket = data_bucket
        self.host = host
        """Who assumes the role."""
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=host.principal(),
            description=description,
            max_session_duration=Duration.hours(1),
        )
        """The role Label Studio's host assumes."""
        # LABEL-6 (S3 configuring-bucket-key): with a bucket key, S3 asks KMS with the
        # bucket's ARN as encryption context, not the object's: the key is scoped to the bucket.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[encryption_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com",
                        "kms:EncryptionContext:aws:s3:arn": data_bucket.bucket_arn,
                    }
                },
            )
        )

    def allow_runs(self, runs_prefix: str, *, images_prefix: str | None = None) -> None:
        """Let Label Studio list the runs under `runs_prefix` (e.g. `auto-labeling/sentiment/`),
        read their tasks and write their annotations; with `images_prefix` (image
        workflows, `""` for the whole bucket), also read the images it presigns URLs for."""
        bucket = self._bucket
        tasks = bucket.arn_for_objects(f"{runs_prefix}*/{TASKS_DIR}*")
        annotations = bucket.arn_for_objects(f"{runs_prefix}*/{ANNOTATIONS_DIR}*")
        readable = [tasks]
        if images_prefix is not None:
            readable.append(bucket.arn_for_objects(f"{images_prefix}*"))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{runs_prefix}*"]}},
            )
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=readable))
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[annotations])
        )
        acknowledge_wildcards(
            self.role,
            resources=[*readable, annotations],
            reason=f"Label Studio reads the tasks of every run of {runs_prefix} (one run per "
            "project, run ids unknown at deploy time), the images it presigns URLs for (image "
            "workflows) and writes annotations under each run's label-studio/annotations/.",
        )
