"""Session-wide test setup: fake AWS credentials, Node 24 for jsii, and one
synthesis of each shipped config for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests never reach AWS: fake credentials, a fixed region, no profile or config files.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
# moto replaces boto3's default session at each mock's start, so each test's clients
# would load their service models from disk again (about 5 s of parsing JSON per
# hundred clients). The fake credentials above are all any session can find, so the
# default session is kept across mocks.
from moto.core.config import default_user_config  # noqa: E402

default_user_config["core"]["reset_boto3_session"] = False

# jsii runs on the Node the Makefile installs (Node 24) when pytest is started directly.
_NODE_BIN = ROOT / ".venv" / "node-bin"
if _NODE_BIN.is_dir() and str(_NODE_BIN) not in os.environ.get("PATH", ""):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

from tests.oracles.synth import DEFAULT_CONFIG, FULL_CONFIG, Synthesis, synthesize  # noqa: E402
from tools.rehearsal import REPORT_PROPERTY  # noqa: E402


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """config/default.yaml, synthesized once per session."""
    return synthesize(DEFAULT_CONFIG, tmp_path_factory.mktemp("cdk.out-default"))


@pytest.fixture(scope="session")
def full_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """config/examples/full.yaml (every feature on), synthesized once per session."""
    return synthesize(FULL_CONFIG, tmp_path_factory.mktemp("cdk.out-full"))


@pytest.fixture(scope="session", params=["default", "full"])
def any_synth(request: pytest.FixtureRequest) -> Synthesis:
    """Each shipped config in turn, for checks that hold for both."""
    fixture: Synthesis = request.getfixturevalue(f"{request.param}_synth")
    return fixture


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The deploy rehearsal's report: what moto created, skipped and could not run."""
    reports = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "call") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == REPORT_PROPERTY
    ]
    if reports:
        terminalreporter.section("deploy rehearsal")
        for report in reports:
            terminalreporter.write_line(report)
