"""`make synth`: OUT holds one whole synthesis of one config or stays as it was, and
paths given to `make -C <kit>` are the caller's. A stand-in synth command writes what
`cdk synth -o` writes (or fails halfway), so no CDK runs here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.synth import SynthError, main, synthesize

ROOT = Path(__file__).resolve().parents[2]

# Writes the templates named on its command line into `-o`, then exits 0, or exits 3
# after writing one file when the first name is "fail".
FAKE_SYNTH = """
import pathlib, sys
args = sys.argv[1:]
out = pathlib.Path(args[args.index("-o") + 1])
names = args[: args.index("-c")]
(out / "half-written.template.json").write_text("{}")
if names[0] == "fail":
    sys.exit(3)
for name in names:
    (out / f"{name}.template.json").write_text("{}")
(out / "manifest.json").write_text("{}")
(out / "cdk.out").write_text("{}")
(out / "half-written.template.json").unlink()
print("Warning: something the app said", file=sys.stderr)
print(f"Successfully synthesized to {out}", file=sys.stderr)
print("Supply a stack id (A, B) to display its template.", file=sys.stderr)
"""


def fake_synth(tmp_path: Path, *names: str) -> list[str]:
    script = tmp_path / "fake_synth.py"
    script.write_text(FAKE_SYNTH)
    return [sys.executable, str(script), *names]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "my.yaml"
    path.write_text("name_prefix: demo\n")
    return path


def test_out_holds_only_the_new_synthesis(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    assert synthesize(config, out, fake_synth(tmp_path, "old-A", "old-B")) == [
        "old-A.template.json",
        "old-B.template.json",
    ]
    assert synthesize(config, out, fake_synth(tmp_path, "new-A")) == ["new-A.template.json"]
    assert sorted(p.name for p in out.iterdir()) == [
        "cdk.out",
        "manifest.json",
        "new-A.template.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake_synth.py", "my.yaml", "out"]


def test_only_the_apps_own_output_is_passed_on(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CLI's lines name the staging folder, which is gone once OUT replaces it.
    synthesize(config, tmp_path / "out", fake_synth(tmp_path, "A", "B"))
    assert capsys.readouterr().err == "Warning: something the app said\n"


def test_a_failed_synthesis_leaves_out_as_it_was(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    synthesize(config, out, fake_synth(tmp_path, "old-A"))
    with pytest.raises(SynthError, match=r"synthesis failed \(exit 3\); .*/out is as it was"):
        synthesize(config, out, fake_synth(tmp_path, "fail"))
    assert sorted(p.name for p in out.iterdir()) == [
        "cdk.out",
        "manifest.json",
        "old-A.template.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake_synth.py", "my.yaml", "out"]


def test_a_failed_first_synthesis_creates_no_out(tmp_path: Path, config: Path) -> None:
    with pytest.raises(SynthError, match="out is not created"):
        synthesize(config, tmp_path / "out", fake_synth(tmp_path, "fail"))
    assert not (tmp_path / "out").exists()


def test_a_folder_of_other_files_is_never_replaced(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("keep me")
    with pytest.raises(SynthError, match="holds files but no cloud assembly"):
        synthesize(config, out, fake_synth(tmp_path, "A"))
    assert [p.name for p in out.iterdir()] == ["todo.txt"]


def test_a_missing_config_is_refused_before_synthesis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "config" / "x.yaml"
    code = main(["--config", str(missing), "--out", str(tmp_path / "out"), "--", "false"])
    assert code == 1
    assert capsys.readouterr().err == (
        f"{missing}: no such config file (a relative CONFIG is taken from the folder make was "
        "started in, also with make -C)\n"
    )
    assert not (tmp_path / "out").exists()


def make_dry_run(caller: Path, *args: str) -> str:
    """The command `make -C <kit> synth` would run, started in `caller` as a shell does."""
    env = {**os.environ, "PWD": str(caller)}
    for name in ("CONFIG", "OUT", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "synth", *args],
        cwd=caller,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [line for line in result.stdout.splitlines() if "-m tools.synth" in line]
    return line.split("-m tools.synth ", 1)[1]


def test_make_c_takes_config_and_out_from_the_callers_folder(tmp_path: Path) -> None:
    assert make_dry_run(tmp_path, "CONFIG=config/x.yaml", "OUT=out").startswith(
        f'--config "{tmp_path}/config/x.yaml" --out "{tmp_path}/out" -- '
    )


def test_absolute_paths_and_the_defaults_stay_as_they_are(tmp_path: Path) -> None:
    assert make_dry_run(tmp_path, "CONFIG=/abs/x.yaml").startswith(
        f'--config "/abs/x.yaml" --out "{ROOT}/cdk.out" -- '
    )
    assert make_dry_run(tmp_path).startswith(
        f'--config "{ROOT}/config/default.yaml" --out "{ROOT}/cdk.out" -- '
    )
