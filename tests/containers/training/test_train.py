"""The training image's contract, end to end: the `train` executable and its entry point
run on small generated datasets in temporary /opt/ml folders (SAGEMAKER_BASE_DIR)."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from textclf_train.main import EXIT_FAILED, EXIT_STOPPED, main
from textclf_train.metrics import METRIC_NAMES, METRIC_REGEXES

from tests.containers.conftest import (
    TRAIN,
    TrainedModel,
    examples,
    ground_truth_lines,
    make_job,
    plain_lines,
    write_json,
)

METRIC_LINE = re.compile(r"^\[metric\] ")
# In-process runs use one intra-op thread, as the subprocesses do (conftest.ONE_THREAD).
torch.set_num_threads(1)


def run_in_process(base: Path) -> int:
    return main([], {"SAGEMAKER_BASE_DIR": str(base), "SMKIT_DEVICE": "cpu"})


def printed_metrics(stdout: str) -> list[tuple[str, float]]:
    """Every metric line, read with the regexes the workflows give SageMaker."""
    found = []
    for line in stdout.splitlines():
        if not METRIC_LINE.match(line):
            continue
        matches = [
            (name, float(match.group(1)))
            for name, regex in METRIC_REGEXES.items()
            if (match := re.search(regex, line))
        ]
        assert len(matches) == 1, f"{line!r} matches {len(matches)} metric regexes"
        found.extend(matches)
    return found


def epochs_of(stdout: str) -> list[int]:
    return [int(value) for name, value in printed_metrics(stdout) if name == "epoch"]


# --- the shared model: `python containers/training/train`, two processes (DDP, Gloo) ---


def test_train_executable_trains_and_prints_every_metric_each_epoch(
    trained_model: TrainedModel,
) -> None:
    assert trained_model.returncode == 0, trained_model.stderr
    metrics = printed_metrics(trained_model.stdout)
    assert [name for name, _ in metrics] == list(METRIC_NAMES) * trained_model.epochs
    assert epochs_of(trained_model.stdout) == [1, 2, 3]
    final = dict(metrics[-len(METRIC_NAMES) :])
    assert final["validation:accuracy"] >= 0.9
    assert 0.9 <= final["validation:macro_f1"] <= 1.0
    losses = [value for name, value in metrics if name == "train:loss"]
    assert losses[-1] < losses[0]
    assert "2 process(es) on 1 host(s)" in trained_model.stderr
    assert not (trained_model.base / "output" / "failure").exists()


def test_model_directory_has_the_documented_layout(trained_model: TrainedModel) -> None:
    model_dir = trained_model.model_dir
    assert sorted(path.name for path in model_dir.iterdir()) == [
        "model.json",
        "vocabulary.json",
        "weights.npz",
    ]
    description = json.loads((model_dir / "model.json").read_text())
    assert description["format"] == "smkit-text-classifier"
    assert description["format_version"] == 1
    assert description["labels"] == ["billing", "delivery", "product"]
    assert description["features"] == {
        "version": 1,
        "normalization": "NFKC+casefold",
        "word_pattern": r"\w+",
        "max_length": 256,
        "ngram_size": 2,
    }
    assert description["files"] == {"vocabulary": "vocabulary.json", "weights": "weights.npz"}
    training = description["training"]
    assert training["epochs_completed"] == 3
    assert training["world_size"] == 2
    assert training["examples"] == {
        "train": 600,
        "validation": 150,
        "validation_source": "channel",
        "skipped": 0,
    }
    assert set(training["metrics"]) == set(METRIC_NAMES)
    vocabulary = json.loads((model_dir / "vocabulary.json").read_text())
    assert len(vocabulary) == description["vocabulary_size"]
    assert {"invoice", "parcel", "battery"} <= set(vocabulary)
    with np.load(model_dir / "weights.npz", allow_pickle=False) as weights:
        assert weights["embedding"].shape == (len(vocabulary), 16)
        assert weights["classifier_weight"].shape == (3, 16)
        assert weights["classifier_bias"].shape == (3,)
        assert {weights[key].dtype for key in weights.files} == {np.dtype("float32")}
    for path in model_dir.iterdir():
        assert path.stat().st_mode & 0o444 == 0o444, f"{path.name} is not world-readable"


def test_checkpoints_keep_the_two_newest_epochs(trained_model: TrainedModel) -> None:
    names = sorted(path.name for path in (trained_model.base / "checkpoints").iterdir())
    assert names == ["epoch-00002.pt", "epoch-00003.pt"]


# --- failures ------------------------------------------------------------------------


def test_bad_hyperparameters_fail_fast_with_every_problem_in_the_failure_file(
    tmp_path: Path,
) -> None:
    base = make_job(
        tmp_path,
        {"train": {"data.jsonl": plain_lines(examples(10))}},
        hyperparameters={
            "epochs": "ten",
            "learning_rate": "-0.1",
            "batch_size": "0",
            "embeding_dim": "8",
            "_tuning_objective_metric": "validation:accuracy",
        },
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(TRAIN), "train"],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(base)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_FAILED
    failure = (base / "output" / "failure").read_text()
    assert failure == (
        "invalid hyperparameters: batch_size must be an integer from 1 to 65536 (got '0'); "
        "embeding_dim: unknown hyperparameter; did you mean 'embedding_dim'?; "
        "epochs must be an integer from 1 to 10000 (got 'ten'); "
        "learning_rate must be a number greater than 0 and at most 10 (got '-0.1')\n"
    )
    assert "invalid hyperparameters" in result.stderr
    assert not (base / "model").exists()
    # Checked before torch is imported: a bad hyperparameter fails the job at once.
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "textclf_train.hyperparameters" in imported
    assert "torch" not in imported


def test_train_rejects_arguments_other_than_train(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"], {}) == 2
    assert "usage: train" in capsys.readouterr().err


def test_missing_train_channel_is_reported(tmp_path: Path) -> None:
    base = make_job(tmp_path, {"validation": {"v.jsonl": plain_lines(examples(10))}})
    assert run_in_process(base) == EXIT_FAILED
    assert (base / "output" / "failure").read_text() == (
        "the 'train' channel is required; this job has: validation\n"
    )


def test_bad_records_are_reported_with_file_and_line(tmp_path: Path) -> None:
    lines = [
        *plain_lines(examples(5)),
        "{not json",
        json.dumps({"text": "no source here", "label": "billing"}),
    ]
    base = make_job(tmp_path, {"train": {"tickets.jsonl": lines}})
    assert run_in_process(base) == EXIT_FAILED
    failure = (base / "output" / "failure").read_text()
    assert failure.startswith(
        "channel 'train': 2 bad record(s): tickets.jsonl line 6: not valid JSON"
    )
    assert (
        "tickets.jsonl line 7: no 'source' attribute (the text_attribute hyperparameter)" in failure
    )


def test_a_ground_truth_manifest_without_label_attribute_names_the_setting(
    tmp_path: Path,
) -> None:
    # The labeling job's LabelAttributeName was "sentiment"; the job leaves label_attribute
    # at its default ("label").
    base = make_job(tmp_path, {"train": {"output.manifest": ground_truth_lines(examples(3))}})
    assert run_in_process(base) == EXIT_FAILED
    failure = (base / "output" / "failure").read_text()
    assert failure.startswith(
        "channel 'train': 3 bad record(s): output.manifest line 1: no 'label' attribute "
        "(the label_attribute hyperparameter); this Ground Truth manifest labels "
        "'sentiment': set label_attribute=sentiment;"
    )


def test_sharded_training_data_across_hosts_is_refused(tmp_path: Path) -> None:
    base = make_job(
        tmp_path,
        {"train": {"d.jsonl": plain_lines(examples(10))}},
        input_data_config={
            "train": {"TrainingInputMode": "File", "S3DistributionType": "ShardedByS3Key"}
        },
        resource_config={"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]},
    )
    assert run_in_process(base) == EXIT_FAILED
    assert "the train channel is ShardedByS3Key" in (base / "output" / "failure").read_text()


# --- data formats ---------------------------------------------------------------------


def test_ground_truth_augmented_manifest_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unlabelled = json.dumps(
        {
            "source": "The courier never came",
            "sentiment-metadata": {"failure-reason": "ClientError: no worker answered"},
        }
    )
    base = make_job(
        tmp_path,
        {"train": {"output.manifest": [*ground_truth_lines(examples(300, seed=4)), unlabelled]}},
        hyperparameters={"epochs": 2, "label_attribute": "sentiment", "embedding_dim": 8},
    )
    assert run_in_process(base) == 0
    captured = capsys.readouterr()
    assert epochs_of(captured.out) == [1, 2]
    assert "skipped 1 object(s) that Ground Truth could not label" in captured.err
    description = json.loads((base / "model" / "model.json").read_text())
    assert description["labels"] == ["billing", "delivery", "product"]
    assert description["training"]["examples"]["validation_source"] == "split"
    assert description["training"]["examples"]["validation"] == 30


def write_record(stream: bytearray, payload: bytes) -> None:
    """RecordIO framing, written independently of the reader under test."""
    stream += struct.pack("<II", 0xCED7230A, len(payload)) + payload
    stream += b"\0" * (-len(payload) % 4)


def test_augmented_manifest_in_pipe_mode_with_recordio_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Class indices that do not follow the names' order: the model must keep Ground
    # Truth's order.
    index = {"product": 0, "billing": 1, "delivery": 2}
    stream = bytearray()
    for text, label in examples(200, seed=5):
        write_record(stream, json.dumps(text).encode())
        write_record(stream, str(index[label]).encode())
        write_record(stream, json.dumps({"class-name": label, "confidence": 1}).encode())
    base = make_job(
        tmp_path,
        {"validation": {"v.jsonl": plain_lines(examples(30, seed=6), "topic")}},
        hyperparameters={"epochs": 1, "label_attribute": "topic", "embedding_dim": 8},
        input_data_config={
            "train": {"TrainingInputMode": "Pipe", "RecordWrapperType": "RecordIO"},
            "validation": {"TrainingInputMode": "File", "RecordWrapperType": "None"},
        },
    )
    (base / "input" / "data" / "train_0").write_bytes(bytes(stream))
    assert run_in_process(base) == 0
    assert epochs_of(capsys.readouterr().out) == [1]
    description = json.loads((base / "model" / "model.json").read_text())
    assert description["labels"] == ["product", "billing", "delivery"]
    assert description["training"]["examples"]["train"] == 200


# --- interruption and resumption ------------------------------------------------------


def test_sigterm_stops_training_and_the_rerun_resumes_from_the_saved_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {"train": {"d.jsonl": plain_lines(examples(300, seed=7))}}
    settings = {"batch_size": 8, "embedding_dim": 8, "seed": 11}
    base = make_job(tmp_path / "interrupted", data, {**settings, "epochs": 10_000})
    checkpoints = base / "checkpoints"

    def interrupt() -> None:
        deadline = time.monotonic() + 60
        while not list(checkpoints.glob("epoch-*.pt")) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGTERM)

    interrupter = threading.Thread(target=interrupt)
    interrupter.start()
    assert run_in_process(base) == EXIT_STOPPED
    interrupter.join()
    saved = max(int(path.stem.split("-")[1]) for path in checkpoints.glob("epoch-*.pt"))
    assert epochs_of(capsys.readouterr().out) == list(range(1, saved + 1))
    assert (base / "output" / "failure").read_text() == (
        f"training stopped by SIGTERM during epoch {saved + 1} of 10000; "
        f"the checkpoint of epoch {saved} resumes it\n"
    )
    assert not (base / "model").exists()

    # The restarted job (here with a smaller epoch budget) goes on after the saved epoch.
    write_json(base / "input" / "config" / "hyperparameters.json", {"epochs": str(saved + 2)})
    write_json(
        base / "input" / "config" / "hyperparameters.json",
        {**{k: str(v) for k, v in settings.items()}, "epochs": str(saved + 2)},
    )
    assert run_in_process(base) == 0
    captured = capsys.readouterr()
    assert epochs_of(captured.out) == [saved + 1, saved + 2]
    assert f"resuming from checkpoint {checkpoints / f'epoch-{saved:05d}.pt'}" in captured.err
    assert not (base / "output" / "failure").exists()

    # It ends exactly where an uninterrupted run of as many epochs ends.
    straight = make_job(tmp_path / "straight", data, {**settings, "epochs": saved + 2})
    assert run_in_process(straight) == 0
    with (
        np.load(base / "model" / "weights.npz") as resumed,
        np.load(straight / "model" / "weights.npz") as uninterrupted,
    ):
        for key in uninterrupted.files:
            np.testing.assert_allclose(resumed[key], uninterrupted[key], rtol=0, atol=1e-6)


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path: Path) -> None:
    data = {"train": {"d.jsonl": plain_lines(examples(60, seed=8))}}
    base = make_job(tmp_path, data, {"epochs": 1, "embedding_dim": 8})
    assert run_in_process(base) == 0
    make_job(tmp_path, data, {"epochs": 2, "embedding_dim": 12})
    assert run_in_process(base) == EXIT_FAILED
    assert (base / "output" / "failure").read_text() == (
        "checkpoint epoch-00001.pt belongs to another training run (embedding_dim was 8, "
        "now 12); give this job a new checkpoint location, or its former hyperparameters "
        "and data\n"
    )
