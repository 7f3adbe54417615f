"""The stateful base every other stack stands on: key, buckets, network, alerts."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Fn, Stack
from constructs import Construct

from sagemaker_constructs.common import retention_days, stable_logical_id
from sagemaker_constructs.foundation import (
    INTERFACE_ENDPOINTS,
    STUDIO_UI_ENDPOINT,
    AlertsTopic,
    IsolatedNetwork,
    NetworkPlacement,
    PlatformKey,
    PlatformStorage,
)
from sagemaker_constructs.labeling.ground_truth import worker_image_cors_rule

from .settings import PlatformSettings
from .settings.foundation import ExistingNetwork, PrivateNetwork

# Logical IDs of the stateful resources. Never change one: CloudFormation would
# replace the resource (a new, empty bucket; a new key that cannot read old data).
LOGICAL_IDS = {
    "key": "PlatformKey",
    "data_bucket": "DataBucket",
    "artifacts_bucket": "ArtifactsBucket",
    "access_logs_bucket": "AccessLogsBucket",
    "alerts_topic": "AlertsTopic",
}


class FoundationStack(Stack):
    """KMS key, data / artifacts / access-log buckets, alerts topic and the network
    placement of SageMaker resources. Everything here is retained on deletion."""

    def __init__(
        self, scope: Construct, id_: str, *, settings: PlatformSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)

        encryption = PlatformKey(self, "Encryption", alias=f"alias/{settings.name_prefix}/platform")
        self.key = encryption.key
        stable_logical_id(self.key, LOGICAL_IDS["key"])

        storage_settings = settings.storage
        labeling = settings.labeling
        storage = PlatformStorage(
            self,
            "Storage",
            encryption_key=self.key,
            noncurrent_version_expiration=Duration.days(
                storage_settings.noncurrent_version_expiration_days
            ),
            abort_incomplete_upload_after=Duration.days(
                storage_settings.abort_incomplete_upload_days
            ),
            access_log_retention=Duration.days(storage_settings.access_log_retention_days),
            # Ground Truth's worker UI loads images from the data bucket in the browser.
            data_bucket_cors=[worker_image_cors_rule()]
            if labeling and labeling.uses_images
            else (),
            # Training workflows start on new data, and auto-labeling's external review
            # resumes when labels arrive, through the bucket's EventBridge events.
            data_bucket_events=bool(labeling and labeling.waits_for_labels)
            or bool(settings.training is not None and settings.training.watches_data_bucket),
        )
        self.data_bucket = storage.data_bucket
        self.artifacts_bucket = storage.artifacts_bucket
        self.access_logs_bucket = storage.access_logs_bucket
        for name in ("data_bucket", "artifacts_bucket", "access_logs_bucket"):
            stable_logical_id(getattr(storage, name), LOGICAL_IDS[name])

        alerts = AlertsTopic(
            self, "Alerts", encryption_key=self.key, emails=list(settings.alerts.emails)
        )
        self.alerts_topic = alerts.topic
        stable_logical_id(self.alerts_topic, LOGICAL_IDS["alerts_topic"])

        self.network: NetworkPlacement | None = None
        """Where SageMaker resources attach to a VPC; None in network mode `none`."""
        network = settings.network
        if isinstance(network, PrivateNetwork):
            isolated = IsolatedNetwork(
                self,
                "Network",
                encryption_key=self.key,
                cidr=network.cidr,
                max_azs=network.availability_zones,
                flow_log_retention=retention_days(network.flow_log_retention_days),
                # Studio's web UI from inside the VPC, when the studio section asks for it.
                interface_endpoints={
                    **INTERFACE_ENDPOINTS,
                    **(
                        STUDIO_UI_ENDPOINT
                        if settings.studio and settings.studio.private_studio_endpoint
                        else {}
                    ),
                },
            )
            self.network = isolated.placement
        elif isinstance(network, ExistingNetwork):
            self.network = NetworkPlacement.from_ids(
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids,
                security_group_ids=network.security_group_ids,
            )

        self._outputs()

    @property
    def availability_zones(self) -> list[str]:
        """The region's first three AZs, resolved at deploy time (`Fn::GetAZs`).

        A stack with an explicit account and region would otherwise look its AZs up
        at synth, which needs credentials; synthesis here never does.
        """
        return [Fn.select(index, Fn.get_azs()) for index in range(3)]

    def _outputs(self) -> None:
        outputs = {
            "KmsKeyArn": (self.key.key_arn, "ARN of the platform's KMS key"),
            "DataBucketName": (self.data_bucket.bucket_name, "Bucket for datasets and labels"),
            "ArtifactsBucketName": (
                self.artifacts_bucket.bucket_name,
                "Bucket for model artifacts, checkpoints and code",
            ),
            "AccessLogsBucketName": (
                self.access_logs_bucket.bucket_name,
                "Bucket receiving S3 server access logs",
            ),
            "AlertsTopicArn": (self.alerts_topic.topic_arn, "SNS topic of the platform's alerts"),
        }
        if self.network is not None:
            outputs["VpcId"] = (self.network.vpc_id, "VPC of SageMaker resources")
            outputs["SubnetIds"] = (
                Fn.join(",", list(self.network.subnet_ids)),
                "Subnets of SageMaker resources (comma-separated)",
            )
            outputs["SecurityGroupIds"] = (
                Fn.join(",", list(self.network.security_group_ids)),
                "Security groups of SageMaker resources (comma-separated)",
            )
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=description)
