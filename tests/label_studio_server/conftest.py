"""A real Label Studio server (SQLite, 127.0.0.1) whose S3 is a moto server, the kit's
deployment synthesized from config.yaml, and a person driving Label Studio through
label-studio-sdk (person.py, in Label Studio's own virtual environment).

Label Studio runs as a separate process group with a temporary data folder; both are
removed whatever the test does. Every wait has a deadline, so a server that hangs fails
the test with the end of its log instead of blocking it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from sagemaker_constructs.labeling.runtime.autolabel import common
from tests.oracles.synth import Synthesis, synthesize

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
VENV = ROOT / ".venv-labelstudio"
TEMPLATE = VENV / "label-studio-template"
"""A migrated Label Studio database with the test's user, made once per venv (migrating
takes 20-60 s here); each run starts from a copy of it."""
CONFIG = HERE / "config.yaml"
REGION = "us-east-1"
USER = "labeler@example.com"
PASSWORD = "smkit-test-password"
TOKEN = "smkit0test0token0123456789"
START_SECONDS = 180
CALL_SECONDS = 120
HOST_PROFILE = "smkit-label-studio"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class World:
    """The mocked account: the data bucket, the review topic, the deployed outputs."""

    synthesis: Synthesis
    s3: Any
    bucket: str
    topic_arn: str
    moto_url: str
    outputs: dict[str, str] = field(default_factory=dict)

    def function_environment(self, handler: str, workflow: str) -> dict[str, str]:
        """The environment the Labeling stack gives `handler` of `workflow`'s functions,
        with the data bucket and review topic of this world."""
        template = self.synthesis.template("Labeling")
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            if resource["Type"] != "AWS::Lambda::Function" or props.get("Handler") != handler:
                continue
            variables = props["Environment"]["Variables"]
            if variables.get("WORKFLOW") != workflow:
                continue
            env = {}
            for name, value in variables.items():
                if isinstance(value, str):
                    env[name] = value
                elif name == "DATA_BUCKET":
                    env[name] = self.bucket
                elif name == "REVIEW_TOPIC_ARN":
                    env[name] = self.topic_arn
                else:
                    raise AssertionError(f"{handler}: {name} is not known here ({value})")
            return env
        raise AssertionError(f"no function {handler} of {workflow} in the Labeling stack")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The deployment of config.yaml in moto; moto also serves HTTP for Label Studio."""
    synthesis = synthesize(CONFIG, tmp_path_factory.mktemp("cdk.out-label-studio"))
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in credentials.items():
            patch.setenv(name, value)
        common.client.cache_clear()
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            s3 = common.client("s3")
            bucket = "lstest-data"
            s3.create_bucket(Bucket=bucket)
            topic_arn = common.client("sns").create_topic(Name="review")["TopicArn"]
            made = World(synthesis, s3, bucket, topic_arn, f"http://127.0.0.1:{port}")
            made.outputs = _deploy_outputs(made)
            yield made
        finally:
            server.stop()
            common.client.cache_clear()


def _deploy_outputs(world: World) -> dict[str, str]:
    """Stacks in moto's CloudFormation with the outputs `smkit` reads (from the synthesized
    templates' output names); returns them."""
    iam = boto3.client("iam", region_name=REGION)
    outputs = {"Foundation": {}, "Labeling": {}}  # type: dict[str, dict[str, str]]
    outputs["Foundation"] = {
        "DataBucketName": world.bucket,
        "KmsKeyArn": f"arn:aws:kms:{REGION}:123456789012:key/lstest",
    }
    for key in world.synthesis.template("Labeling").get("Outputs", {}):
        if key.endswith("LabelStudioRoleArn"):
            name = key.removeprefix("AutoLabeling").removesuffix("LabelStudioRoleArn")
            role = iam.create_role(
                RoleName=f"lstest-{name}-label-studio",
                AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            )
            outputs["Labeling"][key] = role["Role"]["Arn"]
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    for unit, values in outputs.items():
        cloudformation.create_stack(
            StackName=f"lstest-{unit}",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {k: {"Value": v} for k, v in values.items()},
                }
            ),
        )
    return {k: v for values in outputs.values() for k, v in values.items()}


@dataclass
class LabelStudio:
    """The running server."""

    url: str
    token: str
    log: Path
    data: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def label_studio(world: World) -> Iterator[LabelStudio]:
    """Label Studio on 127.0.0.1 with SQLite in a temporary folder. Its host credentials
    are an AWS profile that assumes the kit's role (the profile `smkit label studio-setup`
    prints), with moto as its S3 and STS."""
    executable = VENV / "bin" / "label-studio"
    assert executable.exists(), (
        f"{executable} is missing: `make test-label-studio` creates .venv-labelstudio"
    )
    if not TEMPLATE.is_dir():
        _make_template(executable)
    data = Path(tempfile.mkdtemp(prefix="smkit-label-studio-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        shutil.copytree(TEMPLATE, data, dirs_exist_ok=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = data / "server.log"
        env = _server_environment(world, data)
        with log.open("wb") as out:
            arguments = [
                *(str(executable), "start", "--no-browser", "--log-level", "WARNING"),
                *("--internal-host", "127.0.0.1", "--port", str(port)),
                *("--username", USER, "--password", PASSWORD),
                *("--user-token", TOKEN, "--enable-legacy-api-token"),
            ]
            process = subprocess.Popen(
                arguments,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LabelStudio(url, TOKEN, log, data)
        _wait_healthy(server, process)
        yield server
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(data, ignore_errors=True)


def _base_environment(data: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data),
        "LANG": "C.UTF-8",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
    }


def _make_template(executable: Path) -> None:
    """Migrate a database and create the test's user (`label-studio init`), in a folder
    renamed into place when complete (a concurrent run makes its own and one wins)."""
    building = Path(tempfile.mkdtemp(prefix="label-studio-template-", dir=VENV))
    try:
        arguments = [
            *(str(executable), "init", "--no-browser"),
            *("--username", USER, "--password", PASSWORD),
            *("--user-token", TOKEN, "--enable-legacy-api-token"),
        ]
        done = subprocess.run(
            arguments,
            env=_base_environment(building),
            capture_output=True,
            timeout=START_SECONDS * 2,
            check=False,
        )
        assert done.returncode == 0, done.stdout.decode()[-4000:] + done.stderr.decode()[-4000:]
        try:
            building.rename(TEMPLATE)
        except OSError:
            assert TEMPLATE.is_dir()  # another run's template won
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _server_environment(world: World, data: Path) -> dict[str, str]:
    """Label Studio's environment: no AWS keys of its own, only the host profile."""
    aws = data / "aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[host]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    role = world.outputs["AutoLabelingPhotosLabelStudioRoleArn"]
    (aws / "config").write_text(
        f"[profile {HOST_PROFILE}]\nrole_arn = {role}\nsource_profile = host\n"
        f"external_id = lstest-labelers\nregion = {REGION}\n"
    )
    return {
        **_base_environment(data),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_PROFILE": HOST_PROFILE,
        # moto stands in for S3 and STS; the operator's S3_ENDPOINT is Label Studio's own
        # setting (trusted, unlike a storage's s3_endpoint, which its SSRF guard checks).
        "AWS_ENDPOINT_URL": world.moto_url,
        "S3_ENDPOINT": world.moto_url,
    }


def _wait_healthy(server: LabelStudio, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"Label Studio exited ({process.returncode}):\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"Label Studio not up after {START_SECONDS} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[Any]) -> None:
    """Stop a process group we started: TERM, then KILL after 15 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


class Person:
    """person.py in Label Studio's venv: one JSON request, one JSON answer."""

    def __init__(self, server: LabelStudio) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(server.data),
            "LABEL_STUDIO_URL": server.url,
            "LABEL_STUDIO_API_KEY": server.token,
        }
        self._process = subprocess.Popen(
            [str(VENV / "bin" / "python"), str(HERE / "person.py")],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._server = server

    def __call__(self, op: str, **request: Any) -> Any:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write((json.dumps({"op": op, **request}) + "\n").encode())
        stdin.flush()
        answer = json.loads(self._read_line(stdout, op))
        if not answer["ok"]:
            raise AssertionError(
                f"{op}: {answer['error']}\n{answer.get('trace', '')}\n{self._server.log_tail()}"
            )
        return answer["result"]

    def _read_line(self, stream: IO[bytes], op: str) -> bytes:
        ready, _, _ = select.select([stream], [], [], CALL_SECONDS)
        if not ready:
            raise AssertionError(f"{op}: no answer in {CALL_SECONDS} s\n{self._server.log_tail()}")
        line = stream.readline()
        if not line:
            stderr = self._process.stderr.read().decode() if self._process.stderr else ""
            raise AssertionError(f"{op}: person.py exited:\n{stderr[-4000:]}")
        return line

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _stop(self._process)


@pytest.fixture(scope="module")
def person(label_studio: LabelStudio) -> Iterator[Person]:
    made = Person(label_studio)
    try:
        yield made
    finally:
        made.close()
