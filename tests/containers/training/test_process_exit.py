"""A training process whose rank succeeded leaves with exit code 0 without the
interpreter's teardown (where torch's Gloo threads made C++ abort one run in four)."""

from __future__ import annotations

import logging
import signal
from typing import Any

import pytest
import textclf_train.distributed as distributed
import textclf_train.trainer as trainer
from textclf_train.environment import WorldPlan


class _ExitCalledError(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _run_rank(monkeypatch: pytest.MonkeyPatch, train: Any) -> tuple[int, list[str]]:
    """Run `_process_main` of rank 0 with `train` as the training: (exit code, events)."""
    events: list[str] = []

    def leave(code: int) -> None:
        events.append(f"exit {code}")
        raise _ExitCalledError(code)

    monkeypatch.setattr(distributed.os, "_exit", leave)
    monkeypatch.setattr(logging, "shutdown", lambda: events.append("logs flushed"))
    monkeypatch.setattr(trainer, "train_process", train)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    sigterm = signal.getsignal(signal.SIGTERM)
    plan = WorldPlan(world_size=2, processes_per_host=2)
    try:
        distributed._process_main(0, None, None, None, plan, _Queue(events))  # type: ignore[arg-type]
    except _ExitCalledError as left:
        return left.code, events
    except SystemExit as exited:
        return int(exited.code or 0), events
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    return -1, events


class _Queue:
    def __init__(self, events: list[str]) -> None:
        self._events = events

    def put(self, item: tuple[str, str]) -> None:
        self._events.append(f"reported {item[0]}")


def test_a_rank_that_succeeded_flushes_its_logs_and_exits_0_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, events = _run_rank(monkeypatch, lambda *args: None)
    assert code == 0
    assert events == ["logs flushed", "exit 0"]


def test_a_rank_that_failed_reports_and_exits_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> None:
        raise distributed.TrainingError("bad data")

    code, events = _run_rank(monkeypatch, fail)
    assert code == 1
    assert events == ["reported error"]
