"""Placing the job's processes: one per GPU (or one on a CPU host) on every host of
resourceconfig.json, joined by torch.distributed (NCCL on GPUs, Gloo on CPUs) with the
first host as the rendezvous. Local processes are started with the spawn method (CUDA
cannot be forked) and receive the data the entry point has already read, since a Pipe
mode FIFO can be read only once. When one process fails, the others are stopped.

This module imports torch only to look for GPUs (not at all with SMKIT_DEVICE=cpu): the
entry point stays light when it only starts and watches the training processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing.connection import wait
from typing import Any

from .data import TrainingData
from .environment import Cluster, Paths, RuntimeOptions, WorldPlan
from .errors import TrainingError, TrainingStoppedError
from .hyperparameters import Hyperparameters
from .signals import StopSignal

log = logging.getLogger("textclf_train")


def plan_world(cluster: Cluster, options: RuntimeOptions) -> WorldPlan:
    use_cuda, gpus = False, 0
    if options.device != "cpu":
        import torch

        cuda_available = torch.cuda.is_available()
        if options.device == "cuda" and not cuda_available:
            raise TrainingError(
                "SMKIT_DEVICE is cuda but torch sees no GPU (torch.cuda.is_available() is False)"
            )
        use_cuda = cuda_available
        gpus = torch.cuda.device_count() if use_cuda else 0
    per_host = options.processes_per_host or (gpus if use_cuda else 1)
    if use_cuda and per_host > gpus:
        raise TrainingError(
            f"SMKIT_PROCESSES_PER_HOST is {per_host} but this host has {gpus} GPU(s)"
        )
    hosts = len(cluster.hosts)
    return WorldPlan(
        world_size=hosts * per_host,
        processes_per_host=per_host,
        host_index=cluster.host_index,
        use_cuda=use_cuda,
        master_addr=cluster.hosts[0] if hosts > 1 else "127.0.0.1",
        master_port=options.master_port,
    )


def run_processes(
    data: TrainingData,
    hp: Hyperparameters,
    paths: Paths,
    plan: WorldPlan,
    cluster: Cluster,
    stop: StopSignal,
) -> None:
    """Train in this process when the world is one process; otherwise start this host's
    processes and wait for them."""
    if not plan.distributed:
        from .trainer import train_process

        train_process(data, hp, paths, plan, 0, stop.is_set)
        return
    if cluster.network_interface:
        # SageMaker names the interface the hosts reach each other on.
        for variable in ("NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME"):
            os.environ.setdefault(variable, cluster.network_interface)
    context = multiprocessing.get_context("spawn")
    errors: Any = context.SimpleQueue()
    processes = [
        context.Process(
            target=_process_main,
            args=(local_rank, data, hp, paths, plan, errors),
            name=f"train-rank-{plan.rank(local_rank)}",
        )
        for local_rank in range(plan.processes_per_host)
    ]
    for process in processes:
        process.start()
    stop.forward_to(process.pid for process in processes if process.pid is not None)
    failed = _wait_all(processes)
    if failed is None:
        return
    reported: list[tuple[str, str]] = []
    while not errors.empty():
        reported.append(errors.get())
    messages = {kind: message for kind, message in reversed(reported)}
    if "error" in messages:
        raise TrainingError(messages["error"])
    if "stopped" in messages or stop.is_set():
        raise TrainingStoppedError(messages.get("stopped", "training stopped by SIGTERM"))
    raise TrainingError(f"training process {failed.name} exited with code {failed.exitcode}")


def _wait_all(processes: list[Any]) -> Any:
    """Wait for every process; at the first failure stop the others. Returns the first
    process that failed, or None."""
    running = list(processes)
    failed = None
    while running:
        ready = wait([process.sentinel for process in running])
        for process in [p for p in running if p.sentinel in ready]:
            process.join()
            running.remove(process)
            if process.exitcode != 0 and failed is None:
                failed = process
                for other in running:
                    other.terminate()
    return failed


def _process_main(
    local_rank: int,
    data: TrainingData,
    hp: Hyperparameters,
    paths: Paths,
    plan: WorldPlan,
    errors: Any,
) -> None:
    stop = StopSignal()
    stop.install()
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s rank {plan.rank(local_rank)}: %(message)s",
    )
    import torch

    from .trainer import train_process

    # Several processes on one CPU host share its cores instead of each taking all
    # (unless OMP_NUM_THREADS says otherwise).
    if not plan.use_cuda and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // plan.processes_per_host))
    try:
        train_process(data, hp, paths, plan, local_rank, stop.is_set)
    except TrainingStoppedError as error:
        errors.put(("stopped", str(error)))
        raise SystemExit(128 + signal.SIGTERM) from error
    except TrainingError as error:
        errors.put(("error", str(error)))
        raise SystemExit(1) from error
    except Exception as error:
        errors.put(("error", f"unexpected error in rank {plan.rank(local_rank)}: {error!r}"))
        raise
    _leave_successfully()


def _leave_successfully() -> None:
    """End a rank whose work is done and written, skipping the interpreter's teardown.

    At that teardown torch's Gloo threads can still be joinable when C++ destroys its
    static objects, and C++ then aborts the process ("terminate called without an active
    exception", exit code -6) although training succeeded: one run in four on two CPU
    processes with torch 2.13, after every rank had returned. SageMaker would report such
    a job as failed. Only what this process holds in memory is skipped: the model and the
    checkpoints are closed files by now, and the logs are flushed first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
