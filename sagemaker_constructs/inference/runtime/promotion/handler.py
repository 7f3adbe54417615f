"""One step of the model approval workflow: the state machine calls it in a loop (with a
wait between calls) until it answers `done` or `failed`.

What a run does, from the state it finds (so a repeated or overlapping run does no harm):

1. A deployment it started earlier (`pending`) is followed until the Inference stack
   leaves its `*_IN_PROGRESS` state. The stack's parameter then tells the outcome: it
   names the new version (deployed), or CloudFormation rolled the update back (the
   endpoint's blue/green deployment failed, e.g. an alarm fired, and the endpoint kept
   the previous version). A version that rolled back is rejected, with the reason in its
   approval description (the previous one kept), and the alerts topic is told.
2. Runs of this workflow are serialized: a run waits while an older one is running, so
   two runs never decide on the same stack at once.
3. It waits while the stack is being updated by someone else (`make deploy`).
4. It compares what each endpoint that follows a group serves (its stack parameter)
   with what it should serve (`versions.target_version`) and updates one parameter at a
   time with UpdateStack: the previous template, every other parameter at its previous
   value, the stack's own capabilities and service role; CloudFormation then replaces
   the model and endpoint configuration and the endpoint deploys them blue/green with
   its auto-rollback alarms, exactly as in `make deploy`.
5. With nothing left to change it ends: `done`, or `failed` when a deployment of this
   run rolled back. The alerts topic hears the outcome of every deployment, as it does
   of every training run. An endpoint with no qualifying version keeps what it serves; when
   that version was rejected or deleted, the alerts topic is told.

Input (`event`): {"state": <the previous step's output, or the execution input>,
"execution": "$$.Execution.Id", "started": "$$.Execution.StartTime"}. The execution input
is an EventBridge "SageMaker Model Package State Change" event (its group is reconciled)
or {"group": "<group name>"} or {} (every followed group).

Environment: STACK_NAME, FOLLOWERS (JSON list of `versions.Follower`), ALERTS_TOPIC_ARN,
POLL_SECONDS (default 60).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .versions import (
    APPROVED,
    REJECTED,
    Follower,
    Plan,
    describe,
    followers_from_json,
    plans,
    version_number,
)

logger = logging.getLogger()
logger.setLevel(logging.INFO)

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})

UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
"""Stack statuses in which UpdateStack is accepted."""
DEFAULT_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
MAX_DESCRIPTION = 1024
MAX_SUBJECT = 100


class StepError(RuntimeError):
    """A problem the workflow cannot resolve by waiting (the execution fails)."""


@dataclass
class Clients:
    cloudformation: Any
    sagemaker: Any
    stepfunctions: Any
    sns: Any

    @classmethod
    def default(cls) -> Clients:
        return cls(
            *(
                boto3.client(name, config=CLIENT_CONFIG)
                for name in ("cloudformation", "sagemaker", "stepfunctions", "sns")
            )
        )


@dataclass(frozen=True)
class Stack:
    status: str
    parameters: dict[str, str]
    capabilities: list[str]

    @property
    def busy(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")


def handler(event: Mapping[str, Any], _context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    step = Step(
        Clients.default(),
        stack_name=os.environ["STACK_NAME"],
        followers=followers_from_json(os.environ["FOLLOWERS"]),
        alerts_topic_arn=os.environ["ALERTS_TOPIC_ARN"],
        poll_seconds=int(os.environ.get("POLL_SECONDS", "60")),
    )
    return step.run(event)


class Step:
    """One call of the workflow's loop."""

    def __init__(
        self,
        clients: Clients,
        *,
        stack_name: str,
        followers: Sequence[Follower],
        alerts_topic_arn: str,
        poll_seconds: int = 60,
        now: Any = None,
    ) -> None:
        self.clients = clients
        self.stack_name = stack_name
        # Staging endpoints first: a promoted endpoint's version comes from them.
        self.followers = sorted(followers, key=lambda f: f.promoted_from is not None)
        self.alerts_topic_arn = alerts_topic_arn
        self.poll_seconds = poll_seconds
        self._now = now or (lambda: datetime.now(UTC))

    def run(self, event: Mapping[str, Any]) -> dict[str, Any]:
        state = initial_state(event.get("state") or {})
        execution = str(event.get("execution", ""))
        started = str(event.get("started", ""))
        stack = self._stack()
        if state["pending"]:
            if stack.busy:
                return self._wait(state, f"deploying: {_describe_pending(state['pending'])}")
            self._conclude(state, stack)
        older = self._older_running_execution(execution, started)
        if older:
            return self._wait(state, f"waiting for the older run {older} to finish")
        # ENDPOINT-22 (stack status codes page): a busy stack cannot be updated.
        if stack.busy:
            return self._wait(state, f"stack {self.stack_name} is {stack.status}: waiting")
        if stack.status not in UPDATABLE:
            message = (
                f"Stack {self.stack_name} is {stack.status}: the approval workflow cannot "
                "update it. Fix the stack (see its events), then run `smkit model list "
                "<group>` and approve again."
            )
            self._alert(f"{self.stack_name}: approval cannot deploy", message)
            raise StepError(message)
        followers = [f for f in self.followers if state["group"] in (None, f.group)]
        planned = plans(self.clients.sagemaker, followers, stack.parameters)
        for plan in planned:
            if plan.changes:
                return self._start(state, stack, plan, execution)
        self._report_holds(planned)
        state["next"] = "failed" if state["failed"] else "done"
        state["message"] = _summary(state)
        logger.info("approval workflow finished", extra={"state": state})
        return state

    # --- the stack ----------------------------------------------------------------------

    def _stack(self) -> Stack:
        described = self.clients.cloudformation.describe_stacks(StackName=self.stack_name)
        stack = described["Stacks"][0]
        return Stack(
            status=str(stack["StackStatus"]),
            parameters={
                str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
                for p in stack.get("Parameters", [])
            },
            capabilities=list(stack.get("Capabilities") or DEFAULT_CAPABILITIES),
        )

    def _start(
        self, state: dict[str, Any], stack: Stack, plan: Plan, execution: str
    ) -> dict[str, Any]:
        assert plan.target is not None
        parameter = plan.follower.parameter
        token = client_request_token(execution, parameter, plan.target.arn)
        # ENDPOINT-19, ENDPOINT-20 (UpdateStack and Parameter API pages): no RoleARN (the
        # stack's own role deploys), every other parameter named with UsePreviousValue (a
        # parameter left out would fall back to its default).
        try:
            self.clients.cloudformation.update_stack(
                StackName=self.stack_name,
                UsePreviousTemplate=True,
                Parameters=[
                    {"ParameterKey": key, "ParameterValue": plan.target.arn}
                    if key == parameter
                    else {"ParameterKey": key, "UsePreviousValue": True}
                    for key in sorted(stack.parameters)
                ],
                Capabilities=stack.capabilities,
                ClientRequestToken=token,
            )
        except ClientError as err:
            message = str(err.response.get("Error", {}).get("Message", ""))
            if "No updates are to be performed" in message:
                return self._wait(state, f"{parameter} already names {plan.target.arn}")
            if "can not be updated" in message or "cannot be updated" in message:
                return self._wait(state, f"stack {self.stack_name} is busy: {message}")
            raise
        state["pending"] = {
            "endpoint": plan.follower.endpoint,
            "parameter": parameter,
            "group": plan.follower.group,
            "from": plan.serving,
            "to": plan.target.arn,
            "token": token,
            "started": self._now().isoformat(),
        }
        logger.info("deployment started", extra={"pending": state["pending"]})
        return self._wait(state, f"deploying: {_describe_pending(state['pending'])}")

    def _conclude(self, state: dict[str, Any], stack: Stack) -> None:
        """The outcome of the deployment started earlier (the stack is settled)."""
        pending = state["pending"]
        state["pending"] = None
        if stack.parameters.get(pending["parameter"]) == pending["to"]:
            state["deployed"].append(
                {"endpoint": pending["endpoint"], "version": version_number(pending["to"])}
            )
            before = version_number(pending["from"])
            self._alert(
                f"{pending['endpoint']} serves version {version_number(pending['to'])}",
                f"Endpoint {pending['endpoint']} now serves {pending['to']}"
                + (f" (before: version {before})." if before else " (its first version)."),
            )
            return
        reason = self._failure_reason(pending, stack)
        rejected = self._reject(pending, reason)
        state["failed"].append(
            {
                "endpoint": pending["endpoint"],
                "version": version_number(pending["to"]),
                "reason": reason,
            }
        )
        serving = version_number(pending["from"])
        self._alert(
            f"{pending['endpoint']}: version {version_number(pending['to'])} rolled back",
            f"The deployment of {pending['to']} to endpoint {pending['endpoint']} did not "
            f"complete: {reason}.\n"
            + (
                f"The endpoint keeps serving version {serving}.\n"
                if serving
                else "The endpoint was not created.\n"
            )
            + (
                "The version was rejected (its approval description says why). If the "
                "failure was not the model's (capacity, quota), approve it again: "
                f"smkit model approve {pending['group']} {version_number(pending['to'])} "
                "--reason '...'"
                if rejected
                else "The version is no longer approved; nothing else was changed."
            ),
        )

    def _failure_reason(self, pending: Mapping[str, Any], stack: Stack) -> str:
        """The first resource failure of the update, from the stack's events."""
        started = datetime.fromisoformat(pending["started"])
        failures: list[Mapping[str, Any]] = []
        try:
            events = self.clients.cloudformation.describe_stack_events(StackName=self.stack_name)[
                "StackEvents"
            ]
        except ClientError:
            events = []
        for event in events:
            when = event.get("Timestamp")
            token = event.get("ClientRequestToken")
            if token and token != pending["token"]:
                continue
            if isinstance(when, datetime) and when < started:
                continue
            if str(event.get("ResourceStatus", "")).endswith("_FAILED"):
                failures.append(event)
        if failures:
            first = failures[-1]  # events are newest first
            return (
                f"{first.get('LogicalResourceId')} {first.get('ResourceStatus')}: "
                f"{first.get('ResourceStatusReason', 'no reason given')}"
            )
        return f"the stack update ended {stack.status}"

    # --- the model registry -------------------------------------------------------------

    def _reject(self, pending: Mapping[str, Any], reason: str) -> bool:
        """Reject the version that rolled back, keeping its previous description."""
        try:
            version = describe(self.clients.sagemaker, pending["to"])
        except ClientError:
            return False  # deleted meanwhile
        if version.approval != APPROVED:
            return False
        note = (
            f"Rejected by the approval workflow: its deployment to {pending['endpoint']} "
            f"rolled back ({reason})."
        )
        if version.description:
            note = f"{note} Before: {version.description}"
        request: dict[str, Any] = {
            "ModelPackageArn": version.arn,
            "ModelApprovalStatus": REJECTED,
            "ApprovalDescription": note[:MAX_DESCRIPTION],
        }
        if version.metadata:
            request["CustomerMetadataProperties"] = dict(version.metadata)
        self.clients.sagemaker.update_model_package(**request)
        return True

    def _report_holds(self, planned: Sequence[Plan]) -> None:
        """Tell the alerts topic about endpoints left serving a version that is no longer
        approved (rejected or deleted) with nothing approved to move to."""
        for plan in planned:
            if plan.target is not None or not plan.serving:
                continue
            try:
                serving = describe(self.clients.sagemaker, plan.serving)
                state = None if serving.deployable else serving.approval
            except ClientError:
                state = "deleted"
            if state is None:
                continue
            self._alert(
                f"{plan.follower.endpoint}: serves a version that is {state.lower()}",
                f"Endpoint {plan.follower.endpoint} serves {plan.serving}, which is now "
                f"{state.lower()}; {plan.why_not()}. Approve a version of "
                f"{plan.follower.group} to replace it (a deploy that replaces the endpoint's "
                "model fails while it names a deleted version).",
            )

    # --- the workflow -------------------------------------------------------------------

    def _older_running_execution(self, execution: str, started: str) -> str | None:
        """The name of a running execution of this state machine older than this one.
        ENDPOINT-23 (SageMaker EventBridge events page): one change may start several runs."""
        if ":execution:" not in execution:
            return None
        state_machine = execution.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:")
        mine = _timestamp(started)
        pages = self.clients.stepfunctions.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine, statusFilter="RUNNING"
        )
        for page in pages:
            for other in page["executions"]:
                if other["executionArn"] == execution:
                    continue
                when = other["startDate"]
                if mine is None or (when, other["executionArn"]) < (mine, execution):
                    return str(other["name"])
        return None

    def _wait(self, state: dict[str, Any], message: str) -> dict[str, Any]:
        state["next"] = "wait"
        state["wait_seconds"] = self.poll_seconds
        state["message"] = message
        return state

    def _alert(self, subject: str, message: str) -> None:
        logger.info(subject, extra={"alert": message})
        self.clients.sns.publish(
            TopicArn=self.alerts_topic_arn,
            Subject=f"[{self.stack_name}] {subject}"[:MAX_SUBJECT],
            Message=message,
        )


def initial_state(value: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow's state from the previous step's output or the execution input."""
    if "pending" in value and "next" in value:
        return dict(value)
    detail = value.get("detail") if isinstance(value.get("detail"), Mapping) else None
    group = detail.get("ModelPackageGroupName") if detail else value.get("group")
    return {
        "group": str(group) if group else None,
        "pending": None,
        "deployed": [],
        "failed": [],
        "next": "wait",
        "wait_seconds": 0,
        "message": "",
    }


def client_request_token(execution: str, parameter: str, arn: str) -> str:
    """The same token for the same run, parameter and version: a repeated call of this
    step is recognized by CloudFormation as the same update."""
    digest = hashlib.sha256(f"{execution}|{parameter}|{arn}".encode()).hexdigest()[:40]
    return f"smkit-approval-{digest}"


def _timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _describe_pending(pending: Mapping[str, Any]) -> str:
    before = version_number(pending["from"])
    return (
        f"{pending['endpoint']} from version {before} to {version_number(pending['to'])}"
        if before
        else f"{pending['endpoint']}: first version {version_number(pending['to'])}"
    )


def _summary(state: Mapping[str, Any]) -> str:
    parts = [f"{d['endpoint']} now serves version {d['version']}" for d in state["deployed"]]
    parts += [f"{f['endpoint']}: version {f['version']} rolled back" for f in state["failed"]]
    return "; ".join(parts) or "every endpoint serves what it should"
