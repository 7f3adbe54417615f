"""The `serve` entry point: gunicorn running InferenceApp.

gunicorn's master binds the port and supervises the workers; each worker loads the model
once when it starts (no preloading in the master) and serves requests on a few threads.
On SIGTERM the master stops accepting connections and lets in-flight requests finish
(up to the graceful timeout: SageMaker sends SIGKILL 30 s after SIGTERM) before exiting.

Environment (all optional):
    SAGEMAKER_BASE_DIR              relocates /opt/ml (the model is read from <base>/model)
    SAGEMAKER_BIND_TO_PORT          port to listen on (default 8080)
    SAGEMAKER_MODEL_SERVER_WORKERS  worker processes (default: the CPUs, at most 8)
    SAGEMAKER_MODEL_SERVER_TIMEOUT  seconds a request may take, body upload included (60)
    SAGEMAKER_MAX_PAYLOAD_IN_MB     largest request body (6, real-time's limit; batch
                                    transform sets it from the job's MaxPayloadInMB)
    SAGEMAKER_CONTAINER_LOG_LEVEL   DEBUG, INFO (default), WARNING, ERROR or 10-50
    SMKIT_ACCESS_LOG_SAMPLE         share of successful requests logged one line each, 0 to
                                    1 (default 0; failed requests always are: access.py)
    SMKIT_ACCESS_SUMMARY_SECONDS    seconds between a worker's access summaries (60; 0: none)
    SMKIT_BIND_HOST                 address to listen on (default 0.0.0.0)
    SMKIT_WORKER_THREADS            threads per worker (default 4)
    SMKIT_GRACEFUL_TIMEOUT          seconds in-flight requests get after SIGTERM (25)
"""

from __future__ import annotations

import logging
import logging.config
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from .access import AccessLog
from .app import MEGABYTE, InferenceApp
from .logs import QuietAccessLogger, logging_config
from .model import ModelError, TextClassifierModel

EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_DEFAULT_WORKERS = 8
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}

log = logging.getLogger("textclf_serve")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class ServerSettings:
    model_dir: Path
    host: str = "0.0.0.0"  # noqa: S104 (a container listens on its own interface)
    port: int = 8080
    workers: int = 1
    threads: int = 4
    timeout: int = 60
    graceful_timeout: int = 25
    max_payload_mb: int = 6
    log_level: str = "INFO"
    access_log_sample: float = 0.0
    access_summary_seconds: int = 60

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServerSettings:
        problems: list[str] = []

        def number(name: str, default: int, low: int, high: int) -> int:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                value = low - 1
            if not low <= value <= high:
                problems.append(f"{name} must be an integer from {low} to {high} (got {raw!r})")
                return default
            return value

        def fraction(name: str, default: float) -> float:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not 0 <= value <= 1:
                problems.append(f"{name} must be a number from 0 to 1 (got {raw!r})")
                return default
            return value

        base = Path(environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml")
        level = environ.get("SAGEMAKER_CONTAINER_LOG_LEVEL", "").strip().upper() or "INFO"
        if level.isdigit() and int(level) in _LEVELS.values():
            level = logging.getLevelName(int(level))
        if level not in _LEVELS:
            problems.append(
                "SAGEMAKER_CONTAINER_LOG_LEVEL must be one of "
                f"{', '.join(_LEVELS)} or their numbers (got {level!r})"
            )
            level = "INFO"
        settings = cls(
            model_dir=base / "model",
            host=environ.get("SMKIT_BIND_HOST", "").strip() or cls.host,
            port=number("SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
            workers=number("SAGEMAKER_MODEL_SERVER_WORKERS", _default_workers(), 1, 256),
            threads=number("SMKIT_WORKER_THREADS", cls.threads, 1, 256),
            timeout=number("SAGEMAKER_MODEL_SERVER_TIMEOUT", cls.timeout, 1, 3600),
            graceful_timeout=number("SMKIT_GRACEFUL_TIMEOUT", cls.graceful_timeout, 0, 3600),
            max_payload_mb=number("SAGEMAKER_MAX_PAYLOAD_IN_MB", cls.max_payload_mb, 1, 100),
            log_level=level,
            access_log_sample=fraction("SMKIT_ACCESS_LOG_SAMPLE", cls.access_log_sample),
            access_summary_seconds=number(
                "SMKIT_ACCESS_SUMMARY_SECONDS", cls.access_summary_seconds, 0, 86_400
            ),
        )
        if problems:
            raise SettingsError("invalid environment: " + "; ".join(problems))
        return settings

    def gunicorn_options(self) -> dict[str, Any]:
        return {
            "bind": [
                f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
            ],
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            # gthread workers heartbeat from their main loop: `timeout` catches a hung
            # worker; a slow request is bounded by the app's read timeout instead.
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": 75,
            "preload_app": False,
            "accesslog": None,
            # The app writes the access log (access.py); gunicorn's own logger would build
            # every request's access-log fields only to drop them.
            "logger_class": QuietAccessLogger,
            "worker_exit": _flush_access_log,
            "errorlog": "-",
            "loglevel": self.log_level.lower(),
            "logconfig_dict": logging_config(self.log_level),
            "proc_name": "textclf-serve",
            # No control socket: it would need a writable home directory, which
            # serverless endpoints do not have.
            "control_socket_disable": True,
        }


def create_app(settings: ServerSettings) -> InferenceApp:
    """Load the model (once per worker) and wrap it in the WSGI application."""
    started = time.perf_counter()
    model = TextClassifierModel.load(settings.model_dir)
    log.info(
        "model loaded",
        extra={
            "fields": {
                "model_dir": str(settings.model_dir),
                "classes": len(model.labels),
                "features": len(model.index),
                "load_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        },
    )
    return InferenceApp(
        model,
        max_payload_bytes=settings.max_payload_mb * MEGABYTE,
        read_timeout=settings.timeout,
        max_concurrent_transforms=settings.workers * settings.threads,
        access_log=AccessLog(
            logging.getLogger("textclf_serve.access"),
            sample_rate=settings.access_log_sample,
            summary_seconds=settings.access_summary_seconds,
        ),
    )


def _flush_access_log(server: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook: a worker's last summary. (The master calls it too, for
    a worker that died: that one has no app.)"""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, InferenceApp):
        app.access_log.flush()


class ModelServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.gunicorn_options().items():
            self.cfg.set(key, value)

    def load(self) -> InferenceApp:
        return create_app(self.settings)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    logging.config.dictConfig(logging_config("INFO"))
    if args not in ([], ["serve"]):
        log.error("usage: serve (got arguments %r)", args)
        return EXIT_USAGE
    try:
        settings = ServerSettings.from_environ(env)
        # Check the model before starting workers: a broken model stops the container at
        # once with the reason in the log, instead of workers failing one after another.
        TextClassifierModel.load(settings.model_dir)
    except (SettingsError, ModelError) as error:
        log.error("cannot serve: %s", error)
        return EXIT_FAILED
    log.info(
        "starting the model server",
        extra={
            "fields": {
                "bind": f"{settings.host}:{settings.port}",
                "workers": settings.workers,
                "threads": settings.threads,
            }
        },
    )
    ModelServer(settings).run()
    return 0


def _default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    # The model is small and requests are short: a few workers saturate the CPUs, and a
    # cap keeps memory bounded where the visible CPU count exceeds the container's share
    # (serverless endpoints).
    return max(1, min(cpus, MAX_DEFAULT_WORKERS))
