"""The approval workflow's step, run for real against moto's SageMaker model registry,
CloudFormation, Step Functions and SNS (conftest.py lists the moto gaps it works around).
boto3 validates every request against botocore's service model before moto sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from sagemaker_constructs.inference.runtime.promotion.handler import (
    StepError,
    client_request_token,
    initial_state,
)

from .conftest import (
    GROUP,
    PROD,
    STACK,
    STAGING,
    STATE_MACHINE,
    World,
    arn,
    package_event,
    stack_model,
)


def test_approving_a_version_deploys_it_with_updatestack_on_the_previous_template(
    world: World,
) -> None:
    world.register()
    version = world.register()
    world.set_approval(version, "Approved", "better F1")

    first = world.run(package_event(version))

    assert first["next"] == "wait" and first["wait_seconds"] == 60
    assert first["pending"]["to"] == arn(version)
    assert first["message"] == f"deploying: {STAGING.endpoint}: first version {version}"
    # One parameter changed, every other one kept (the bootstrap version included).
    assert world.parameters() == {
        "BootstrapVersion": "/cdk-bootstrap/hnb659fds/version",
        STAGING.parameter: arn(version),
        PROD.parameter: "",
    }
    # The previous template: the endpoint's resources appear under their condition.
    resources = world.client("cloudformation").list_stack_resources(StackName=STACK)
    assert "StagingModelVersionEndpoint" in {
        r["LogicalResourceId"] for r in resources["StackResourceSummaries"]
    }

    final, _ = world.run_to_end(first)
    assert final["next"] == "done"
    assert final["deployed"] == [{"endpoint": STAGING.endpoint, "version": version}]
    assert final["message"] == f"{STAGING.endpoint} now serves version {version}"
    assert world.alerts() == [
        (
            f"[{STACK}] {STAGING.endpoint} serves version {version}",
            f"Endpoint {STAGING.endpoint} now serves {arn(version)} (its first version).",
        )
    ]


def test_only_the_latest_approved_version_is_deployed(world: World) -> None:
    old, newest_approved, pending = world.register(), world.register(), world.register()
    world.set_approval(old, "Approved")
    world.set_approval(newest_approved, "Approved")

    final, _ = world.run_to_end({})

    assert pending > newest_approved > old
    assert world.parameters()[STAGING.parameter] == arn(newest_approved)
    assert final["deployed"] == [{"endpoint": STAGING.endpoint, "version": newest_approved}]


def test_a_promoted_endpoint_gets_only_versions_promoted_to_it(world: World) -> None:
    first = world.register("Approved")
    world.run_to_end(package_event(first))
    assert world.parameters()[PROD.parameter] == ""  # approved, not promoted

    world.promote(first, PROD.endpoint)
    second = world.register("Approved")
    final, _ = world.run_to_end({"group": GROUP})

    assert world.parameters()[STAGING.parameter] == arn(second)
    assert world.parameters()[PROD.parameter] == arn(first)
    # One update at a time: staging first, then the promoted endpoint.
    assert final["deployed"] == [
        {"endpoint": STAGING.endpoint, "version": second},
        {"endpoint": PROD.endpoint, "version": first},
    ]


def test_a_rolled_back_deployment_rejects_the_version_and_keeps_the_endpoint_serving(
    world: World,
) -> None:
    good = world.register("Approved")
    world.run_to_end({})
    bad = world.register()
    world.set_approval(bad, "Approved", "looked fine offline")
    previous = world.parameters()

    started = world.run(package_event(bad))
    world.roll_back(previous, reason="Alarm smkit-test-staging-errors fired during baking")
    final, _ = world.run_to_end(started)

    assert final["next"] == "failed"
    assert final["failed"] == [
        {
            "endpoint": STAGING.endpoint,
            "version": bad,
            "reason": "StagingEndpoint UPDATE_FAILED: Alarm smkit-test-staging-errors fired "
            "during baking",
        }
    ]
    assert world.parameters()[STAGING.parameter] == arn(good)
    described = world.described(bad)
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["ApprovalDescription"] == (
        f"Rejected by the approval workflow: its deployment to {STAGING.endpoint} rolled back "
        "(StagingEndpoint UPDATE_FAILED: Alarm smkit-test-staging-errors fired during "
        "baking). Before: looked fine offline"
    )
    *earlier, (subject, message) = world.alerts()
    assert [s for s, _ in earlier] == [f"[{STACK}] {STAGING.endpoint} serves version {good}"]
    assert subject == f"[{STACK}] {STAGING.endpoint}: version {bad} rolled back"
    assert f"The endpoint keeps serving version {good}." in message
    assert f"smkit model approve {GROUP} {bad} --reason" in message
    # The next event does not try the rejected version again.
    again, calls = world.run_to_end(package_event(bad, "Rejected"))
    assert (again["next"], calls) == ("done", 1)


def test_rejecting_the_served_version_moves_back_to_the_previous_approved_one(
    world: World,
) -> None:
    older, newer = world.register("Approved"), world.register("Approved")
    world.run_to_end({})
    assert world.parameters()[STAGING.parameter] == arn(newer)

    world.set_approval(newer, "Rejected", "bias found")
    final, _ = world.run_to_end(package_event(newer, "Rejected"))

    assert world.parameters()[STAGING.parameter] == arn(older)
    assert final["deployed"] == [{"endpoint": STAGING.endpoint, "version": older}]


def test_rejecting_the_last_approved_version_keeps_the_endpoint_and_tells_the_alerts_topic(
    world: World,
) -> None:
    only = world.register("Approved")
    world.run_to_end({})

    world.set_approval(only, "Rejected", "bias found")
    final, calls = world.run_to_end(package_event(only, "Rejected"))

    assert (final["next"], calls) == ("done", 1)
    assert world.parameters()[STAGING.parameter] == arn(only)  # never emptied
    *earlier, (subject, message) = world.alerts()
    assert [s for s, _ in earlier] == [f"[{STACK}] {STAGING.endpoint} serves version {only}"]
    assert subject == f"[{STACK}] {STAGING.endpoint}: serves a version that is rejected"
    assert f"no version of {GROUP} is approved; it keeps serving version {only}" in message


def test_deleting_the_served_version_moves_back_or_keeps_serving(world: World) -> None:
    first, second = world.register("Approved"), world.register("Approved")
    world.run_to_end({})
    world.delete(second)

    world.run_to_end(package_event(second))
    assert world.parameters()[STAGING.parameter] == arn(first)

    world.delete(first)
    final, _ = world.run_to_end(package_event(first))
    assert final["next"] == "done"
    assert world.parameters()[STAGING.parameter] == arn(first)
    assert [s for s, _ in world.alerts()] == [
        f"[{STACK}] {STAGING.endpoint} serves version {second}",
        f"[{STACK}] {STAGING.endpoint} serves version {first}",
        f"[{STACK}] {STAGING.endpoint}: serves a version that is deleted",
    ]


def test_a_version_being_deleted_no_longer_counts(world: World) -> None:
    first, second = world.register("Approved"), world.register("Approved")
    from .conftest import sagemaker_backend

    sagemaker_backend().model_packages[arn(second)].model_package_status = "Deleting"
    world.run_to_end({})
    assert world.parameters()[STAGING.parameter] == arn(first)


def test_a_run_waits_while_an_older_run_is_running(world: World) -> None:
    world.register("Approved")
    stepfunctions = world.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name=STATE_MACHINE,
        definition='{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 9, "End": true}}}',
        roleArn=f"arn:aws:iam::{world.topic_arn.split(':')[4]}:role/workflow",
    )["stateMachineArn"]
    older = stepfunctions.start_execution(stateMachineArn=machine, name="older")
    newer = stepfunctions.start_execution(stateMachineArn=machine, name="newer")
    late = datetime(2999, 1, 1, tzinfo=UTC).isoformat()

    waiting = world.run({}, execution=newer["executionArn"], started=late)
    assert (waiting["next"], waiting["message"]) == (
        "wait",
        "waiting for the older run older to finish",
    )
    assert world.parameters()[STAGING.parameter] == ""

    stepfunctions.stop_execution(executionArn=older["executionArn"])
    going = world.run(waiting, execution=newer["executionArn"], started=late)
    assert going["pending"] is not None


def test_a_stack_being_deployed_is_waited_for(world: World) -> None:
    world.register("Approved")
    stack_model().status = "UPDATE_IN_PROGRESS"

    waiting = world.run({})

    assert waiting["next"] == "wait"
    assert waiting["message"] == f"stack {STACK} is UPDATE_IN_PROGRESS: waiting"
    assert world.parameters()[STAGING.parameter] == ""


def test_an_update_refused_because_the_stack_just_got_busy_is_retried_later(
    world: World,
) -> None:
    world.register("Approved")
    step = world.step()
    # moto's updates complete at once, so it never refuses one for a stack in progress:
    # the step's CloudFormation client gets AWS's refusal before moto sees the call.
    client = step.clients.cloudformation
    refusal = {
        "Error": {
            "Code": "ValidationError",
            "Message": f"Stack:{STACK} is in UPDATE_IN_PROGRESS state and can not be updated.",
        }
    }

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://cloudformation", 400, {}, None), refusal

    client.meta.events.register("before-call.cloudformation.UpdateStack", refuse)

    waiting = step.run({"state": {}})

    assert waiting["next"] == "wait" and waiting["pending"] is None
    assert waiting["message"].startswith(f"stack {STACK} is busy: Stack:{STACK} is in UPDATE")


def test_a_stack_the_workflow_cannot_update_fails_the_run_and_alerts(world: World) -> None:
    world.register("Approved")
    stack_model().status = "UPDATE_ROLLBACK_FAILED"

    with pytest.raises(StepError, match="is UPDATE_ROLLBACK_FAILED: the approval workflow"):
        world.run({})
    ((subject, _),) = world.alerts()
    assert subject == f"[{STACK}] {STACK}: approval cannot deploy"


def test_the_same_run_parameter_and_version_make_the_same_request_token() -> None:
    token = client_request_token("exec-1", "StagingModelVersion", arn(3))
    assert token == client_request_token("exec-1", "StagingModelVersion", arn(3))
    assert token != client_request_token("exec-2", "StagingModelVersion", arn(3))
    assert token.startswith("smkit-approval-") and len(token) <= 128


def test_the_state_comes_from_an_event_a_group_or_the_previous_step() -> None:
    assert initial_state(package_event(3))["group"] == GROUP
    assert initial_state({"group": "other"})["group"] == "other"
    assert initial_state({})["group"] is None
    previous = {**initial_state({}), "pending": {"to": arn(1)}, "next": "wait"}
    assert initial_state(previous) == previous
