"""What SageMaker tells the training container, read from the /opt/ml layout.

    /opt/ml/input/config/hyperparameters.json   hyperparameters (values are strings)
    /opt/ml/input/config/inputdataconfig.json   channels: input mode, record wrapping...
    /opt/ml/input/config/resourceconfig.json    hosts of the job and this host's name
    /opt/ml/input/data/<channel>/               File mode data ( <channel>_<n> in Pipe mode)
    /opt/ml/model/                              the model, uploaded as model.tar.gz
    /opt/ml/output/failure                      why the job failed
    /opt/ml/checkpoints/                        synced with the job's CheckpointConfig S3 URI
                                                (in a tuning job: its <job name>/ folder)

`SAGEMAKER_BASE_DIR` relocates /opt/ml (local runs and tests). Other environment
variables of this container, all optional:

    SMKIT_DEVICE              auto (default: the GPU when one is visible), cuda or cpu
    SMKIT_PROCESSES_PER_HOST  training processes per host (default: one per GPU, 1 on CPU)
    SMKIT_MASTER_PORT         TCP port of the distributed rendezvous on the first host
                              (default 29500)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TrainingError

BASE_DIR_ENV = "SAGEMAKER_BASE_DIR"
DEFAULT_BASE_DIR = "/opt/ml"
TRAIN_CHANNEL = "train"
VALIDATION_CHANNEL = "validation"
DEFAULT_MASTER_PORT = 29500
# SageMaker adds this hyperparameter to every training job a tuning job starts.
TUNING_MARKER = "_tuning_objective_metric"
JOB_NAME_ENV = "TRAINING_JOB_NAME"


@dataclass(frozen=True)
class Paths:
    """The /opt/ml layout under one base directory."""

    base: Path
    checkpoint_subdir: str | None = None
    """Set in a tuning job: its training jobs share one CheckpointConfig S3 URI, so each
    keeps its checkpoints in a folder named after the job (a job's checkpoint is never
    another job's starting point; a restarted spot job finds its own)."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Paths:
        paths = cls(Path(environ.get(BASE_DIR_ENV) or DEFAULT_BASE_DIR))
        job_name = environ.get(JOB_NAME_ENV)
        if job_name and paths._in_tuning_job():
            return cls(paths.base, checkpoint_subdir=job_name)
        return paths

    def _in_tuning_job(self) -> bool:
        try:
            raw = json.loads(self.hyperparameters.read_text())
        except (OSError, ValueError):
            return False
        return isinstance(raw, dict) and TUNING_MARKER in raw

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def hyperparameters(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def checkpoint_dir(self) -> Path:
        root = self.base / "checkpoints"
        return root / self.checkpoint_subdir if self.checkpoint_subdir else root

    def channel_dir(self, channel: str) -> Path:
        return self.data_dir / channel

    def channel_pipe(self, channel: str, epoch: int = 0) -> Path:
        """Pipe mode: SageMaker opens one FIFO per pass over the data."""
        return self.data_dir / f"{channel}_{epoch}"


@dataclass(frozen=True)
class ChannelConfig:
    """One entry of inputdataconfig.json."""

    name: str
    input_mode: str = "File"
    record_wrapper: str = "None"
    distribution: str = "FullyReplicated"

    @property
    def is_pipe(self) -> bool:
        return self.input_mode == "Pipe"


@dataclass(frozen=True)
class Cluster:
    """The job's hosts (resourceconfig.json); one host `algo-1` when run locally."""

    hosts: tuple[str, ...] = ("algo-1",)
    current_host: str = "algo-1"
    network_interface: str | None = None

    @property
    def host_index(self) -> int:
        return self.hosts.index(self.current_host)


@dataclass(frozen=True)
class RuntimeOptions:
    """How to run on this machine (environment variables, see the module docstring)."""

    device: str = "auto"
    processes_per_host: int | None = None
    master_port: int = DEFAULT_MASTER_PORT

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeOptions:
        problems: list[str] = []
        device = environ.get("SMKIT_DEVICE", "auto").strip().lower() or "auto"
        if device not in ("auto", "cuda", "cpu"):
            problems.append(f"SMKIT_DEVICE must be auto, cuda or cpu (got {device!r})")
        processes = _env_int(environ, "SMKIT_PROCESSES_PER_HOST", 1, 1024, problems)
        port = _env_int(environ, "SMKIT_MASTER_PORT", 1, 65535, problems)
        if problems:
            raise TrainingError("invalid environment: " + "; ".join(problems))
        return cls(
            device=device,
            processes_per_host=processes,
            master_port=port if port is not None else DEFAULT_MASTER_PORT,
        )


def _env_int(
    environ: Mapping[str, str], name: str, low: int, high: int, problems: list[str]
) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        problems.append(f"{name} must be an integer from {low} to {high} (got {raw!r})")
        return None
    return value


def read_json_object(path: Path, what: str) -> dict[str, Any] | None:
    """A JSON object from a config file; None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise TrainingError(f"cannot read {what} {path}: {error.strerror}") from error
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise TrainingError(f"{what} {path} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise TrainingError(f"{what} {path} must hold a JSON object (got {type(value).__name__})")
    return value


def read_channels(paths: Paths) -> dict[str, ChannelConfig]:
    """The job's channels: inputdataconfig.json when SageMaker wrote one, otherwise
    every folder under input/data (a local run in File mode)."""
    config = read_json_object(paths.input_data_config, "input data config")
    if config is None:
        if not paths.data_dir.is_dir():
            return {}
        return {
            entry.name: ChannelConfig(entry.name)
            for entry in sorted(paths.data_dir.iterdir())
            if entry.is_dir() and not entry.name.startswith(".")
        }
    channels: dict[str, ChannelConfig] = {}
    for name, entry in config.items():
        if not isinstance(entry, dict):
            raise TrainingError(f"input data config: channel {name!r} must be an object")
        channels[name] = ChannelConfig(
            name=name,
            input_mode=str(entry.get("TrainingInputMode", "File")),
            record_wrapper=str(entry.get("RecordWrapperType", "None")),
            distribution=str(entry.get("S3DistributionType", "FullyReplicated")),
        )
    return channels


def read_cluster(paths: Paths) -> Cluster:
    """This job's hosts, from resourceconfig.json (one local host when absent)."""
    config = read_json_object(paths.resource_config, "resource config")
    if config is None:
        return Cluster()
    hosts = config.get("hosts")
    current = config.get("current_host")
    if (
        not isinstance(hosts, list)
        or not hosts
        or not all(isinstance(host, str) and host for host in hosts)
    ):
        raise TrainingError(f"resource config: hosts must be a non-empty list (got {hosts!r})")
    if current not in hosts:
        raise TrainingError(
            f"resource config: current_host {current!r} is not one of the hosts {hosts!r}"
        )
    interface = config.get("network_interface_name")
    return Cluster(
        hosts=tuple(hosts),
        current_host=str(current),
        network_interface=interface if isinstance(interface, str) and interface else None,
    )


@dataclass(frozen=True)
class WorldPlan:
    """Where the job's processes run: hosts x processes per host, and how they meet."""

    world_size: int = 1
    processes_per_host: int = 1
    host_index: int = 0
    use_cuda: bool = False
    master_addr: str = "127.0.0.1"
    master_port: int = DEFAULT_MASTER_PORT

    @property
    def backend(self) -> str:
        return "nccl" if self.use_cuda else "gloo"

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def rank(self, local_rank: int) -> int:
        return self.host_index * self.processes_per_host + local_rank
