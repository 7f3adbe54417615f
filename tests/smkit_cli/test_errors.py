"""What `smkit` says, and exits with, when the config, the credentials, the region or the
account are wrong, or AWS refuses a call."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from smkit_cli.aws import new_session

from .conftest import Platform

DENIED = {
    "Error": {
        "Code": "AccessDenied",
        "Message": "User: arn:aws:iam::123456789012:user/ana is not authorized to perform: "
        "cloudformation:DescribeStacks",
    }
}


def test_missing_credentials(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = platform.run("status", session_factory=new_session)
    assert result.exit_code == 5
    assert "Error: no usable AWS credentials (Unable to locate credentials)" in result.stderr
    assert "Set AWS_PROFILE (and run `aws sso login` for an SSO profile)" in result.stderr


def test_unknown_profile(platform: Platform) -> None:
    result = platform.run("--profile", "nope", "status", session_factory=new_session)
    assert result.exit_code == 5
    assert "AWS profile not found: The config profile (nope) could not be found" in (result.stderr)


def test_no_region(platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config = tmp_path / "no-region.yaml"
    config.write_text("name_prefix: ops\n")
    result = platform.run(
        "status", config=config, session_factory=lambda p, r: boto3.Session(region_name=r)
    )
    assert result.exit_code == 5
    assert "no AWS region: set `region` in the config, AWS_REGION, or pass --region" in (
        result.stderr
    )


def test_aws_region_is_the_region_without_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The README's deploy path exports AWS_REGION; boto3 alone reads AWS_DEFAULT_REGION.
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert new_session(None, None).region_name == "eu-west-1"
    assert new_session(None, "us-west-2").region_name == "us-west-2"


def test_credentials_of_another_account(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "prod.yaml"
    config.write_text('name_prefix: ops\naccount: "210987654321"\nregion: us-east-1\n')
    result = platform.run("status", config=config)
    assert result.exit_code == 5
    assert (
        f"{config} deploys to account 210987654321, but the credentials are for account "
        "123456789012" in result.stderr
    )


def test_region_contradicting_the_config(platform: Platform) -> None:
    result = platform.run("--region", "eu-west-1", "status")
    assert result.exit_code == 2
    assert f"--region eu-west-1 contradicts {platform.config}, which deploys to us-east-1" in (
        result.stderr
    )


def test_invalid_config(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("name_prefix: ops\nnetwork: {mode: public}\n")
    result = platform.run("status", config=config)
    assert result.exit_code == 3
    assert f"{config}: invalid configuration (1 problem)" in result.stderr
    assert "network.mode (line 2): got 'public'; allowed: 'none', 'private', 'existing'" in (
        result.stderr
    )


def test_missing_config(platform: Platform, tmp_path: Path) -> None:
    result = platform.run("status", config=tmp_path / "nope.yaml")
    assert result.exit_code == 3
    assert "nope.yaml: invalid configuration (1 problem)" in result.stderr
    assert "cannot read the file: No such file or directory" in result.stderr


def test_config_without_the_section(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "bare.yaml"
    config.write_text("name_prefix: ops\nregion: us-east-1\n")
    result = platform.run("classify", "-e", "text-classifier", "hi", config=config)
    assert result.exit_code == 4
    assert f"{config} has no `inference` section, so it deploys no endpoints" in result.stderr


def test_access_denied(platform: Platform) -> None:
    with platform.answering("DescribeStacks", DENIED, service="cloudformation", status=403):
        result = platform.run("status")
    assert result.exit_code == 5
    assert (
        "access denied to DescribeStacks: User: arn:aws:iam::123456789012:user/ana is not "
        "authorized to perform: cloudformation:DescribeStacks" in result.stderr
    )


def test_expired_credentials(platform: Platform) -> None:
    expired = {"Error": {"Code": "ExpiredToken", "Message": "The security token has expired."}}
    with platform.answering("GetCallerIdentity", expired, service="sts", status=403):
        result = platform.run("status")
    assert result.exit_code == 5
    assert "AWS refused the credentials (ExpiredToken: The security token has expired.)" in (
        result.stderr
    )


def test_other_aws_errors(platform: Platform) -> None:
    platform.deploy_ops()
    limited = {"Error": {"Code": "ResourceLimitExceeded", "Message": "Rate exceeded in a new way"}}
    with platform.answering("DescribeNotebookInstance", limited, status=400):
        result = platform.run("notebook", "stop", "research")
    assert result.exit_code == 6
    assert (
        "DescribeNotebookInstance failed (ResourceLimitExceeded): Rate exceeded in a new way"
        in result.stderr
    )
