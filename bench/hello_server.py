"""A trivial WSGI app (200 "hello", body unread, nothing logged) served exactly as
`containers/inference/serve` serves the model: the same environment variables, the
same ServerSettings, the same gunicorn options and logging configuration; only the
application differs. bench/serving.py runs it next to the model server: the ratio of
the two is what the model server's own work (HTTP body, JSON, model, logging) costs.

    SAGEMAKER_BIND_TO_PORT=8081 python -m bench.hello_server
"""

from __future__ import annotations

import logging.config
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# As the serve script: numpy (imported with the server module) computes on one thread.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "containers" / "inference"))

from textclf_serve.logs import logging_config  # noqa: E402
from textclf_serve.server import ModelServer, ServerSettings  # noqa: E402

HELLO = b"hello"


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [HELLO]


class HelloServer(ModelServer):
    """ModelServer's configuration (ServerSettings.gunicorn_options), the hello app."""

    # Any WSGI callable will do for gunicorn; ModelServer's annotation names its own app.
    def load(self) -> Callable[..., Iterable[bytes]]:  # type: ignore[override]
        return hello


def main() -> int:
    # As server.main: the same logging before gunicorn takes over.
    logging.config.dictConfig(logging_config("INFO"))
    HelloServer(ServerSettings.from_environ(os.environ)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
