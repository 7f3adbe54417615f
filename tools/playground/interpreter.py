"""What moto 5.2.5's Step Functions interpreter does otherwise than Step Functions, in
the deployed workflows, made as Step Functions does it (`patch`):

- unnamed executions (`_name_unnamed_executions`): an execution started without a name
  gets a UUID, as in Step Functions (moto's interpreter names it "None");
- nested executions (`_start_nested_executions`): moto's `states:startExecution`
  integration sends `Input`, `Name` and `StateMachineArn` as the state writes them,
  which botocore refuses (its members are `input`, `name`, `stateMachineArn`), and
  reads botocore's answers (`executionArn`, `output`) as Step Functions gives them
  (`ExecutionArn`, `Output`); the auto-labeling workflow starts its Ground Truth
  labeling workflow that way;
- failures passed on (`_fail_with_any_error_name`): a Fail state whose ErrorPath names a
  `States.` error (the workflows' `Failed` state re-raises what their catcher caught,
  e.g. `States.TaskFailed` of a nested run) is refused by moto 5.2.5's interpreter
  with a ValueError; Step Functions fails the execution with that error;

Each reaches into moto's in-process classes; tests/tools/test_playground.py runs the
workflows through them, so a moto upgrade that changes them fails there.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import botocore.session
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E501
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.component.state.fail import state_fail
from moto.stepfunctions.parser.models import StepFunctionsParserBackend


def patch() -> None:
    """Make moto's interpreter do as Step Functions does (idempotent)."""
    _name_unnamed_executions()
    _start_nested_executions()
    _fail_with_any_error_name()


def _name_unnamed_executions() -> None:
    backend = StepFunctionsParserBackend
    if getattr(backend.start_execution, "names_unnamed", False):
        return
    start = backend.start_execution

    def start_execution(
        self: StepFunctionsParserBackend,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return start(
            self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
        )

    start_execution.names_unnamed = True  # type: ignore[attr-defined]
    backend.start_execution = start_execution  # type: ignore[method-assign]


class _AnyErrorName(ErrorName):
    """An error name a Fail state may give, `States.` ones included."""


def _fail_with_any_error_name() -> None:
    state_fail.CustomErrorName = _AnyErrorName  # type: ignore[attr-defined,assignment]


def _start_nested_executions() -> None:
    task = StateTaskServiceSfn
    if getattr(task._normalise_parameters, "botocore_names", False):
        return
    normalise = task._normalise_parameters

    def _normalise_parameters(
        self: StateTaskServiceSfn,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        normalise(self, parameters, boto_service_name, service_action_name)
        if service_action_name is not None:
            return
        operation = botocore.session.get_session().get_service_model("stepfunctions")
        action = self._get_boto_service_action()
        shape = operation.operation_model(
            "".join(part.title() for part in action.split("_"))
        ).input_shape
        members = shape.members if shape is not None else {}
        by_lower = {member.lower(): member for member in members}
        for key in list(parameters):
            member = by_lower.get(key.lower())
            if member is not None and member != key:
                parameters[member] = parameters.pop(key)

    def _normalise_response(
        self: StateTaskServiceSfn,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        if isinstance(response, dict):
            for key in list(response):
                value = response.pop(key)
                # Step Functions gives times as epoch milliseconds.
                if isinstance(value, datetime.datetime):
                    value = int(value.timestamp() * 1000)
                response[key[:1].upper() + key[1:]] = value

    evaluate = task._eval_service_task

    def _eval_service_task(self: StateTaskServiceSfn, env: Any, **kwargs: Any) -> None:
        evaluate(self, env=env, **kwargs)
        _normalise_response(self, env.stack[-1])

    _normalise_parameters.botocore_names = True  # type: ignore[attr-defined]
    task._normalise_parameters = _normalise_parameters  # type: ignore[method-assign]
    task._normalise_response = _normalise_response  # type: ignore[method-assign,assignment]
    task._eval_service_task = _eval_service_task  # type: ignore[method-assign,assignment]
