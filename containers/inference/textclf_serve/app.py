"""The WSGI application SageMaker talks to:

    GET  /ping                    200 once the model is loaded, 503 before
    POST /invocations             predictions (formats: protocol.py)
    GET  /execution-parameters    batch transform's defaults for this container

Client mistakes are answered with their 4xx status and a JSON body `{"error": "..."}`;
500 is left for faults of the server itself. Every request goes to the access log
(access.py): failed ones as one JSON line each, the others in a periodic summary and, if
asked, as sampled lines.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from .access import AccessLog
from .model import TextClassifierModel
from .protocol import ClientError, negotiate, parse_texts, render

MEGABYTE = 1024 * 1024
DEFAULT_MAX_PAYLOAD = 6 * MEGABYTE
# An oversized body up to this size is read and discarded before the 413 goes out, so
# that the client, still sending, gets the answer: gunicorn itself drains only 64 KB of
# an unread body and then closes the connection under the client.
DISCARD_LIMIT = 128 * MEGABYTE
_READ_CHUNK = 64 * 1024

log = logging.getLogger("textclf_serve")

StartResponse = Callable[..., Any]
Handler = Callable[[dict[str, Any], dict[str, Any], list[tuple[str, str]]], tuple[int, str, bytes]]
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


class InferenceApp:
    def __init__(
        self,
        model: TextClassifierModel | None,
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
        read_timeout: float = 60.0,
        max_concurrent_transforms: int = 1,
        access_log: AccessLog | None = None,
    ) -> None:
        self.model = model
        self.max_payload_bytes = max_payload_bytes
        self.read_timeout = read_timeout
        self.max_concurrent_transforms = max_concurrent_transforms
        self.access_log = access_log or AccessLog(logging.getLogger("textclf_serve.access"))
        self._routes: dict[str, tuple[str, Handler]] = {
            "/ping": ("GET", self._ping),
            "/invocations": ("POST", self._invocations),
            "/execution-parameters": ("GET", self._execution_parameters),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        fields: dict[str, Any] = {"method": method, "path": path}
        headers: list[tuple[str, str]] = []
        try:
            status, content_type, body = self._route(method, path, environ, fields, headers)
        except ClientError as error:
            status, content_type = error.status, "application/json"
            body = json.dumps({"error": error.message}).encode()
            fields["error"] = error.message
        except Exception:
            log.exception("request failed", extra={"fields": fields})
            status, content_type = 500, "application/json"
            body = b'{"error": "internal server error"}'
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(_STATUS_LINES[status], headers)
        fields["status"] = status
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self.access_log.record(fields)
        return [body]

    def _route(
        self,
        method: str,
        path: str,
        environ: dict[str, Any],
        fields: dict[str, Any],
        headers: list[tuple[str, str]],
    ) -> tuple[int, str, bytes]:
        route = self._routes.get(path)
        if route is None:
            raise ClientError(
                404, f"no such path {path!r}; this server answers {sorted(self._routes)}"
            )
        allowed, handler = route
        if method != allowed:
            headers.append(("Allow", allowed))
            raise ClientError(405, f"{path} accepts {allowed}, not {method}")
        return handler(environ, fields, headers)

    def _ping(
        self, environ: dict[str, Any], fields: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, str, bytes]:
        if self.model is None:
            return 503, "application/json", b'{"status": "loading"}'
        return 200, "application/json", b'{"status": "healthy"}'

    def _execution_parameters(
        self, environ: dict[str, Any], fields: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, str, bytes]:
        parameters = {
            "MaxConcurrentTransforms": self.max_concurrent_transforms,
            "BatchStrategy": "MULTI_RECORD",
            "MaxPayloadInMB": max(1, self.max_payload_bytes // MEGABYTE),
        }
        return 200, "application/json", json.dumps(parameters).encode()

    def _invocations(
        self, environ: dict[str, Any], fields: dict[str, Any], headers: list[tuple[str, str]]
    ) -> tuple[int, str, bytes]:
        if self.model is None:
            raise ClientError(503, "the model is still loading")
        kind, answer = negotiate(environ.get("CONTENT_TYPE"), environ.get("HTTP_ACCEPT"))
        body = self._read_body(environ, headers)
        fields["bytes_in"] = len(body)
        texts = parse_texts(body, kind)
        fields["instances"] = len(texts)
        predictions = [prediction.as_dict() for prediction in self.model.predict(texts)]
        return 200, answer, render(predictions, answer)

    def _read_body(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> bytes:
        limit = self.max_payload_bytes
        stream = environ["wsgi.input"]
        # A client that stops sending mid-body must not hold a server thread forever.
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(self.read_timeout)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared:
            try:
                length = int(declared)
            except ValueError:
                raise ClientError(400, f"Content-Length {declared!r} is not a number") from None
            if length > limit:
                self._discard(stream, length, headers)
                raise ClientError(413, _too_large(length, limit))
        else:
            length = limit + 1  # chunked: read until the end, or one byte past the limit
        body = self._read(stream, length)
        if len(body) > limit:
            self._discard(stream, DISCARD_LIMIT, headers)
            raise ClientError(413, _too_large(len(body), limit))
        if declared and len(body) < length:
            raise ClientError(400, f"the body ended after {len(body)} of {length} bytes")
        return body

    def _read(self, stream: Any, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        try:
            while remaining > 0:
                chunk = stream.read(min(remaining, _READ_CHUNK))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except TimeoutError:
            raise ClientError(
                408, f"the request body did not arrive within {self.read_timeout:g} s"
            ) from None
        return b"".join(chunks)

    def _discard(self, stream: Any, size: int, headers: list[tuple[str, str]]) -> None:
        """Read and drop what is left of a rejected body (at most DISCARD_LIMIT bytes)."""
        if size > DISCARD_LIMIT:
            headers.append(("Connection", "close"))
            return
        try:
            while size > 0 and (chunk := stream.read(min(size, _READ_CHUNK))):
                size -= len(chunk)
        except TimeoutError:
            headers.append(("Connection", "close"))


def _too_large(size: int, limit: int) -> str:
    return (
        f"the payload of {size} bytes is over this endpoint's limit of {limit} bytes "
        f"({limit / MEGABYTE:g} MB); send fewer instances per request"
    )
