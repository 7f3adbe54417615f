"""Files generated from the settings model and from botocore stay current."""

from __future__ import annotations

import json
import re

import pytest

from stacks.settings.reference import (
    BEGIN,
    REFERENCE_PATH,
    SCHEMA_PATH,
    heading_anchor,
    json_schema,
    markdown_reference,
    page_with_reference,
)


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == json_schema(), "run `make config-docs` and commit the result"


def test_reference_page_is_current() -> None:
    page = REFERENCE_PATH.read_text()
    assert page_with_reference(page) == page, "run `make config-docs` and commit the result"


def test_reference_page_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match=r"configuration\.md lacks the markers"):
        page_with_reference("# Configuration reference\n")


def test_contents_link_every_section_of_the_page() -> None:
    page = REFERENCE_PATH.read_text()
    seen: dict[str, int] = {}
    anchors = [
        heading_anchor(title, seen) for title in re.findall(r"^#{1,6} (.+)$", page, re.MULTILINE)
    ]
    contents = page[page.index(BEGIN) :].split("## Top level", 1)[0]
    links = re.findall(r"^ *- \[(.+)\]\(#(.+)\)$", contents, re.MULTILINE)
    generated = re.findall(r"^#{3,6} (.+)$", markdown_reference(), re.MULTILINE)
    assert [title for title, _ in links] == ["Top level", *generated]
    assert [anchor for _, anchor in links if anchor not in anchors] == []
    assert ("`cost.budget.teams`", "costbudgetteams") in links
    assert (
        "`inference.endpoints.model (source: artifact).image (type: asset)`",
        "inferenceendpointsmodel-source-artifactimage-type-asset",
    ) in links


def test_heading_anchors_follow_github() -> None:
    seen: dict[str, int] = {}
    assert heading_anchor("Top level", seen) == "top-level"
    assert heading_anchor("`network (mode: none)`", seen) == "network-mode-none"
    assert heading_anchor("`cost.limits.instance_types`", seen) == "costlimitsinstance_types"
    assert heading_anchor("Top level", seen) == "top-level-1"
    assert heading_anchor("Top level", seen) == "top-level-2"


def test_reference_documents_every_option() -> None:
    reference = markdown_reference()
    schema = json.loads(json_schema())
    documented = {name for name in schema["properties"]}
    for definition in schema.get("$defs", {}).values():
        documented |= set(definition.get("properties", {}))
    missing = sorted(name for name in documented if f"| `{name}` |" not in reference)
    assert missing == []
    assert "| `name_prefix` | string | **required** |" in reference


def test_schema_describes_every_field() -> None:
    schema = json.loads(json_schema())
    undocumented = [
        f"{model}.{name}"
        for model, definition in [("root", schema), *schema.get("$defs", {}).items()]
        for name, prop in definition.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert undocumented == []


def test_yaml_files_point_editors_at_the_schema() -> None:
    root = SCHEMA_PATH.parent
    assert (
        (root / "default.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=./schema.json\n")
    )
    for path in (root / "examples").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schema.json\n"), path
