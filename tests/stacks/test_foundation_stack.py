"""The foundation stack of both shipped configs, resource by resource."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.oracles.synth import Synthesis

TLS_ONLY = Match.object_like(
    {
        "Statement": Match.array_with(
            [
                Match.object_like(
                    {
                        "Effect": "Deny",
                        "Action": "s3:*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        "Principal": {"AWS": "*"},
                    }
                )
            ]
        )
    }
)


def test_stack_names_follow_prefix_and_unit(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    assert "smkit-Foundation" in default_synth.stack_names
    assert "smkit-full-Foundation" in full_synth.stack_names


def test_termination_protection_only_outside_dev(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    assert default_synth.platform.foundation.termination_protection is False
    assert full_synth.platform.foundation.termination_protection is True


def test_default_is_environment_agnostic_and_full_is_pinned(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    default_env = default_synth.assembly.get_stack_by_name("smkit-Foundation").environment
    assert (default_env.account, default_env.region) == ("unknown-account", "unknown-region")
    full_env = full_synth.assembly.get_stack_by_name("smkit-full-Foundation").environment
    assert (full_env.account, full_env.region) == ("123456789012", "us-east-1")


def test_key_rotates_and_has_an_alias(any_synth: Synthesis) -> None:
    template = any_synth.assertions("Foundation")
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like({"EnableKeyRotation": True, "PendingWindowInDays": 30}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties(
        "AWS::KMS::Alias",
        {
            "AliasName": f"alias/{any_synth.settings.name_prefix}/platform",
            "TargetKeyId": {"Fn::GetAtt": ["PlatformKey", "Arn"]},
        },
    )


def test_key_policy_names_only_the_services_that_act_as_themselves(any_synth: Synthesis) -> None:
    statements = any_synth.template("Foundation")["Resources"]["PlatformKey"]["Properties"][
        "KeyPolicy"
    ]["Statement"]
    by_sid = {s.get("Sid", "account"): s for s in statements}
    assert set(by_sid) == {
        "account",
        "CloudWatchLogsEncryptsThisAccountsLogGroups",
        "ServicesPublishToEncryptedTopics",
    }
    logs = by_sid["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    publishers = by_sid["ServicesPublishToEncryptedTopics"]
    assert publishers["Principal"]["Service"] == [
        "budgets.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
    ]
    assert sorted(publishers["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert publishers["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


@pytest.mark.parametrize("logical_id", ["DataBucket", "ArtifactsBucket"])
def test_data_buckets_are_kms_encrypted_private_versioned_and_logged(
    any_synth: Synthesis, logical_id: str
) -> None:
    bucket = any_synth.template("Foundation")["Resources"][logical_id]
    assert bucket["DeletionPolicy"] == "Retain"
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {
            "BucketKeyEnabled": True,
            "ServerSideEncryptionByDefault": {
                "KMSMasterKeyID": {"Fn::GetAtt": ["PlatformKey", "Arn"]},
                "SSEAlgorithm": "aws:kms",
            },
        }
    ]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": "AccessLogsBucket"
    }
    settings = any_synth.settings.storage
    assert properties["LifecycleConfiguration"]["Rules"] == [
        {
            "AbortIncompleteMultipartUpload": {
                "DaysAfterInitiation": settings.abort_incomplete_upload_days
            },
            "Id": "AbortIncompleteUploadsAndExpireOldVersions",
            "NoncurrentVersionExpiration": {
                "NoncurrentDays": settings.noncurrent_version_expiration_days
            },
            "Status": "Enabled",
        }
    ]


def test_access_log_bucket_uses_sse_s3_and_expires_logs(any_synth: Synthesis) -> None:
    properties = any_synth.template("Foundation")["Resources"]["AccessLogsBucket"]["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert "LoggingConfiguration" not in properties
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == any_synth.settings.storage.access_log_retention_days


def test_every_bucket_denies_plain_http(any_synth: Synthesis) -> None:
    template = any_synth.assertions("Foundation")
    policies = any_synth.resources("Foundation", "AWS::S3::BucketPolicy")
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies.values()} == {
        "DataBucket",
        "ArtifactsBucket",
        "AccessLogsBucket",
    }
    template.resource_properties_count_is("AWS::S3::BucketPolicy", {"PolicyDocument": TLS_ONLY}, 3)


def test_access_log_bucket_lets_s3_logging_write_only_from_the_platform_buckets(
    any_synth: Synthesis,
) -> None:
    policies = any_synth.resources("Foundation", "AWS::S3::BucketPolicy")
    (log_policy,) = [
        p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": "AccessLogsBucket"}
    ]
    deliveries = [
        s
        for s in log_policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert {s["Action"] for s in deliveries} == {"s3:PutObject"}
    sources = sorted(
        s["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::GetAtt"][0] for s in deliveries
    )
    assert sources == ["ArtifactsBucket", "DataBucket"]


def test_alerts_topic_is_encrypted_tls_only_and_subscribes_the_emails(any_synth: Synthesis) -> None:
    template = any_synth.assertions("Foundation")
    template.has_resource(
        "AWS::SNS::Topic",
        {
            "Properties": Match.object_like(
                {"KmsMasterKeyId": {"Fn::GetAtt": ["PlatformKey", "Arn"]}}
            ),
            "DeletionPolicy": "Retain",
        },
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "sns:Publish",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            )
        },
    )
    subscriptions = any_synth.resources("Foundation", "AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == sorted(
        any_synth.settings.alerts.emails
    )
    assert all(s["Properties"]["Protocol"] == "email" for s in subscriptions.values())


def test_default_network_creates_no_vpc(default_synth: Synthesis) -> None:
    template = default_synth.assertions("Foundation")
    for resource_type in ("AWS::EC2::VPC", "AWS::EC2::VPCEndpoint", "AWS::EC2::NatGateway"):
        template.resource_count_is(resource_type, 0)
    assert default_synth.platform.foundation.network is None


def test_private_network_is_isolated_with_the_endpoints_sagemaker_needs(
    full_synth: Synthesis,
) -> None:
    template = full_synth.assertions("Foundation")
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"})
    endpoints = full_synth.resources("Foundation", "AWS::EC2::VPCEndpoint")
    services = sorted(
        e["Properties"]["ServiceName"]
        if isinstance(e["Properties"]["ServiceName"], str)
        else "".join(
            p if isinstance(p, str) else "<region>"
            for p in e["Properties"]["ServiceName"]["Fn::Join"][1]
        )
        for e in endpoints.values()
    )
    assert services == [
        "com.amazonaws.<region>.s3",
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
        "com.amazonaws.us-east-1.sagemaker.api",
        "com.amazonaws.us-east-1.sagemaker.runtime",
        "com.amazonaws.us-east-1.sts",
    ]
    interface = [
        e for e in endpoints.values() if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(interface) == 6
    assert all(e["Properties"]["PrivateDnsEnabled"] is True for e in interface)
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL"}
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"KmsKeyId": {"Fn::GetAtt": ["PlatformKey", "Arn"]}, "RetentionInDays": 30},
    )


def test_endpoint_security_group_admits_only_https_from_the_vpc(full_synth: Synthesis) -> None:
    groups = full_synth.resources("Foundation", "AWS::EC2::SecurityGroup")
    (endpoint_group,) = [
        g for g in groups.values() if g["Properties"]["GroupDescription"].startswith("Interface")
    ]
    assert endpoint_group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "10.40.0.0/16",
            "Description": "HTTPS from inside the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


def test_outputs_name_what_other_stacks_and_people_need(
    default_synth: Synthesis, full_synth: Synthesis
) -> None:
    base = {
        "KmsKeyArn",
        "DataBucketName",
        "ArtifactsBucketName",
        "AccessLogsBucketName",
        "AlertsTopicArn",
    }
    assert set(default_synth.template("Foundation")["Outputs"]) == base
    assert set(full_synth.template("Foundation")["Outputs"]) >= base | {
        "VpcId",
        "SubnetIds",
        "SecurityGroupIds",
    }


def test_every_taggable_resource_carries_the_platform_tags(full_synth: Synthesis) -> None:
    expected = {
        "Project": "sagemaker-platform-kit",
        "Environment": "prod",
        "CostCenter": "ml-platform",
        "Owner": "ml-platform@example.com",
        "DataClassification": "internal",
        "smkit:platform": "smkit-full",
    }
    for logical_id in (
        "PlatformKey",
        "DataBucket",
        "ArtifactsBucket",
        "AccessLogsBucket",
        "AlertsTopic",
    ):
        tags = full_synth.template("Foundation")["Resources"][logical_id]["Properties"]["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == expected, logical_id
