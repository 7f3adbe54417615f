"""The changes section: a pair of synths where buckets are replaced flags them loudly;
additions, removals and in-place modifications are told apart."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from tests.oracles.synth import cdk_json_context
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.review.__main__ import main
from tools.review.diff import ADDED, MODIFIED, REMOVED, REPLACED, compare, create_only_properties


def _synth(outdir: Path, *, renamed: bool) -> Path:
    """A small app: one bucket whose logical ID changes, one whose name changes."""
    # The CLI records construct paths in the templates' metadata; so does this app.
    context = {**cdk_json_context(), "aws:cdk:enable-path-metadata": True}
    app = cdk.App(outdir=str(outdir), context=context)
    stack = cdk.Stack(app, "Data")
    moved = s3.Bucket(stack, "Moved", versioned=True)
    s3.Bucket(stack, "Named", bucket_name="demo-named-v2" if renamed else "demo-named-v1")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    key.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    if renamed:
        moved.node.default_child.override_logical_id("MovedBucketRenamed")  # type: ignore[union-attr]
        s3.Bucket(stack, "Added")
    else:
        s3.Bucket(stack, "Dropped")
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def synth_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = _synth(tmp_path_factory.mktemp("base"), renamed=False)
    new = _synth(tmp_path_factory.mktemp("new"), renamed=True)
    return base, new


def test_replaced_buckets_are_flagged_loudly(synth_pair: tuple[Path, Path]) -> None:
    base, new = synth_pair
    changes = {c.logical_id: c for c in compare(load_assembly(base), load_assembly(new))}
    moved = changes["MovedBucketRenamed"]
    assert (moved.kind, moved.loud) == (REPLACED, True)
    assert moved.detail.startswith("logical ID changed from Moved")
    assert moved.detail.endswith("(construct Data/Moved/Resource)")
    named = next(c for c in changes.values() if c.detail.startswith("BucketName changed"))
    assert (named.kind, named.loud) == (REPLACED, True)
    assert named.detail == "BucketName changed (set only at creation)"


def test_added_and_removed_resources_are_listed(synth_pair: tuple[Path, Path]) -> None:
    base, new = synth_pair
    changes = compare(load_assembly(base), load_assembly(new))
    added = [c.logical_id for c in changes if c.kind == ADDED]
    assert len(added) == 1 and added[0].startswith("Added")
    removed = [c for c in changes if c.kind == REMOVED]
    assert [c.logical_id[: len("Dropped")] for c in removed] == ["Dropped"]
    # CDK retains buckets by default: the old one is orphaned, not deleted, so not loud.
    assert (removed[0].retained, removed[0].loud) == (True, False)


def test_review_cli_writes_the_changes_section_with_a_caution(
    synth_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, new = synth_pair
    assert main([str(new), "--base", str(base)]) == 0
    printed = capsys.readouterr().out
    assert "1 added, 1 removed, 2 replaced, 0 modified" in printed
    assert "WARNING: REPLACED stateful S3::Bucket `MovedBucketRenamed` in Data" in printed
    page = (new / "review.md").read_text()
    assert f"## Changes against {base}" in page
    assert "> [!CAUTION]" in page
    assert "| Data | replaced **(stateful)** | `MovedBucketRenamed` | S3::Bucket |" in page


def test_in_place_change_is_modified_and_not_loud(tmp_path: Path) -> None:
    old = write_assembly(
        tmp_path / "old",
        {"S": {"Resources": {"Key": resource("AWS::KMS::Key", EnableKeyRotation=False)}}},
    )
    new = write_assembly(
        tmp_path / "new",
        {"S": {"Resources": {"Key": resource("AWS::KMS::Key", EnableKeyRotation=True)}}},
    )
    (change,) = compare(load_assembly(old), load_assembly(new))
    assert (change.kind, change.detail, change.loud) == (MODIFIED, "EnableKeyRotation", False)


def test_deleting_a_stateful_resource_that_is_not_retained_is_loud(tmp_path: Path) -> None:
    old = write_assembly(
        tmp_path / "old", {"S": {"Resources": {"Pool": resource("AWS::Cognito::UserPool")}}}
    )
    new = write_assembly(tmp_path / "new", {"S": {"Resources": {}}})
    (change,) = compare(load_assembly(old), load_assembly(new))
    assert (change.kind, change.detail, change.loud) == (REMOVED, "deleted", True)


def test_type_change_replaces(tmp_path: Path) -> None:
    old = write_assembly(tmp_path / "old", {"S": {"Resources": {"X": resource("AWS::SQS::Queue")}}})
    new = write_assembly(tmp_path / "new", {"S": {"Resources": {"X": resource("AWS::SNS::Topic")}}})
    (change,) = compare(load_assembly(old), load_assembly(new))
    assert (change.kind, change.detail) == (REPLACED, "type changed from AWS::SQS::Queue")


def test_a_new_stack_adds_all_its_resources(tmp_path: Path) -> None:
    old = write_assembly(tmp_path / "old", {"A": {"Resources": {}}})
    new = write_assembly(
        tmp_path / "new",
        {"A": {"Resources": {}}, "B": {"Resources": {"Q": resource("AWS::SQS::Queue")}}},
    )
    assert [(c.stack, c.kind) for c in compare(load_assembly(old), load_assembly(new))] == [
        ("B", ADDED)
    ]


def test_create_only_properties_come_from_the_provider_schemas() -> None:
    assert "/properties/BucketName" in create_only_properties("AWS::S3::Bucket", "us-east-1")
    assert "/properties/KmsKeyId" in create_only_properties(
        "AWS::SageMaker::NotebookInstance", "us-east-1"
    )
    assert create_only_properties("AWS::Nothing::Here", "us-east-1") == ()
    assert create_only_properties("AWS::S3::Bucket", "mars-east-1") == ()
