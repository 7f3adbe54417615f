"""Run a synthesized state machine in moto's Step Functions interpreter.

moto executes Pass, Choice, Fail, Wait, intrinsic functions and SDK integrations (against
moto's own services), but not the optimized `.sync` SageMaker integrations. `runnable`
swaps each `sagemaker:create<Job>.sync` Task for what `.sync` does: the SDK Create
call (moto validates the request as botocore sends it), the SDK Describe call, whose
output is what `.sync` returns, and, when the job ended Failed or Stopped, an error
caught by the Task's own catchers. moto's jobs complete at once; a test makes one fail
by setting its status on moto's backend. Every other state runs as synthesized.
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
        catch = state.get("Catch", [])
        describe_name, status_name, failed_name = (
            f"{name} (describe)",
            f"{name} (status)",
            f"{name} (ended unsuccessfully)",
        )
        after = {"Next": state["Next"]} if "Next" in state else {"End": True}
        # 1. Create the job (moto validates the request as botocore sends it).
        states[name] = {
            **{k: v for k, v in state.items() if k not in ("Next", "End", "ResultSelector")},
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:create{kind}",
            "ResultPath": None,
            "Next": describe_name,
        }
        # 2. What `.sync` returns: the Describe output (moto's jobs end at once).
        describe = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:describe{kind}",
            "Parameters": name_value,
            "ResultPath": state.get("ResultPath", "$"),
            "Next": status_name,
        }
        if "ResultSelector" in state:
            describe["ResultSelector"] = state["ResultSelector"]
        if catch:
            describe["Catch"] = catch
        states[describe_name] = describe
        # 3. `.sync` fails the Task when the job ends Failed or Stopped: a call that fails,
        # caught by the Task's own catchers.
        result_path = state.get("ResultPath", "$")
        status_path = f"{result_path}.{kind}Status" if result_path != "$" else f"$.{kind}Status"
        states[status_name] = {
            "Type": "Choice",
            "Choices": [
                {
                    "Or": [
                        {"Variable": status_path, "StringEquals": "Failed"},
                        {"Variable": status_path, "StringEquals": "Stopped"},
                    ],
                    "Next": failed_name,
                }
            ],
            "Default": state.get("Next", f"{name} (end)"),
        }
        states[failed_name] = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:describe{kind}",
            "Parameters": {name_field: "the-job-ended-unsuccessfully"},
            "Catch": catch,
            **after,
        }
        if "Next" not in state:
            states[f"{name} (end)"] = {"Type": "Succeed"}


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


class Runner:
    """One state machine in moto (create it inside `mock_aws(config=STEPFUNCTIONS_CONFIG)`)."""

    def __init__(self, definition: dict[str, Any], *, name: str = "workflow") -> None:
        self.client = boto3.client("stepfunctions")
        self.arn = self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE_ARN
        )["stateMachineArn"]

    def execution_arn(self, name: str) -> str:
        """The ARN an execution called `name` gets (known before it starts)."""
        return self.arn.replace(":stateMachine:", ":execution:") + f":{name}"

    def execute(self, execution_input: Any, *, name: str = "run-1") -> Execution:
        """Run once and wait for the end."""
        arn = self.client.start_execution(
            stateMachineArn=self.arn, name=name, input=json.dumps(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + 60
        while True:
            described = self.client.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        events = self.client.get_execution_history(executionArn=arn, maxResults=1000)["events"]
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
