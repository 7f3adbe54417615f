"""tools/integ.py: the snapshot comparison (integ-runner's rules), the results it reads
back, the cleanup before `cdk destroy`, and a run without credentials."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from tools import integ

NOTEBOOK_SNAPSHOT = integ.snapshot_dir(integ.CASES_DIR / "integ_notebook.py")
FOUNDATION = "smkit-it-nb-Foundation"
NOTEBOOKS = "smkit-it-nb-Notebooks"


def _copy_snapshot(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(NOTEBOOK_SNAPSHOT, copy)
    return copy


def _edit_template(assembly: Path, stack: str, edit: Any) -> None:
    path = assembly / f"{stack}.template.json"
    template = json.loads(path.read_text())
    edit(template)
    path.write_text(json.dumps(template))


def test_discover_finds_the_cases_and_names_them_for_an_unknown_one() -> None:
    assert [p.name for p in integ.discover(["integ_notebook"])] == ["integ_notebook.py"]
    with pytest.raises(integ.IntegError) as err:
        integ.discover(["integ_notebok"])
    assert "no integration case named integ_notebok; the cases are integ_cost_guard" in str(
        err.value
    )


def test_a_snapshot_equals_itself(tmp_path: Path) -> None:
    assert integ.compare(NOTEBOOK_SNAPSHOT, _copy_snapshot(tmp_path, "actual")) == []


def test_a_changed_property_fails_with_the_resource_and_the_path(tmp_path: Path) -> None:
    actual = _copy_snapshot(tmp_path, "actual")

    def shrink(template: dict[str, Any]) -> None:
        notebook = template["Resources"]["NotebookProbe"]
        notebook["Properties"]["VolumeSizeInGB"] = 50

    _edit_template(actual, NOTEBOOKS, shrink)
    (problem,) = integ.compare(NOTEBOOK_SNAPSHOT, actual)
    assert problem.startswith(f"{NOTEBOOKS}: snapshot changed\n")
    assert (
        "[~] AWS::SageMaker::NotebookInstance NotebookProbe (Properties/VolumeSizeInGB: 5 -> 50)"
        in problem
    )


def test_added_and_removed_resources_and_stacks_are_reported(tmp_path: Path) -> None:
    actual = _copy_snapshot(tmp_path, "actual")

    def add_and_remove(template: dict[str, Any]) -> None:
        template["Resources"]["Extra"] = {"Type": "AWS::SNS::Topic"}
        del template["Resources"]["AlertsTopic"]

    _edit_template(actual, FOUNDATION, add_and_remove)
    manifest = json.loads((actual / "integ.json").read_text())
    manifest["testCases"]["Notebook/DefaultTest"]["stacks"].remove(NOTEBOOKS)
    (actual / "integ.json").write_text(json.dumps(manifest))
    problems = integ.compare(NOTEBOOK_SNAPSHOT, actual)
    assert f"{NOTEBOOKS} exists in the snapshot, but not in the case" in problems
    (changed,) = [p for p in problems if p.startswith(FOUNDATION)]
    assert "[+] AWS::SNS::Topic Extra" in changed
    assert "[-] AWS::SNS::Topic AlertsTopic" in changed


def test_a_new_asset_hash_alone_is_not_a_change_unless_the_case_diffs_assets(
    tmp_path: Path,
) -> None:
    expected = integ.snapshot_dir(integ.CASES_DIR / "integ_cost_guard.py")
    actual = tmp_path / "actual"
    shutil.copytree(expected, actual)
    stack = "smkit-it-cg-Cost"
    template = (actual / f"{stack}.template.json").read_text()
    # The guard function's code: an asset the template names by its hash.
    (old_hash,) = [a for a in integ.asset_ids(actual, stack) if a in template]
    new_hash = "f" * 64
    for name in (f"{stack}.assets.json", f"{stack}.template.json"):
        path = actual / name
        path.write_text(path.read_text().replace(old_hash, new_hash))
    assert integ.compare(expected, actual) == []
    manifest = json.loads((actual / "integ.json").read_text())
    manifest["testCases"]["CostGuard/DefaultTest"]["diffAssets"] = True
    (actual / "integ.json").write_text(json.dumps(manifest))
    (problem,) = integ.compare(expected, actual)
    assert problem.startswith(f"{stack}: snapshot changed") and new_hash in problem


def test_a_missing_snapshot_says_how_to_write_it(tmp_path: Path) -> None:
    assert integ.compare(tmp_path / "none.py.snapshot", NOTEBOOK_SNAPSHOT) == [
        "none.py.snapshot does not exist: write it with the snapshot update"
    ]


def test_the_snapshot_keeps_templates_and_manifests_only(tmp_path: Path) -> None:
    assembly = _copy_snapshot(tmp_path, "assembly")
    (assembly / "tree.json").write_text("{}")
    (assembly / "asset.abc").mkdir()
    names = integ.write_snapshot(assembly, tmp_path / "snap")
    assert "tree.json" not in names
    assert sorted(p.name for p in (tmp_path / "snap").iterdir()) == sorted(names)
    assert {"manifest.json", "integ.json", f"{NOTEBOOKS}.template.json"} <= set(names)


def test_assertion_results_are_read_from_the_outputs_like_integ_runner(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "Assert": {
                    "AssertionResultsEqualsAssertionA": '{"status":"success"}',
                    "AssertionResultsEqualsAssertionB": '{"status":"fail","message":"a\nb"}',
                    "SomethingElse": "x",
                },
                "Other": {"AssertionResultsX": '{"status":"fail"}'},
            }
        )
    )
    assert integ.assertion_results(outputs, "Assert") == {
        "AssertionResultsEqualsAssertionA": {"status": "success"},
        "AssertionResultsEqualsAssertionB": {"status": "fail", "message": "a\nb"},
    }
    assert integ.assertion_results(tmp_path / "missing.json", "Assert") == {}


@mock_aws
def test_buckets_of_the_case_are_emptied_of_every_version_before_destroy() -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    cloudformation.create_stack(
        StackName=FOUNDATION,
        TemplateBody=json.dumps({"Resources": {"DataBucket": {"Type": "AWS::S3::Bucket"}}}),
    )
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key="integ/data.jsonl", Body=body)
    s3.delete_object(Bucket=bucket, Key="integ/data.jsonl")
    emptied = integ.empty_buckets(cloudformation, s3, [FOUNDATION, "smkit-it-nb-Gone"])
    assert emptied == [bucket]
    listing = s3.list_object_versions(Bucket=bucket)
    assert listing.get("Versions", []) == listing.get("DeleteMarkers", []) == []


class _Stack:
    """A CloudFormation client that lists one stack's model package group."""

    def __init__(self, group: str) -> None:
        self._group = group

    def get_paginator(self, _name: str) -> Any:
        group = self._group

        class _Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:  # noqa: N803
                resource = {
                    "ResourceType": "AWS::SageMaker::ModelPackageGroup",
                    "PhysicalResourceId": group,
                }
                return [{"StackResourceSummaries": [resource]}]

        return _Pages()


def test_model_packages_the_runs_registered_are_deleted_before_destroy() -> None:
    # moto has no DeleteModelPackage: botocore's Stubber checks the requests instead.
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    group = "smkit-it-fw-text-classifier"
    arns = [f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{n}" for n in (1, 2)]
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "list_model_packages",
            {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageArn": arn,
                        "ModelPackageGroupName": group,
                        "ModelPackageStatus": "Completed",
                        "CreationTime": "2026-12-05T10:00:00Z",
                    }
                    for arn in arns
                ]
            },
            {"ModelPackageGroupName": group},
        )
        for arn in arns:
            stub.add_response("delete_model_package", {}, {"ModelPackageName": arn})
        deleted = integ.delete_model_packages(
            _Stack(group), sagemaker, ["smkit-it-fw-ModelRegistry"]
        )
        stub.assert_no_pending_responses()
    assert deleted == arns


def test_a_run_without_credentials_stops_before_anything_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def no_synthesis(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nothing is synthesized without credentials")

    monkeypatch.setattr(integ, "synthesize", no_synthesis)
    assert integ.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: make integ deploys the integration cases to a real AWS account and needs "
        "credentials for a sandbox account: no credentials were found."
    )
    assert "Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION" in err


def test_a_run_without_a_region_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    session = boto3.Session(region_name=None)
    with pytest.raises(
        integ.IntegError, match="needs credentials for a sandbox account: no region"
    ):
        integ.check_credentials(session)


def test_make_integ_checks_credentials_before_anything_and_updates_only_on_request() -> None:
    makefile = (integ.KIT / "Makefile").read_text()
    assert "@$(PY) -m tools.integ run $(if $(UPDATE),--update) $(CASES)" in makefile
    assert "@$(PY) -m tools.integ snapshot --update $(CASES)" in makefile
