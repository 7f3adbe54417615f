"""Run a synthesized state machine in moto's Step Functions interpreter, after
`runnable` (tools/sfn_moto.py) has swapped its `.sync` SageMaker tasks for calls moto
can run. moto's jobs complete at once; a test makes one fail by setting its status on
moto's backend."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3

from tests.oracles.stepfunctions import PSEUDO_PARAMETERS

STEPFUNCTIONS_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
"""Pass as `mock_aws(config=...)`: moto only interprets definitions when asked to."""
ROLE_ARN = f"arn:aws:iam::{PSEUDO_PARAMETERS['AWS::AccountId']}:role/state-machine"


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
