"""Shared setup of the container contract tests: the two images' code on sys.path (each
image folder is its code's root), a synthetic labelled dataset, SageMaker job folders,
and one model trained by the real `train` executable for every test that needs one."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "containers" / "training"
INFERENCE = ROOT / "containers" / "inference"
TRAIN = TRAINING / "train"
SERVE = INFERENCE / "serve"
for _folder in (TRAINING, INFERENCE):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

# The tests' models are tiny: torch's intra-op threads would only add synchronisation,
# and on a machine whose cores are busy that costs more than the work (tens of ms a step).
ONE_THREAD = {"OMP_NUM_THREADS": "1"}

# Three topics, each with words of its own, mixed with shared filler words.
TOPICS: dict[str, list[str]] = {
    "billing": ["invoice", "refund", "charged", "payment", "card", "bill", "price"],
    "delivery": ["parcel", "courier", "shipping", "arrived", "tracking", "late", "box"],
    "product": ["broken", "battery", "screen", "quality", "size", "colour", "works"],
}
FILLER = ["the", "my", "was", "and", "is", "it", "a", "please", "today", "again", "order"]


def examples(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs: three topic words and four filler words per text."""
    rng = random.Random(seed)
    labels = sorted(TOPICS)
    pairs = []
    for _ in range(count):
        label = rng.choice(labels)
        words = rng.sample(TOPICS[label], 3) + [rng.choice(FILLER) for _ in range(4)]
        rng.shuffle(words)
        pairs.append((" ".join(words).capitalize() + ".", label))
    return pairs


def plain_lines(pairs: Iterable[tuple[str, str]], label_attribute: str = "label") -> list[str]:
    return [json.dumps({"source": text, label_attribute: label}) for text, label in pairs]


def ground_truth_lines(
    pairs: Iterable[tuple[str, str]], label_attribute: str = "sentiment"
) -> list[str]:
    """Lines of a Ground Truth text-classification output manifest (class index in the
    label attribute, class name in its metadata)."""
    index = {label: i for i, label in enumerate(sorted(TOPICS))}
    return [
        json.dumps(
            {
                "source": text,
                label_attribute: index[label],
                f"{label_attribute}-metadata": {
                    "confidence": 0.93,
                    "human-annotated": "yes",
                    "class-name": label,
                    "job-name": "labeling-job/tickets",
                    "type": "groundtruth/text-classification",
                    "creation-date": "2026-11-01T10:00:00.000000",
                },
            }
        )
        for text, label in pairs
    ]


def make_job(
    base: Path,
    channels: Mapping[str, Mapping[str, Iterable[str]]],
    hyperparameters: Mapping[str, Any] | None = None,
    input_data_config: Mapping[str, Any] | None = None,
    resource_config: Mapping[str, Any] | None = None,
) -> Path:
    """A SageMaker job folder (what /opt/ml holds when `train` starts): channel -> file
    name -> lines."""
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    for channel, files in channels.items():
        folder = base / "input" / "data" / channel
        folder.mkdir(parents=True, exist_ok=True)
        for name, lines in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    write_json(
        config / "hyperparameters.json", {k: str(v) for k, v in (hyperparameters or {}).items()}
    )
    if input_data_config is not None:
        write_json(config / "inputdataconfig.json", input_data_config)
    if resource_config is not None:
        write_json(config / "resourceconfig.json", resource_config)
    return base


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class TrainedModel:
    base: Path
    returncode: int
    stdout: str
    stderr: str
    epochs: int
    validation: list[tuple[str, str]]

    @property
    def model_dir(self) -> Path:
        return self.base / "model"


TRAINED_EPOCHS = 3


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """A model trained by `python containers/training/train` on 600 plain JSON lines with
    a validation channel, in two processes joined by DDP over Gloo (the multi-process
    path of the image, on the CPU)."""
    base = tmp_path_factory.mktemp("opt-ml")
    validation = examples(150, seed=2)
    make_job(
        base,
        {
            "train": {
                "part-0.jsonl": plain_lines(examples(400, seed=1)),
                "nested/part-1.jsonl": plain_lines(examples(200, seed=3)),
            },
            "validation": {"validation.jsonl": plain_lines(validation)},
        },
        hyperparameters={"epochs": TRAINED_EPOCHS, "embedding_dim": 16, "batch_size": 32},
    )
    env = {
        **os.environ,
        "SAGEMAKER_BASE_DIR": str(base),
        "SMKIT_DEVICE": "cpu",
        "SMKIT_PROCESSES_PER_HOST": "2",
        "SMKIT_MASTER_PORT": str(free_port()),
        **ONE_THREAD,
    }
    result = subprocess.run(
        [sys.executable, str(TRAIN), "train"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"train failed:\n{result.stderr}"
    return TrainedModel(
        base=base,
        returncode=result.returncode,
        stdout=result.stdout,
        stderr=result.stderr,
        epochs=TRAINED_EPOCHS,
        validation=validation,
    )
