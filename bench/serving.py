"""Throughput and latency of the serving image's stack (gunicorn + the WSGI app + the
numpy model) on loopback, at several concurrencies, next to the same model's in-process
prediction rate (the ceiling: no HTTP, no JSON, no process hop).

    python -m bench.serving                       # trains a small model first
    python -m bench.serving --model-base job/     # a job folder holding model/
    python -m bench.serving --workers 2 --threads 4 --seconds 10

Clients are threads of this process, each on a keep-alive connection, sending
single-instance JSON requests back to back for --seconds per concurrency level. On a
machine with few cores the clients take CPU from the server: read the figures as a lower
bound of what an instance of the same size serves.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.synthetic import examples, write_job

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "containers" / "training" / "train"
SERVE = ROOT / "containers" / "inference" / "serve"
sys.path.insert(0, str(ROOT / "containers" / "inference"))

from textclf_serve.model import TextClassifierModel  # noqa: E402


def train_model(base: Path) -> None:
    pairs = examples(20_000, seed=3)
    write_job(base, pairs[:18_000], pairs[18_000:], {"epochs": 2, "batch_size": 128})
    subprocess.run(  # noqa: S603 (this repository's own entry point)
        [sys.executable, str(TRAIN)],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SMKIT_DEVICE": "cpu"},
        check=True,
        capture_output=True,
    )


def in_process_rate(model_dir: Path, texts: list[str], seconds: float) -> dict[str, float]:
    model = TextClassifierModel.load(model_dir)
    rates = {}
    for batch in (1, 64):
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            for start in range(0, len(texts), batch):
                model.predict(texts[start : start + batch])
                done += len(texts[start : start + batch])
        rates[f"instances_per_second_batch_{batch}"] = done / (time.perf_counter() - started)
    return rates


def load(port: int, bodies: list[bytes], concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    stop_at = time.perf_counter() + seconds
    barrier = threading.Barrier(concurrency)

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        barrier.wait()
        i = slot
        while time.perf_counter() < stop_at:
            body = bodies[i % len(bodies)]
            i += concurrency
            sent = time.perf_counter()
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies[slot].append(time.perf_counter() - sent)
            if response.status != 200:
                errors[slot] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    everything = sorted(value for values in latencies for value in values)
    return {
        "concurrency": concurrency,
        "requests": len(everything),
        "errors": sum(errors),
        "requests_per_second": round(len(everything) / elapsed, 1),
        "p50_ms": round(statistics.quantiles(everything, n=100)[49] * 1000, 2),
        "p99_ms": round(statistics.quantiles(everything, n=100)[98] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model-base", type=Path, help="a folder holding model/ (default: train one)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    base = args.model_base
    if base is None:
        base = Path(tempfile.mkdtemp(prefix="textclf-serve-bench-"))
        train_model(base)
    texts = [text for text, _ in examples(512, seed=9)]
    bodies = [json.dumps({"source": text}).encode() for text in texts]

    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (this repository's own entry point)
        [sys.executable, str(SERVE), "serve"],
        env={
            **os.environ,
            "SAGEMAKER_BASE_DIR": str(base),
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SMKIT_BIND_HOST": "127.0.0.1",
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(args.workers),
            "SMKIT_WORKER_THREADS": str(args.threads),
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "WARNING",
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(port)
        load(port, bodies, 4, 1.0)  # warm-up: every worker has answered
        results = [load(port, bodies, level, args.seconds) for level in args.concurrency]
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = {
        "model_base": str(base),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "text_words_mean": round(statistics.mean(len(text.split()) for text in texts), 1),
        "in_process": {
            key: round(value)
            for key, value in in_process_rate(base / "model", texts, args.seconds / 2).items()
        },
        "http": results,
    }
    print(json.dumps(report, indent=2))
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not become ready")


if __name__ == "__main__":
    sys.exit(main())
