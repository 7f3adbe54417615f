"""`smkit label studio-setup` against moto (the run's request, the stack outputs) and a
recorded Label Studio API (tests/label_studio drives the real server)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from click.testing import Result

from smkit_cli.errors import CliError
from smkit_cli.label_studio_api import LabelStudioApi, StudioSetup, apply

from .conftest import REGION, Platform

CONFIG = Path(__file__).parent / "label_studio.yaml"
ROLE = "arn:aws:iam::123456789012:role/ops-Labeling-LabelStudioRole"
KEY = "arn:aws:kms:us-east-1:123456789012:key/k"


# One boto3 session for all invocations: boto3 adds its S3 methods once per session, and
# conftest's shared botocore session would get them added again by each new boto3 session.
SESSION = boto3.Session(botocore_session=botocore.session.get_session(), region_name=REGION)


def smkit(platform: Platform, *args: str) -> Result:
    return platform.run(*args, config=CONFIG, session_factory=lambda _profile, _region: SESSION)


def deploy(platform: Platform) -> None:
    platform.deploy("Foundation", {"DataBucketName": "ops-data", "KmsKeyArn": KEY})
    platform.deploy(
        "Labeling",
        {
            "AutoLabelingSentimentStudioLabelStudioRoleArn": ROLE,
            "AutoLabelingPhotosLabelStudioRoleArn": ROLE + "-photos",
        },
    )
    platform.client("s3").create_bucket(Bucket="ops-data")


def ask(platform: Platform, workflow: str, run_id: str, **request: Any) -> None:
    """Run `run_id` of `workflow` waiting for Label Studio (its request file)."""
    body = {
        "mode": "label_studio",
        "run_id": run_id,
        "run_name": f"{workflow}-{run_id}",
        "objects": 600,
        **request,
    }
    platform.client("s3").put_object(
        Bucket="ops-data",
        Key=f"auto-labeling/{workflow}/{run_id}/human/request.json",
        Body=json.dumps(body),
    )


def test_studio_setup_prints_the_runs_project_storages_and_host_profile(
    platform: Platform,
) -> None:
    deploy(platform)
    ask(platform, "sentiment-studio", "3f2a")
    ask(platform, "sentiment-studio", "done1", resumed_at="2026-03-01T00:00:00")
    result = smkit(platform, "label", "studio-setup", "sentiment-studio")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Label Studio project for run 3f2a of sentiment-studio: sentiment-studio-3f2a" in out
    assert '<Choices name="label" toName="text" choice="single-radio" required="true">' in out
    assert '"prefix": "auto-labeling/sentiment-studio/3f2a/label-studio/tasks"' in out
    assert '"prefix": "auto-labeling/sentiment-studio/3f2a/label-studio/annotations"' in out
    assert f"role_arn = {ROLE}\ncredential_source = EcsContainer\nregion = us-east-1" in out

    as_json = json.loads(
        smkit(
            platform, "label", "studio-setup", "sentiment-studio", "--run", "3f2a", "--json"
        ).stdout
    )
    assert as_json["source_storage"]["bucket"] == "ops-data"
    assert as_json["target_storage"]["aws_sse_kms_key_id"] == KEY
    assert as_json["project"]["description"].startswith(
        "smkit auto-labeling run sentiment-studio-3f2a (600 objects)"
    )


def test_studio_setup_for_another_account_names_the_external_id_and_endpoint(
    platform: Platform,
) -> None:
    deploy(platform)
    ask(platform, "photos", "r9")
    result = smkit(platform, "label", "studio-setup", "photos", "--json")
    setup = json.loads(result.stdout)
    assert 'choice="multiple"' in setup["project"]["label_config"]
    assert '<Image name="image" value="$image"/>' in setup["project"]["label_config"]
    assert setup["source_storage"]["s3_endpoint"].startswith("https://s3-fips.us-east-1")
    assert "source_profile = <a profile of the host's own credentials>" in setup["aws_profile"]
    assert "external_id = smkit-photos" in setup["aws_profile"]


def test_studio_setup_says_which_run_when_it_cannot_tell(platform: Platform) -> None:
    deploy(platform)
    none = smkit(platform, "label", "studio-setup", "sentiment-studio")
    assert none.exit_code == 4
    assert "no runs of sentiment-studio wait for Label Studio" in none.output
    assert "smkit label auto sentiment-studio --manifest <key>" in none.output
    ask(platform, "sentiment-studio", "a1")
    ask(platform, "sentiment-studio", "b2")
    two = smkit(platform, "label", "studio-setup", "sentiment-studio")
    assert two.exit_code == 2
    assert "2 runs of sentiment-studio wait for Label Studio (a1, b2): choose one with --run" in (
        two.output
    )
    wrong = smkit(platform, "label", "studio-setup", "sentiment-studio", "--run", "zz")
    assert wrong.exit_code == 4 and "run 'zz' of sentiment-studio has not asked" in wrong.output
    assert "Runs waiting: a1, b2." in wrong.output
    external = smkit(platform, "label", "studio-setup", "external-auto")
    assert external.exit_code == 2
    assert "external-auto's human review is 'external', not 'label_studio'" in external.output


def test_studio_setup_with_url_needs_the_token(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(platform)
    ask(platform, "sentiment-studio", "3f2a")
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    result = smkit(
        platform, "label", "studio-setup", "sentiment-studio", "--url", "https://ls.example.com"
    )
    assert result.exit_code == 2
    assert "--url needs Label Studio's token in $LABEL_STUDIO_API_KEY" in result.output


class RecordedLabelStudio:
    """Label Studio's API as far as `apply` uses it: projects and storages in memory."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.projects: list[dict[str, Any]] = []
        self.storages: dict[str, list[dict[str, Any]]] = {"s3": [], "export/s3": []}

    def __call__(self, request: urllib.request.Request, timeout: float) -> Any:
        body = json.loads(request.data) if request.data else None  # type: ignore[arg-type]
        path = request.full_url.removeprefix("https://ls.example.com")
        method = request.get_method()
        self.calls.append((method, path, body))
        assert request.headers["Authorization"] == "Token secret-token"
        return io.BytesIO(json.dumps(self.answer(method, path, body)).encode())

    def answer(self, method: str, path: str, body: Any) -> Any:
        if path.startswith("/api/projects?title="):
            # Label Studio lists summaries, without the labeling config.
            summaries = [{"id": p["id"], "title": p["title"]} for p in self.projects]
            return {"count": len(self.projects), "results": summaries}
        if method == "GET" and path.startswith("/api/projects/"):
            return self.projects[0]
        if (method, path) == ("POST", "/api/projects"):
            self.projects.append({"id": 7, **body})
            return self.projects[-1]
        if method == "PATCH" and path.startswith("/api/projects/"):
            self.projects[0].update(body)
            return self.projects[0]
        kind = "export/s3" if "/export/" in path else "s3"
        if path.endswith("/sync"):
            return {"id": 1, "status": "completed", "last_sync_count": 600}
        if method == "GET":
            return self.storages[kind]
        if method == "POST":
            self.storages[kind].append({"id": len(self.storages[kind]) + 1, **body})
            return self.storages[kind][-1]
        storage = self.storages[kind][0]
        storage.update(body)
        return storage


SETUP = StudioSetup(
    workflow="sentiment-studio",
    run_id="3f2a",
    run_name="sentiment-studio-3f2a",
    title="sentiment-studio-3f2a",
    description="run 3f2a",
    label_config="<View/>",
    source={"bucket": "ops-data", "prefix": "runs/3f2a/label-studio/tasks", "presign": True},
    target={"bucket": "ops-data", "prefix": "runs/3f2a/label-studio/annotations"},
    role_arn=ROLE,
    host_kind="ecs_task_role",
    region="us-east-1",
)


def test_applying_twice_changes_nothing_the_second_time() -> None:
    server = RecordedLabelStudio()
    api = LabelStudioApi("https://ls.example.com/", "secret-token", opener=server)
    first = apply(SETUP, api)
    assert (first.project_id, first.imported) == (7, 600)
    assert first.created == ["project", "source storage", "target storage"]
    assert first.project_url == "https://ls.example.com/projects/7/data"
    assert ("POST", "/api/storages/s3", {"project": 7, **SETUP.source}) in server.calls
    assert ("POST", "/api/storages/s3/1/sync", {}) in server.calls

    server.calls.clear()
    second = apply(SETUP, api)
    assert (second.created, second.updated) == ([], [])
    assert [c[0] for c in server.calls] == ["GET", "GET", "GET", "GET", "POST"]  # the sync only

    changed = StudioSetup(**{**SETUP.__dict__, "label_config": "<View><Text/></View>"})
    assert apply(changed, api).updated == ["project (label_config)"]
    assert server.projects[0]["label_config"] == "<View><Text/></View>"


def test_label_studio_refusals_say_what_and_where() -> None:
    def refuse(request: urllib.request.Request, timeout: float) -> Any:
        raise urllib.error.HTTPError(
            request.full_url,
            401,
            "Unauthorized",
            {},
            io.BytesIO(b'{"detail": "bad token"}'),  # type: ignore[arg-type]
        )

    with pytest.raises(CliError) as caught:
        apply(SETUP, LabelStudioApi("https://ls.example.com", "x", opener=refuse))
    assert (
        "Label Studio refused GET /api/projects?title=sentiment-studio-3f2a: HTTP 401 "
        '{"detail": "bad token"}' in caught.value.format_message()
    )
    assert "Check the token in LABEL_STUDIO_API_KEY" in caught.value.format_message()

    def failed_sync(request: urllib.request.Request, timeout: float) -> Any:
        if request.full_url.endswith("/sync"):
            return io.BytesIO(b'{"status": "failed", "traceback": "AccessDenied: ListObjectsV2"}')
        return RecordedLabelStudio()(request, timeout)

    with pytest.raises(CliError) as caught:
        apply(SETUP, LabelStudioApi("https://ls.example.com", "secret-token", opener=failed_sync))
    assert "could not import the tasks of runs/3f2a/label-studio/tasks: AccessDenied" in str(
        caught.value
    )
    with pytest.raises(CliError, match="--url must be Label Studio's http"):
        LabelStudioApi("ftp://ls", "x")


def test_a_personal_access_token_is_exchanged_for_an_access_token() -> None:
    def jwt(claims: dict[str, Any]) -> str:
        import base64

        part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        return f"e30.{part}.sig"

    seen: list[tuple[str, Any, str | None]] = []
    access = jwt({"token_type": "access"})

    def server(request: urllib.request.Request, timeout: float) -> Any:
        body = json.loads(request.data) if request.data else None  # type: ignore[arg-type]
        seen.append((request.full_url, body, request.headers.get("Authorization")))
        if request.full_url.endswith("/api/token/refresh/"):
            return io.BytesIO(json.dumps({"access": access}).encode())
        return io.BytesIO(b"[]")

    refresh = jwt({"token_type": "refresh"})
    api = LabelStudioApi("https://ls.example.com", refresh, opener=server)
    api.call("GET", "/api/projects?title=x")
    assert seen == [
        ("https://ls.example.com/api/token/refresh/", {"refresh": refresh}, None),
        ("https://ls.example.com/api/projects?title=x", None, f"Bearer {access}"),
    ]


def test_label_auto_offers_label_studio_only_to_its_workflows(platform: Platform) -> None:
    deploy(platform)
    external = smkit(
        platform, "label", "auto", "external-auto", "-m", "x.manifest", "--human-mode",
        "label_studio",
    )  # fmt: skip
    assert external.exit_code == 2
    assert "external-auto's human step is external: --human-mode must be external" in (
        external.output
    )
    studio = smkit(
        platform, "label", "auto", "sentiment-studio", "-m", "x.manifest", "--human-mode",
        "ground_truth",
    )  # fmt: skip
    assert studio.exit_code == 2
    assert (
        "sentiment-studio's human step is label_studio: --human-mode must be label_studio or "
        "external" in studio.output
    )
