"""What the container reads from SageMaker's config files and its environment, and how it
places its processes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from textclf_train.distributed import plan_world
from textclf_train.environment import (
    ChannelConfig,
    Cluster,
    Paths,
    RuntimeOptions,
    WorldPlan,
    read_channels,
    read_cluster,
)
from textclf_train.errors import TrainingError

from tests.containers.conftest import write_json


def test_base_dir_relocates_opt_ml(tmp_path: Path) -> None:
    paths = Paths.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert paths.hyperparameters == tmp_path / "input" / "config" / "hyperparameters.json"
    assert paths.failure_file == tmp_path / "output" / "failure"
    assert paths.channel_pipe("train") == tmp_path / "input" / "data" / "train_0"
    assert Paths.from_environ({}).model_dir == Path("/opt/ml/model")


def test_channels_from_input_data_config(tmp_path: Path) -> None:
    write_json(
        tmp_path / "input" / "config" / "inputdataconfig.json",
        {
            "train": {
                "ContentType": "application/jsonlines",
                "TrainingInputMode": "Pipe",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "RecordIO",
            },
            "validation": {"TrainingInputMode": "File"},
        },
    )
    assert read_channels(Paths(tmp_path)) == {
        "train": ChannelConfig("train", "Pipe", "RecordIO", "FullyReplicated"),
        "validation": ChannelConfig("validation"),
    }


def test_cluster_from_resource_config(tmp_path: Path) -> None:
    assert read_cluster(Paths(tmp_path)) == Cluster()
    write_json(
        tmp_path / "input" / "config" / "resourceconfig.json",
        {"current_host": "algo-3", "hosts": ["algo-1", "algo-2"], "network_interface_name": "eth0"},
    )
    with pytest.raises(TrainingError) as raised:
        read_cluster(Paths(tmp_path))
    assert str(raised.value) == (
        "resource config: current_host 'algo-3' is not one of the hosts ['algo-1', 'algo-2']"
    )


def test_environment_options_are_checked() -> None:
    assert RuntimeOptions.from_environ({}) == RuntimeOptions()
    with pytest.raises(TrainingError) as raised:
        RuntimeOptions.from_environ({"SMKIT_DEVICE": "gpu", "SMKIT_PROCESSES_PER_HOST": "0"})
    assert str(raised.value) == (
        "invalid environment: SMKIT_DEVICE must be auto, cuda or cpu (got 'gpu'); "
        "SMKIT_PROCESSES_PER_HOST must be an integer from 1 to 1024 (got '0')"
    )


def test_world_spans_hosts_times_processes() -> None:
    cluster = Cluster(hosts=("algo-1", "algo-2"), current_host="algo-2")
    plan = plan_world(cluster, RuntimeOptions(device="cpu", processes_per_host=2, master_port=7000))
    assert plan == WorldPlan(
        world_size=4,
        processes_per_host=2,
        host_index=1,
        use_cuda=False,
        master_addr="algo-1",
        master_port=7000,
    )
    assert (plan.rank(0), plan.rank(1), plan.backend) == (2, 3, "gloo")


def test_cuda_required_without_a_gpu_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(TrainingError) as raised:
        plan_world(Cluster(), RuntimeOptions(device="cuda"))
    assert str(raised.value) == (
        "SMKIT_DEVICE is cuda but torch sees no GPU (torch.cuda.is_available() is False)"
    )
    assert plan_world(Cluster(), RuntimeOptions()) == WorldPlan()


def test_one_process_per_gpu_over_nccl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    cluster = Cluster(hosts=("algo-1", "algo-2"), current_host="algo-1")
    plan = plan_world(cluster, RuntimeOptions())
    assert (plan.world_size, plan.processes_per_host, plan.use_cuda) == (8, 4, True)
    assert (plan.backend, plan.master_addr) == ("nccl", "algo-1")
    assert plan_world(cluster, RuntimeOptions(device="cpu")).world_size == 2
    with pytest.raises(TrainingError) as raised:
        plan_world(cluster, RuntimeOptions(processes_per_host=5))
    assert str(raised.value) == "SMKIT_PROCESSES_PER_HOST is 5 but this host has 4 GPU(s)"


def test_each_job_of_a_tuning_job_keeps_its_checkpoints_apart(tmp_path: Path) -> None:
    # A tuning job gives all its training jobs one checkpoint S3 URI: without a folder
    # per job, a job would find another's checkpoint and refuse it.
    write_json(tmp_path / "input/config/hyperparameters.json", {"_tuning_objective_metric": "x"})
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "TRAINING_JOB_NAME": "hpo-001-abc"}
    assert Paths.from_environ(environ).checkpoint_dir == tmp_path / "checkpoints" / "hpo-001-abc"


def test_a_training_job_shares_its_checkpoints_with_its_retries(tmp_path: Path) -> None:
    # The training workflow retries a job lost to capacity as a new job (a new name) that
    # must resume the same checkpoints.
    write_json(tmp_path / "input/config/hyperparameters.json", {"epochs": "3"})
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "TRAINING_JOB_NAME": "train-2"}
    assert Paths.from_environ(environ).checkpoint_dir == tmp_path / "checkpoints"
