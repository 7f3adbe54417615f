"""The JupyterLab lifecycle configuration: its script (valid shell, the SDK defaults the
SDK itself loads, kernels built in the background by the notebooks' builder), Studio's
limits checked at construction, a name that follows content and tags, and the script run
for real against a stand-in home directory."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from sagemaker.core.config.config import load_sagemaker_config

from sagemaker_constructs.notebooks import Kernel, PackageSources
from sagemaker_constructs.notebooks.scripts import OnStartScript, slow_foreground_commands
from sagemaker_constructs.studio import JupyterLabLifecycleConfig
from sagemaker_constructs.studio import lifecycle as lifecycle_module
from tests.oracles.synth import new_stack
from tests.sagemaker_constructs.notebooks.rendered import heredoc

from .helpers import NETWORK, of_type, platform, synthesized

SHELLCHECK = Path(sys.executable).parent / "shellcheck"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "demo-foundation-artifactsbucket-abcdef123456"
JOB_ROLE_ARN = "arn:aws:iam::123456789012:role/demo-Studio-JobRole-AbCdEfGhIjKl"
KERNELS = (
    Kernel(name="sklearn", conda_packages=("scikit-learn=1.5",)),
    Kernel(name="torch", python="3.11", pip_packages=("torch==2.5.1",)),
)


def make(stack: cdk.Stack, **kwargs: Any) -> JupyterLabLifecycleConfig:
    parts = platform(stack)
    arguments: dict[str, Any] = {
        "name_prefix": "demo-jupyterlab",
        "encryption_key": parts["encryption_key"],
        "artifacts_bucket": parts["artifacts_bucket"],
        "job_role": parts["job_role"],
        "network": NETWORK,
        "kernels": KERNELS,
        "sdk_tags": {"smkit:platform": "demo"},
        **kwargs,
    }
    return JupyterLabLifecycleConfig(stack, "Lifecycle", **arguments)


def make_resolved(stack: cdk.Stack, **kwargs: Any) -> JupyterLabLifecycleConfig:
    """With the values a deploy resolves written in, as the script runs on AWS."""
    return make(
        stack,
        encryption_key=kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN),
        artifacts_bucket=s3.Bucket.from_bucket_name(stack, "ImportedBucket", BUCKET),
        job_role=iam.Role.from_role_arn(stack, "ImportedRole", JOB_ROLE_ARN, mutable=False),
        **kwargs,
    )


def name_of(stack: cdk.Stack) -> str:
    (config,) = of_type(synthesized(stack), "AWS::SageMaker::StudioLifecycleConfig").values()
    name: str = config["Properties"]["StudioLifecycleConfigName"]
    return name


def test_a_jupyterlab_configuration_retained_and_named_after_its_content_and_tags() -> None:
    stack = new_stack()
    made = make(stack)
    template = synthesized(stack)
    (config,) = of_type(template, "AWS::SageMaker::StudioLifecycleConfig").values()
    assert config["DeletionPolicy"] == "Retain"
    assert config["Properties"]["StudioLifecycleConfigAppType"] == "JupyterLab"
    assert config["Properties"]["StudioLifecycleConfigContent"] == {
        "Fn::Base64": stack.resolve(made.script.text)
    }
    name = config["Properties"]["StudioLifecycleConfigName"]
    assert re.fullmatch(r"demo-jupyterlab-[0-9a-f]{10}", name)

    same = new_stack()
    make(same)
    assert name_of(same) == name
    other_kernels = new_stack()
    make(other_kernels, kernels=KERNELS[:1])
    assert name_of(other_kernels) != name
    # Tags can only be set when the configuration is created: a new tag is a new name.
    tagged = new_stack()
    make(tagged)
    cdk.Tags.of(tagged).add("CostCenter", "ml")
    assert name_of(tagged) != name


def test_the_script_writes_the_sdk_defaults_and_builds_kernels_in_the_background() -> None:
    text = make(new_stack()).script.text
    builder = heredoc(text, "SMKIT_BUILD_KERNELS")
    assert "export HOME=/home/sagemaker-user" in builder
    assert "VOLUME_DIR=$HOME/.smkit" in builder
    assert "for candidate in /opt/conda/bin/conda /opt/conda/condabin/conda" in builder
    assert (
        'nohup setsid /bin/bash "$KIT_DIR/build_kernels.sh" >> "$KIT_DIR/kernels.log" 2>&1 '
        "< /dev/null &" in text
    )
    # STUDIO-10: nothing slow in the foreground.
    assert slow_foreground_commands(text) == []
    assert 'sudo install -D -m 0644 "$DEFAULTS" /etc/xdg/sagemaker/config.yaml' in text


def test_rendered_scripts_are_valid_shell(tmp_path: Path) -> None:
    files = []
    for index, kernels in enumerate((KERNELS, ())):
        text = make(new_stack(), kernels=kernels).script.text
        start = tmp_path / f"start_{index}.sh"
        start.write_text(text)
        files.append(start)
        if kernels:
            builder = tmp_path / f"build_{index}.sh"
            builder.write_text(heredoc(text, "SMKIT_BUILD_KERNELS") + "\n")
            files.append(builder)
    for path in files:
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--severity=style", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_a_script_over_studios_limit_is_refused_with_its_parts() -> None:
    many = [
        Kernel(name=f"k{i}", pip_packages=tuple(f"package-number-{j}==1.0.0" for j in range(40)))
        for i in range(8)
    ]
    with pytest.raises(ValueError) as raised:
        make(new_stack(), kernels=many)
    message = str(raised.value)
    assert message.startswith(
        "Invalid JupyterLabLifecycleConfig props: the JupyterLab lifecycle script of the "
        "Studio domain is "
    )
    assert "over SageMaker's limit of 16,384 (parts: kernels (8) " in message
    assert message.endswith("use fewer kernels or fewer packages per kernel")


def test_slow_work_in_the_foreground_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(**_: Any) -> OnStartScript:
        text = "#!/bin/bash\npip install pandas\ncat > f <<'X'\nconda create\nX\n"
        return OnStartScript(text=text, parts={}, encoded_length=100)

    monkeypatch.setattr(lifecycle_module, "studio_start_script", slow)
    with pytest.raises(ValueError) as raised:
        make(new_stack())
    # Only the foreground counts: the heredoc's conda is a file's content.
    assert "the JupyterLab lifecycle script runs pip in the foreground; a start fails after " in (
        str(raised.value)
    )


def test_bad_arguments_are_reported_together() -> None:
    with pytest.raises(ValueError) as raised:
        make(
            new_stack(),
            name_prefix="-bad-",
            kernels=[Kernel(name="Bad")],
            package_sources=PackageSources(conda_channels=()),
        )
    message = str(raised.value)
    for fragment in (
        "name_prefix must be 1-51 letters, digits and hyphens",
        "kernel name 'Bad' must be 1-31 lower-case letters",
        "conda_channels needs at least one channel URL (got none)",
    ):
        assert fragment in message


# --- the script run for real --------------------------------------------------------------

FAKE_SUDO = """#!/bin/bash
# Stands in for sudo: `sudo -n true` answers $SUDO_WORKS; other commands run as they are.
if [ "$1" = -n ]; then shift; fi
if [ "$1" = true ]; then exit "$SUDO_WORKS"; fi
exec "$@"
"""


def run_start(tmp_path: Path, *, sudo: bool) -> subprocess.CompletedProcess[str]:
    """The rendered start script with the user's home and /etc/xdg moved under tmp_path."""
    home, etc = tmp_path / "home", tmp_path / "etc"
    home.mkdir(exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "sudo").write_text(FAKE_SUDO)
    (bin_dir / "sudo").chmod(0o755)
    text = make_resolved(new_stack(), network=None).script.text
    script = tmp_path / "start.sh"
    script.write_text(text.replace("/home/sagemaker-user", str(home)).replace("/etc/xdg", str(etc)))
    result = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "SUDO_WORKS": "0" if sudo else "1",
        },
    )
    _wait_for_the_background_build(home)
    return result


def _wait_for_the_background_build(home: Path) -> None:
    log = home / ".smkit" / "kernels.log"
    for _ in range(100):
        if log.exists() and "kernels not built" in log.read_text():
            return
        time.sleep(0.05)


def test_with_sudo_the_defaults_are_the_sdks_admin_config(tmp_path: Path) -> None:
    result = run_start(tmp_path, sudo=True)
    assert result.returncode == 0, result.stderr
    admin = tmp_path / "etc" / "sagemaker" / "config.yaml"
    assert admin.read_text() == (tmp_path / "home" / ".smkit" / "sdk-defaults.yaml").read_text()
    assert not (tmp_path / "home" / ".config" / "sagemaker" / "config.yaml").exists()
    # The build ran in the background and said why it built nothing here.
    assert "no conda on this instance" in (tmp_path / "home" / ".smkit" / "kernels.log").read_text()


def test_without_sudo_the_users_config_is_written_but_never_one_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "home" / ".config" / "sagemaker" / "config.yaml"
    result = run_start(tmp_path, sudo=False)
    assert result.returncode == 0, result.stderr
    written = user.read_text()
    assert written.startswith("# sagemaker-platform-kit SDK defaults, rewritten at every start")
    # The SDK's own loader reads it (the marker is a YAML comment).
    admin = tmp_path / "no-admin.yaml"
    admin.write_text("")
    monkeypatch.setenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", str(admin))
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(user))
    config = load_sagemaker_config(additional_config_paths=None, repeat_log=True)
    session = config["SageMaker"]["PythonSDK"]["Modules"]["Session"]
    assert session["DefaultS3ObjectKeyPrefix"] == "studio"
    tags = {t["Key"]: t["Value"] for t in config["SageMaker"]["TrainingJob"]["Tags"]}
    assert tags == {"smkit:platform": "demo"}
    assert config["SageMaker"]["TrainingJob"]["RoleArn"] == JOB_ROLE_ARN
    assert config["SageMaker"]["TrainingJob"]["OutputDataConfig"] == {"KmsKeyId": KEY_ARN}
    assert session["DefaultS3Bucket"] == BUCKET

    # A start rewrites its own file; a file of the user's stays as it is.
    user.write_text(written + "# an edit the next start replaces\n")
    run_start(tmp_path, sudo=False)
    assert user.read_text() == written
    user.write_text("SchemaVersion: '1.0'\n")
    result = run_start(tmp_path, sudo=False)
    assert user.read_text() == "SchemaVersion: '1.0'\n"
    assert "is the user's own; the kit's are in" in result.stdout


def test_the_content_is_the_script_base64_encoded() -> None:
    made = make_resolved(new_stack(), kernels=())
    assert made.script.encoded_length == len(base64.b64encode(made.script.text.encode()))
    assert made.script.parts == {"SDK defaults": made.script.parts["SDK defaults"]}
