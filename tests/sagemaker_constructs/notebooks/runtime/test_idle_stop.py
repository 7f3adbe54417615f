"""The idle-stop script as a notebook runs it: the copy embedded in the rendered
lifecycle script, against a fake Jupyter server on loopback and moto's SageMaker and
CloudWatch Logs. A busy notebook is never stopped."""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.sagemaker_constructs.notebooks.rendered import (
    LOG_GROUP,
    NOTEBOOK,
    REGION,
    embedded_idle_stop,
    render,
)

IDLE_MINUTES = 60


def stamp(minutes_ago: float) -> str:
    """A Jupyter timestamp `minutes_ago` minutes before now."""
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeJupyter:
    """Jupyter's REST API on loopback: /api/kernels, /api/terminals, /api/status."""

    def __init__(self) -> None:
        self.kernels: list[dict[str, Any]] = []
        self.terminals: list[dict[str, Any]] = []
        self.started = stamp(180)
        self.status_code = 200
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go out at once on loopback

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                bodies = {
                    "/api/kernels": fake.kernels,
                    "/api/terminals": fake.terminals,
                    "/api/status": {"started": fake.started, "last_activity": stamp(0)},
                }
                body = json.dumps(bodies.get(self.path, {"message": "not found"})).encode()
                code = fake.status_code if self.path in bodies else 404
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def script_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The idle-stop script exactly as the rendered lifecycle script writes it."""
    path = tmp_path_factory.mktemp("instance") / "idle_stop.py"
    path.write_text(embedded_idle_stop(render().text))
    return path


@pytest.fixture(scope="module")
def idle_stop(script_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("embedded_idle_stop", script_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def jupyter() -> Iterator[FakeJupyter]:
    fake = FakeJupyter()
    yield fake
    fake.close()


_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


@dataclass
class Notebook:
    """A notebook instance in moto's SageMaker, in service, with its idle-stop log group."""

    name: str
    sagemaker: Any

    @property
    def log_group(self) -> str:
        return f"/smkit/notebooks/{self.name}/idle-stop"

    @property
    def status(self) -> str:
        described = self.sagemaker.describe_notebook_instance(NotebookInstanceName=self.name)
        return str(described["NotebookInstanceStatus"])

    def decisions(self) -> list[dict[str, Any]]:
        events = boto3.client("logs", region_name=REGION).get_log_events(
            logGroupName=self.log_group, logStreamName=self.name
        )["events"]
        return [json.loads(event["message"]) for event in events]


@pytest.fixture
def notebook(mocked_aws: None) -> Notebook:
    """A fresh notebook per test (moto runs for the whole module: starting it is slow)."""
    name = f"{NOTEBOOK}-{next(_NUMBERS)}"
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_notebook_instance(
        NotebookInstanceName=name,
        InstanceType="ml.p3.2xlarge",
        RoleArn="arn:aws:iam::123456789012:role/notebook",
    )
    created = Notebook(name=name, sagemaker=sagemaker)
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=created.log_group)
    return created


def run(idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path) -> int:
    result: int = idle_stop.main(
        [
            "--notebook-name",
            notebook.name,
            "--idle-minutes",
            str(IDLE_MINUTES),
            "--log-group",
            notebook.log_group,
            "--region",
            REGION,
            "--jupyter-url",
            jupyter.url,
            "--state-file",
            str(tmp_path / "state.json"),
            "--timeout",
            "2",
        ]
    )
    return result


def kernel(state: str, minutes_ago: float) -> dict[str, Any]:
    return {
        "id": "4b3f",
        "name": "python3",
        "execution_state": state,
        "last_activity": stamp(minutes_ago),
        "connections": 1,
    }


def test_idle_kernels_and_terminals_stop_the_notebook(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.kernels = [kernel("idle", 90)]
    jupyter.terminals = [{"name": "1", "last_activity": stamp(75)}]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "Stopped"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "stop"
    assert decision["reason"] == "1 kernel(s), 1 terminal(s); no activity for 75 min (>= 60)"
    assert decision["notebook"] == notebook.name


def test_a_busy_kernel_is_never_stopped_however_long_ago_it_last_reported(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.kernels = [kernel("idle", 300), {**kernel("busy", 600), "name": "train"}]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    assert [(d["decision"], d["reason"]) for d in notebook.decisions()] == [
        ("keep", "kernel train (4b3f) is busy")
    ]
    # The busy kernel counts as activity now: a later look with it idle again keeps going.
    jupyter.kernels = [kernel("idle", 300)]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"


def test_a_recently_active_terminal_keeps_the_notebook(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.kernels = [kernel("idle", 240)]
    jupyter.terminals = [{"name": "1", "last_activity": stamp(3)}]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "keep"
    assert decision["reason"] == "1 kernel(s), 1 terminal(s); last activity 3 min ago (< 60)"


@pytest.mark.parametrize(
    ("started_minutes_ago", "expected"),
    [
        (61, ("stop", "0 kernel(s), 0 terminal(s); no activity for 61 min (>= 60)")),
        (10, ("keep", "0 kernel(s), 0 terminal(s); last activity 10 min ago (< 60)")),
    ],
)
def test_no_sessions_counts_as_idle_from_jupyters_start(
    idle_stop: ModuleType,
    jupyter: FakeJupyter,
    notebook: Notebook,
    tmp_path: Path,
    started_minutes_ago: int,
    expected: tuple[str, str],
) -> None:
    jupyter.started = stamp(started_minutes_ago)
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == ("Stopped" if expected[0] == "stop" else "InService")
    assert [(d["decision"], d["reason"]) for d in notebook.decisions()] == [expected]


def test_closing_the_last_kernel_does_not_stop_the_notebook_at_once(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.kernels = [kernel("idle", 5)]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    jupyter.kernels = []  # the user shut the kernel down; Jupyter started 3 hours ago
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    assert (
        notebook.decisions()[-1]["reason"]
        == "0 kernel(s), 0 terminal(s); last activity 5 min ago (< 60)"
    )


@pytest.mark.parametrize("failure", ["refused", "error"])
def test_jupyter_not_answering_stops_nothing(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path, failure: str
) -> None:
    if failure == "refused":
        jupyter.close()
    else:
        jupyter.status_code = 500
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "keep"
    assert decision["reason"].startswith("Jupyter did not answer (")
    assert decision["reason"].endswith("); not stopping")


def test_a_notebook_that_is_not_in_service_is_left_alone(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    notebook.sagemaker.stop_notebook_instance(NotebookInstanceName=notebook.name)
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.decisions()[-1]["reason"].endswith("but the instance is Stopped")


def test_only_loopback_jupyter_is_queried(idle_stop: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"Jupyter must be on loopback over http\(s\)"):
        idle_stop.fetch("https://example.com:8443", "/api/kernels", 1)


def test_timestamps_in_every_form_jupyter_writes(idle_stop: ModuleType) -> None:
    expected = datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    for text in (
        "2026-01-02T03:04:05.123Z",
        "2026-01-02T03:04:05.123000Z",
        "2026-01-02T04:04:05.123+01:00",
        "2026-01-02T03:04:05.123000+0000",
    ):
        assert idle_stop.parse_time(text) == expected
    assert idle_stop.parse_time("2026-01-02T03:04:05Z") == expected.replace(microsecond=0)


# Runs in a separate Python process: moto in that process, then the script as `__main__`
# with the cron job's arguments (argv[1:]); prints the notebook's status at the end.
CRON_RUN = """
import json, runpy, sys
import boto3
from moto import mock_aws
script, argv = sys.argv[1], sys.argv[2:]
with mock_aws():
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_notebook_instance(
        NotebookInstanceName="demo-alice", InstanceType="ml.t3.medium",
        RoleArn="arn:aws:iam::123456789012:role/notebook")
    boto3.client("logs", region_name="us-east-1").create_log_group(
        logGroupName="/smkit/notebooks/demo-alice/idle-stop")
    sys.argv = [script, *argv]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit:
        assert exit.code == 0, exit.code
    status = sagemaker.describe_notebook_instance(NotebookInstanceName="demo-alice")
    print(json.dumps({"status": status["NotebookInstanceStatus"]}))
"""


def test_the_embedded_file_runs_as_the_cron_job_runs_it(
    script_path: Path, jupyter: FakeJupyter, tmp_path: Path
) -> None:
    jupyter.kernels = [kernel("idle", 120)]
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRON_RUN,
            str(script_path),
            "--notebook-name",
            NOTEBOOK,
            "--idle-minutes",
            "60",
            "--log-group",
            LOG_GROUP,
            "--region",
            REGION,
            "--jupyter-url",
            jupyter.url,
            "--state-file",
            str(tmp_path / "state.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    decision, final = (json.loads(line) for line in completed.stdout.splitlines())
    assert decision["decision"] == "stop"
    assert final == {"status": "Stopped"}
    assert set(jupyter.requests) == {"/api/kernels", "/api/terminals", "/api/status"}
