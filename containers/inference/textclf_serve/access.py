"""Access logs that cost next to nothing per request.

One JSON line per request through `logging` costs about as much CPU as the request's own
work (a LogRecord, a JSON document, a timestamp, a locked write: bench/README.md), and at
thousands of requests a second it is also most of what CloudWatch Logs bills. So by
default each worker counts its requests and writes one summary line per interval:

    {"message": "access summary", "window_s": 60.0, "requests": 5120, "errors": 3,
     "statuses": {"200": 5117, "400": 3}, "instances": 5400, "bytes_in": 1310720,
     "duration_ms": {"p50": 0.42, "p90": 0.61, "p99": 1.5, "max": 7.3}}

while every failed request (4xx, 5xx) still gets its own line, and a chosen share of the
successful ones too (`sample_rate`; 1 logs every request, as one line each). Successful
health checks are neither logged nor counted: SageMaker pings every few seconds.
"""

from __future__ import annotations

import bisect
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any

# Duration buckets: geometric, 5 % apart, from 10 µs to 10 min; a percentile is reported
# as its bucket's upper bound (at most 5 % above the true value), the maximum exactly.
_BUCKET_RATIO = 1.05
_BUCKET_BOUNDS_MS = [
    0.01 * _BUCKET_RATIO**i for i in range(math.ceil(math.log(600_000 / 0.01, _BUCKET_RATIO)) + 1)
]
PERCENTILES = (50, 90, 99)


class _Window:
    """What one worker served since its last summary."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.requests = 0
        self.instances = 0
        self.bytes_in = 0
        self.statuses: dict[int, int] = {}
        self.buckets = [0] * (len(_BUCKET_BOUNDS_MS) + 1)
        self.max_ms = 0.0

    def add(self, status: int, duration_ms: float, instances: int, bytes_in: int) -> None:
        self.requests += 1
        self.instances += instances
        self.bytes_in += bytes_in
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.buckets[bisect.bisect_left(_BUCKET_BOUNDS_MS, duration_ms)] += 1
        self.max_ms = max(self.max_ms, duration_ms)

    def fields(self, now: float) -> dict[str, Any]:
        durations: dict[str, float] = {}
        for percentile in PERCENTILES:
            rank = math.ceil(self.requests * percentile / 100)
            seen = 0
            for index, count in enumerate(self.buckets):
                seen += count
                if seen >= rank:
                    bound = _BUCKET_BOUNDS_MS[index] if index < len(_BUCKET_BOUNDS_MS) else math.inf
                    durations[f"p{percentile}"] = round(min(bound, self.max_ms), 3)
                    break
        durations["max"] = round(self.max_ms, 3)
        return {
            "window_s": round(now - self.started, 1),
            "requests": self.requests,
            "errors": sum(count for status, count in self.statuses.items() if status >= 400),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "instances": self.instances,
            "bytes_in": self.bytes_in,
            "duration_ms": durations,
        }


class AccessLog:
    """A worker's access log: `record` each request; thread-safe (gthread workers serve
    several requests at once)."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        sample_rate: float = 0.0,
        summary_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sample: Callable[[], float] = random.random,
    ) -> None:
        self.logger = logger
        self.sample_rate = sample_rate
        self.summary_seconds = summary_seconds
        self._clock = clock
        self._sample = sample
        self._lock = threading.Lock()
        now = clock()
        self._window = _Window(now)
        self._summary_due = now + summary_seconds

    def record(self, fields: dict[str, Any]) -> None:
        """One answered request; `fields` holds method, path, status and duration_ms, and
        for invocations instances and bytes_in (and error, for a client mistake)."""
        status: int = fields["status"]
        info = self.logger.isEnabledFor(logging.INFO)
        if status >= 400:
            level = logging.WARNING if status < 500 else logging.ERROR
            self._line(level, fields)
        elif fields["path"] == "/ping":
            return
        elif info and self.sample_rate and self._sample() < self.sample_rate:
            self._line(logging.INFO, fields)
        if not (info and self.summary_seconds):
            return
        due = None
        with self._lock:
            self._window.add(
                status, fields["duration_ms"], fields.get("instances", 0), fields.get("bytes_in", 0)
            )
            now = self._clock()
            if now >= self._summary_due:
                due = self._take(now)
        if due is not None:
            self.logger.info("access summary", extra={"fields": due})

    def flush(self) -> None:
        """Write the summary of the requests not yet summarised (a worker that exits)."""
        if not (self.logger.isEnabledFor(logging.INFO) and self.summary_seconds):
            return
        with self._lock:
            due = self._take(self._clock()) if self._window.requests else None
        if due is not None:
            self.logger.info("access summary", extra={"fields": due})

    def _take(self, now: float) -> dict[str, Any]:
        fields = self._window.fields(now)
        self._window = _Window(now)
        self._summary_due = now + self.summary_seconds
        return fields

    def _line(self, level: int, fields: dict[str, Any]) -> None:
        self.logger.log(
            level,
            "%s %s %d",
            fields["method"],
            fields["path"],
            fields["status"],
            extra={"fields": fields},
        )
