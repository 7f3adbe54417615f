"""The serving app's access log: a summary per worker and interval, one line per failed
request, sampled lines for the others; and its settings."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textclf_serve.access import AccessLog
from textclf_serve.logs import QuietAccessLogger
from textclf_serve.server import ServerSettings, SettingsError

LOGGER = "test.access"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    status: int = 200, duration_ms: float = 1.0, path: str = "/invocations", **extra: Any
) -> dict[str, Any]:
    fields = {"method": "POST", "path": path, "status": status, "duration_ms": duration_ms}
    if path == "/invocations" and status == 200:
        fields.update(instances=1, bytes_in=100)
    return {**fields, **extra}


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        yield caplog


def summaries(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [record.fields for record in records if record.getMessage() == "access summary"]


def test_a_summary_per_interval_and_no_line_per_successful_request(
    log: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    access = AccessLog(logging.getLogger(LOGGER), summary_seconds=60, clock=clock)
    for _ in range(3):
        access.record(request(duration_ms=2.0))
        clock.now += 19.9
    assert log.records == []  # 59.7 s: not yet
    clock.now += 0.3
    access.record(request(status=400, duration_ms=0.5, error="the request holds no instances"))
    [failure, summary] = log.records
    assert (failure.levelno, failure.getMessage()) == (logging.WARNING, "POST /invocations 400")
    assert failure.fields["error"] == "the request holds no instances"
    assert summary.levelno == logging.INFO
    assert summary.fields == {
        "window_s": 60.0,
        "requests": 4,
        "errors": 1,
        "statuses": {"200": 3, "400": 1},
        "instances": 3,
        "bytes_in": 300,
        "duration_ms": {"p50": 2.0, "p90": 2.0, "p99": 2.0, "max": 2.0},
    }
    # The next window starts empty.
    clock.now += 60
    access.record(request())
    assert summaries(log.records)[1]["requests"] == 1


def test_summary_percentiles_are_within_5_percent_and_the_maximum_exact(
    log: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    access = AccessLog(logging.getLogger(LOGGER), summary_seconds=60, clock=clock)
    for duration in range(1, 101):
        access.record(request(duration_ms=float(duration)))
    access.flush()
    [summary] = summaries(log.records)
    durations = summary["duration_ms"]
    for percentile in (50, 90, 99):
        assert percentile <= durations[f"p{percentile}"] <= percentile * 1.05
    assert durations["max"] == 100.0


def test_failed_requests_always_get_a_line_and_5xx_is_an_error(
    log: pytest.LogCaptureFixture,
) -> None:
    access = AccessLog(logging.getLogger(LOGGER), summary_seconds=0)
    access.record(request(status=200))
    access.record(request(status=413))
    access.record(request(status=500))
    access.record(request(status=503, path="/ping", method="GET"))
    assert [(r.levelname, r.getMessage()) for r in log.records] == [
        ("WARNING", "POST /invocations 413"),
        ("ERROR", "POST /invocations 500"),
        ("ERROR", "GET /ping 503"),
    ]


def test_successful_health_checks_are_neither_logged_nor_counted(
    log: pytest.LogCaptureFixture,
) -> None:
    access = AccessLog(logging.getLogger(LOGGER), sample_rate=1.0)
    access.record(request(path="/ping", method="GET"))
    access.flush()
    assert log.records == []


def test_a_share_of_successful_requests_is_logged_one_line_each(
    log: pytest.LogCaptureFixture,
) -> None:
    draws = itertools.cycle([0.05, 0.5, 0.24, 0.9])
    access = AccessLog(
        logging.getLogger(LOGGER), sample_rate=0.25, summary_seconds=0, sample=lambda: next(draws)
    )
    for number in range(8):
        access.record(request(duration_ms=float(number)))
    assert [r.getMessage() for r in log.records] == ["POST /invocations 200"] * 4
    assert [r.fields["duration_ms"] for r in log.records] == [0.0, 2.0, 4.0, 6.0]
    assert {"instances", "bytes_in", "status"} <= set(log.records[0].fields)


def test_sample_rate_1_logs_every_request(log: pytest.LogCaptureFixture) -> None:
    access = AccessLog(logging.getLogger(LOGGER), sample_rate=1.0, summary_seconds=0)
    for _ in range(5):
        access.record(request())
    assert len(log.records) == 5


def test_above_info_only_failures_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    access = AccessLog(logging.getLogger(LOGGER), sample_rate=1.0, summary_seconds=60)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        access.record(request())
        access.record(request(status=404))
        access.flush()
    assert [r.getMessage() for r in caplog.records] == ["POST /invocations 404"]


def test_flush_writes_what_is_pending_and_nothing_else(log: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    access = AccessLog(logging.getLogger(LOGGER), summary_seconds=60, clock=clock)
    access.flush()
    assert log.records == []
    access.record(request())
    clock.now += 12.34
    access.flush()
    access.flush()
    [summary] = summaries(log.records)
    assert (summary["requests"], summary["window_s"]) == (1, 12.3)


def test_access_log_settings_from_the_environment() -> None:
    defaults = ServerSettings.from_environ({})
    assert (defaults.access_log_sample, defaults.access_summary_seconds) == (0.0, 60)
    settings = ServerSettings.from_environ(
        {"SMKIT_ACCESS_LOG_SAMPLE": "0.01", "SMKIT_ACCESS_SUMMARY_SECONDS": "0"}
    )
    assert (settings.access_log_sample, settings.access_summary_seconds) == (0.01, 0)


@pytest.mark.parametrize("sample", ["2", "-0.1", "often", "nan"])
def test_a_bad_access_log_setting_is_refused_with_its_value(sample: str) -> None:
    with pytest.raises(SettingsError) as raised:
        ServerSettings.from_environ(
            {"SMKIT_ACCESS_LOG_SAMPLE": sample, "SMKIT_ACCESS_SUMMARY_SECONDS": "-1"}
        )
    assert str(raised.value) == (
        f"invalid environment: SMKIT_ACCESS_LOG_SAMPLE must be a number from 0 to 1 (got "
        f"{sample!r}); SMKIT_ACCESS_SUMMARY_SECONDS must be an integer from 0 to 86400 (got '-1')"
    )


def test_gunicorn_builds_no_access_log_of_its_own(tmp_path: Path) -> None:
    options = ServerSettings(model_dir=tmp_path).gunicorn_options()
    assert options["logger_class"] is QuietAccessLogger
    # gunicorn's own Logger.access would read the response, request and environ it is
    # given; this one returns before touching them.
    QuietAccessLogger.access(object(), None, None, None, None)
