"""Files generated from the settings model and from botocore stay current."""

from __future__ import annotations

import json

from stacks.settings.reference import (
    README_PATH,
    SCHEMA_PATH,
    json_schema,
    markdown_reference,
    readme_with_reference,
)


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text() == json_schema(), "run `make config-docs` and commit the result"


def test_readme_reference_is_current() -> None:
    readme = README_PATH.read_text()
    assert readme_with_reference(readme) == readme, "run `make config-docs` and commit the result"


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
