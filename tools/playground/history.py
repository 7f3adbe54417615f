"""Execution histories as Step Functions gives them for the state machines as synthesized.

The playground runs each `.sync` SageMaker task as the SDK calls `runnable` turns it into
(tools/sfn_moto.py), so moto's history names it `aws-sdk:sagemaker` `createTrainingJob`;
Step Functions names it `sagemaker` `createTrainingJob.sync`, which `smkit train watch`
looks for to find the run's job. This WSGI middleware renames those tasks in
GetExecutionHistory answers; everything else passes through unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tools.sfn_moto import as_synthesized

from .endpoints import StartResponse, WsgiApp

TARGET = "AWSStepFunctions.GetExecutionHistory"


class SyncHistory:
    """WSGI middleware around moto's server."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") != TARGET:
            return self.app(environ, start_response)
        answered: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answered.update(status=status, headers=headers)

        body = b"".join(self.app(environ, keep))
        if answered["status"].startswith("200"):
            history = json.loads(body)
            for event in history.get("events", []):
                for key, details in event.items():
                    if key.startswith("task") and key.endswith("EventDetails"):
                        details["resourceType"], details["resource"] = as_synthesized(
                            details.get("resourceType", ""), details.get("resource", "")
                        )
            body = json.dumps(history).encode()
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]
