from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from sagemaker_constructs.common import Problems, retention_days, stable_logical_id
from tests.oracles.synth import new_stack


def test_problems_are_raised_together_and_only_when_present() -> None:
    problems = Problems("widget")
    problems.check(True, "never shown")
    problems.raise_if_any()
    problems.check(False, "size must be 1-3 (got 4)")
    problems.add("name must be set")
    assert problems.messages == ["size must be 1-3 (got 4)", "name must be set"]
    with pytest.raises(
        ValueError, match=r"^Invalid widget props: size must be 1-3 \(got 4\); name must be set$"
    ):
        problems.raise_if_any()


def test_stable_logical_id_pins_the_resource() -> None:
    stack = new_stack()
    stable_logical_id(s3.Bucket(stack, "Deeply"), "PinnedBucket")
    assert "PinnedBucket" in Template.from_stack(stack).to_json()["Resources"]


def test_stable_logical_id_needs_a_resource() -> None:
    stack = new_stack()
    with pytest.raises(TypeError, match="has no CloudFormation resource to pin"):
        stable_logical_id(_Empty(stack, "Empty"), "X")


def test_retention_days() -> None:
    assert retention_days(30) == logs.RetentionDays.ONE_MONTH
    with pytest.raises(
        ValueError, match=r"log retention must be one of 1, 3, 5, 7, .* days \(got 31\)"
    ):
        retention_days(31)


class _Empty(cdk.Resource):
    pass
