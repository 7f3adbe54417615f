"""Structured logs: one JSON object per line (CloudWatch Logs Insights reads the fields)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "pid", ...}`; a record's `fields` extra
    (a dict) adds its keys, an exception adds its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class QuietAccessLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger without its access log. Given a logging config, gunicorn builds
    each request's access-log atoms (a dozen fields and a date: several µs) and hands
    them to `gunicorn.access`, which drops them at its WARNING level; the app writes its
    own access log instead (access.py)."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return


def logging_config(level: str) -> dict[str, Any]:
    """A logging.config dictionary: everything, gunicorn's own messages included, as JSON
    lines on stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
