"""The CDK bootstrap check: the version the assembly needs (read from a real synthesized
cdk.out and from hand-made manifests) against the account's (moto's SSM and
CloudFormation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smkit_cli.deployment import Deployment
from smkit_cli.preflight.bootstrap import (
    DEFAULT_VERSION_PARAMETER,
    AssemblyError,
    BootstrapNeed,
    check_bootstrap,
    read_needs,
)
from stacks.settings import load_settings
from tests.oracles.synth import Synthesis

from ..conftest import OPS_CONFIG, Platform
from .conftest import answers, denied

OTHER_PARAMETER = "/cdk-bootstrap/custom/version"


def assembly(tmp_path: Path, artifacts: dict[str, Any]) -> Path:
    """A cdk.out holding only a manifest with these artifacts."""
    (tmp_path / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return tmp_path


def stack(version: int, parameter: str = DEFAULT_VERSION_PARAMETER, **extra: Any) -> dict[str, Any]:
    return {
        "type": "aws:cloudformation:stack",
        "properties": {
            "templateFile": "x.template.json",
            "requiresBootstrapStackVersion": version,
            "bootstrapStackVersionSsmParameter": parameter,
            **extra,
        },
    }


def ops_assembly(tmp_path: Path, version: int = 6) -> Path:
    return assembly(tmp_path, {"ops-Foundation": stack(version)})


def bootstrap(platform: Platform, version: str) -> None:
    """The account's bootstrap version, as `cdk bootstrap` records it."""
    platform.client("ssm").put_parameter(
        Name=DEFAULT_VERSION_PARAMETER, Value=version, Type="String"
    )


def test_a_synthesized_assembly_names_the_version_it_needs(default_synth: Synthesis) -> None:
    (need,) = read_needs(default_synth.outdir, default_synth.settings)
    # aws-cdk-lib 2.275: stacks and assets need 6, the lookup role (cdk diff) 8.
    assert need == BootstrapNeed(
        DEFAULT_VERSION_PARAMETER, 8, "smkit-Foundation (lookup role, used by cdk diff)"
    )


def test_the_highest_need_per_parameter_wins(tmp_path: Path) -> None:
    artifacts = {
        "ops-Foundation": stack(6),
        "ops-Training.assets": {
            "type": "cdk:asset-manifest",
            "properties": {
                "file": "ops-Training.assets.json",
                "requiresBootstrapStackVersion": 21,
                "bootstrapStackVersionSsmParameter": DEFAULT_VERSION_PARAMETER,
            },
        },
        "ops-Inference": stack(9, OTHER_PARAMETER),
        "shop-Foundation": stack(99),
        "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
    }
    needs = read_needs(assembly(tmp_path, artifacts), load_settings(OPS_CONFIG))
    assert needs == [
        BootstrapNeed(DEFAULT_VERSION_PARAMETER, 21, "ops-Training.assets"),
        BootstrapNeed(OTHER_PARAMETER, 9, "ops-Inference"),
    ]


def test_an_assembly_of_another_config_is_refused(tmp_path: Path) -> None:
    path = assembly(tmp_path, {"shop-Foundation": stack(6)})
    with pytest.raises(AssemblyError) as raised:
        read_needs(path, load_settings(OPS_CONFIG))
    assert str(raised.value) == (
        f"{path} holds no stack ops-Foundation: it was synthesized from another config"
    )


def test_an_unbootstrapped_account_fails(
    platform: Platform, deployment: Deployment, tmp_path: Path
) -> None:
    (finding,) = check_bootstrap(deployment, ops_assembly(tmp_path))
    assert finding.status == "fail"
    assert finding.detail == (
        f"not bootstrapped: no SSM parameter {DEFAULT_VERSION_PARAMETER} in account "
        "123456789012, us-east-1"
    )
    assert finding.fix == (
        f"Run `make bootstrap CONFIG={OPS_CONFIG}` (it creates the bootstrap stack, or "
        "upgrades it in place)."
    )


def test_an_old_bootstrap_fails_naming_what_needs_more(
    platform: Platform, deployment: Deployment, tmp_path: Path
) -> None:
    bootstrap(platform, "5")
    (finding,) = check_bootstrap(deployment, ops_assembly(tmp_path, 6))
    assert finding.status == "fail"
    assert finding.detail == "bootstrap version 5; ops-Foundation needs at least 6"
    assert finding.data == {"version": 5, "needed": 6}


def test_a_new_enough_bootstrap_passes(
    platform: Platform, deployment: Deployment, tmp_path: Path
) -> None:
    bootstrap(platform, "28")
    (finding,) = check_bootstrap(deployment, ops_assembly(tmp_path, 6))
    assert finding.status == "pass"
    assert finding.detail == (
        "bootstrap version 28; the assembly needs at least 6 (ops-Foundation)"
    )


def test_without_an_assembly_the_version_is_reported_unjudged(
    platform: Platform, deployment: Deployment
) -> None:
    bootstrap(platform, "28")
    (finding,) = check_bootstrap(deployment, None)
    assert finding.status == "unknown"
    assert finding.cause is None
    assert finding.detail == (
        "bootstrap version 28; no assembly was given to read the version it needs"
    )
    assert finding.fix == (
        f"Run `make preflight CONFIG={OPS_CONFIG}` (it synthesizes first), or pass "
        "--assembly with this config's cdk.out."
    )


def test_a_broken_bootstrap_stack_fails(
    platform: Platform, deployment: Deployment, tmp_path: Path
) -> None:
    from moto.cloudformation.models import cloudformation_backends

    bootstrap(platform, "28")
    platform.client("cloudformation").create_stack(
        StackName="CDKToolkit",
        TemplateBody=json.dumps({"Resources": {"Marker": {"Type": "AWS::SNS::Topic"}}}),
    )
    backend = cloudformation_backends["123456789012"]["us-east-1"]
    next(
        s for s in backend.stacks.values() if s.name == "CDKToolkit"
    ).status = "UPDATE_ROLLBACK_FAILED"
    (finding,) = check_bootstrap(deployment, ops_assembly(tmp_path))
    assert finding.status == "fail"
    assert finding.detail == (
        "bootstrap stack CDKToolkit is UPDATE_ROLLBACK_FAILED in account 123456789012, us-east-1"
    )
    assert finding.fix is not None
    assert finding.fix.startswith("See the events of CDKToolkit in the CloudFormation console")


def test_a_denied_read_names_the_permission(
    platform: Platform, deployment: Deployment, tmp_path: Path
) -> None:
    with answers(platform, ("ssm", "GetParameter", denied("ssm:GetParameter")), status=400):
        (finding,) = check_bootstrap(deployment, ops_assembly(tmp_path))
    assert finding.status == "unknown"
    assert finding.permission == "ssm:GetParameter"
    assert finding.subject == f"CDK bootstrap ({DEFAULT_VERSION_PARAMETER})"
