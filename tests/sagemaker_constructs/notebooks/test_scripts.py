"""The rendered lifecycle script: valid shell (bash -n, shellcheck), the files it embeds,
the SDK defaults as the SageMaker SDK itself loads them, and the size limit."""

from __future__ import annotations

import ast
import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from platformdirs import site_config_dir
from sagemaker.core.config.config import load_sagemaker_config

from sagemaker_constructs.notebooks import Kernel, PackageSources
from sagemaker_constructs.notebooks.scripts import (
    IDLE_STOP_SCRIPT,
    compact_python,
    encoded_length,
    render,
)
from tests.sagemaker_constructs.notebooks import rendered
from tests.sagemaker_constructs.notebooks.rendered import (
    BUCKET,
    JOB_ROLE_ARN,
    KEY_ARN,
    NETWORK,
    defaults_yaml,
    embedded_idle_stop,
    heredoc,
)

SHELLCHECK = Path(sys.executable).parent / "shellcheck"

SCRIPTS = {
    "all parts": rendered.render(),
    "no idle stop, no kernels": rendered.render(kernels=(), idle_minutes=None, network=None),
    "mirrors": rendered.render(
        sources=PackageSources(
            conda_channels=("https://mirror.example.internal/conda-forge",),
            pip_index_url="https://mirror.example.internal/pypi/simple",
        )
    ),
}


def shell_files(tmp_path: Path) -> list[Path]:
    """Each rendered on-start script, and the kernel builder each one embeds."""
    files = []
    for index, script in enumerate(SCRIPTS.values()):
        on_start = tmp_path / f"on_start_{index}.sh"
        on_start.write_text(script.text)
        files.append(on_start)
        if "SMKIT_BUILD_KERNELS" in script.text:
            builder = tmp_path / f"build_kernels_{index}.sh"
            builder.write_text(heredoc(script.text, "SMKIT_BUILD_KERNELS") + "\n")
            files.append(builder)
    return files


def test_rendered_scripts_are_valid_bash(tmp_path: Path) -> None:
    for path in shell_files(tmp_path):
        result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_rendered_scripts_pass_shellcheck(tmp_path: Path) -> None:
    files = shell_files(tmp_path)
    assert len(files) == 5
    result = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--severity=style", *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


def test_every_placeholder_is_filled() -> None:
    for name, script in SCRIPTS.items():
        assert "{{" not in script.text, name


def test_the_embedded_idle_stop_is_the_kits_script_without_comments() -> None:
    embedded = embedded_idle_stop(SCRIPTS["all parts"].text)
    assert embedded == compact_python(IDLE_STOP_SCRIPT)

    def code_only(source: str) -> str:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            first = body[0] if isinstance(body, list) and body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        return ast.dump(tree)

    assert code_only(embedded) == code_only(IDLE_STOP_SCRIPT.read_text())
    # Amazon Linux 2's system Python is 3.7: the embedded code must parse there.
    ast.parse(embedded, feature_version=(3, 7))
    assert "http://" not in SCRIPTS["all parts"].text.replace("https://", "")
    assert "curl" not in SCRIPTS["all parts"].text and "wget" not in SCRIPTS["all parts"].text


def test_idle_stop_is_scheduled_every_five_minutes_with_the_notebooks_settings() -> None:
    text = SCRIPTS["all parts"].text
    assert (
        "--notebook-name demo-alice --idle-minutes 60 --log-group "
        "/smkit/notebooks/demo-alice/idle-stop --region us-east-1 "
        "--state-file /var/lib/smkit/idle-stop-state.json" in text
    )
    assert 'echo "*/5 * * * * ec2-user $command' in text
    assert "Type=oneshot\\nUser=ec2-user\\nExecStart=" in text
    # Probing a user-owned Python for boto3 runs it as the user, never as root.
    assert """runuser -u ec2-user -- "$candidate" -c 'import boto3'""" in text
    assert "OnUnitActiveSec=5min" in text
    off = SCRIPTS["no idle stop, no kernels"].text
    assert "idle_stop.py" not in off and 'echo "idle stop: off for this notebook"' in off


def test_kernels_build_in_the_background_from_the_configured_sources() -> None:
    text = SCRIPTS["mirrors"].text
    builder = heredoc(text, "SMKIT_BUILD_KERNELS")
    assert (
        'setsid runuser -u ec2-user -- /bin/bash "$KIT_DIR/build_kernels.sh" >> '
        '"$VOLUME_DIR/kernels.log" 2>&1 < /dev/null &' in text
    )
    assert "export PIP_INDEX_URL=https://mirror.example.internal/pypi/simple" in builder
    assert (
        "CHANNELS=(--override-channels -c https://mirror.example.internal/conda-forge)" in builder
    )
    sklearn, pytorch = rendered.KERNELS
    sources = PackageSources(
        conda_channels=("https://mirror.example.internal/conda-forge",),
        pip_index_url="https://mirror.example.internal/pypi/simple",
    )
    assert (
        "CONDA_PKGS=(scikit-learn=1.5 pandas); PIP_PKGS=(); build sklearn "
        f"'sklearn (Python 3.12)' 3.12 {sklearn.environment_hash(sources)} || failed=1"
    ) in builder
    assert (
        "CONDA_PKGS=(); PIP_PKGS=(torch==2.5.1 'transformers[torch]>=4.40'); build pytorch "
        f"'PyTorch 2.5' 3.11 {pytorch.environment_hash(sources)} || failed=1"
    ) in builder
    default = heredoc(SCRIPTS["all parts"].text, "SMKIT_BUILD_KERNELS")
    assert "CHANNELS=(--override-channels -c https://conda.anaconda.org/conda-forge)" in default
    assert "# pip uses PyPI" in default


def test_the_start_does_nothing_slow_in_the_foreground() -> None:
    # NOTEBOOK-4: SageMaker fails a start whose lifecycle script runs over 5 minutes.
    text = SCRIPTS["all parts"].text
    foreground = text
    for terminator in ("SMKIT_SDK_DEFAULTS", "SMKIT_IDLE_STOP_PY", "SMKIT_BUILD_KERNELS"):
        foreground = foreground.replace(heredoc(text, terminator), "")
    words = set(re.findall(r"[\w.-]+", foreground))
    assert not words & {"conda", "pip", "dnf", "yum", "git", "curl", "wget", "sleep"}
    assert "build_kernels.sh" in foreground and foreground.count("setsid ") == 1
    # The only waits: probing Pythons for boto3, and enabling the timer.
    assert "systemctl enable --now smkit-idle-stop.timer" in foreground


def test_template_comments_stay_in_the_repository() -> None:
    text = SCRIPTS["all parts"].text
    builder = heredoc(text, "SMKIT_BUILD_KERNELS")
    assert text.startswith("#!/bin/bash\nset -euo pipefail\n")
    assert builder.startswith("#!/bin/bash\nset -uo pipefail\n")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert comments == ["#!/bin/bash", "#!/bin/bash", "# pip uses PyPI"]  # the last: a value


def test_environment_hash_changes_with_the_definition_only() -> None:
    sources = PackageSources()
    kernel = Kernel(name="k", conda_packages=("pandas",))
    same = Kernel(name="k", conda_packages=("pandas",), display_name="Renamed")
    assert kernel.environment_hash(sources) == same.environment_hash(sources)
    assert kernel.environment_hash(sources) != Kernel(name="k").environment_hash(sources)
    assert kernel.environment_hash(sources) != kernel.environment_hash(
        PackageSources(pip_index_url="https://mirror.example.internal/simple")
    )


@pytest.mark.parametrize("network", [NETWORK, None], ids=["vpc", "no-vpc"])
def test_sdk_defaults_load_with_the_sagemaker_sdks_own_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: object
) -> None:
    """Written where the script writes it (the admin config), read by the SDK's loader,
    which validates it against the SDK's schema."""
    script = rendered.render(network=network)  # type: ignore[arg-type]
    admin = tmp_path / "etc" / "xdg" / "sagemaker" / "config.yaml"
    admin.parent.mkdir(parents=True)
    admin.write_text(heredoc(script.text, "SMKIT_SDK_DEFAULTS") + "\n")
    user = tmp_path / "home" / ".config" / "sagemaker" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("")  # the user has no config of their own
    monkeypatch.setenv("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", str(admin))
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(user))
    config = load_sagemaker_config(additional_config_paths=None, repeat_log=True)
    sagemaker = config["SageMaker"]
    assert sagemaker["PythonSDK"]["Modules"]["Session"] == {
        "DefaultS3Bucket": BUCKET,
        "DefaultS3ObjectKeyPrefix": "notebooks/demo-alice",
    }
    training = sagemaker["TrainingJob"]
    assert training["RoleArn"] == JOB_ROLE_ARN
    assert training["OutputDataConfig"] == {"KmsKeyId": KEY_ARN}
    assert {t["Key"]: t["Value"] for t in training["Tags"]} == rendered.TAGS
    assert sagemaker["ProcessingJob"]["RoleArn"] == JOB_ROLE_ARN
    assert sagemaker["Model"]["ExecutionRoleArn"] == JOB_ROLE_ARN
    remote = sagemaker["PythonSDK"]["Modules"]["RemoteFunction"]
    assert remote["S3RootUri"] == f"s3://{BUCKET}/notebooks/demo-alice/remote-functions"
    vpc = {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": list(NETWORK.subnet_ids)}
    if network is None:
        assert "VpcConfig" not in training and "NetworkConfig" not in sagemaker["ProcessingJob"]
    else:
        assert training["VpcConfig"] == vpc
        assert sagemaker["ProcessingJob"]["NetworkConfig"] == {"VpcConfig": vpc}
        assert sagemaker["Model"]["VpcConfig"] == vpc
        assert remote["VpcConfig"] == vpc


def test_the_script_writes_the_file_the_sdk_reads_as_its_admin_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_CONFIG_DIRS", raising=False)
    admin = Path(site_config_dir("sagemaker")) / "config.yaml"
    assert str(admin) == "/etc/xdg/sagemaker/config.yaml"
    assert f"cat > {admin} <<'SMKIT_SDK_DEFAULTS'" in SCRIPTS["all parts"].text


def test_sdk_defaults_survive_any_value_cloudformation_puts_in() -> None:
    """Values resolved at deploy time land inside double quotes: a value with YAML
    syntax in it stays a plain string."""
    text = defaults_yaml().replace(BUCKET, "a: b # {c}")
    assert (
        yaml.safe_load(text)["SageMaker"]["PythonSDK"]["Modules"]["Session"]["DefaultS3Bucket"]
        == "a: b # {c}"
    )


def test_size_is_counted_after_base64_with_tokens_at_their_bound() -> None:
    script = SCRIPTS["all parts"]
    assert script.encoded_length == len(base64.b64encode(script.text.encode()))
    assert encoded_length("ab${Token[TOKEN.1]}c", {"${Token[TOKEN.1]}": 100}) == 4 * 35
    with pytest.raises(ValueError, match=r"no length bound for the deploy-time value"):
        encoded_length("${Token[TOKEN.7]}", {})


def test_templates_and_values_must_match() -> None:
    with pytest.raises(KeyError, match=r"build_kernels.sh: no value for \['CHANNELS'"):
        render("build_kernels.sh", {})
    with pytest.raises(ValueError, match=r"kernels_section.sh: no placeholder for \['EXTRA'\]"):
        render("kernels_section.sh", {"BUILD_KERNELS": "", "EXTRA": ""})
