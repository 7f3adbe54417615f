"""InvokeEndpoint answered by the playground itself, in front of moto's server.

moto's InvokeEndpoint returns bodies queued in advance, whatever the request (and, in
server mode, without knowing which endpoint was called). This WSGI middleware takes
`POST /endpoints/<name>/invocations` (sagemaker-runtime's InvokeEndpoint, as botocore's
service model routes it) and answers with the endpoint's canned reply (replies.py);
everything else, InvokeEndpointAsync included, goes to moto. Errors are answered as
SageMaker answers them: ValidationError for an endpoint that does not exist, ModelError
(424) for a request the container refuses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from .replies import BadRequestError, Reply

_INVOCATIONS = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EndpointAnswers:
    """WSGI middleware: `replies` by endpoint name for the endpoints in `live`."""

    def __init__(self, app: WsgiApp, *, account: str) -> None:
        self.app = app
        self.account = account
        self.replies: dict[str, Reply] = {}
        """Endpoint name -> its reply; set once the endpoints exist."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _INVOCATIONS.match(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") != "POST" or not match:
            return self.app(environ, start_response)
        name = unquote(match.group("name"))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        reply = self.replies.get(name)
        if reply is None:
            return _error(
                start_response,
                400,
                "ValidationError",
                f"Endpoint {name} of account {self.account} not found.",
            )
        try:
            answer = reply(json.loads(body))
        except (BadRequestError, ValueError) as err:
            return _error(
                start_response,
                424,
                "ModelError",
                f'Received client error (400) from primary with message "{err}".',
            )
        payload = json.dumps(answer).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("x-Amzn-Invoked-Production-Variant", "AllTraffic"),
            ],
        )
        return [payload]


def _error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    payload = json.dumps({"__type": code, "message": message}).encode()
    reason = {400: "Bad Request", 424: "Failed Dependency"}[status]
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", code),
        ],
    )
    return [payload]
