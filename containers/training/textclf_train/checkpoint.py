"""Checkpoints in /opt/ml/checkpoints: one file per finished epoch, written atomically,
the two newest kept. SageMaker syncs the folder with the job's CheckpointConfig S3 URI
and restores it when a spot job restarts; training then resumes after the newest epoch
that reads back whole."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from .errors import TrainingError

FORMAT_VERSION = 1
KEEP = 2
_NAME = re.compile(r"^epoch-(\d{5,})\.pt$")

log = logging.getLogger("textclf_train")


def checkpoint_name(epoch: int) -> str:
    return f"epoch-{epoch:05d}.pt"


def save_checkpoint(directory: Path, epoch: int, state: dict[str, Any]) -> Path:
    """Write the epoch's checkpoint as a hidden temporary file, then rename it: the rename
    is atomic, so neither SageMaker's uploader nor a restarted job ever reads half a file.
    (No fsync: if the host itself crashes, SageMaker replaces it, local disk included,
    and the job resumes from the copies in S3.) Checkpoints older than the KEEP newest
    are then removed."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / checkpoint_name(epoch)
    temporary = directory / f".{target.name}.tmp"
    with temporary.open("wb") as handle:
        torch.save({"format_version": FORMAT_VERSION, "epoch": epoch, **state}, handle)
    os.replace(temporary, target)
    for _, old in _checkpoints(directory)[KEEP:]:
        old.unlink(missing_ok=True)
    return target


def load_latest_checkpoint(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that reads back whole, or None when there is none.
    Unreadable ones are skipped with a warning; if every one is unreadable the job fails
    rather than silently starting over."""
    candidates = _checkpoints(directory)
    problems: list[str] = []
    for epoch, path in candidates:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a torn or foreign file: try the previous epoch
            problems.append(f"{path.name}: {type(error).__name__}: {error}")
            log.warning("checkpoint %s is unreadable (%s); trying an older one", path, error)
            continue
        if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
            problems.append(f"{path.name}: not a checkpoint of this training code")
            continue
        if state.get("epoch") != epoch:
            problems.append(f"{path.name}: holds epoch {state.get('epoch')}")
            continue
        return path, state
    if problems:
        raise TrainingError(
            f"no usable checkpoint in {directory}: "
            + "; ".join(problems)
            + ". Remove these files or give the job a new checkpoint location"
        )
    return None


def _checkpoints(directory: Path) -> list[tuple[int, Path]]:
    if not directory.is_dir():
        return []
    found = [
        (int(match.group(1)), path)
        for path in directory.iterdir()
        if (match := _NAME.match(path.name)) and path.is_file()
    ]
    return sorted(found, reverse=True)
