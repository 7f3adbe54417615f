"""SIGTERM handling. SageMaker sends SIGTERM to stop a job (StopTrainingJob, MaxRuntime,
spot interruption) and SIGKILL 120 s later. The entry point is PID 1 in the container,
where a signal without a handler is ignored, so it needs one: it asks training to stop
at the next batch and passes the signal on to the training processes it started."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType


class StopSignal:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._children: list[int] = []

    def is_set(self) -> bool:
        return self._event.is_set()

    def install(self) -> Callable[[], None]:
        """Handle SIGTERM from now on; returns what restores the previous handler."""
        previous = signal.signal(signal.SIGTERM, self._handle)

        def restore() -> None:
            signal.signal(signal.SIGTERM, previous)

        return restore

    def forward_to(self, pids: Iterable[int]) -> None:
        """Pass SIGTERM on to these processes (also when it has already arrived)."""
        self._children = list(pids)
        if self.is_set():
            self._forward()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._event.set()
        self._forward()

    def _forward(self) -> None:
        for pid in self._children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
