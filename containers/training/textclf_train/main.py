"""The `train` entry point: SageMaker's training contract from start to exit code.

Exit codes: 0 trained (the model is in /opt/ml/model); 1 failed (the reason is in
/opt/ml/output/failure); 2 called with arguments other than `train`; 143 stopped by
SIGTERM (the newest checkpoint resumes the job).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence

from .data import describe, load_training_data
from .distributed import plan_world, run_processes
from .environment import TRAIN_CHANNEL, Paths, RuntimeOptions, read_channels, read_cluster
from .errors import TrainingError, TrainingStoppedError
from .hyperparameters import read_hyperparameters
from .signals import StopSignal

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STOPPED = 128 + signal.SIGTERM
# SageMaker shows the first 1024 characters of the failure file as the FailureReason.
FAILURE_REASON_LIMIT = 1024

log = logging.getLogger("textclf_train")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    if args not in ([], ["train"]):
        print(f"usage: train  (got arguments {args!r})", file=sys.stderr)
        return EXIT_USAGE
    paths = Paths.from_environ(env)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    stop = StopSignal()
    restore = stop.install()
    try:
        # A failure file of an earlier attempt (a restarted spot job) is not this run's.
        paths.failure_file.unlink(missing_ok=True)
        _train(paths, env, stop)
        return 0
    except TrainingStoppedError as error:
        _report_failure(paths, str(error))
        return EXIT_STOPPED
    except TrainingError as error:
        _report_failure(paths, str(error))
        return EXIT_FAILED
    except Exception as error:
        log.exception("training failed")
        _report_failure(paths, f"unexpected error: {type(error).__name__}: {error}")
        return EXIT_FAILED
    finally:
        restore()
        log.removeHandler(handler)


def _train(paths: Paths, environ: Mapping[str, str], stop: StopSignal) -> None:
    started = time.monotonic()
    # Everything that can be checked without torch is checked first: a bad
    # hyperparameter fails the job in a fraction of a second.
    hp = read_hyperparameters(paths.hyperparameters)
    options = RuntimeOptions.from_environ(environ)
    channels = read_channels(paths)
    cluster = read_cluster(paths)
    train_channel = channels.get(TRAIN_CHANNEL)
    if (
        train_channel is not None
        and train_channel.distribution == "ShardedByS3Key"
        and len(cluster.hosts) > 1
    ):
        raise TrainingError(
            "the train channel is ShardedByS3Key, but every host needs all the training "
            "data (the vocabulary and the classes are built from it): use FullyReplicated"
        )
    data = load_training_data(paths, channels, hp)
    for line in describe(data):
        log.info("%s", line)
    if stop.is_set():
        raise TrainingStoppedError("training stopped by SIGTERM before the first epoch")

    plan = plan_world(cluster, options)
    log.info(
        "training on %s: %d process(es) on %d host(s), this is %s",
        "CUDA" if plan.use_cuda else "the CPU",
        plan.world_size,
        len(cluster.hosts),
        cluster.current_host,
    )
    run_processes(data, hp, paths, plan, cluster, stop)
    log.info("training finished in %.1f s", time.monotonic() - started)


def _report_failure(paths: Paths, reason: str) -> None:
    log.error("%s", reason)
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(reason[:FAILURE_REASON_LIMIT] + "\n", encoding="utf-8")
    except OSError as error:
        log.error("cannot write %s: %s", paths.failure_file, error)
