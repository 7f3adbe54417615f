"""Run a synthesized state machine in moto's Step Functions interpreter.

moto executes Pass, Choice, Fail, Wait, intrinsic functions and SDK integrations (against
moto's own services), but not the optimized `.sync` SageMaker integrations. `runnable`
swaps each `sagemaker:create<Job>.sync` Task for what `.sync` does: the SDK Create
call (moto validates the request as botocore sends it) followed by the SDK Describe
call, whose output is what `.sync` returns. Every other state runs as synthesized.
"""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import boto3

from tests.oracles.stepfunctions import PSEUDO_PARAMETERS

_SYNC = re.compile(r"^arn:[^:]+:states:::sagemaker:create(?P<kind>[A-Za-z]+)\.sync$")
_NAME_FIELDS = {
    "TrainingJob": "TrainingJobName",
    "HyperParameterTuningJob": "HyperParameterTuningJobName",
    "ProcessingJob": "ProcessingJobName",
    "TransformJob": "TransformJobName",
}
STEPFUNCTIONS_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
"""Pass as `mock_aws(config=...)`: moto only interprets definitions when asked to."""
ROLE_ARN = f"arn:aws:iam::{PSEUDO_PARAMETERS['AWS::AccountId']}:role/state-machine"


def runnable(definition: dict[str, Any]) -> dict[str, Any]:
    """A copy of `definition` whose `.sync` SageMaker tasks moto can run."""
    result = copy.deepcopy(definition)
    _rewrite(result["States"])
    return result


def _rewrite(states: dict[str, Any]) -> None:
    for name in list(states):
        state = states[name]
        for branch in state.get("Branches", []):
            _rewrite(branch["States"])
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            _rewrite(processor["States"])
        match = _SYNC.match(str(state.get("Resource", "")))
        if state.get("Type") != "Task" or not match:
            continue
        kind = match.group("kind")
        name_field = _NAME_FIELDS[kind]
        parameters = state["Parameters"]
        name_value = {k: v for k, v in parameters.items() if k in (name_field, f"{name_field}.$")}
        describe_name = f"{name} (describe)"
        describe = {
            key: value
            for key, value in state.items()
            if key not in ("Parameters", "Resource", "ResultPath", "ResultSelector")
        }
        describe.update(
            {
                "Resource": f"arn:aws:states:::aws-sdk:sagemaker:describe{kind}",
                "Parameters": name_value,
                "ResultPath": state.get("ResultPath", "$"),
            }
        )
        if "ResultSelector" in state:
            describe["ResultSelector"] = state["ResultSelector"]
        create = {
            key: value
            for key, value in state.items()
            if key not in ("Next", "End", "ResultSelector", "ResultPath")
        }
        create.update(
            {
                "Resource": f"arn:aws:states:::aws-sdk:sagemaker:create{kind}",
                "ResultPath": None,
                "Next": describe_name,
            }
        )
        states[name] = create
        states[describe_name] = describe


@dataclass(frozen=True)
class Execution:
    """How one execution ended."""

    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]

    def entered(self) -> list[str]:
        """Names of the states entered, in order."""
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history
            if "stateEnteredEventDetails" in event
        ]

    def input_of(self, state: str) -> dict[str, Any]:
        """The input the last entry into `state` received."""
        for event in reversed(self.history):
            details = event.get("stateEnteredEventDetails")
            if details and details["name"] == state:
                loaded: dict[str, Any] = json.loads(details["input"])
                return loaded
        raise KeyError(f"state {state!r} was never entered")

    def parameters_of(self, state: str) -> dict[str, Any]:
        """The parameters the last call of Task `state` was made with."""
        for event in reversed(self.history):
            details = event.get("taskScheduledEventDetails")
            if details and event.get("_state") == state:
                loaded: dict[str, Any] = json.loads(details["parameters"])
                return loaded
        raise KeyError(f"task {state!r} was never scheduled")


def execute(definition: dict[str, Any], execution_input: Any, *, name: str = "run-1") -> Execution:
    """Run `definition` once in moto (inside `mock_aws(config=STEPFUNCTIONS_CONFIG)`)
    and wait for the end."""
    client = boto3.client("stepfunctions")
    machine = client.create_state_machine(
        name=f"test-{abs(hash(json.dumps(definition, sort_keys=True))) % 10**8}",
        definition=json.dumps(definition),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    arn = client.start_execution(
        stateMachineArn=machine, name=name, input=json.dumps(execution_input)
    )["executionArn"]
    deadline = time.monotonic() + 30
    while True:
        described = client.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    events = client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    # Label task events with the state that scheduled them.
    current = None
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            current = entered["name"]
        event["_state"] = current
    output = described.get("output")
    return Execution(
        status=described["status"],
        output=json.loads(output) if output else None,
        error=described.get("error"),
        cause=described.get("cause"),
        history=events,
    )
