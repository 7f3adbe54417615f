"""The platform table against AWS's own lists: every platform the SageMaker API or
CloudFormation names is either one the kit deploys or one it refuses with a reason, and
the instance families refused are ones SageMaker lists for notebooks."""

from __future__ import annotations

import re

import botocore.session
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

from sagemaker_constructs.common.instance_types import NOTEBOOK_INSTANCE_TYPES
from sagemaker_constructs.notebooks.platforms import (
    NOT_IN_CLOUDFORMATION,
    PLATFORM_IDENTIFIERS,
    RETIRED_PLATFORMS,
    UNSUPPORTED_FAMILIES,
    instance_type_problem,
    platform_problem,
)


def _alternatives(pattern: str) -> set[str]:
    """The names of a `^(a|b|c)$` pattern."""
    match = re.fullmatch(r"\^?\((.*)\)\$?", pattern)
    assert match, pattern
    return set(match.group(1).split("|"))


def test_every_platform_aws_names_is_deployed_or_refused_with_a_reason() -> None:
    api = botocore.session.get_session().get_service_model("sagemaker")
    shape = api.operation_model("CreateNotebookInstance").input_shape.members["PlatformIdentifier"]
    in_api = _alternatives(shape.metadata["pattern"])
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(
        "us-east-1", "AWS::SageMaker::NotebookInstance"
    ).schema
    in_cloudformation = _alternatives(schema["properties"]["PlatformIdentifier"]["pattern"])

    assert set(PLATFORM_IDENTIFIERS) <= in_api & in_cloudformation
    known = set(PLATFORM_IDENTIFIERS) | set(RETIRED_PLATFORMS) | set(NOT_IN_CLOUDFORMATION)
    assert in_api | in_cloudformation <= known, "a platform AWS added: decide about it here"
    assert set(NOT_IN_CLOUDFORMATION) <= in_api - in_cloudformation
    for platform in (in_api | in_cloudformation) - set(PLATFORM_IDENTIFIERS):
        problem = platform_problem(platform)
        assert problem is not None and "notebook-al2023-v1" in problem


def test_refused_families_are_notebook_families_and_the_rest_are_allowed() -> None:
    families = {t.split(".")[1] for t in NOTEBOOK_INSTANCE_TYPES}
    (refused,) = UNSUPPORTED_FAMILIES.values()
    # g3 has left SageMaker's list; the others are still offered for notebooks.
    assert set(refused) - families == {"g3"}
    allowed = [
        t for t in NOTEBOOK_INSTANCE_TYPES if instance_type_problem(t, "notebook-al2023-v1") is None
    ]
    assert {t.split(".")[1] for t in allowed} == families - set(refused)
    assert "ml.g5.xlarge" in allowed and "ml.p3.2xlarge" not in allowed
