"""The `smkit` console script: declared in pyproject.toml, pointing at the CLI, and the
CLI never loads aws-cdk-lib (no jsii, no Node.js process)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib

from click.testing import CliRunner

from tests.conftest import ROOT


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


# The console script's function in a fresh interpreter: it loads the config (every
# settings section) and every command, then stops at the missing credentials. At exit it
# lists what it imported from aws-cdk-lib, jsii and constructs.
SCRIPT = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(
    m for m in sys.modules if m.split(".")[0] in ("aws_cdk", "jsii", "constructs")))))
from smkit_cli.main import main
sys.argv = ["smkit", "--config", sys.argv[1], "status"]
main()
"""


def test_cli_runs_without_loading_aws_cdk() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ACCESS_KEY")}
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    env.pop("AWS_SESSION_TOKEN", None)
    config = ROOT / "tests" / "smkit_cli" / "ops.yaml"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 5, result.stderr
    assert "Error: no usable AWS credentials (Unable to locate credentials)" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_platform_tag_is_the_stacks_tag() -> None:
    from smkit_cli.deployment import PLATFORM_TAG
    from stacks.platform import PLATFORM_TAG as STACKS_TAG

    assert PLATFORM_TAG == STACKS_TAG
