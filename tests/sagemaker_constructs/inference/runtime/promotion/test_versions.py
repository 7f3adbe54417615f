"""The rules of what an endpoint that follows a group serves, without AWS."""

from __future__ import annotations

import re

import pytest

from sagemaker_constructs.inference.runtime.promotion.versions import (
    Follower,
    Plan,
    Version,
    group_of,
    metadata_safe,
    parameter_pattern,
    version_number,
    version_parameter,
)

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/smkit-full-text-classifier/7"


def test_parameter_names_follow_the_endpoint_key() -> None:
    assert version_parameter("text-classifier") == "TextClassifierModelVersion"
    assert version_parameter("text-classifier-staging") == "TextClassifierStagingModelVersion"


def test_the_parameter_pattern_takes_nothing_or_a_version_of_its_own_group() -> None:
    pattern = parameter_pattern("smkit-full-text-classifier")
    assert re.fullmatch(pattern, "")
    assert re.fullmatch(pattern, ARN)
    assert re.fullmatch(pattern, ARN.replace("aws:sagemaker", "aws-us-gov:sagemaker"))
    assert not re.fullmatch(pattern, ARN.replace("text-classifier", "deepar-demand"))
    assert not re.fullmatch(pattern, ARN.rsplit("/", 1)[0])
    with pytest.raises(ValueError, match="not a model package group name: 'a/b'"):
        parameter_pattern("a/b")


def test_arns_give_their_group_and_version() -> None:
    assert (group_of(ARN), version_number(ARN)) == ("smkit-full-text-classifier", 7)
    assert (group_of(""), version_number("")) == (None, None)


def test_metadata_values_keep_only_what_sagemaker_accepts() -> None:
    assert metadata_safe("Staging OK, p99 fine (ticket #42)!") == "Staging OK p99 fine ticket 42"
    assert metadata_safe("!!!") == "-"
    assert len(metadata_safe("x" * 300)) == 256


def test_only_approved_complete_versions_are_deployable() -> None:
    def version(approval: str, status: str) -> Version:
        return Version(arn=ARN, number=7, approval=approval, status=status)

    assert version("Approved", "Completed").deployable
    assert not version("Approved", "Deleting").deployable
    assert not version("PendingManualApproval", "Completed").deployable
    assert not version("Rejected", "Completed").deployable


def test_a_follower_without_a_version_says_why_and_what_it_keeps() -> None:
    staging = Follower("smkit-full-staging", "StagingModelVersion", "smkit-full-tc")
    prod = Follower("smkit-full-prod", "ProdModelVersion", "smkit-full-tc", "smkit-full-staging")
    assert Plan(staging, "", None).why_not() == (
        "smkit-full-staging: no version of smkit-full-tc is approved; it waits for one "
        "(no endpoint until then)"
    )
    assert Plan(prod, ARN, None).why_not() == (
        "smkit-full-prod: no approved version of smkit-full-tc is promoted from "
        "smkit-full-staging; it keeps serving version 7"
    )
    assert not Plan(prod, ARN, None).changes
    target = Version(arn=ARN, number=7, approval="Approved", status="Completed")
    assert not Plan(prod, ARN, target).changes
    assert Plan(prod, "", target).changes


def test_followers_travel_as_json() -> None:
    prod = Follower("smkit-full-prod", "ProdModelVersion", "smkit-full-tc", "smkit-full-staging")
    assert Follower.from_json(prod.to_json()) == prod
