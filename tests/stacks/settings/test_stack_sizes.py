"""The config check counts each stack's resources from the settings (STACK-1): the counts
equal what synthesis makes for every kind of entry, and a config whose stack would pass
CloudFormation's 500 is refused at the entry that passes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.settings import ConfigError, PlatformSettings, parse_settings
from stacks.settings.stack_sizes import stack_shares
from tests.oracles.synth import Synthesis, synthesize

MODEL = {
    "source": "artifact",
    "image": {"type": "builtin", "algorithm": "forecasting-deepar"},
    "model_data": "demand/model.tar.gz",
}
DEEPAR = {
    "image": {"source": "builtin", "algorithm": "forecasting-deepar"},
    "instance_type": "ml.c5.2xlarge",
    "hyperparameters": {
        "time_freq": "D",
        "prediction_length": 14,
        "context_length": 28,
        "epochs": 10,
    },
    "channels": {"train": {"s3_key": "demand/train/"}},
    "checkpoints": False,
}
TUNING = {
    "training": "demand",
    "objective": {"metric": "train:final_loss", "type": "Minimize"},
    "ranges": {"epochs": {"kind": "integer", "min": 5, "max": 50}},
    "schedule": "rate(7 days)",
}
WORKFLOW = {
    "name": "sentiment",
    "task_type": "text_classification",
    "labels": ["positive", "negative"],
    "title": "Sentiment",
    "description": "Pick the sentiment.",
    "instructions": "Read it all.",
    "workforce": {"type": "private", "team": "reviewers"},
}
# The kinds of entry the full example does not have (tests/conftest.py synthesizes that).
OTHER_KINDS: dict[str, dict[str, Any]] = {
    "oidc": {
        "name_prefix": "sizes",
        "alerts": {"emails": ["a@example.com", "b@example.com"]},
        "cost": {
            "budget": {
                "monthly_limit_usd": 100,
                "teams": [
                    {"team": "a", "monthly_limit_usd": 10},
                    {"team": "b", "monthly_limit_usd": 10},
                ],
            }
        },
        "notebooks": {
            "repositories": {"ml": {"url": "https://git.example.com/ml.git"}},
            "instances": [
                {"name": "quiet", "owner": "o", "idle_stop": False},
                {"name": "busy", "owner": "o"},
            ],
        },
        "inference": {
            "endpoints": {
                "fixed": {
                    "model": MODEL,
                    "variant": {"kind": "instance", "instance_type": "ml.c5.xlarge"},
                },
                "queue": {
                    "model": MODEL,
                    "variant": {"kind": "async", "instance_type": "ml.c5.xlarge"},
                },
                "warm-queue": {
                    "model": MODEL,
                    "variant": {
                        "kind": "async",
                        "instance_type": "ml.c5.xlarge",
                        "autoscaling": {"min_capacity": 1, "max_capacity": 2},
                    },
                },
            }
        },
        "training": {"definitions": {"demand": DEEPAR}, "tuning": {"demand-hpo": TUNING}},
        "labeling": {
            "workforce": {
                "mode": "oidc",
                **{
                    key: f"https://idp.example.com/{key}"
                    for key in (
                        "issuer",
                        "authorization_endpoint",
                        "token_endpoint",
                        "user_info_endpoint",
                        "logout_endpoint",
                        "jwks_uri",
                    )
                },
                "client_id": "labelers",
                "client_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:idp",
            },
            "teams": [{"name": "reviewers"}, {"name": "experts"}],
            "auto_labeling": [
                {
                    "name": "photos",
                    "data_type": "image",
                    "labels": ["a", "b"],
                    "endpoint_names": ["m"],
                    "human_review": {
                        "mode": "external",
                        "notify_emails": ["r@example.com", "s@example.com"],
                    },
                },
                # Two Label Studio workflows of one host share its role.
                *(
                    {
                        "name": name,
                        "data_type": "image",
                        "multi_label": True,
                        "labels": ["a", "b"],
                        "endpoint_names": ["m"],
                        "human_review": {
                            "mode": "label_studio",
                            "host": {"account": "210987654321", "external_id": "sizes"},
                            "notify_emails": ["r@example.com"],
                        },
                    }
                    for name in ("tags", "more-tags")
                ),
            ],
        },
    },
    "existing": {
        "name_prefix": "sizes",
        "cost": {"budget": {"monthly_limit_usd": 100, "guard": {}}},
        "labeling": {
            "workforce": {"mode": "existing", "identity": "oidc"},
            "teams": [{"name": "reviewers"}],
            "workflows": [WORKFLOW],
        },
        "transform": {
            "definitions": {
                "scores": {
                    "model": MODEL,
                    "input_prefix": "in/",
                    "instance_type": "ml.m5.xlarge",
                    "batch_strategy": "SingleRecord",
                }
            }
        },
    },
}


def assert_counts_match(synthesis: Synthesis) -> None:
    counted = {
        synthesis.settings.stack_name(unit): sum(share.resources for share in shares)
        for unit, shares in stack_shares(synthesis.settings).items()
    }
    made = {
        path.name.removesuffix(".template.json"): len(json.loads(path.read_text())["Resources"])
        for path in synthesis.template_paths()
    }
    assert counted == {name: made[name] for name in counted}


def test_counts_match_the_shipped_configs(any_synth: Synthesis) -> None:
    assert_counts_match(any_synth)


@pytest.mark.parametrize("kind", sorted(OTHER_KINDS))
def test_counts_match_the_other_kinds_of_entry(tmp_path: Path, kind: str) -> None:
    config = tmp_path / "sizes.yaml"
    config.write_text(yaml.safe_dump(OTHER_KINDS[kind], sort_keys=False))
    assert_counts_match(synthesize(config, tmp_path / "cdk.out"))


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def test_a_stack_over_500_resources_is_refused_at_the_entry_that_passes_it() -> None:
    endpoints = "".join(
        f"    e{i:02}:\n      model: {{source: artifact, image: {{type: uri, uri: a/b:1}}, "
        "model_data: m.tar.gz}\n"
        "      variant: {kind: async, instance_type: ml.m5.xlarge,\n"
        "                autoscaling: {max_capacity: 2}}\n"
        for i in range(35)
    )
    problems = problems_of(f"name_prefix: demo\ninference:\n  endpoints:\n{endpoints}")
    assert problems == [
        # 16 resources each: the 32nd endpoint (e31) makes 512.
        "inference.endpoints.e31 (line 128): stack demo-Inference would hold 560 resources and "
        "CloudFormation allows 500 per stack; it passes 500 here (16 resources for this "
        "endpoint): remove entries from here on, or move them to another config (its own "
        "name_prefix)"
    ]


def test_workers_of_all_teams_count_together() -> None:
    def team(name: str) -> str:
        workers = "".join(f"        - {name}{i}@example.com\n" for i in range(100))
        return f"    - name: {name}\n      workers:\n{workers}"

    problems = problems_of(
        "name_prefix: demo\nlabeling:\n  workforce: {mode: cognito, domain_prefix: demo}\n"
        "  teams:\n" + team("a") + team("b")
    )
    # 16 fixed + 4 per team + 3 per worker: worker 59 of the second team makes 501.
    assert problems == [
        "labeling.teams[1].workers[58] (line 167): stack demo-Workforce would hold 624 "
        "resources and CloudFormation allows 500 per stack; it passes 500 here (3 resources "
        "per worker (user, group membership, task subscription)): remove entries from here "
        "on, or move them to another config (its own name_prefix)"
    ]


def test_email_lists_are_capped() -> None:
    emails = "".join(f"    - a{i}@example.com\n" for i in range(101))
    (problem,) = problems_of(f"name_prefix: demo\nalerts:\n  emails:\n{emails}")
    assert problem.startswith(
        "alerts.emails (line 3): List should have at most 100 items after validation, not 101"
    )


def test_a_config_within_the_limit_loads() -> None:
    settings = parse_settings(
        yaml.safe_dump(
            {**OTHER_KINDS["oidc"], "alerts": {"emails": [f"a{i}@example.com" for i in range(100)]}}
        )
    )
    assert isinstance(settings, PlatformSettings)
    assert sum(s.resources for s in stack_shares(settings)["Foundation"]) == 110
