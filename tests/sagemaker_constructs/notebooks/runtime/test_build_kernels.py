"""The kernel builder as a notebook runs it, against a stand-in conda that records its
calls: environments are built once and reused after a restart, a changed definition
builds a new one, an interrupted build is redone, and each kernel is registered."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from sagemaker_constructs.notebooks import Kernel, PackageSources
from sagemaker_constructs.notebooks.scripts import NOTEBOOK_HOST, STUDIO_HOST, build_kernels_script

# Stand-in for conda: `create --prefix P ...` makes an environment whose python handles
# `-m pip install ...` and `-m ipykernel install --user --name N --display-name D`.
FAKE_CONDA = """#!/bin/bash
echo "conda $*" >> "$HOME/calls.log"
if [ "$1" = create ]; then
  while [ "$1" != --prefix ]; do shift; done
  mkdir -p "$2/bin"
  cat > "$2/bin/python" <<'PYTHON'
#!/bin/bash
echo "python $*" >> "$HOME/calls.log"
if [ "$2" = ipykernel ]; then
  spec="$HOME/.local/share/jupyter/kernels/$6"
  mkdir -p "$spec"
  printf '{"display_name": "%s", "argv": ["%s"]}' "$8" "$0" > "$spec/kernel.json"
fi
PYTHON
  chmod +x "$2/bin/python"
fi
"""

SKLEARN = Kernel(name="sklearn", conda_packages=("scikit-learn=1.5",))
TORCH = Kernel(name="torch", python="3.11", pip_packages=("torch==2.5.1",), display_name="PyTorch")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    conda = tmp_path / "anaconda3" / "bin" / "conda"
    conda.parent.mkdir(parents=True)
    conda.write_text(FAKE_CONDA)
    conda.chmod(0o755)
    (tmp_path / "SageMaker").mkdir()
    return tmp_path


def start(home: Path, kernels: list[Kernel]) -> subprocess.CompletedProcess[str]:
    """What each notebook start does: run the rendered builder."""
    script = home / "build_kernels.sh"
    script.write_text(
        build_kernels_script(kernels, PackageSources(), host=replace(NOTEBOOK_HOST, home=str(home)))
    )
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)


def calls(home: Path) -> list[str]:
    log = home / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def registered(home: Path) -> dict[str, dict[str, object]]:
    kernels = home / ".local" / "share" / "jupyter" / "kernels"
    return {k.name: json.loads((k / "kernel.json").read_text()) for k in kernels.iterdir()}


def env(home: Path, kernel: Kernel) -> Path:
    return (
        home
        / "SageMaker"
        / ".smkit"
        / "envs"
        / f"{kernel.name}-{kernel.environment_hash(PackageSources())}"
    )


def test_first_start_builds_and_registers_each_kernel(home: Path) -> None:
    result = start(home, [SKLEARN, TORCH])
    assert result.returncode == 0, result.stdout + result.stderr
    made = calls(home)
    creates = [c for c in made if c.startswith("conda create")]
    assert creates == [
        f"conda create --yes --quiet --prefix {env(home, SKLEARN)} --override-channels -c "
        "https://conda.anaconda.org/conda-forge python=3.12 ipykernel scikit-learn=1.5",
        f"conda create --yes --quiet --prefix {env(home, TORCH)} --override-channels -c "
        "https://conda.anaconda.org/conda-forge python=3.11 ipykernel",
    ]
    assert "python -m pip install torch==2.5.1" in made
    assert (env(home, SKLEARN) / ".smkit-ready").is_file()
    assert {name: spec["display_name"] for name, spec in registered(home).items()} == {
        "smkit-sklearn": "sklearn (Python 3.12)",
        "smkit-torch": "PyTorch",
    }
    assert "kernel torch ready" in result.stdout


def test_a_restart_reuses_the_environments_and_only_registers_them(home: Path) -> None:
    start(home, [SKLEARN, TORCH])
    calls(home)
    result = start(home, [SKLEARN, TORCH])
    assert result.returncode == 0
    made = calls(home)
    assert not any(c.startswith("conda create") for c in made)
    assert [c for c in made if "ipykernel" in c] == [
        "python -m ipykernel install --user --name smkit-sklearn --display-name "
        "sklearn (Python 3.12)",
        "python -m ipykernel install --user --name smkit-torch --display-name PyTorch",
    ]


def test_a_changed_definition_builds_a_new_environment_beside_the_old_one(home: Path) -> None:
    start(home, [SKLEARN])
    newer = Kernel(name="sklearn", conda_packages=("scikit-learn=1.6",))
    start(home, [newer])
    assert env(home, SKLEARN).is_dir() and (env(home, newer) / ".smkit-ready").is_file()
    assert registered(home)["smkit-sklearn"]["argv"] == [str(env(home, newer) / "bin" / "python")]


def test_an_interrupted_build_is_redone(home: Path) -> None:
    partial = env(home, SKLEARN)
    partial.mkdir(parents=True)
    (partial / "half-written").write_text("")
    result = start(home, [SKLEARN])
    assert result.returncode == 0
    assert not (partial / "half-written").exists()
    assert (partial / ".smkit-ready").is_file()


def test_a_failed_kernel_does_not_stop_the_others_but_fails_the_build(home: Path) -> None:
    conda = home / "anaconda3" / "bin" / "conda"
    conda.write_text(
        FAKE_CONDA.replace(
            'if [ "$1" = create ]; then',
            'if [[ "$*" == *torch* ]]; then exit 1; fi\nif [ "$1" = create ]; then',
        )
    )
    broken = Kernel(name="broken", conda_packages=("torch",))
    result = start(home, [broken, SKLEARN])
    assert result.returncode == 1
    assert set(registered(home)) == {"smkit-sklearn"}
    assert not (env(home, broken) / ".smkit-ready").exists()


def test_without_conda_nothing_is_built(home: Path) -> None:
    (home / "anaconda3" / "bin" / "conda").unlink()
    result = start(home, [SKLEARN])
    assert result.returncode == 1
    assert "no conda on this instance: kernels not built" in result.stderr


def test_in_a_studio_space_the_same_builder_keeps_kernels_in_the_users_home(
    tmp_path: Path,
) -> None:
    """Studio's host: sagemaker-user's home is the space's volume; conda is the image's."""
    conda = tmp_path / "opt" / "conda" / "bin" / "conda"
    conda.parent.mkdir(parents=True)
    conda.write_text(FAKE_CONDA)
    conda.chmod(0o755)
    host = replace(STUDIO_HOST, home=str(tmp_path), conda=(str(conda),))
    script = tmp_path / "build_kernels.sh"
    script.write_text(build_kernels_script([SKLEARN], PackageSources(), host=host))
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    environment = (
        tmp_path / ".smkit" / "envs" / f"sklearn-{SKLEARN.environment_hash(PackageSources())}"
    )
    assert (environment / ".smkit-ready").is_file()
    assert registered(tmp_path)["smkit-sklearn"]["argv"] == [str(environment / "bin" / "python")]
    assert STUDIO_HOST.conda_words().startswith("/opt/conda/bin/conda ")
