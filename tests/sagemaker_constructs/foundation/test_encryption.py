from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from sagemaker_constructs.foundation import PlatformKey
from tests.oracles.synth import new_stack


def test_custom_publishers_and_pending_window() -> None:
    stack = new_stack()
    PlatformKey(
        stack,
        "Key",
        alias="alias/team/key",
        pending_window=cdk.Duration.days(7),
        publishing_services=["events.amazonaws.com"],
    )
    template = Template.from_stack(stack).to_json()
    (key,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["PendingWindowInDays"] == 7
    (publish,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "ServicesPublishToEncryptedTopics"
    ]
    assert publish["Principal"] == {"Service": "events.amazonaws.com"}


def test_no_publishers_means_no_publisher_statement() -> None:
    stack = new_stack()
    PlatformKey(stack, "Key", alias="alias/team/key", publishing_services=[])
    statements = next(
        r
        for r in Template.from_stack(stack).to_json()["Resources"].values()
        if r["Type"] == "AWS::KMS::Key"
    )["Properties"]["KeyPolicy"]["Statement"]
    assert [s.get("Sid") for s in statements] == [
        None,
        "CloudWatchLogsEncryptsThisAccountsLogGroups",
    ]


def test_bad_alias_and_window_are_reported_together() -> None:
    with pytest.raises(ValueError) as raised:
        PlatformKey(new_stack(), "Key", alias="alias/aws/mine", pending_window=cdk.Duration.days(3))
    assert str(raised.value) == (
        "Invalid PlatformKey props: alias must start with 'alias/' and not 'alias/aws/' "
        "(got 'alias/aws/mine'); pending_window must be 7-30 days (got 3)"
    )


def test_alias_characters() -> None:
    with pytest.raises(
        ValueError,
        match=r"alias must be 1-250 characters of letters, digits, / _ - after 'alias/' "
        r"\(got 'alias/a b'\)",
    ):
        PlatformKey(new_stack(), "Key", alias="alias/a b")
