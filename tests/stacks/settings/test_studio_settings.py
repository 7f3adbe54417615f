"""The `studio` section: defaults, the rules AWS sets (names, volumes, idle timeouts,
instance types per app), what the network mode allows, and the cost limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.settings import ConfigError, load_settings, parse_settings
from stacks.settings.base import ResourceUsage

ROOT = Path(__file__).resolve().parents[3]
ALICE = "    - {name: alice, email: alice@example.com, team: forecasting}\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def config(studio: str, *, network: str = "network: {mode: none}\n", extra: str = "") -> str:
    return f"name_prefix: demo\n{network}{extra}studio:\n{studio}"


def test_a_minimal_domain_gets_the_kits_defaults() -> None:
    settings = parse_settings(config(f"  users:\n{ALICE}"))
    studio = settings.studio
    assert studio is not None
    assert studio.auth == "iam" and studio.users_create_spaces is True
    assert studio.default_instance_type == "ml.t3.medium"
    assert (studio.space_storage.default_size_gb, studio.space_storage.max_size_gb) == (5, 100)
    idle = studio.idle_shutdown
    assert (idle.enabled, idle.idle_minutes, idle.min_minutes, idle.max_minutes) == (
        True,
        60,
        60,
        480,
    )
    assert studio.code_editor is True and studio.kernels == {}
    assert studio.custom_image is None and studio.private_studio_endpoint is False
    (user,) = studio.users
    assert (user.own_role, user.sso_user_name, user.spaces) == (False, None, [])


def test_the_default_config_has_no_studio_and_the_full_one_two_users() -> None:
    assert load_settings(ROOT / "config" / "default.yaml").studio is None
    full = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert full.studio is not None
    assert [u.name for u in full.studio.users] == ["alice", "bob"]
    assert full.studio.resource_usages() == [
        ResourceUsage(
            kind="studio", path="studio.default_instance_type", instance_type="ml.t3.medium"
        )
    ]


def test_field_rules_name_the_path_the_value_and_what_is_allowed() -> None:
    # STUDIO-1 (app instance types), STUDIO-2 (names), STUDIO-3 (volumes), STUDIO-4 (idle).
    problems = problems_of(
        config(
            "  default_instance_type: system\n"
            "  space_storage: {default_size_gb: 2}\n"
            "  idle_shutdown: {idle_minutes: 30}\n"
            "  users:\n"
            "    - name: Alice_1\n"
            "      email: alice@example.com\n"
            "      team: forecasting\n"
            "      spaces: [{name: main, instance_type: ml.g7.2xlarge, volume_size_gb: 20000}]\n"
        )
    )
    assert problems == [
        "studio.users[0].name (line 8): must be 1-63 lower-case letters, digits and hyphens, "
        "starting and ending with a letter or digit (got 'Alice_1')",
        "studio.users[0].spaces[0].instance_type (line 11): is accepted by the SageMaker API "
        "but not yet by AWS::SageMaker::Domain and AWS::SageMaker::Space as a default "
        "instance type; choose another default (users may still start it when "
        "cost.limits.instance_types.studio allows it) (got 'ml.g7.2xlarge')",
        "studio.users[0].spaces[0].volume_size_gb (line 11): Input should be less than or "
        "equal to 16384 (got 20000)",
        "studio.default_instance_type (line 4): must be an instance type a Studio JupyterLab "
        "app runs on: ml.c5.12xlarge, ml.c5.18xlarge, ml.c5.24xlarge, ml.c5.2xlarge, "
        "ml.c5.4xlarge, ml.c5.9xlarge, ml.c5.large, ml.c5.xlarge, ... (174 in all) "
        "(got 'system')",
        "studio.space_storage.default_size_gb (line 5): Input should be greater than or equal "
        "to 5 (got 2)",
        "studio.idle_shutdown.idle_minutes (line 6): Input should be greater than or equal to "
        "60 (got 30)",
    ]


def test_cross_field_rules_are_each_at_their_entry() -> None:
    problems = problems_of(
        config(
            "  space_storage: {default_size_gb: 50, max_size_gb: 20}\n"
            "  idle_shutdown: {idle_minutes: 600, max_minutes: 240}\n"
            "  users:\n"
            "    - name: alice\n"
            "      email: alice@example.com\n"
            "      team: forecasting\n"
            "      spaces: [{name: main, volume_size_gb: 30}]\n"
            "    - {name: alice, email: bob@example.com, team: nlp, sso_user_name: bob,\n"
            "       spaces: [{name: main}]}\n"
        )
    )
    assert problems == [
        "studio.space_storage.max_size_gb (line 4): 20 GB is below default_size_gb (50 GB); "
        "the maximum must be at least the default",
        "studio.idle_shutdown.idle_minutes (line 5): 600 minutes must lie within "
        "min_minutes-max_minutes (60-240)",
        "studio.users[0].spaces[0].volume_size_gb (line 10): 30 GB is above "
        "space_storage.max_size_gb (20 GB)",
        "studio.users[1].name (line 11): 'alice' is already the name of users[0]; user names "
        "are unique in a domain",
        "studio.users[1].sso_user_name (line 11): is for auth 'sso' only (this domain signs "
        "users in with IAM)",
        "studio.users[1].spaces[0].name (line 12): 'main' is already the name of "
        "users[0].spaces[0]; space names are unique in a domain",
    ]


def test_sso_needs_each_users_identity_center_name() -> None:
    problems = problems_of(config(f"  auth: sso\n  users:\n{ALICE}"))
    assert problems == [
        "studio.users[0].sso_user_name (line 6): auth is 'sso': each user needs the user name "
        "of their IAM Identity Center user"
    ]


def test_an_email_that_cannot_be_a_tag_is_refused() -> None:
    (problem,) = problems_of(
        config('  users:\n    - {name: alice, email: "o\'brien@example.com", team: t}\n')
    )
    assert problem.startswith("studio.users[0].email (line 5): ")
    assert "must fit an AWS tag value" in problem


def test_instance_types_must_be_within_the_cost_limits() -> None:
    problems = problems_of(
        config(
            "  default_instance_type: ml.m5.xlarge\n  users:\n"
            "    - {name: alice, email: a@example.com, team: t,\n"
            "       spaces: [{name: gpu, instance_type: ml.g5.xlarge}]}\n",
            extra=(
                "cost:\n  limits:\n    instance_types:\n"
                "      studio: [ml.t3.medium, ml.g7.2xlarge]\n"
            ),
        )
    )
    assert problems == [
        "studio.default_instance_type (line 8): studio instance type 'ml.m5.xlarge' is not "
        "allowed by cost.limits.instance_types.studio; allowed: ml.g7.2xlarge, ml.t3.medium "
        "(got 'ml.m5.xlarge')",
        "studio.users[0].spaces[0].instance_type (line 11): studio instance type "
        "'ml.g5.xlarge' is not allowed by cost.limits.instance_types.studio; allowed: "
        "ml.g7.2xlarge, ml.t3.medium (got 'ml.g5.xlarge')",
    ]
    (unknown,) = problems_of(
        config(
            f"  users:\n{ALICE}",
            extra="cost:\n  limits:\n    instance_types:\n      studio: [system]\n",
        )
    )
    assert unknown.startswith(
        "cost.limits.instance_types.studio[0] (line 6): 'system' is not a studio instance "
        "type SageMaker accepts"
    )


def test_the_network_mode_decides_what_is_possible() -> None:
    existing = (
        "network:\n  mode: existing\n  vpc_id: vpc-0123456789abcdef0\n"
        "  subnet_ids: [subnet-0123456789abcdef0]\n"
        "  security_group_ids: [sg-00000001, sg-00000002, sg-00000003, sg-00000004,"
        " sg-00000005]\n"
    )
    # STUDIO-5: SageMaker adds a group of its own for the home file system.
    assert problems_of(config(f"  users:\n{ALICE}", network=existing)) == [
        "network.security_group_ids (line 6): lists 5 groups and a Studio domain takes at most "
        "4 (SageMaker adds one for the home file system); list at most 4, or configure no "
        "studio section"
    ]
    assert problems_of(config(f"  private_studio_endpoint: true\n  users:\n{ALICE}")) == [
        "studio.private_studio_endpoint (line 4): needs network mode 'private' (the kit's "
        "VPC); in mode 'existing' create the endpoint in your VPC, in mode 'none' there is no "
        "VPC to reach"
    ]
    offline = config(
        f"  kernels:\n    torch: {{pip_packages: [torch==2.5.1]}}\n  users:\n{ALICE}",
        network="network: {mode: private}\n",
    )
    assert problems_of(offline) == [
        "studio.kernels (line 4): network mode 'private' has no route to the internet, so "
        "building kernels needs studio.package_sources.conda_channels (a conda mirror; "
        "conda-forge is out of reach) and pip_index_url (a PyPI mirror; PyPI is out of reach) "
        "reachable from the VPC"
    ]


def test_a_domain_over_cloudformations_500_resources_is_refused_at_the_user_that_passes_it() -> (
    None
):
    # STACK-1: 6 fixed and 17 for the home VPC; each user here brings 1 + 2 + 3 = 6.
    users = "".join(
        f"    - {{name: u{i}, email: u{i}@example.com, team: t, own_role: true,\n"
        f"       spaces: [{{name: a{i}}}, {{name: b{i}}}, {{name: c{i}}}]}}\n"
        for i in range(90)
    )
    (problem,) = problems_of(config(f"  users:\n{users}"))
    assert problem.startswith(
        "studio.users[79] (line 163): stack demo-Studio would hold 563 resources and "
        "CloudFormation allows 500 per stack; it passes 500 here (6 resources for this user)"
    )
