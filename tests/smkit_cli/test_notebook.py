"""`smkit notebook open|stop` against moto's notebook instances (the presigned URL, which
moto does not mock, is answered at botocore's before-call hook)."""

from __future__ import annotations

import json

from .conftest import Platform, sagemaker_backend

URL = "https://ops-research.notebook.us-east-1.sagemaker.aws?authToken=abc"


def status_of(name: str) -> str:
    return str(sagemaker_backend().notebook_instances[name].status)


def test_open_prints_the_presigned_url(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "InService")
    with platform.answering(
        "CreatePresignedNotebookInstanceUrl", {"AuthorizedUrl": URL}
    ) as received:
        result = platform.run("notebook", "open", "research", "--session-minutes", "60")
    assert result.exit_code == 0, result.output
    assert [json.loads(body) for body in received] == [
        {"NotebookInstanceName": "ops-research", "SessionExpirationDurationInSeconds": 3600}
    ]
    assert result.stdout.splitlines()[-1] == URL
    assert "ops-research is in service" in result.stdout


def test_open_starts_a_stopped_notebook_and_waits(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "Stopped")
    # moto's start is immediate: the first poll sees Pending, the one after a sleep InService.
    backend = sagemaker_backend().notebook_instances["ops-research"]

    def start() -> None:
        backend.status = "Pending"
        platform.clock.on_sleep.append(lambda: setattr(backend, "status", "InService"))

    backend.start = start
    with platform.answering("CreatePresignedNotebookInstanceUrl", {"AuthorizedUrl": URL}):
        result = platform.run("notebook", "open", "ops-research", "--interval", "20", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "notebook": "ops-research",
        "status": "InService",
        "started": True,
        "url": URL,
        "session_minutes": 720,
    }
    assert platform.clock.slept == [20]


def test_open_no_start_leaves_a_stopped_notebook_alone(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "Stopped")
    result = platform.run("notebook", "open", "research", "--no-start")
    assert result.exit_code == 1
    assert "notebook instance ops-research is Stopped" in result.stderr
    assert "Open it without --no-start to start it (billing resumes)." in result.stderr
    assert status_of("ops-research") == "Stopped"


def test_open_unknown_notebook_lists_the_configured_ones(platform: Platform) -> None:
    result = platform.run("notebook", "open", "gpu")
    assert result.exit_code == 2
    assert f"no notebook 'gpu' in {platform.config}; configured: research" in result.stderr


def test_notebook_stack_not_deployed(platform: Platform) -> None:
    platform.deploy("Foundation", {})
    result = platform.run("notebook", "open", "research")
    assert result.exit_code == 4
    assert "stack ops-Notebooks is not deployed in account 123456789012, us-east-1" in (
        result.stderr
    )
    assert f"Deploy it with `make deploy CONFIG={platform.config}`." in result.stderr


def test_notebook_instance_missing(platform: Platform) -> None:
    platform.deploy_ops()
    result = platform.run("notebook", "stop", "research")
    assert result.exit_code == 4
    assert "notebook instance ops-research does not exist in account 123456789012" in (
        result.stderr
    )


def test_stop_and_wait(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "InService")
    result = platform.run("notebook", "stop", "research", "--wait", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "notebook": "ops-research",
        "before": "InService",
        "status": "Stopped",
    }
    assert status_of("ops-research") == "Stopped"


def test_stop_is_idempotent(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "Stopped")
    result = platform.run("notebook", "stop", "research")
    assert result.exit_code == 0, result.output
    assert "ops-research is already stopped." in result.stdout


def test_stop_refuses_a_starting_notebook(platform: Platform) -> None:
    platform.deploy_ops()
    platform.notebook("ops-research", "Pending")
    result = platform.run("notebook", "stop", "research")
    assert result.exit_code == 1
    assert "notebook instance ops-research is Pending: only an instance in service can be" in (
        result.stderr
    )
