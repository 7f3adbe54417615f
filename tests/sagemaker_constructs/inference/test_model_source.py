"""A model package served with a built-in algorithm's image: the image only tells the
endpoint what it serves, so no region mapping is emitted for it (nothing would read it)."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk.assertions import Template

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import InstanceVariant, ModelSource
from tests.oracles.cfn_lint import lint

from .conftest import PACKAGE_ARN, platform


def test_builtin_image_of_a_model_package_emits_no_unused_mapping(tmp_path: Path) -> None:
    shared = platform()
    shared.endpoint(
        model=ModelSource.from_model_package(
            PACKAGE_ARN, image=ContainerImage.from_builtin("forecasting-deepar")
        ),
        variant=InstanceVariant("ml.c5.xlarge"),
    )
    template = Template.from_stack(shared.stack).to_json()
    assert "Mappings" not in template
    path = tmp_path / "package.template.json"
    path.write_text(json.dumps(template))
    _errors, warnings = lint(path, regions=["us-east-1"])
    assert [w for w in warnings if " W7001 " in w] == []
