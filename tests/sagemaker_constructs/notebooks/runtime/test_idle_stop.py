"""The idle-stop script as a notebook runs it: the copy embedded in the rendered
lifecycle script, against a fake Jupyter server on loopback and moto's SageMaker and
CloudWatch Logs. A busy notebook is never stopped."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import ssl
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
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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
    """Jupyter's REST API on loopback: /api/kernels, /api/terminals, /api/status; over
    TLS with `tls`, and asking for `token` when one is set."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.kernels: Any = []
        self.terminals: Any = []
        self.started: Any = stamp(180)
        self.status: Any = None
        """/api/status's answer (default: `started` and a last activity)."""
        self.status_code = 200
        self.token: str | None = None
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # headers and body go out at once on loopback

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                status = fake.status
                if status is None:
                    status = {"started": fake.started, "last_activity": stamp(0)}
                bodies = {
                    "/api/kernels": fake.kernels,
                    "/api/terminals": fake.terminals,
                    "/api/status": status,
                }
                body = json.dumps(bodies.get(self.path, {"message": "not found"})).encode()
                code = fake.status_code if self.path in bodies else 404
                if fake.token and self.headers.get("Authorization") != f"token {fake.token}":
                    code, body = 403, b'{"message": "Forbidden"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def write_server_file(self, runtime_dir: Path, name: str, pid: int | None = None) -> Path:
        """The file Jupyter writes in its runtime folder when it starts (`jpserver-<pid>.json`
        for Jupyter Server, `nbserver-<pid>.json` for the classic notebook server)."""
        runtime_dir.mkdir(parents=True, exist_ok=True)
        path = runtime_dir / name
        path.write_text(
            json.dumps(
                {
                    "base_url": "/",
                    "hostname": "ip-10-40-0-12",
                    "password": False,
                    "pid": os.getpid() if pid is None else pid,
                    "port": self.port,
                    "root_dir": "/home/ec2-user/SageMaker",
                    "secure": self.url.startswith("https"),
                    "sock": "",
                    "token": self.token or "",
                    "url": f"{self.url}/",
                    "version": "2.14.2",
                }
            )
        )
        return path

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


def run(
    idle_stop: ModuleType,
    jupyter: FakeJupyter | None,
    notebook: Notebook,
    tmp_path: Path,
    *,
    fallback: str | None = None,
) -> int:
    """One run as the timer starts it, with `tmp_path/runtime` as Jupyter's runtime folder
    and `jupyter` (or `fallback`) as the only place to look without a server file."""
    url = fallback or (jupyter.url if jupyter else "http://127.0.0.1:9")
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
            "--runtime-dir",
            str(tmp_path / "runtime"),
            "--jupyter-url",
            url,
            "--state-file",
            str(tmp_path / "state.json"),
            "--timeout",
            "2",
        ]
    )
    return result


def state(tmp_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((tmp_path / "state.json").read_text())
    return loaded


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


def test_a_kernel_active_in_the_future_counts_from_when_it_was_first_seen(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    # A clock that was hours ahead when the kernel last ran, then corrected.
    ahead = stamp(-180)
    jupyter.kernels = [{**kernel("idle", 0), "last_activity": ahead}]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.decisions()[-1]["reason"] == (
        "1 kernel(s), 0 terminal(s); last activity 0 min ago (< 60)"
    )
    saved = state(tmp_path)
    now = datetime.now(UTC)
    assert idle_stop.parse_time(saved["last_activity"]) <= now
    assert idle_stop.parse_time(saved["ahead"][ahead]) <= now
    # An hour later (the state as that run would find it), the same answer stops it.
    (tmp_path / "state.json").write_text(
        json.dumps({**saved, "last_activity": stamp(61), "ahead": {ahead: stamp(61)}})
    )
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "Stopped"
    assert notebook.decisions()[-1]["reason"] == (
        "1 kernel(s), 0 terminal(s); no activity for 61 min (>= 60)"
    )


def test_jupyter_started_in_the_future_does_not_keep_the_notebook_until_a_restart(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.started = stamp(-240)
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    saved = state(tmp_path)
    assert list(saved["ahead"]) == [jupyter.started]
    (tmp_path / "state.json").write_text(
        json.dumps({**saved, "last_activity": stamp(65), "ahead": {jupyter.started: stamp(65)}})
    )
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "Stopped"
    assert notebook.decisions()[-1]["reason"] == (
        "0 kernel(s), 0 terminal(s); no activity for 65 min (>= 60)"
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"kernels": {"id": "4b3f"}},
            "/api/kernels answered {'id': '4b3f'}, not a list of objects",
        ),
        ({"kernels": ["4b3f"]}, "/api/kernels answered ['4b3f'], not a list of objects"),
        ({"terminals": None}, "/api/terminals answered None, not a list of objects"),
        ({"status": ["started"]}, "/api/status answered ['started'], not an object"),
        ({"status": {}}, "/api/status: started is not a timestamp: None"),
        ({"started": "yesterday"}, "/api/status: started is not a timestamp: 'yesterday'"),
        (
            {"kernels": [{"name": "py", "execution_state": "idle", "last_activity": 17}]},
            "kernel py: last_activity is not a timestamp: 17",
        ),
        (
            {"kernels": [{"name": "py", "execution_state": "idle", "last_activity": "soon"}]},
            "kernel py: last_activity is not a timestamp: 'soon'",
        ),
    ],
)
def test_a_badly_shaped_answer_keeps_the_notebook_and_says_so_in_one_line(
    idle_stop: ModuleType,
    jupyter: FakeJupyter,
    notebook: Notebook,
    tmp_path: Path,
    answer: dict[str, Any],
    expected: str,
) -> None:
    for name, value in answer.items():
        setattr(jupyter, name, value)
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert notebook.status == "InService"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "keep"
    assert decision["reason"].startswith("Jupyter's answer was not understood (")
    assert expected in decision["reason"]
    assert decision["consecutive_failures"] == 1


def test_a_failed_stop_is_logged_as_a_failure_not_as_a_stop(
    idle_stop: ModuleType,
    jupyter: FakeJupyter,
    notebook: Notebook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_client = boto3.client

    def client(service: str, **kwargs: Any) -> Any:
        made = real_client(service, **kwargs)
        if service == "sagemaker":

            def denied(**_: Any) -> None:
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
                    "StopNotebookInstance",
                )

            made.stop_notebook_instance = denied
        return made

    monkeypatch.setattr(idle_stop.boto3, "client", client)
    jupyter.kernels = [kernel("idle", 90)]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 1
    assert notebook.status == "InService"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "stop-failed"
    assert decision["reason"] == "1 kernel(s), 0 terminal(s); no activity for 90 min (>= 60)"
    assert decision["error"] == (
        "ClientError: An error occurred (AccessDeniedException) when calling the "
        "StopNotebookInstance operation: not authorized"
    )
    assert decision["consecutive_failures"] == 1


def test_an_unexpected_failure_still_ends_in_exactly_one_line(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    # The instance is idle, but the notebook it names does not exist: describe fails.
    gone = Notebook(name=f"{notebook.name}-gone", sagemaker=notebook.sagemaker)
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=gone.log_group)
    jupyter.kernels = [kernel("idle", 90)]
    assert run(idle_stop, jupyter, gone, tmp_path) == 1
    (decision,) = gone.decisions()
    assert decision["decision"] == "error"
    assert decision["reason"].startswith("idle stop failed: ClientError: ")
    assert "DescribeNotebookInstance" in decision["reason"]


def test_runs_in_a_row_that_cannot_decide_are_counted_until_one_can(
    idle_stop: ModuleType, jupyter: FakeJupyter, notebook: Notebook, tmp_path: Path
) -> None:
    jupyter.status_code = 403  # e.g. Jupyter asks for a token this script does not have
    for _ in range(3):
        assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    jupyter.status_code = 200
    jupyter.kernels = [kernel("idle", 2)]
    assert run(idle_stop, jupyter, notebook, tmp_path) == 0
    assert [(d["decision"], d["consecutive_failures"]) for d in notebook.decisions()] == [
        ("keep", 1),
        ("keep", 2),
        ("keep", 3),
        ("keep", 0),
    ]
    assert notebook.decisions()[0]["reason"].startswith("Jupyter did not answer (")
    assert "HTTP Error 403: Forbidden" in notebook.decisions()[0]["reason"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a self-signed certificate, as Jupyter uses on notebooks."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ip-10-40-0-12")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@pytest.mark.parametrize("server_file", ["jpserver-{pid}.json", "nbserver-{pid}.json"])
def test_jupyter_is_found_through_the_server_file_it_wrote(
    idle_stop: ModuleType,
    notebook: Notebook,
    tmp_path: Path,
    tls: ssl.SSLContext,
    server_file: str,
) -> None:
    # Amazon Linux 2023 layout: Jupyter Server on a port of its own, over TLS, with a
    # token; nothing listens where the fallback points.
    jupyter = FakeJupyter(tls=tls)
    try:
        jupyter.token = "c0ffee"
        jupyter.kernels = [kernel("idle", 90)]
        jupyter.write_server_file(tmp_path / "runtime", server_file.format(pid=os.getpid()))
        assert run(idle_stop, None, notebook, tmp_path, fallback="https://127.0.0.1:9") == 0
    finally:
        jupyter.close()
    assert notebook.status == "Stopped"
    (decision,) = notebook.decisions()
    assert decision["decision"] == "stop"
    assert decision["jupyter"] == f"https://127.0.0.1:{jupyter.port}"
    assert set(jupyter.requests) == {"/api/status", "/api/kernels", "/api/terminals"}


def test_without_a_live_server_file_the_platform_port_is_tried(
    idle_stop: ModuleType, notebook: Notebook, tmp_path: Path, tls: ssl.SSLContext
) -> None:
    # Amazon Linux 2 layout: Jupyter on its fixed TLS port, no server file the script can
    # read; a leftover file of a Jupyter that is gone is ignored.
    jupyter = FakeJupyter(tls=tls)
    gone = FakeJupyter()
    gone.close()
    try:
        gone.write_server_file(tmp_path / "runtime", "jpserver-4194304.json", pid=4194304)
        jupyter.kernels = [kernel("busy", 1)]
        assert run(idle_stop, None, notebook, tmp_path, fallback=jupyter.url) == 0
    finally:
        jupyter.close()
    (decision,) = notebook.decisions()
    assert decision["jupyter"] == jupyter.url
    assert decision["reason"] == "kernel python3 (4b3f) is busy"
    assert "https://127.0.0.1:8443" in idle_stop.FALLBACK_URLS


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
