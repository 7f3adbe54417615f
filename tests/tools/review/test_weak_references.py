"""Consumers of changed outputs under weak cross-stack references (DEPLOY-2): an output
whose expression changes, or whose resource is replaced, names every consumer stack and
the resources that read it, and whether `cdk deploy` would skip the consumer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.review.__main__ import main
from tools.review.diff import compare
from tools.review.weak_references import stale_references

OUTPUT = "PublishOutputFnGetAttDataBucketArn0EDB7CF6"


def _producer(bucket_name: str = "data-v1", attribute: str = "Arn") -> dict[str, Any]:
    return {
        "Resources": {"DataBucket": resource("AWS::S3::Bucket", BucketName=bucket_name)},
        "Outputs": {OUTPUT: {"Value": {"Fn::GetAtt": ["DataBucket", attribute]}}},
    }


def _consumer(topic: str = "alerts") -> dict[str, Any]:
    reference = {"Fn::GetStackOutput": {"StackName": "Foundation", "OutputName": OUTPUT}}
    return {
        "Resources": {
            "Reader": resource(
                "AWS::IAM::Policy",
                PolicyName="read",
                PolicyDocument={"Statement": [{"Action": "s3:GetObject", "Resource": reference}]},
            ),
            "Topic": resource("AWS::SNS::Topic", TopicName=topic),
        },
        "Outputs": {"BucketArn": {"Value": reference}},
    }


def _assemblies(
    tmp_path: Path, base: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
) -> tuple[Path, Path]:
    return write_assembly(tmp_path / "base", base), write_assembly(tmp_path / "new", new)


def test_a_replaced_resource_behind_an_output_names_its_consumers(tmp_path: Path) -> None:
    base, new = _assemblies(
        tmp_path,
        {"Foundation": _producer(), "Inference": _consumer()},
        {"Foundation": _producer("data-v2"), "Inference": _consumer()},
    )
    old_assembly, new_assembly = load_assembly(base), load_assembly(new)
    (stale,) = stale_references(old_assembly, new_assembly, compare(old_assembly, new_assembly))
    assert (stale.producer, stale.output, stale.consumer) == ("Foundation", OUTPUT, "Inference")
    assert stale.readers == ("Reader", "Outputs.BucketArn")
    assert stale.consumer_changes is False
    assert stale.text() == (
        f"Inference reads Foundation.{OUTPUT} in Reader, Outputs.BucketArn, and its value "
        "changes: it reads DataBucket, which is replaced (BucketName changed (set only at "
        "creation)): its template does not change, so `make deploy` skips it and they keep "
        "the old value (DEPLOY-2)"
    )


def test_a_changed_output_expression_names_its_consumers(tmp_path: Path) -> None:
    base, new = _assemblies(
        tmp_path,
        {"Foundation": _producer(), "Inference": _consumer()},
        {"Foundation": _producer(attribute="DomainName"), "Inference": _consumer("alerts-v2")},
    )
    (stale,) = stale_references(load_assembly(base), load_assembly(new))
    assert stale.reason == ("its value changes from ${DataBucket.Arn} to ${DataBucket.DomainName}")
    assert stale.consumer_changes is True
    assert "`make deploy` updates it after Foundation; check that the new value reached them" in (
        stale.text()
    )


def test_unchanged_outputs_and_other_changes_name_nobody(tmp_path: Path) -> None:
    base, new = _assemblies(
        tmp_path,
        {"Foundation": _producer(), "Inference": _consumer()},
        {"Foundation": _producer(), "Inference": _consumer("alerts-v2")},
    )
    old_assembly, new_assembly = load_assembly(base), load_assembly(new)
    assert stale_references(old_assembly, new_assembly, compare(old_assembly, new_assembly)) == []


def test_review_lists_the_consumers_of_every_changed_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, new = _assemblies(
        tmp_path,
        {"Foundation": _producer(), "Inference": _consumer(), "Training": _consumer()},
        {"Foundation": _producer("data-v2"), "Inference": _consumer(), "Training": _consumer()},
    )
    assert main([str(new), "--base", str(base)]) == 0
    printed = capsys.readouterr().out
    assert f"STALE REFERENCE: Inference reads Foundation.{OUTPUT} in Reader" in printed
    assert f"STALE REFERENCE: Training reads Foundation.{OUTPUT} in Reader" in printed
    page = (new / "review.md").read_text()
    assert "> **Stack outputs change under weak references.**" in page
