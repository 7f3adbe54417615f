"""app.py as the CDK CLI runs it: bad configs stop it before anything is written,
good ones synthesize with cdk-nag enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.platform import add_checks
from stacks.settings import PlatformSettings
from tests.oracles.synth import ROOT, cdk_json_context


def run_app(config: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run app.py the way `cdk synth -c config=... -o ...` does."""
    env = dict(os.environ)
    env["CDK_OUTDIR"] = str(outdir)
    env["CDK_CONTEXT_JSON"] = json.dumps({**cdk_json_context(), "config": str(config)})
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_bad_config_exits_non_zero_naming_each_field_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "name_prefix: demo\nnetwrok:\n  mode: none\n"
        "storage:\n  abort_incomplete_upload_days: soon\n"
    )
    outdir = tmp_path / "out"
    result = run_app(config, outdir)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{config}: invalid configuration (2 problems)",
        "  - storage.abort_incomplete_upload_days (line 5): Input should be a valid integer, "
        "unable to parse string as an integer (got 'soon')",
        "  - netwrok (line 2): unknown key; allowed here: "
        f"{', '.join(sorted(PlatformSettings.model_fields))}; "
        "did you mean 'network'?",
    ]
    assert not outdir.exists() or list(outdir.iterdir()) == []


def test_default_config_synthesizes_with_nag_acknowledgements_in_metadata(tmp_path: Path) -> None:
    result = run_app(ROOT / "config" / "default.yaml", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr.lower()
    template = json.loads((tmp_path / "smkit-Foundation.template.json").read_text())
    acknowledged = template["Resources"]["AccessLogsBucket"]["Metadata"]["cdk_nag"][
        "rules_to_suppress"
    ]
    assert [rule["id"] for rule in acknowledged] == ["AwsSolutions-S1"]


def test_checks_fail_synthesis_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context())
    s3.Bucket(cdk.Stack(app, "Careless"), "Open")
    add_checks(app)
    with pytest.raises(RuntimeError, match=r"(?s)AwsSolutions-S1.*AwsSolutions-S10"):
        app.synth()
