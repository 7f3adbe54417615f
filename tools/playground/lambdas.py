"""The kit's Lambda functions, run in the playground's process: moto 5.2.5 runs Lambda
code only in Docker (`LambdaFunction._invoke_lambda` starts a container), which the
playground never uses. `run_in_process` replaces that method: a function whose code is
the kit's runs its handler from the kit's own source, with the function's environment
variables, and answers as Lambda does (the handler's result, or `FunctionError` with
`errorMessage` and `errorType` for an exception, which Step Functions turns into the
Task's error). Every other function (CDK's own providers) still goes to moto, which
fails it.

Which source folder a function runs is found, not listed: its template names the staged
asset (`aws:asset:path` metadata, or its code's S3 key in the stack's asset manifest) and
the handler (`autolabel.prepare.handler`); the
kit's folder is the one under sagemaker_constructs whose handler module is that asset's,
byte for byte (PythonFunction stages one folder of the kit as the whole package).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
import threading
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction

from tools.assembly import Stack

KIT = Path(__file__).resolve().parents[2]
"""The kit's checkout."""
SOURCES = ("sagemaker_constructs",)
"""Folders of the kit that hold Lambda code."""


@dataclass(frozen=True)
class KitFunction:
    """A deployed function whose code is the kit's."""

    name: str
    """The function's name in moto."""
    source: Path
    """The kit's folder that is its deployment package."""
    handler: str
    """`module.function` inside `source`."""
    timeout_s: int


@dataclass
class Functions:
    """The deployed functions, by whether they run in the playground."""

    in_process: dict[str, KitFunction] = field(default_factory=dict)
    """Function name -> how to run it."""
    not_run: dict[str, str] = field(default_factory=dict)
    """Function name -> why it does not run."""

    def sources(self) -> dict[str, list[str]]:
        """Kit folder (relative to the kit) -> the handlers run from it."""
        found: dict[str, list[str]] = {}
        for function in self.in_process.values():
            handlers = found.setdefault(str(function.source.relative_to(KIT)), [])
            if function.handler not in handlers:
                handlers.append(function.handler)
        return {folder: sorted(handlers) for folder, handlers in sorted(found.items())}


def find_functions(created: list[tuple[Stack, str, boto3.Session]]) -> Functions:
    """Each Lambda function moto created for the stacks, mapped to the kit's source
    folder of its code where it is the kit's."""
    functions = Functions()
    for stack, stack_id, session in created:
        resources = session.client("cloudformation").get_paginator("list_stack_resources")
        for page in resources.paginate(StackName=stack_id):
            for summary in page["StackResourceSummaries"]:
                if summary["ResourceType"] != "AWS::Lambda::Function":
                    continue
                name = summary["PhysicalResourceId"]
                resource = stack.resources[summary["LogicalResourceId"]]
                found = _kit_function(stack, name, resource)
                if isinstance(found, KitFunction):
                    functions.in_process[name] = found
                else:
                    functions.not_run[name] = found
    return functions


def _kit_function(stack: Stack, name: str, resource: dict[str, Any]) -> KitFunction | str:
    """How to run function `name` of `resource`, or why it cannot run here."""
    properties = resource.get("Properties", {})
    runtime = str(properties.get("Runtime", ""))
    handler = str(properties.get("Handler", ""))
    asset = resource.get("Metadata", {}).get("aws:asset:path") or _staged(stack, properties)
    if not runtime.startswith("python") or not asset or "." not in handler:
        return f"not the kit's code ({runtime or 'no runtime'}); moto runs it only in Docker"
    module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    staged = stack.template_path.parent / str(asset) / module
    if not staged.is_file():
        return f"{asset} in the assembly has no {module}"
    code = staged.read_bytes()
    depth = module.count("/") + 1
    for top in SOURCES:
        for candidate in sorted((KIT / top).rglob(module)):
            if candidate.read_bytes() == code:
                source = candidate.parents[depth - 1]
                return KitFunction(name, source, handler, int(properties.get("Timeout", 3)))
    return f"not the kit's code ({handler}); moto runs it only in Docker"


def _staged(stack: Stack, properties: dict[str, Any]) -> str | None:
    """The staged folder of the function's code, from its S3 key (`<asset hash>.zip`)
    and the stack's asset manifest (an assembly without asset metadata has no
    `aws:asset:path`)."""
    key = properties.get("Code", {}).get("S3Key")
    if not isinstance(key, str):
        return None
    asset = stack.assets().get("files", {}).get(key.removesuffix(".zip"))
    return str(asset["source"]["path"]) if asset else None


class InProcess:
    """Runs the kit's functions' handlers in this process, one at a time: a handler
    reads its environment variables from `os.environ`, which the process shares."""

    def __init__(self, functions: Functions) -> None:
        self.functions = functions
        self._lock = threading.Lock()
        self._packages: dict[str, str] = {}
        self.environments: dict[str, dict[str, str]] = {}
        """Function name -> its environment variables as moto holds them (the
        template's, resolved)."""

    def invoke(self, name: str, event: Any) -> tuple[str, bool]:
        """(payload, whether it is an error) of function `name` given `event`."""
        function = self.functions.in_process[name]
        # Never a hang: a function that waits for another one's call to end (through
        # the server) gets an error after its own timeout instead.
        if not self._lock.acquire(timeout=function.timeout_s):
            return _error(
                "PlaygroundBusy",
                f"another Lambda function held the playground's runner for "
                f"{function.timeout_s} s (the function's timeout)",
            ), True
        try:
            with _environment(self._environment_of(name)):
                result = self._handler(function)(event, _Context(function))
                return json.dumps(result), False
        except Exception as err:  # the handler's error is the answer
            return _error(
                type(err).__name__, str(err), traceback.format_tb(err.__traceback__)
            ), True
        finally:
            self._lock.release()

    def _environment_of(self, name: str) -> dict[str, str]:
        return {**self.environments.get(name, {}), "AWS_LAMBDA_FUNCTION_NAME": name}

    def _handler(self, function: KitFunction) -> Callable[..., Any]:
        """The handler, imported once per function from a package of its own, so that
        functions sharing modules (and module-level settings) do not share them."""
        package = self._packages.get(function.name)
        if package is None:
            package = f"_playground_lambda_{len(self._packages)}"
            module = types.ModuleType(package)
            module.__path__ = [str(function.source)]
            sys.modules[package] = module
            self._packages[function.name] = package
        module_name, attribute = function.handler.rsplit(".", 1)
        handler: Callable[..., Any] = getattr(
            importlib.import_module(f"{package}.{module_name}"), attribute
        )
        return handler


def _error(error_type: str, message: str, stack: list[str] | None = None) -> str:
    """What Lambda's Python runtime answers for an exception."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": str(uuid.uuid4()),
            "stackTrace": stack or [],
        }
    )


class _Context:
    """What handlers may read of Lambda's context object."""

    def __init__(self, function: KitFunction) -> None:
        self.function_name = function.name
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = 1024
        self._timeout_ms = function.timeout_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """`os.environ` with `variables` set for the duration, as it was after."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_process(functions: Functions) -> InProcess:
    """Make moto run the kit's functions in this process (moto_gaps.py's style: one
    method of moto 5.2.5 replaced, the rest of its Invoke kept)."""
    runner = InProcess(functions)
    original = getattr(LambdaFunction._invoke_lambda, "original", LambdaFunction._invoke_lambda)

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        if self.function_name not in runner.functions.in_process:
            result: tuple[str, bool, str] = original(self, event)
            return result
        runner.environments[self.function_name] = {
            str(k): str(v) for k, v in (self.environment_vars or {}).items()
        }
        # moto passes the parsed body, or "{}" for an empty one.
        payload = json.loads(event) if isinstance(event, str) else event
        answer, errored = runner.invoke(self.function_name, payload)
        return answer, errored, ""

    _invoke_lambda.original = original  # type: ignore[attr-defined]
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    return runner
