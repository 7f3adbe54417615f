"""What Label Studio needs for one auto-labeling run (`smkit label studio-setup`): the
project (title, labeling config), the S3 source and target storages, and the AWS profile
of Label Studio's host; and applying them through Label Studio's REST API.

The API calls (Label Studio 1.23's REST API, the same paths label-studio-sdk uses):

    GET   /api/projects?title=<title>          find the run's project
    GET   /api/projects/<id>                    its labeling config
    POST  /api/projects                         create it with the labeling config
    PATCH /api/projects/<id>                    bring its labeling config up to date
    GET   /api/storages/s3?project=<id>         its source storages
    POST  /api/storages/s3 | PATCH .../<id>     the run's source storage
    POST  /api/storages/s3/<id>/sync            import the tasks
    GET   /api/storages/export/s3?project=<id>  its target storages
    POST  /api/storages/export/s3 | PATCH ...   the run's target storage

Applying twice changes nothing: the project is found by its title, a storage by its
bucket and prefix, and a source sync imports only files it has not imported yet.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CliError, ExitCode

TOKEN_ENV = "LABEL_STUDIO_API_KEY"  # noqa: S105 (the variable's name, not a secret)
"""Where the Label Studio token comes from (label-studio-sdk's name for it)."""
SYNC_TIMEOUT_SECONDS = 600
"""A source sync imports every task file before it answers (without Label Studio's queue)."""
CALL_TIMEOUT_SECONDS = 60

CREDENTIAL_SOURCES = {"ecs_task_role": "EcsContainer", "ec2_instance_role": "Ec2InstanceMetadata"}


@dataclass(frozen=True)
class StudioSetup:
    """Everything Label Studio needs for one run."""

    workflow: str
    run_id: str
    run_name: str
    title: str
    description: str
    label_config: str
    source: dict[str, Any]
    target: dict[str, Any]
    role_arn: str
    host_kind: str
    """`ecs_task_role`, `ec2_instance_role` or `account`."""
    region: str
    external_id: str | None = None

    def aws_profile(self, name: str = "smkit-label-studio") -> str:
        """The AWS config profile on Label Studio's host that assumes the role."""
        lines = [f"[profile {name}]", f"role_arn = {self.role_arn}"]
        if self.host_kind in CREDENTIAL_SOURCES:
            lines.append(f"credential_source = {CREDENTIAL_SOURCES[self.host_kind]}")
        else:
            lines.append("source_profile = <a profile of the host's own credentials>")
            lines.append(f"external_id = {self.external_id}")
        lines.append(f"region = {self.region}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        """For `--json`."""
        return {
            "workflow": self.workflow,
            "run_id": self.run_id,
            "project": {
                "title": self.title,
                "description": self.description,
                "label_config": self.label_config,
            },
            "source_storage": self.source,
            "target_storage": self.target,
            "role_arn": self.role_arn,
            "aws_profile": self.aws_profile(),
        }


@dataclass
class Applied:
    """What applying did."""

    project_id: int
    project_url: str
    created: list[str] = field(default_factory=list)
    """What was created (`project`, `source storage`, `target storage`)."""
    updated: list[str] = field(default_factory=list)
    imported: int | None = None
    """Tasks the source sync imported (None when Label Studio did not say)."""


Opener = Callable[[urllib.request.Request, float], Any]


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) URL checked)


class LabelStudioApi:
    """A minimal client of Label Studio's REST API (JSON in, JSON out)."""

    def __init__(self, url: str, token: str, *, opener: Opener = _open) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CliError(
                f"--url must be Label Studio's http(s) address, e.g. https://label-studio."
                f"example.com (got {url!r})",
                ExitCode.USAGE,
            )
        self.url = url.rstrip("/")
        self._opener = opener
        self._authorization = self._scheme(token)

    def _scheme(self, token: str) -> str:
        """A legacy token is sent as `Token <key>`; a personal access token (a JWT refresh
        token) is first exchanged for an access token, sent as `Bearer`."""
        claims = _jwt_claims(token)
        if claims is None:
            return f"Token {token}"
        if claims.get("token_type") == "refresh":
            answer = self._call("POST", "/api/token/refresh/", {"refresh": token}, auth=False)
            token = str(answer.get("access", ""))
        return f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, *, timeout: float = 0) -> Any:
        """One API call; CliError on a refusal, naming the call and what Label Studio said."""
        return self._call(method, path, body, timeout=timeout or CALL_TIMEOUT_SECONDS)

    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: bool = True,
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> Any:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = self._authorization
        # The scheme is checked in __init__ (http or https only).
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method=method,
        )
        try:
            with self._opener(request, timeout) as answer:
                data = answer.read()
        except urllib.error.HTTPError as err:
            said = err.read().decode(errors="replace")[:500]
            hint = (
                f"Check the token in {TOKEN_ENV} (Label Studio: Account & Settings, "
                "Personal Access Token or legacy token)."
                if err.code in (401, 403)
                else None
            )
            raise CliError(
                f"Label Studio refused {method} {path}: HTTP {err.code} {said}",
                ExitCode.FAILED,
                hint=hint,
            ) from None
        except (urllib.error.URLError, OSError) as err:
            raise CliError(
                f"cannot reach Label Studio at {self.url} ({err})", ExitCode.FAILED
            ) from None
        return json.loads(data) if data else None


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (unverified: only to tell the token kinds apart), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def _listed(answer: Any) -> list[dict[str, Any]]:
    """The items of a list answer, paginated (`results`) or not."""
    if isinstance(answer, dict):
        answer = answer.get("results", [])
    return [item for item in answer or [] if isinstance(item, dict)]


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in wanted.items() if current.get(key) != value}


def apply(setup: StudioSetup, api: LabelStudioApi) -> Applied:
    """Create or update the run's project and storages, then import its tasks."""
    title = urllib.parse.quote(setup.title)
    listed = _listed(api.call("GET", f"/api/projects?title={title}"))
    found = [p for p in listed if p.get("title") == setup.title]
    created: list[str] = []
    updated: list[str] = []
    if found:
        # The list holds a summary of each project: its config comes with the project.
        project = api.call("GET", f"/api/projects/{found[0]['id']}")
        change = _differs(
            project, {"label_config": setup.label_config, "description": setup.description}
        )
        if change:
            api.call("PATCH", f"/api/projects/{project['id']}", change)
            updated.append(f"project ({', '.join(sorted(change))})")
    else:
        project = api.call(
            "POST",
            "/api/projects",
            {
                "title": setup.title,
                "description": setup.description,
                "label_config": setup.label_config,
            },
        )
        created.append("project")
    project_id = int(project["id"])
    source = _storage(
        api, "/api/storages/s3", project_id, setup.source, "source storage", created, updated
    )
    _storage(
        api, "/api/storages/export/s3", project_id, setup.target, "target storage", created, updated
    )
    synced = api.call("POST", f"/api/storages/s3/{source}/sync", {}, timeout=SYNC_TIMEOUT_SECONDS)
    if isinstance(synced, dict) and synced.get("status") == "failed":
        raise CliError(
            f"Label Studio could not import the tasks of {setup.source['prefix']}: "
            f"{str(synced.get('traceback') or '')[-500:]}",
            ExitCode.FAILED,
            hint="Check that Label Studio's host uses the AWS profile that assumes "
            f"{setup.role_arn} (docs/label-studio.md).",
        )
    count = synced.get("last_sync_count") if isinstance(synced, dict) else None
    return Applied(
        project_id=project_id,
        project_url=f"{api.url}/projects/{project_id}/data",
        created=created,
        updated=updated,
        imported=count if isinstance(count, int) else None,
    )


def _storage(
    api: LabelStudioApi,
    path: str,
    project_id: int,
    wanted: dict[str, Any],
    what: str,
    created: list[str],
    updated: list[str],
) -> int:
    """The id of the project's storage of `wanted`'s bucket and prefix, made or updated."""
    existing = [
        s
        for s in _listed(api.call("GET", f"{path}?project={project_id}"))
        if s.get("bucket") == wanted["bucket"] and s.get("prefix") == wanted["prefix"]
    ]
    if existing:
        change = _differs(existing[0], wanted)
        if change:
            api.call("PATCH", f"{path}/{existing[0]['id']}", {"project": project_id, **change})
            updated.append(f"{what} ({', '.join(sorted(change))})")
        return int(existing[0]["id"])
    made = api.call("POST", path, {"project": project_id, **wanted})
    created.append(what)
    return int(made["id"])
