"""The platform's buckets: data, artifacts and the access-log bucket they log into."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, FeatureFlags, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..common import Problems

ACCESS_LOGS_BY_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


class PlatformStorage(Construct):
    """Three buckets, all versioned, private, TLS-only and retained on stack deletion.

    - `data_bucket`: datasets, labeling manifests and outputs (SSE-KMS with the
      platform key and S3 Bucket Keys, which cut KMS request costs);
    - `artifacts_bucket`: model artifacts, checkpoints, code and templates (same
      encryption);
    - `access_logs_bucket`: S3 server access logs of the other two. It uses SSE-S3
      because S3 server access logging cannot deliver into an SSE-KMS bucket.

    Needs the feature flag `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` (cdk.json
    sets it), so log delivery is granted by bucket policy and ACLs stay disabled.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        noncurrent_version_expiration: Duration = Duration.days(90),
        abort_incomplete_upload_after: Duration = Duration.days(7),
        access_log_retention: Duration = Duration.days(365),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        data_bucket_cors: Sequence[s3.CorsRule] = (),
        data_bucket_events: bool = False,
    ) -> None:
        """
        :param encryption_key: KMS key of the data and artifacts buckets.
        :param noncurrent_version_expiration: How long replaced or deleted object
            versions are kept. Default: 90 days. Valid range: 1-3650 days.
        :param abort_incomplete_upload_after: When unfinished multipart uploads are
            aborted. Default: 7 days. Valid range: 1-30 days.
        :param access_log_retention: How long access logs are kept. Default: 365 days.
            Valid range: 30-3650 days.
        :param removal_policy: Default: RETAIN. Buckets are never emptied by the kit.
        :param data_bucket_cors: CORS rules of the data bucket, for browsers that load its
            objects through presigned URLs (Ground Truth's worker UI loads images so).
            Default: none.
        :param data_bucket_events: Send the data bucket's events to EventBridge (workflows
            that wait for files to arrive react to them). Default: false.
        """
        super().__init__(scope, id_)
        problems = Problems("PlatformStorage")
        noncurrent = noncurrent_version_expiration.to_days()
        abort = abort_incomplete_upload_after.to_days()
        retention = access_log_retention.to_days()
        problems.check(
            1 <= noncurrent <= 3650,
            f"noncurrent_version_expiration must be 1-3650 days (got {noncurrent})",
        )
        problems.check(
            1 <= abort <= 30, f"abort_incomplete_upload_after must be 1-30 days (got {abort})"
        )
        problems.check(
            30 <= retention <= 3650,
            f"access_log_retention must be 30-3650 days (got {retention})",
        )
        problems.check(
            FeatureFlags.of(self).is_enabled(ACCESS_LOGS_BY_POLICY) is True,
            f"the feature flag {ACCESS_LOGS_BY_POLICY} must be true in cdk.json context "
            "(log delivery by bucket policy, ACLs disabled)",
        )
        problems.raise_if_any()

        def lifecycle(expire_current: Duration | None = None) -> list[s3.LifecycleRule]:
            return [
                s3.LifecycleRule(
                    id="AbortIncompleteUploadsAndExpireOldVersions",
                    abort_incomplete_multipart_upload_after=abort_incomplete_upload_after,
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    expiration=expire_current,
                )
            ]

        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=lifecycle(expire_current=access_log_retention),
            removal_policy=removal_policy,
        )
        """Receives S3 server access logs of the other buckets."""
        Validations.of(self.access_logs_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket itself: logging its access into itself "
                "would create a log record for every log delivery, without end.",
            )
        )

        def kms_bucket(id_: str, cors: Sequence[s3.CorsRule] = ()) -> s3.Bucket:
            return s3.Bucket(
                self,
                id_,
                encryption=s3.BucketEncryption.KMS,
                encryption_key=encryption_key,
                bucket_key_enabled=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                enforce_ssl=True,
                versioned=True,
                server_access_logs_bucket=self.access_logs_bucket,
                server_access_logs_prefix=f"{id_.lower()}/",
                lifecycle_rules=lifecycle(),
                removal_policy=removal_policy,
                cors=list(cors) or None,
            )

        self.data_bucket = kms_bucket("Data", data_bucket_cors)
        if data_bucket_events:
            # The bucket property itself: CDK's `event_bridge_enabled` would add a custom
            # resource and its Lambda to do the same.
            cfn = self.data_bucket.node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            cfn.add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        """Datasets, labeling manifests and labeling outputs."""
        self.artifacts_bucket = kms_bucket("Artifacts")
        """Model artifacts, checkpoints, code, templates."""
