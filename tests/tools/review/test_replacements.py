"""Replacements that fail on deploy: a custom name kept through a replacement, and a
second workforce; and what a replaced stateful resource leaves behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.review.diff import compare
from tools.review.replacements import FailingReplacement, failing_replacements
from tools.review.report import _loud_text


def _retained(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _failing(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> list[FailingReplacement]:
    base = load_assembly(write_assembly(tmp_path / "base", {"S": {"Resources": old}}))
    after = load_assembly(write_assembly(tmp_path / "new", {"S": {"Resources": new}}))
    return failing_replacements(base, after, compare(base, after))


def test_a_custom_named_resource_replaced_under_its_name_fails(tmp_path: Path) -> None:
    def group(description: str) -> dict[str, Any]:
        return _retained(
            resource(
                "AWS::SageMaker::ModelPackageGroup",
                ModelPackageGroupName="smkit-text",
                ModelPackageGroupDescription=description,
            )
        )

    (failing,) = _failing(tmp_path, {"Group": group("v1")}, {"Group": group("v2")})
    assert failing.text() == (
        "SageMaker::ModelPackageGroup `Group` in S: it is replaced (ModelPackageGroupDescription "
        "changed (set only at creation)) under the same custom name smkit-text "
        "(ModelPackageGroupName), which CloudFormation refuses "
        "(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
        "aws-properties-name.html). Give it a new ModelPackageGroupName in the same change "
        "(the old resource is then kept outside the stack), or undo the change that replaces it."
    )


def test_a_new_logical_id_with_the_same_name_fails_a_new_name_does_not(tmp_path: Path) -> None:
    old = {"Data": resource("AWS::S3::Bucket", "S/Data/Resource", BucketName="kit-data")}
    moved = {"DataV2": resource("AWS::S3::Bucket", "S/Data/Resource", BucketName="kit-data")}
    (failing,) = _failing(tmp_path / "same", old, moved)
    assert failing.logical_id == "DataV2"
    assert "under the same custom name kit-data (BucketName)" in failing.text()
    renamed = {"Data": resource("AWS::S3::Bucket", "S/Data/Resource", BucketName="kit-data-2")}
    assert _failing(tmp_path / "renamed", old, renamed) == []
    unnamed = {"Logs": resource("AWS::Logs::LogGroup", "S/Logs/Resource")}
    unnamed_moved = {"LogsV2": resource("AWS::Logs::LogGroup", "S/Logs/Resource")}
    assert _failing(tmp_path / "unnamed", unnamed, unnamed_moved) == []


def test_replacing_the_workforce_fails_whatever_its_name(tmp_path: Path) -> None:
    def workforce(name: str, pool: str) -> dict[str, Any]:
        cognito = {"UserPool": pool, "ClientId": "c"}
        return resource("AWS::SageMaker::Workforce", WorkforceName=name, CognitoConfig=cognito)

    (failing,) = _failing(tmp_path, {"Wf": workforce("a", "p1")}, {"Wf": workforce("b", "p2")})
    assert "an account has one workforce per region, so the new one cannot be created" in (
        failing.text()
    )
    assert "API_CreateWorkforce.html" in failing.source


def test_a_replaced_stateful_resource_says_what_happens_to_the_old_one(tmp_path: Path) -> None:
    bucket = "AWS::S3::Bucket"
    base = load_assembly(write_assembly(tmp_path / "b", {"S": {"Resources": {
        "Kept": _retained(resource(bucket, BucketName="k-1")),
        "Gone": resource(bucket, BucketName="g-1"),
    }}}))  # fmt: skip
    new = load_assembly(write_assembly(tmp_path / "n", {"S": {"Resources": {
        "Kept": _retained(resource(bucket, BucketName="k-2")),
        "Gone": resource(bucket, BucketName="g-2"),
    }}}))  # fmt: skip
    texts = {c.logical_id: _loud_text(c) for c in compare(base, new)}
    assert texts["Kept"].endswith(
        "; the old one is kept outside the stack (Retain): move what it holds, then delete it "
        "by hand"
    )
    assert texts["Gone"].endswith("; the old one is deleted")
