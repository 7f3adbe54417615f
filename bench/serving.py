"""Throughput and latency of the serving image's stack (gunicorn + the WSGI app + the
numpy model) on loopback, at several concurrencies, next to a trivial "hello" WSGI app
served with the serve script's exact options (bench/hello_server.py) and the same
model's in-process prediction rate (the ceiling: no HTTP, no JSON, no process hop).

    python -m bench.serving                       # trains a small model first
    python -m bench.serving --model-base job/     # a job folder holding model/
    python -m bench.serving --workers 2 --threads 4 --seconds 3 --rounds 7
    python -m bench.serving --log-level WARNING   # default: the server's own (INFO)

Clients are threads of this process, each on a keep-alive connection, sending
single-instance JSON requests back to back for --seconds per concurrency level. Both
servers run side by side; each round measures every level on both, in alternating order,
and the ratio model/hello is the median of the rounds' ratios: on a busy machine the
absolute figures drift, the ratio much less. On a machine with few cores the clients take
CPU from the server: read the absolute figures as a lower bound of what an instance of
the same size serves.
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

from textclf_serve.features import feature_ids  # noqa: E402
from textclf_serve.model import TextClassifierModel  # noqa: E402

# The synthetic words depend on the seed: texts to send come from the training seed's
# stream, past the examples the model was trained and validated on, so that the model
# knows their words (other seeds make texts of words no model has seen).
TRAINING_SEED = 3
TRAINING_EXAMPLES = 20_000
REQUEST_TEXTS = 512


def train_model(base: Path) -> None:
    pairs = examples(TRAINING_EXAMPLES, seed=TRAINING_SEED)
    write_job(base, pairs[:18_000], pairs[18_000:], {"epochs": 2, "batch_size": 128})
    subprocess.run(  # noqa: S603 (this repository's own entry point)
        [sys.executable, str(TRAIN)],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SMKIT_DEVICE": "cpu"},
        check=True,
        capture_output=True,
    )


def in_process_rate(model_dir: Path, texts: list[str], seconds: float) -> dict[str, float]:
    """Predictions per CPU second of this process (one thread): CPU time, not wall time,
    so that other work on the machine does not lower the figure."""
    model = TextClassifierModel.load(model_dir)
    rates = {}
    for batch in (1, 64):
        done = 0
        started = time.process_time()
        while time.process_time() - started < seconds:
            for start in range(0, len(texts), batch):
                model.predict(texts[start : start + batch])
                done += len(texts[start : start + batch])
        rates[f"instances_per_cpu_second_batch_{batch}"] = done / (time.process_time() - started)
    return rates


def known_features(model_dir: Path, texts: list[str]) -> float:
    """How many of each text's features the model knows, on average (0 would measure a
    model that looks up nothing)."""
    model = TextClassifierModel.load(model_dir)
    counts = [
        len(feature_ids(text, model.index, model.max_length, model.ngram_size)) for text in texts
    ]
    return round(statistics.mean(counts), 1)


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
    parser.add_argument("--seconds", type=float, default=3.0, help="per level, server, round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--log-level",
        help="SAGEMAKER_CONTAINER_LOG_LEVEL of both servers (default: unset, the server's INFO)",
    )
    args = parser.parse_args()

    base = args.model_base
    if base is None:
        base = Path(tempfile.mkdtemp(prefix="textclf-serve-bench-"))
        train_model(base)
    held_out = examples(TRAINING_EXAMPLES + REQUEST_TEXTS, seed=TRAINING_SEED)
    texts = [text for text, _ in held_out[TRAINING_EXAMPLES:]]
    bodies = [json.dumps({"source": text}).encode() for text in texts]

    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base),
        "SMKIT_BIND_HOST": "127.0.0.1",
        "SAGEMAKER_MODEL_SERVER_WORKERS": str(args.workers),
        "SMKIT_WORKER_THREADS": str(args.threads),
    }
    env.pop("SAGEMAKER_CONTAINER_LOG_LEVEL", None)
    if args.log_level:
        env["SAGEMAKER_CONTAINER_LOG_LEVEL"] = args.log_level
    logs = Path(tempfile.mkdtemp(prefix="textclf-serve-bench-logs-"))
    commands = {
        "model": [sys.executable, str(SERVE), "serve"],
        "hello": [sys.executable, "-m", "bench.hello_server"],
    }
    servers: dict[str, Server] = {}
    try:
        for name, command in commands.items():
            servers[name] = Server.start(name, command, env, logs / f"{name}.log")
        for server in servers.values():
            wait_ready(server.port)
            server.measure(bodies, 4, 1.0)  # warm-up: every worker has answered
        runs: dict[str, dict[int, list[dict[str, Any]]]] = {
            name: {level: [] for level in args.concurrency} for name in servers
        }
        for round_number in range(args.rounds):
            for level in args.concurrency:
                # Alternate which server goes first: drift in the machine's load then
                # weighs on both alike.
                order = list(servers) if round_number % 2 == 0 else list(reversed(servers))
                for name in order:
                    runs[name][level].append(servers[name].measure(bodies, level, args.seconds))
    finally:
        for server in servers.values():
            server.stop()
    report = {
        "model_base": str(base),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "threads_per_worker": args.threads,
        "log_level": args.log_level or "INFO (the server's default)",
        "rounds": args.rounds,
        "seconds_per_run": args.seconds,
        "text_words_mean": round(statistics.mean(len(text.split()) for text in texts), 1),
        "known_features_per_text_mean": known_features(base / "model", texts),
        "in_process": {
            key: round(value)
            for key, value in in_process_rate(base / "model", texts, args.seconds / 2).items()
        },
        "http": [summary(runs, level) for level in args.concurrency],
        "log_lines_per_request": {
            name: round(server.log_lines() / max(server.requests, 1), 4)
            for name, server in servers.items()
        },
    }
    print(json.dumps(report, indent=2))
    return 0


def summary(runs: dict[str, dict[int, list[dict[str, Any]]]], level: int) -> dict[str, Any]:
    """One concurrency level: the model server's and the hello app's medians over the
    rounds, and the median of the rounds' ratios."""
    model, hello = runs["model"][level], runs["hello"][level]
    ratios = [
        m["requests_per_second"] / h["requests_per_second"]
        for m, h in zip(model, hello, strict=True)
    ]

    def median(results: list[dict[str, Any]], key: str) -> float:
        return round(float(statistics.median(result[key] for result in results)), 2)

    return {
        "concurrency": level,
        "model_requests_per_second": median(model, "requests_per_second"),
        "hello_requests_per_second": median(hello, "requests_per_second"),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_per_round": [round(ratio, 3) for ratio in ratios],
        "model_server_cpu_us_per_request": median_or_none(model, "server_cpu_us_per_request"),
        "hello_server_cpu_us_per_request": median_or_none(hello, "server_cpu_us_per_request"),
        # hello's CPU per request over the model server's: the throughput ratio of the two
        # where the server alone is CPU-bound, much less sensitive to other work than
        # requests per second.
        "server_cpu_ratio": cpu_ratio(model, hello),
        "model_p50_ms": median(model, "p50_ms"),
        "model_p99_ms": median(model, "p99_ms"),
        "hello_p50_ms": median(hello, "p50_ms"),
        "errors": sum(result["errors"] for result in model + hello),
    }


def median_or_none(results: list[dict[str, Any]], key: str) -> float | None:
    values = [result[key] for result in results if result[key] is not None]
    return round(float(statistics.median(values)), 1) if values else None


def cpu_ratio(model: list[dict[str, Any]], hello: list[dict[str, Any]]) -> float | None:
    ratios = [
        h["server_cpu_us_per_request"] / m["server_cpu_us_per_request"]
        for m, h in zip(model, hello, strict=True)
        if m["server_cpu_us_per_request"] and h["server_cpu_us_per_request"]
    ]
    return round(statistics.median(ratios), 3) if ratios else None


class Server:
    """One gunicorn server under test; its stdout (the JSON log lines) goes to a file."""

    def __init__(self, name: str, port: int, process: subprocess.Popen[bytes], log: Path):
        self.name = name
        self.port = port
        self.process = process
        self.log = log
        self.requests = 0

    @classmethod
    def start(cls, name: str, command: list[str], env: dict[str, str], log: Path) -> Server:
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 (this repository's own entry points)
                command, env={**env, "SAGEMAKER_BIND_TO_PORT": str(port)}, stdout=out, cwd=ROOT
            )
        return cls(name, port, process, log)

    def measure(self, bodies: list[bytes], concurrency: int, seconds: float) -> dict[str, Any]:
        """`load`, and the server's CPU time per request (master and workers, user and
        system; None where /proc is missing)."""
        before = self.cpu_seconds()
        result = load(self.port, bodies, concurrency, seconds)
        after = self.cpu_seconds()
        self.requests += result["requests"]
        result["server_cpu_us_per_request"] = (
            None
            if before is None or after is None
            else round((after - before) / max(result["requests"], 1) * 1e6, 1)
        )
        return result

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the server's processes (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        try:
            stats = {}
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        stats[int(entry.name)] = (entry / "stat").read_text()
                    except OSError:
                        continue  # a process that just ended
        except OSError:
            return None
        for pid, stat in stats.items():
            # Fields after the command (which may hold spaces): state, ppid, ... utime
            # (14th field of the line), stime (15th).
            fields = stat.rsplit(")", 1)[1].split()
            if pid == self.process.pid or int(fields[1]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def log_lines(self) -> int:
        with self.log.open("rb") as lines:
            return sum(1 for _ in lines)


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
