"""The classifier's request and response formats (containers/README.md, "Serving").

Requests:
    application/json        {"source": "..."}  or  {"instances": [{"source": "..."}, ...]}
    application/jsonlines   one {"source": "..."} per line (batch transform)
Responses:
    application/json        {"predictions": [{"label", "confidence", "probabilities"}, ...]}
    application/jsonlines   one prediction object per line, in request order

The response has the request's format unless the Accept header asks for the other one.
Every client mistake is a ClientError with a 4xx status and a message saying what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

TEXT_FIELD = "source"
JSON = "application/json"
JSON_LINES = "application/jsonlines"
# Other names clients use for JSON lines.
JSON_LINES_ALIASES = frozenset({JSON_LINES, "application/x-jsonlines", "application/jsonl"})
ACCEPTED = (JSON, JSON_LINES)


class ClientError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (header or "").split(";", 1)[0].strip().lower()


def request_format(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind == JSON:
        return JSON
    if kind in JSON_LINES_ALIASES:
        return JSON_LINES
    raise ClientError(
        415,
        f"unsupported content type {kind or '(none)'!r}; send {JSON} or {JSON_LINES}",
    )


def response_format(accept: str | None, requested: str) -> str:
    """The request's own format when the client accepts it, else the other one."""
    if not accept or not accept.strip():
        return requested
    kinds = [media_type(part) for part in accept.split(",")]
    wildcards = {"*/*", "application/*"}
    if requested in kinds or (requested == JSON_LINES and JSON_LINES_ALIASES & set(kinds)):
        return requested
    if any(kind in wildcards for kind in kinds):
        return requested
    for kind in kinds:
        if kind == JSON:
            return JSON
        if kind in JSON_LINES_ALIASES:
            return JSON_LINES
    raise ClientError(406, f"cannot answer in {accept!r}; accepted: {', '.join(ACCEPTED)}")


def negotiate(content_type: str | None, accept: str | None) -> tuple[str, str]:
    """The request's format and the response's, from the Content-Type and Accept headers."""
    requested = request_format(content_type)
    return requested, response_format(accept, requested)


def parse_texts(body: bytes, kind: str) -> list[str]:
    """The texts of a request body in format `kind`."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ClientError(
            400, f"the body is not UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    texts = _instances_from_json(text) if kind == JSON else _instances_from_json_lines(text)
    if not texts:
        raise ClientError(400, "the request holds no instances")
    return texts


def _instances_from_json(text: str) -> list[str]:
    document = _loads(text, "the body")
    if not isinstance(document, dict):
        raise ClientError(
            400,
            f'expected a JSON object ({{"{TEXT_FIELD}": ...}} or {{"instances": [...]}}), '
            f"got {_kind(document)}",
        )
    if "instances" in document:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise ClientError(400, f'"instances" must be a list, got {_kind(instances)}')
        return [_text(instance, f"instances[{i}]") for i, instance in enumerate(instances)]
    return [_text(document, "the body")]


def _instances_from_json_lines(text: str) -> list[str]:
    texts = []
    # Split on "\n" only: str.splitlines would also cut at U+2028, which JSON strings
    # may hold unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            texts.append(_text(_loads(line, f"line {number}"), f"line {number}"))
    return texts


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ClientError(
            400,
            f"{where} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from error


def _text(instance: Any, where: str) -> str:
    if not isinstance(instance, dict):
        raise ClientError(400, f'{where} must be an object with a "{TEXT_FIELD}" string')
    if TEXT_FIELD not in instance:
        raise ClientError(400, f'{where} has no "{TEXT_FIELD}" field')
    value = instance[TEXT_FIELD]
    if not isinstance(value, str):
        raise ClientError(400, f'{where}: "{TEXT_FIELD}" must be a string, got {_kind(value)}')
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null"
    )


# One encoder for every response: json.dumps with any option builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def render(predictions: Sequence[dict[str, Any]], response_type: str) -> bytes:
    if response_type == JSON:
        return _ENCODER.encode({"predictions": list(predictions)}).encode()
    return "".join(_ENCODER.encode(prediction) + "\n" for prediction in predictions).encode()
