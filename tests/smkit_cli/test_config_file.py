"""Which config `smkit` reads: --config, else $SMKIT_CONFIG, else the kit's default in a
checkout of the kit; anywhere else a clear error (smkit_cli/config_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from smkit_cli.config_file import resolve_config
from smkit_cli.context import Runtime
from smkit_cli.errors import CliError
from smkit_cli.main import cli
from tests.conftest import ROOT
from tests.smkit_cli.conftest import OPS_CONFIG, boto3_session


def _smkit(args: list[str], env: dict[str, str | None]) -> tuple[int, str, str]:
    runtime = Runtime(
        # conftest's sessions: a new boto3 session over the shared botocore session
        # would register boto3's S3 methods on it again, and break every later upload.
        session_factory=lambda _profile, region: boto3_session(region),
        width=160,
    )
    result = CliRunner().invoke(cli, args, obj=runtime, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_outside_the_kit_without_a_config_smkit_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _smkit(["status"], env={"SMKIT_CONFIG": None})
    assert code == 3
    assert (
        "Error: no config file: smkit reads the config the platform was deployed from "
        "(the CONFIG of `make deploy`), and none was named\n"
        "Pass --config FILE, or set SMKIT_CONFIG=FILE" in stderr
    )


# `train start` of an unknown definition names the config it read, before any AWS call.
def test_smkit_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _smkit(["train", "start", "nope"], env={"SMKIT_CONFIG": str(OPS_CONFIG)})
    assert code == 2
    assert f"no training definition 'nope' in {OPS_CONFIG}; configured:" in stderr


def test_the_config_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _smkit(
        ["--config", str(OPS_CONFIG), "train", "start", "nope"],
        env={"SMKIT_CONFIG": str(tmp_path / "missing.yaml")},
    )
    assert code == 2
    assert f"no training definition 'nope' in {OPS_CONFIG}; configured:" in stderr


def test_in_a_checkout_of_the_kit_its_default_config_is_read() -> None:
    assert resolve_config(None, environ={}, cwd=ROOT) == "config/default.yaml"
    assert resolve_config(None, environ={"SMKIT_CONFIG": "team.yaml"}, cwd=ROOT) == "team.yaml"


def test_a_config_folder_alone_is_not_a_checkout_of_the_kit(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "default.yaml").write_text("name_prefix: other\n")
    with pytest.raises(CliError, match="no config file"):
        resolve_config(None, environ={}, cwd=tmp_path)
