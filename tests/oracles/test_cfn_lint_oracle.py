"""The cfn-lint oracle reports what cfn-lint finds, per region list, template after
template (its rules are loaded once and shared)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.oracles.cfn_lint import lint


def _template(tmp_path: Path, name: str, resources: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Resources": resources}))
    return path


def test_errors_and_warnings_are_told_apart_in_every_template(tmp_path: Path) -> None:
    bad = _template(
        tmp_path,
        "Bad.template.json",
        {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}},
    )
    good = _template(tmp_path, "Good.template.json", {"Bucket": {"Type": "AWS::S3::Bucket"}})
    errors, _ = lint(bad)
    assert len(errors) == 1
    assert errors[0].startswith("Bad.template.json: E3002 Additional properties are not allowed")
    assert lint(good) == ([], [])
    # The same rules, again, for another region list.
    errors, _ = lint(bad, regions=["eu-central-1"])
    assert [e.split(" ")[1] for e in errors] == ["E3002"]


def test_a_resource_type_missing_in_a_region_is_an_error_there(tmp_path: Path) -> None:
    path = _template(tmp_path, "Region.template.json", {"Thing": {"Type": "AWS::NoSuch::Thing"}})
    errors, _ = lint(path, regions=["us-east-1"])
    assert any(" E3006 " in e for e in errors), errors


def test_a_file_that_is_no_template_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "Broken.template.json"
    path.write_text('{"Resources": ')
    errors, _ = lint(path)
    assert errors and errors[0].startswith("Broken.template.json: E0000")
