"""Runs the training image's entry point on a synthetic dataset and reports what it did:
the device and world size it chose, the time per epoch, examples per second and the
metrics. With --interrupt it also sends SIGTERM after the first checkpoint and checks that
the rerun resumes from the saved epoch. It is the GPU smoke test of the image's code:

    python -m bench.training                                  # the GPU when one is visible
    python -m bench.training --device cuda --interrupt        # fail without a GPU
    python -m bench.training --device cpu --processes-per-host 2   # DDP over Gloo

It exits non-zero when a run fails, a metric line is missing, or the rerun does not
resume where the interrupted run stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.synthetic import examples, write_job

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "containers" / "training" / "train"
METRIC = re.compile(r"^\[metric\] (?P<name>[\w:]+)=(?P<value>[-+0-9.eE]+|nan)$")


def run_train(
    base: Path, env: dict[str, str], interrupt_after: int | None = None
) -> dict[str, Any]:
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 (this repository's own entry point)
        [sys.executable, str(TRAIN), "train"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if interrupt_after is not None:
        checkpoint = base / "checkpoints" / f"epoch-{interrupt_after:05d}.pt"
        while not checkpoint.exists() and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate()
    metrics: list[tuple[str, float]] = []
    for line in stdout.splitlines():
        match = METRIC.match(line)
        if match:
            metrics.append((match["name"], float(match["value"])))
    return {
        "returncode": process.returncode,
        "seconds": time.monotonic() - started,
        "metrics": metrics,
        "stderr": stderr,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument("--processes-per-host", type=int)
    parser.add_argument(
        "--interrupt", action="store_true", help="SIGTERM after epoch 1, then resume"
    )
    parser.add_argument("--job-dir", type=Path, help="keep the job folder here")
    args = parser.parse_args()

    pairs = examples(args.examples + args.examples // 10, seed=1)
    base = args.job_dir or Path(tempfile.mkdtemp(prefix="textclf-bench-"))
    hyperparameters = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "embedding_dim": args.embedding_dim,
        "learning_rate": 0.005,
    }
    write_job(base, pairs[: args.examples], pairs[args.examples :], hyperparameters)
    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base),
        "SMKIT_DEVICE": args.device,
        "PYTHONUNBUFFERED": "1",
    }
    if args.processes_per_host:
        env["SMKIT_PROCESSES_PER_HOST"] = str(args.processes_per_host)

    report: dict[str, Any] = {
        "job_dir": str(base),
        "examples": args.examples,
        "epochs": args.epochs,
    }
    if args.interrupt:
        write_job(
            base,
            pairs[: args.examples],
            pairs[args.examples :],
            {**hyperparameters, "epochs": 10_000},
        )
        stopped = run_train(base, env, interrupt_after=1)
        saved = sorted(int(p.stem.split("-")[1]) for p in (base / "checkpoints").glob("epoch-*.pt"))
        failure = (base / "output" / "failure").read_text().strip()
        report["interrupted"] = {
            "returncode": stopped["returncode"],
            "saved_epochs": saved,
            "failure": failure,
        }
        if stopped["returncode"] != 143 or not saved:
            print(json.dumps(report, indent=2), file=sys.stderr)
            print(stopped["stderr"], file=sys.stderr)
            return 1
        write_job(
            base,
            pairs[: args.examples],
            pairs[args.examples :],
            {**hyperparameters, "epochs": saved[-1] + args.epochs},
        )

    result = run_train(base, env)
    if result["returncode"] != 0:
        print(result["stderr"], file=sys.stderr)
        return 1
    epochs = [int(value) for name, value in result["metrics"] if name == "epoch"]
    description = json.loads((base / "model" / "model.json").read_text())
    training = description["training"]
    seconds_per_epoch = re.findall(r"epoch \d+/\d+ done in ([0-9.]+) s", result["stderr"])
    epoch_seconds = [float(s) for s in seconds_per_epoch]
    report.update(
        {
            "device": training["device"],
            "world_size": training["world_size"],
            "torch": training["torch_version"],
            "epochs_run": epochs,
            "wall_seconds": round(result["seconds"], 2),
            "epoch_seconds": epoch_seconds,
            "train_examples_per_second": round(args.examples / min(epoch_seconds))
            if epoch_seconds
            else None,
            "final_metrics": training["metrics"],
            "vocabulary_size": description["vocabulary_size"],
        }
    )
    print(json.dumps(report, indent=2))
    if args.interrupt:
        expected_first = report["interrupted"]["saved_epochs"][-1] + 1
        if not epochs or epochs[0] != expected_first:
            print(f"the rerun started at epoch {epochs[:1]}, not {expected_first}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
