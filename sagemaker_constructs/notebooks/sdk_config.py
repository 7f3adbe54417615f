"""The SageMaker Python SDK defaults file a notebook gets (`/etc/xdg/sagemaker/config.yaml`).

Every SDK session in the notebook reads it, so jobs and models created from notebook code
run as the platform's job role, write to the platform's artifacts bucket with its KMS key,
in its subnets, and carry its tags, without the user passing any of that. Only keys the
SDK has accepted for long are used: SDK 2.x, which notebook images ship, rejects a file
with a key it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ..foundation import NetworkPlacement


def sdk_defaults(
    *,
    job_role_arn: str,
    bucket_name: str,
    key_prefix: str,
    kms_key_id: str,
    network: NetworkPlacement | None,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """The defaults as a dict, in the SDK's config schema (SchemaVersion 1.0).

    Volume KMS keys are left out on purpose: SageMaker rejects VolumeKmsKeyId for
    instance types with local NVMe storage (ml.g5, ml.p4d...), and their volumes are
    encrypted by the instance anyway. Output keys are set (S3 outputs use the platform key).
    """
    tag_list = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    vpc = dict(network.vpc_config()) if network is not None else None

    def with_vpc(section: dict[str, Any], key: str = "VpcConfig") -> dict[str, Any]:
        if vpc is not None:
            section[key] = vpc
        return section

    processing: dict[str, Any] = {
        "RoleArn": job_role_arn,
        "ProcessingOutputConfig": {"KmsKeyId": kms_key_id},
        "Tags": tag_list,
    }
    if vpc is not None:
        processing["NetworkConfig"] = {"VpcConfig": vpc}
    return {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {
                        "DefaultS3Bucket": bucket_name,
                        "DefaultS3ObjectKeyPrefix": key_prefix,
                    },
                    "RemoteFunction": with_vpc(
                        {
                            "RoleArn": job_role_arn,
                            "S3RootUri": f"s3://{bucket_name}/{key_prefix}/remote-functions",
                            "S3KmsKeyId": kms_key_id,
                            "Tags": tag_list,
                        }
                    ),
                }
            },
            "TrainingJob": with_vpc(
                {
                    "RoleArn": job_role_arn,
                    "OutputDataConfig": {"KmsKeyId": kms_key_id},
                    "Tags": tag_list,
                }
            ),
            "ProcessingJob": processing,
            "Model": with_vpc({"ExecutionRoleArn": job_role_arn, "Tags": tag_list}),
        },
    }


def to_yaml(defaults: Mapping[str, Any]) -> str:
    """`defaults` as YAML. Shared lists and maps (tags, VPC) become YAML anchors, which
    keeps the lifecycle script small; every string is double-quoted, so values resolved
    at deploy time (ARNs, ids) can never change the document's structure; lines are not
    wrapped, so a deploy-time token is never split."""
    return yaml.safe_dump(
        dict(defaults), default_style='"', sort_keys=False, width=1_000_000, allow_unicode=False
    )
