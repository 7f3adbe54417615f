"""Placing the job's processes: one per GPU (or one on a CPU host) on every host of
resourceconfig.json, joined by torch.distributed (NCCL on GPUs, Gloo on CPUs) with the
first host as the rendezvous. Local processes are started with the spawn method (CUDA
cannot be forked) and receive the data the entry point has already read, since a Pipe
mode FIFO can be read only once."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

import torch
import torch.multiprocessing as mp
from torch.multiprocessing.spawn import ProcessException, start_processes

from .data import TrainingData
from .environment import Cluster, Paths, RuntimeOptions
from .errors import TrainingError, TrainingStoppedError
from .hyperparameters import Hyperparameters
from .signals import StopSignal
from .trainer import WorldPlan, train_process

log = logging.getLogger("textclf_train")


def plan_world(cluster: Cluster, options: RuntimeOptions) -> WorldPlan:
    cuda_available = torch.cuda.is_available()
    if options.device == "cuda" and not cuda_available:
        raise TrainingError(
            "SMKIT_DEVICE is cuda but torch sees no GPU (torch.cuda.is_available() is False)"
        )
    use_cuda = options.device == "cuda" or (options.device == "auto" and cuda_available)
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
        train_process(data, hp, paths, plan, 0, stop.is_set)
        return
    if cluster.network_interface:
        # SageMaker names the interface the hosts reach each other on.
        for variable in ("NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME"):
            os.environ.setdefault(variable, cluster.network_interface)
    context = mp.get_context("spawn")
    errors: Any = context.SimpleQueue()
    # torch leaves start_processes unannotated.
    processes = start_processes(  # type: ignore[no-untyped-call]
        _process_main,
        args=(data, hp, paths, plan, errors),
        nprocs=plan.processes_per_host,
        join=False,
        start_method="spawn",
    )
    stop.forward_to(process.pid for process in processes.processes)
    try:
        while not processes.join():
            continue
    except ProcessException as error:
        reported = []
        while not errors.empty():
            reported.append(errors.get())
        stopped = [message for kind, message in reported if kind == "stopped"]
        failed = [message for kind, message in reported if kind == "error"]
        if failed:
            raise TrainingError(failed[0]) from error
        if stopped or stop.is_set():
            raise TrainingStoppedError(
                stopped[0] if stopped else "training stopped by SIGTERM"
            ) from error
        raise TrainingError(f"a training process failed: {error}") from error


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
    # Several processes on one CPU host share its cores instead of each taking all.
    if not plan.use_cuda:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // plan.processes_per_host))
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s rank {plan.rank(local_rank)}: %(message)s",
    )
    try:
        train_process(data, hp, paths, plan, local_rank, stop.is_set)
    except TrainingStoppedError as error:
        errors.put(("stopped", str(error)))
        raise SystemExit(128 + signal.SIGTERM) from error
    except TrainingError as error:
        errors.put(("error", str(error)))
        raise SystemExit(1) from error
