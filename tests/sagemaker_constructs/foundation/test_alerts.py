from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from sagemaker_constructs.foundation import AlertsTopic
from tests.oracles.synth import new_stack


def test_no_emails_no_subscriptions() -> None:
    stack = new_stack()
    AlertsTopic(stack, "Alerts", encryption_key=kms.Key(stack, "Key"))
    Template.from_stack(stack).resource_count_is("AWS::SNS::Subscription", 0)


def test_bad_email_and_long_name() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        AlertsTopic(
            stack,
            "Alerts",
            encryption_key=kms.Key(stack, "Key"),
            emails=["nobody"],
            display_name="x" * 101,
        )
    assert str(raised.value) == (
        "Invalid AlertsTopic props: display_name must be at most 100 characters (got 101); "
        "emails must be e-mail addresses (got 'nobody')"
    )
