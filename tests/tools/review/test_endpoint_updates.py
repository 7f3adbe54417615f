"""Endpoint updates SageMaker refuses (ENDPOINT-2, -3, -4), found by comparing a base
assembly with a new one: an autoscaled endpoint synthesized once, then edited the way a
config change edits it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sagemaker_constructs.inference import InstanceVariant, ServerlessVariant
from tests.tools.assemblies import write_assembly
from tests.tools.endpoints import STACK, endpoint_template, variants, with_instance_type
from tools.assembly import load_assembly
from tools.review.__main__ import main
from tools.review.endpoint_updates import RefusedUpdate, refused_updates


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The autoscaled endpoint, the same without autoscaling, and a serverless one."""
    return {
        "scaled": endpoint_template(
            tmp_path_factory.mktemp("scaled"), InstanceVariant("ml.c5.xlarge"), scaled=True
        ),
        "fixed": endpoint_template(
            tmp_path_factory.mktemp("fixed"), InstanceVariant("ml.c5.xlarge"), scaled=False
        ),
        "serverless": endpoint_template(
            tmp_path_factory.mktemp("serverless"), ServerlessVariant(), scaled=False
        ),
    }


def _refused(tmp_path: Path, base: dict[str, Any], new: dict[str, Any]) -> list[RefusedUpdate]:
    return refused_updates(
        load_assembly(write_assembly(tmp_path / "base", {STACK: base})),
        load_assembly(write_assembly(tmp_path / "new", {STACK: new})),
    )


def test_instance_type_change_of_an_autoscaled_variant_fails(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    base = templates["scaled"]
    (refused,) = _refused(tmp_path, base, with_instance_type(base, "ml.c5.2xlarge"))
    assert (refused.rule, refused.endpoint, refused.variant) == (
        "ENDPOINT-2",
        "smkit-forecast",
        "AllTraffic",
    )
    assert refused.text() == (
        "endpoint smkit-forecast, variant AllTraffic (stack Serving): the instance type "
        "changes from ml.c5.xlarge to ml.c5.2xlarge while the variant is an Application Auto "
        "Scaling target, and SageMaker refuses the update (ENDPOINT-2, "
        "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html). "
        "Deploy in two steps: remove the endpoint's autoscaling, keep ml.c5.xlarge and deploy "
        "(that deregisters the variant); then set ml.c5.2xlarge, restore the autoscaling and "
        "deploy again."
    )


def test_removing_autoscaling_in_the_same_deploy_does_not_help(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # CloudFormation deletes the scalable target after updating the endpoint.
    new = with_instance_type(templates["fixed"], "ml.c5.2xlarge")
    assert [r.rule for r in _refused(tmp_path, templates["scaled"], new)] == ["ENDPOINT-2"]


def test_changes_sagemaker_allows_are_not_flagged(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    scaled, fixed = templates["scaled"], templates["fixed"]
    # Not a scalable target (yet): any instance type; adding autoscaling as well.
    assert _refused(tmp_path / "a", fixed, with_instance_type(fixed, "ml.c5.2xlarge")) == []
    assert _refused(tmp_path / "b", fixed, with_instance_type(scaled, "ml.c5.2xlarge")) == []
    # The model changes, the instance type stays: SageMaker allows it.
    new_model = copy.deepcopy(scaled)
    for resource in new_model["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::Model":
            resource["Properties"]["PrimaryContainer"]["ModelDataUrl"] = "s3://other/model.tar.gz"
    assert _refused(tmp_path / "c", scaled, new_model) == []
    # Serverless to instances is allowed (one way).
    assert _refused(tmp_path / "d", templates["serverless"], fixed) == []


def test_a_scaled_variant_that_leaves_the_endpoint_fails(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    base = templates["scaled"]
    renamed = copy.deepcopy(base)
    variants(renamed)[0]["VariantName"] = "Blue"
    (refused,) = _refused(tmp_path, base, renamed)
    assert (refused.rule, refused.variant) == ("ENDPOINT-3", "AllTraffic")
    assert "the variant leaves the endpoint while it is an Application Auto Scaling target" in (
        refused.problem
    )


def test_instance_endpoint_cannot_become_serverless(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    (refused,) = _refused(tmp_path, templates["fixed"], templates["serverless"])
    assert refused.rule == "ENDPOINT-4"
    assert refused.problem == (
        "the variant changes from instances (ml.c5.xlarge) to serverless, and SageMaker "
        "refuses to convert an instance-based endpoint to serverless"
    )
    assert refused.fix.startswith("Give the serverless endpoint a new name")


def test_a_renamed_endpoint_is_a_new_endpoint(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    base = templates["scaled"]
    renamed = with_instance_type(base, "ml.c5.2xlarge")
    for resource in renamed["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::Endpoint":
            resource["Properties"]["EndpointName"] = "smkit-forecast-v2"
    assert _refused(tmp_path, base, renamed) == []


def test_review_flags_the_update_as_one_that_fails_on_deploy(
    templates: dict[str, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_assembly(tmp_path / "base", {STACK: templates["scaled"]})
    new = write_assembly(
        tmp_path / "new", {STACK: with_instance_type(templates["scaled"], "ml.g5.xlarge")}
    )
    assert main([str(new), "--base", str(base)]) == 0
    printed = capsys.readouterr().out
    assert (
        "FAILS ON DEPLOY: endpoint smkit-forecast, variant AllTraffic (stack Serving): the "
        "instance type changes from ml.c5.xlarge to ml.g5.xlarge" in printed
    )
    page = (new / "review.md").read_text()
    assert "> **Updates AWS refuses.**" in page
    assert "> - endpoint smkit-forecast, variant AllTraffic (stack Serving)" in page
    # Unchanged endpoints flag nothing.
    assert main([str(base), "--base", str(base), "--output", str(tmp_path / "same.md")]) == 0
    assert "FAILS ON DEPLOY" not in capsys.readouterr().out


def test_an_endpoint_of_the_kits_inference_stack_names_its_config_entry(
    templates: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    base = copy.deepcopy(templates["scaled"])
    for resource in base["Resources"].values():
        if resource["Type"] == "AWS::SageMaker::Endpoint":
            resource["Metadata"] = {"aws:cdk:path": "smkit-Inference/demand-forecast/Endpoint"}
    (refused,) = _refused(tmp_path, base, with_instance_type(base, "ml.c5.2xlarge"))
    assert refused.config_path == "inference.endpoints.demand-forecast"
    assert refused.text().startswith(
        "endpoint smkit-forecast, variant AllTraffic (stack Serving, "
        "inference.endpoints.demand-forecast): "
    )
