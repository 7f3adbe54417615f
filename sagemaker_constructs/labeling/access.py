"""Object-level S3 access for the labeling roles: exactly the actions they use, on the
keys they use, with the data keys of the bucket's KMS key (CDK's bucket grants also
allow deleting objects and changing legal holds, which none of them needs)."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3


def grant_objects(
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    key: kms.IKey,
    pattern: str,
    *,
    write: bool = False,
) -> None:
    """Let `grantee` read (and with `write`, create) objects matching `pattern` in `bucket`,
    and list the bucket (without it S3 answers 403, not 404, for a missing object)."""
    actions = ["s3:GetObject"] + (["s3:PutObject", "s3:AbortMultipartUpload"] if write else [])
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(pattern)])
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[bucket.bucket_arn]
        )
    )
    key.grant(grantee, *(["kms:Decrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"]))
