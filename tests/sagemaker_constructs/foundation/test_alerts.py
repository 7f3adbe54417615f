from __future__ import annotations

import json

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

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


def test_cloudwatch_alarms_of_this_account_may_publish() -> None:
    # The topic policy replaces SNS's default one: without this statement alarm actions fail.
    stack = new_stack()
    AlertsTopic(stack, "Alerts", encryption_key=kms.Key(stack, "Key"))
    Template.from_stack(stack).has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "CloudWatchAlarmsOfThisAccountPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": {"Ref": Match.string_like_regexp("AlertsTopic")},
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                "ArnLike": {"aws:SourceArn": Match.any_value()},
                            },
                        }
                    ]
                )
            }
        },
    )
    policy = Template.from_stack(stack).find_resources("AWS::SNS::TopicPolicy")
    statement = next(
        s
        for r in policy.values()
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "CloudWatchAlarmsOfThisAccountPublish"
    )
    arn = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in arn and ":alarm:*" in arn
