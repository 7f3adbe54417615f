"""`smkit preflight`: every check in one screen or one JSON document, the fixes, and the
exit code the worst result gives (moto, with answers for what moto does not mock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from smkit_cli.preflight.bootstrap import DEFAULT_VERSION_PARAMETER

from .conftest import OPS_CONFIG, Platform
from .preflight.conftest import (
    answers,
    cost_tags,
    denied,
    plenty,
    quota,
    quotas,
    workforce,
    workforces,
)

SPOT_GPU = "ml.g5.xlarge for spot training job usage"


def ops_assembly(folder: Path) -> Path:
    """A cdk.out of ops.yaml, as far as the bootstrap check reads it."""
    folder.mkdir(parents=True, exist_ok=True)
    stack = {
        "type": "aws:cloudformation:stack",
        "properties": {
            "requiresBootstrapStackVersion": 6,
            "bootstrapStackVersionSsmParameter": DEFAULT_VERSION_PARAMETER,
        },
    }
    (folder / "manifest.json").write_text(json.dumps({"artifacts": {"ops-Foundation": stack}}))
    return folder


@contextmanager
def account(
    platform: Platform,
    *,
    bootstrapped: bool = True,
    applied: list[dict[str, Any]] | None = None,
    found: tuple[dict[str, Any], ...] = (),
    tags: dict[str, str] | None = None,
    unanswered: tuple[str, ...] = (),
) -> Iterator[None]:
    """An account in moto, ready for ops.yaml unless told otherwise; the `unanswered`
    operations are left to the test (the first answer registered wins)."""
    if bootstrapped:
        platform.client("ssm").put_parameter(
            Name=DEFAULT_VERSION_PARAMETER, Value="28", Type="String"
        )
    answered = [
        quotas(*(plenty() if applied is None else applied)),
        workforces(*found),
        cost_tags({"smkit:platform": "Active"} if tags is None else tags),
    ]
    with answers(platform, *(a for a in answered if a[1] not in unanswered)):
        yield


def test_a_fresh_account_shows_every_check_and_what_to_do(
    platform: Platform, tmp_path: Path
) -> None:
    gpu_at_zero = [*plenty(SPOT_GPU), quota(SPOT_GPU, 0, code="L-G5SPOT")]
    with account(platform, bootstrapped=False, applied=gpu_at_zero, tags={}):
        result = platform.run("preflight", "--assembly", str(ops_assembly(tmp_path / "cdk.out")))
    assert result.exit_code == 1
    out = result.stdout
    assert f"Preflight of {OPS_CONFIG} (account 123456789012, us-east-1)" in out
    for row in (
        "bootstrap",
        "ml.g5.xlarge for spot training job usage",
        "private workforce ops",
        "endpoint ops-demand-forecast",
        "cost allocation tag smkit:platform",
    ):
        assert row in out
    assert "To do" in out
    assert (
        f"- CDK bootstrap ({DEFAULT_VERSION_PARAMETER}): Run `make bootstrap "
        f"CONFIG={OPS_CONFIG}`" in out
    )
    assert (
        "- ml.g5.xlarge for spot training job usage: aws service-quotas "
        "request-service-quota-increase --service-code sagemaker --quota-code L-G5SPOT "
        "--desired-value 3 --region us-east-1" in out
    )
    assert "18 passed, 2 failed, 1 unknown" in out
    assert "Error: preflight: 2 check(s) failed in account 123456789012, us-east-1" in result.stderr
    assert f"Fix what failed, then deploy: make deploy CONFIG={OPS_CONFIG}" in result.stderr


def test_a_ready_account_exits_0_with_one_json_document(platform: Platform, tmp_path: Path) -> None:
    with account(platform):
        result = platform.run(
            "preflight", "--json", "--assembly", str(ops_assembly(tmp_path / "cdk.out"))
        )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"] == {"pass": 21, "fail": 0, "unknown": 0}
    assert {c["check"] for c in document["checks"]} == {
        "bootstrap",
        "quota",
        "workforce",
        "name",
        "cost-tag",
    }
    spot = next(c for c in document["checks"] if c["subject"] == SPOT_GPU)
    assert spot["needed"] == 3
    assert spot["applied"] == 100
    assert spot["source"] == "applied"
    assert [e["path"] for e in spot["entries"]] == [
        "training.definitions.text-classifier",
        "training.tuning.text-classifier-hpo",
    ]
    bootstrap = document["checks"][0]
    assert bootstrap["version"] == 28
    assert bootstrap["needed"] == 6


def test_denied_reads_exit_5_naming_every_permission(platform: Platform, tmp_path: Path) -> None:
    with (
        account(platform, unanswered=("ListWorkforces", "ListCostAllocationTags")),
        answers(
            platform,
            ("sagemaker", "ListWorkforces", denied("sagemaker:ListWorkforces")),
            ("ce", "ListCostAllocationTags", denied("ce:ListCostAllocationTags")),
            status=400,
        ),
    ):
        result = platform.run("preflight", "--assembly", str(ops_assembly(tmp_path / "cdk.out")))
    assert result.exit_code == 5
    assert (
        "Error: preflight: access denied to ce:ListCostAllocationTags, sagemaker:ListWorkforces"
        in result.stderr
    )
    assert "19 passed, 0 failed, 2 unknown" in result.stdout


def test_another_aws_error_exits_6(platform: Platform, tmp_path: Path) -> None:
    throttled = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}
    with (
        account(platform, unanswered=("ListServiceQuotas",)),
        answers(platform, ("service-quotas", "ListServiceQuotas", throttled), status=400),
    ):
        result = platform.run(
            "preflight", "--json", "--assembly", str(ops_assembly(tmp_path / "cdk.out"))
        )
    assert result.exit_code == 6
    quota_check = next(c for c in json.loads(result.stdout)["checks"] if c["check"] == "quota")
    assert quota_check["status"] == "unknown"
    assert quota_check["detail"] == (
        "ListServiceQuotas failed (TooManyRequestsException): Rate exceeded"
    )


def test_refused_credentials_end_the_command(platform: Platform, tmp_path: Path) -> None:
    expired = {"Error": {"Code": "ExpiredToken", "Message": "The security token has expired."}}
    with (
        account(platform, unanswered=("ListServiceQuotas",)),
        answers(platform, ("service-quotas", "ListServiceQuotas", expired), status=400),
    ):
        result = platform.run("preflight", "--assembly", str(ops_assembly(tmp_path / "cdk.out")))
    assert result.exit_code == 5
    assert "AWS refused the credentials (ExpiredToken: The security token has expired.)" in (
        result.stderr
    )


def test_what_cannot_be_known_yet_does_not_fail_the_run(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./cdk.out: nothing says which bootstrap version is needed
    with account(platform, tags={}):
        result = platform.run("preflight")
    assert result.exit_code == 0, result.stderr
    assert "19 passed, 0 failed, 2 unknown" in result.stdout


def test_the_default_assembly_is_the_working_directorys_cdk_out(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops_assembly(tmp_path / "cdk.out")
    monkeypatch.chdir(tmp_path)
    with account(platform):
        result = platform.run("preflight", "--json")
    bootstrap = json.loads(result.stdout)["checks"][0]
    assert bootstrap["status"] == "pass"
    assert bootstrap["needed"] == 6


def test_an_assembly_without_a_manifest_is_a_usage_error(
    platform: Platform, tmp_path: Path
) -> None:
    result = platform.run("preflight", "--assembly", str(tmp_path))
    assert result.exit_code == 2
    assert f"Error: --assembly {tmp_path} holds no manifest.json" in result.stderr
    assert f"make synth CONFIG={OPS_CONFIG} OUT={tmp_path}" in result.stderr


def test_an_existing_workforce_fails_the_run(platform: Platform, tmp_path: Path) -> None:
    with account(platform, found=(workforce("default"),)):
        result = platform.run(
            "preflight", "--json", "--assembly", str(ops_assembly(tmp_path / "cdk.out"))
        )
    assert result.exit_code == 1
    (check,) = [c for c in json.loads(result.stdout)["checks"] if c["check"] == "workforce"]
    assert check["status"] == "fail"
    assert check["existing_workforce"] == "default"
    assert check["fix"].startswith("Reuse it: set labeling.workforce to {mode: existing, ")
