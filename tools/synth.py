"""Synthesize a config into OUT all at once: into a new folder beside OUT first, and
replace OUT with it only when synthesis succeeded.

`cdk synth -o OUT` writes into OUT as it goes: a failure halfway leaves half a cloud
assembly, and a folder that held another config's assembly keeps that config's
templates, which cfn-lint, checkov or a reviewer would then read as current. Here OUT
holds one whole synthesis or is left as it was.

    python -m tools.synth --config FILE --out DIR -- npx --no-install cdk synth --quiet

The command after `--` is run with `-c config=FILE -o <new folder>` added, in the kit's
folder. `make synth` (and every target that synthesizes) calls it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]

# A folder `cdk synth` wrote: the assembly's manifest and its version marker.
ASSEMBLY_MARKERS = ("manifest.json", "cdk.out")


class SynthError(Exception):
    """Nothing was synthesized; OUT is as it was. The message says why."""


def synthesize(config: Path, out: Path, command: Sequence[str]) -> list[str]:
    """Run `command` to synthesize `config` into a new folder and move it to `out`.
    Returns the names of the templates written. Raises SynthError, leaving `out` as it
    was, when the config is missing, `out` is not an assembly to replace, or `command`
    fails."""
    config, out = config.absolute(), out.absolute()
    if not config.is_file():
        raise SynthError(
            f"{config}: no such config file (a relative CONFIG is taken from the folder "
            "make was started in, also with make -C)"
        )
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.synth-tmp-", dir=out.parent))
    try:
        result = subprocess.run(  # noqa: S603 - the Makefile's own synth command
            [*command, "-c", f"config={config}", "-o", str(staging)],
            cwd=KIT,
            check=False,
            stderr=subprocess.PIPE,
            text=True,
        )
        _echo(result.stderr)
        if result.returncode != 0:
            raise SynthError(
                f"synthesis failed (exit {result.returncode}); {out} is "
                + ("as it was" if out.exists() else "not created")
            )
        if not (staging / "manifest.json").is_file():
            raise SynthError(f"synthesis wrote no cloud assembly; {out} is as it was")
        _replace(out, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(p.name for p in out.glob("*.template.json"))


# What the CDK CLI prints (on stderr) after synthesizing several stacks with --quiet: the
# staging folder (gone by the time anyone reads it) and a hint for `cdk synth <stack>`.
# The line `main` prints says where the assembly is instead.
_CLI_CHATTER = ("Successfully synthesized to ", "Supply a stack id (")


def _echo(output: str) -> None:
    """Pass the synth command's messages on to stderr, less the CLI's lines about its own
    folder (its stdout, with --quiet nothing, goes through as it is)."""
    for line in output.splitlines():
        if not line.startswith(_CLI_CHATTER):
            print(line, file=sys.stderr)


def _check_replaceable(out: Path) -> None:
    """OUT is replaced as a whole: it must be new, empty, or an earlier assembly, never a
    folder of other files (OUT=. would otherwise delete the working directory)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise SynthError(f"{out} is a file, not a folder for the cloud assembly")
    if any(out.iterdir()) and not all((out / name).is_file() for name in ASSEMBLY_MARKERS):
        raise SynthError(
            f"{out} holds files but no cloud assembly (no manifest.json and cdk.out), so it "
            "is not replaced; choose a new or empty folder for OUT"
        )


def _replace(out: Path, staging: Path) -> None:
    """Put the new assembly at `out`; the old one goes only once the new one is there."""
    if not out.exists():
        staging.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{out.name}.synth-old-", dir=out.parent))
    old.rmdir()  # a free name beside OUT for the old assembly
    out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.synth", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the config file")
    parser.add_argument("--out", type=Path, required=True, help="the cloud assembly folder")
    parser.add_argument("command", nargs="+", help="the synth command, after --")
    args = parser.parse_args(argv)
    try:
        templates = synthesize(args.config, args.out, args.command)
    except SynthError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Synthesized {args.config} into {args.out}/: {' '.join(templates)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
