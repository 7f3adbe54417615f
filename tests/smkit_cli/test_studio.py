"""`smkit studio open` and the Studio part of `smkit status`. moto has no Studio user
profiles, spaces, apps or presigned domain URLs: those calls are answered at botocore's
before-call hook, which has validated each request against botocore's model first."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .conftest import ACCOUNT, HERE, Platform

STUDIO_CONFIG = HERE / "studio.yaml"
DOMAIN = "d-abc123def456"
URL = f"https://{DOMAIN}.studio.us-east-1.sagemaker.aws/auth?token=abc"
NOT_FOUND = {"Error": {"Code": "ResourceNotFound", "Message": "User profile does not exist"}}


def deploy(platform: Platform) -> None:
    platform.deploy("Foundation", {"DataBucketName": "ops-data"})
    platform.deploy("Studio", {"DomainId": DOMAIN, "DomainUrl": "https://studio"})


def test_open_prints_a_presigned_url_of_the_users_studio(platform: Platform) -> None:
    deploy(platform)
    with ExitStack() as stack:
        described = stack.enter_context(
            platform.answering("DescribeUserProfile", {"UserProfileName": "alice"})
        )
        presigned = stack.enter_context(
            platform.answering("CreatePresignedDomainUrl", {"AuthorizedUrl": URL})
        )
        result = platform.run(
            "studio", "open", "alice", "--session-minutes", "60", config=STUDIO_CONFIG
        )
    assert result.exit_code == 0, result.output
    assert [json.loads(b) for b in described] == [{"DomainId": DOMAIN, "UserProfileName": "alice"}]
    assert [json.loads(b) for b in presigned] == [
        {
            "DomainId": DOMAIN,
            "UserProfileName": "alice",
            "SessionExpirationDurationInSeconds": 3600,
            "ExpiresInSeconds": 300,
            "LandingUri": "studio::",
        }
    ]
    assert result.stdout.splitlines()[-1] == URL
    assert "Studio for alice on Studio's home. Open this URL within 5 minutes" in result.stdout


def test_open_a_space_of_the_users_own(platform: Platform) -> None:
    deploy(platform)
    space = {"SpaceName": "alice-main", "OwnershipSettings": {"OwnerUserProfileName": "alice"}}
    with ExitStack() as stack:
        stack.enter_context(platform.answering("DescribeUserProfile", {}))
        stack.enter_context(platform.answering("DescribeSpace", space))
        presigned = stack.enter_context(
            platform.answering("CreatePresignedDomainUrl", {"AuthorizedUrl": URL})
        )
        result = platform.run(
            "studio", "open", "ops-alice", "--space", "alice-main", "--json", config=STUDIO_CONFIG
        )
    assert result.exit_code == 0, result.output
    request = json.loads(presigned[0])
    assert (request["SpaceName"], request["LandingUri"]) == ("alice-main", "app:JupyterLab:")
    assert json.loads(result.stdout) == {
        "user": "alice",
        "domain_id": DOMAIN,
        "space": "alice-main",
        "url": URL,
        "session_minutes": 720,
        "open_within_minutes": 5,
    }


def test_another_users_space_is_refused(platform: Platform) -> None:
    deploy(platform)
    space = {"SpaceName": "alice-main", "OwnershipSettings": {"OwnerUserProfileName": "alice"}}
    with ExitStack() as stack:
        stack.enter_context(platform.answering("DescribeUserProfile", {}))
        stack.enter_context(platform.answering("DescribeSpace", space))
        presigned = stack.enter_context(
            platform.answering("CreatePresignedDomainUrl", {"AuthorizedUrl": URL})
        )
        result = platform.run(
            "studio", "open", "bob", "--space", "alice-main", config=STUDIO_CONFIG
        )
    assert result.exit_code == 2
    assert "space alice-main belongs to alice, not bob" in result.output
    assert presigned == []


def test_unknown_users_and_missing_profiles_say_what_to_do(platform: Platform) -> None:
    deploy(platform)
    result = platform.run("studio", "open", "carol", config=STUDIO_CONFIG)
    assert result.exit_code == 2
    assert (
        "no Studio user 'carol' in" in result.output and "configured: alice, bob" in result.output
    )
    with platform.answering("DescribeUserProfile", NOT_FOUND, status=400):
        result = platform.run("studio", "open", "bob", config=STUDIO_CONFIG)
    assert result.exit_code == 4
    assert f"user profile bob does not exist in the Studio domain {DOMAIN}" in result.output


def test_without_the_studio_stack_or_section(platform: Platform, tmp_path: Path) -> None:
    platform.deploy("Foundation", {})
    result = platform.run("studio", "open", "alice", config=STUDIO_CONFIG)
    assert result.exit_code == 4 and "stack ops-Studio is not deployed" in result.output
    result = platform.run("studio", "open", "alice")  # ops.yaml: no studio section
    assert result.exit_code == 4
    assert "has no `studio` section, so it deploys no Studio domain" in result.output


def test_an_sso_domain_has_no_presigned_urls(platform: Platform, tmp_path: Path) -> None:
    config = tmp_path / "sso.yaml"
    text = STUDIO_CONFIG.read_text().replace("studio:\n", "studio:\n  auth: sso\n")
    text = text.replace("team: nlp", "team: nlp\n      sso_user_name: bob")
    config.write_text(
        text.replace("team: forecasting", "team: forecasting\n      sso_user_name: al")
    )
    deploy(platform)
    result = platform.run("studio", "open", "alice", config=config)
    assert result.exit_code == 2
    assert "signs users in with IAM Identity Center" in result.output


def studio_answers(now: datetime) -> dict[str, dict[str, Any]]:
    return {
        "ListUserProfiles": {
            "UserProfiles": [
                {"DomainId": DOMAIN, "UserProfileName": "alice", "Status": "InService"}
            ]
        },
        "ListSpaces": {
            "Spaces": [
                {
                    "DomainId": DOMAIN,
                    "SpaceName": "alice-main",
                    "Status": "InService",
                    "OwnershipSettingsSummary": {"OwnerUserProfileName": "alice"},
                    "SpaceSharingSettingsSummary": {"SharingType": "Private"},
                }
            ]
        },
        "ListApps": {
            "Apps": [
                {
                    "DomainId": DOMAIN,
                    "SpaceName": "alice-main",
                    "AppType": "JupyterLab",
                    "AppName": "default",
                    "Status": "InService",
                    "CreationTime": now - timedelta(hours=2, minutes=5),
                    "ResourceSpec": {"InstanceType": "ml.g5.xlarge"},
                },
                {
                    "DomainId": DOMAIN,
                    "SpaceName": "alice-main",
                    "AppType": "CodeEditor",
                    "AppName": "default",
                    "Status": "Deleted",
                    "CreationTime": now - timedelta(days=1),
                    "ResourceSpec": {"InstanceType": "ml.t3.medium"},
                },
            ]
        },
    }


def test_status_lists_users_spaces_and_running_apps(platform: Platform) -> None:
    deploy(platform)
    platform.deploy("Cost", {"BudgetName": "ops-sagemaker-monthly"})
    platform.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "ops-sagemaker-monthly",
            "BudgetLimit": {"Amount": "1000", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
    )
    with ExitStack() as stack:
        requests = {
            operation: stack.enter_context(platform.answering(operation, answer))
            for operation, answer in studio_answers(platform.clock.now).items()
        }
        result = platform.run("status", "--json", config=STUDIO_CONFIG)
        screen = platform.run("status", config=STUDIO_CONFIG)
    assert result.exit_code == 0, result.output
    assert json.loads(requests["ListApps"][0]) == {"MaxResults": 100, "DomainIdEquals": DOMAIN}
    data = json.loads(result.stdout)
    assert [s["stack"] for s in data["stacks"]] == ["ops-Foundation", "ops-Cost", "ops-Studio"]
    assert data["studio"] == {
        "domain_id": DOMAIN,
        "users": [
            {
                "name": "alice",
                "team": "forecasting",
                "email": "alice@example.com",
                "status": "InService",
            },
            {"name": "bob", "team": "nlp", "email": "bob@example.com", "status": "NotFound"},
        ],
        "spaces": [
            {"name": "alice-main", "owner": "alice", "sharing": "Private", "status": "InService"}
        ],
        "running_apps": [
            {
                "space": "alice-main",
                "user": None,
                "app_type": "JupyterLab",
                "app": "default",
                "instance_type": "ml.g5.xlarge",
                "status": "InService",
                "running_for": "2:05:00",
            }
        ],
    }
    assert screen.exit_code == 0, screen.output
    for text in (f"Studio domain {DOMAIN}:", "Studio users", "Studio spaces", "Running Studio apps",
                 "JupyterLab default", "ml.g5.xlarge", "2:05:00"):  # fmt: skip
        assert text in screen.stdout
    assert "the guard stops jobs, notebooks and Studio apps at 90%" in screen.stdout
