"""The `smkit` console script: declared in pyproject.toml, pointing at the CLI, and the
CLI never loads aws-cdk-lib (no jsii, no Node.js process)."""

from __future__ import annotations

import importlib
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
    for command in ("status", "label", "train", "tune", "forecast", "classify", "notebook"):
        assert f"  {command} " in help_text
    assert "4  a stack, stack output or resource is not deployed" in help_text


def test_package_is_installed_with_the_project() -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "smkit_cli*" in find["packages"]["find"]["include"]


# Runs the CLI for real (status and a forecast, against moto) in a fresh interpreter and
# lists what it imported from aws-cdk-lib and jsii.
SCRIPT = """
import json, sys, boto3
from click.testing import CliRunner
from moto import mock_aws
from moto.moto_api._internal import moto_api_backend
from smkit_cli.context import Runtime
from smkit_cli.main import cli

with mock_aws():
    cf = boto3.client("cloudformation", region_name="us-east-1")
    inference = {"DemandForecastEndpointName": "ops-demand-forecast"}
    for unit, outputs in (("Foundation", {}), ("Inference", inference)):
        cf.create_stack(StackName=f"ops-{unit}", TemplateBody=json.dumps({
            "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {k: {"Value": v} for k, v in outputs.items()}}))
    moto_api_backend.set_sagemaker_result(
        body=json.dumps({"predictions": [{"mean": [1.0], "quantiles": {"0.5": [1.0]}}]}),
        content_type="application/json", prod_variant="AllTraffic", custom_attrs="",
        account_id="123456789012", region="us-east-1")
    runner = CliRunner()
    runtime = Runtime(session_factory=lambda p, r: boto3.Session(region_name=r))
    config = sys.argv[1]
    results = [
        runner.invoke(cli, ["--config", config, "status", "--json"], obj=runtime),
        runner.invoke(cli, ["--config", config, "forecast", "-e", "demand-forecast", "-s", "-",
                            "-q", "0.5", "--csv", sys.argv[2]],
                      obj=runtime, input='{"start": "2026-01-01", "target": [1]}'),
    ]
print(json.dumps({
    "exit_codes": [r.exit_code for r in results],
    "cdk": sorted(m for m in sys.modules if m.split(".")[0] in ("aws_cdk", "jsii", "constructs")),
}))
"""


def test_cli_runs_without_loading_aws_cdk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = ROOT / "tests" / "smkit_cli" / "ops.yaml"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config), str(tmp_path / "f.csv")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    # status exits 4: ops.yaml's other stacks are not deployed here.
    assert report == {"exit_codes": [4, 0], "cdk": []}
