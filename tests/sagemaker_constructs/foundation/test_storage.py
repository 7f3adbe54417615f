from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from sagemaker_constructs.foundation import PlatformStorage
from tests.oracles.synth import new_stack


def test_durations_reach_the_lifecycle_rules() -> None:
    stack = new_stack()
    PlatformStorage(
        stack,
        "Storage",
        encryption_key=kms.Key(stack, "Key"),
        noncurrent_version_expiration=cdk.Duration.days(30),
        abort_incomplete_upload_after=cdk.Duration.days(2),
        access_log_retention=cdk.Duration.days(60),
    )
    buckets = [
        r["Properties"]
        for r in Template.from_stack(stack).to_json()["Resources"].values()
        if r["Type"] == "AWS::S3::Bucket"
    ]
    assert len(buckets) == 3
    rules = [b["LifecycleConfiguration"]["Rules"][0] for b in buckets]
    assert {r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in rules} == {30}
    assert {r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] for r in rules} == {2}
    assert sorted(r.get("ExpirationInDays", 0) for r in rules) == [0, 0, 60]


def test_every_out_of_range_duration_is_named() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        PlatformStorage(
            stack,
            "Storage",
            encryption_key=kms.Key(stack, "Key"),
            noncurrent_version_expiration=cdk.Duration.days(0),
            abort_incomplete_upload_after=cdk.Duration.days(31),
            access_log_retention=cdk.Duration.days(7),
        )
    assert str(raised.value) == (
        "Invalid PlatformStorage props: noncurrent_version_expiration must be 1-3650 days (got 0); "
        "abort_incomplete_upload_after must be 1-30 days (got 31); "
        "access_log_retention must be 30-3650 days (got 7)"
    )


def test_refuses_to_fall_back_to_log_delivery_acls() -> None:
    stack = cdk.Stack(cdk.App(), "NoFlags")
    with pytest.raises(ValueError) as raised:
        PlatformStorage(stack, "Storage", encryption_key=kms.Key(stack, "Key"))
    assert str(raised.value) == (
        "Invalid PlatformStorage props: the feature flag "
        "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy must be true in cdk.json context "
        "(log delivery by bucket policy, ACLs disabled)"
    )
