"""Config files: the shipped ones load, and each kind of mistake is reported with
its field path, line, bad value and what is allowed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from stacks.settings import ConfigError, load_settings, parse_settings
from stacks.settings.foundation import ExistingNetwork, NoNetwork, PrivateNetwork

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(
    [
        ROOT / "config" / "default.yaml",
        ROOT / "config" / "starter.yaml",
        *(ROOT / "config" / "examples").glob("*.yaml"),
    ]
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def single_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_load(path: Path) -> None:
    settings = load_settings(path)
    assert settings.name_prefix


def test_default_config_is_cheap_when_idle() -> None:
    settings = load_settings(ROOT / "config" / "default.yaml")
    assert isinstance(settings.network, NoNetwork)  # no interface endpoints billed by the hour
    assert settings.account is None and settings.region is None  # environment-agnostic
    assert settings.protect_stateful_stacks is False  # dev


def test_full_config_uses_private_network_and_a_fixed_environment() -> None:
    settings = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert isinstance(settings.network, PrivateNetwork)
    assert settings.account == "123456789012" and settings.region == "us-east-1"
    assert settings.protect_stateful_stacks is True


def test_minimal_config_gets_documented_defaults() -> None:
    settings = parse_settings("name_prefix: demo\n")
    assert settings.environment == "dev"
    assert isinstance(settings.network, NoNetwork)
    assert settings.storage.noncurrent_version_expiration_days == 90
    assert settings.tags.project == "sagemaker-platform-kit"
    assert settings.stack_name("Foundation") == "demo-Foundation"


def test_existing_network_keeps_ids() -> None:
    settings = parse_settings(
        "name_prefix: demo\nnetwork:\n  mode: existing\n  vpc_id: vpc-0123456789abcdef0\n"
        "  subnet_ids: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]\n"
        "  security_group_ids: [sg-0123456789abcdef0]\n"
    )
    assert isinstance(settings.network, ExistingNetwork)
    assert settings.network.subnet_ids == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def test_termination_protection_can_be_forced_either_way() -> None:
    assert parse_settings("name_prefix: a1\ntermination_protection: true\n").protect_stateful_stacks
    prod_off = parse_settings("name_prefix: a1\nenvironment: prod\ntermination_protection: false\n")
    assert prod_off.protect_stateful_stacks is False


# --- one test per kind of mistake ----------------------------------------------------------


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    problem = single_problem("name_prefix: demo\nenviroment: prod\n")
    assert problem.startswith("enviroment (line 2): unknown key; allowed here: account, alerts,")
    assert "did you mean 'environment'?" in problem


def test_unknown_nested_key_lists_that_sections_keys() -> None:
    problem = single_problem("name_prefix: demo\nstorage:\n  noncurrent_days: 30\n")
    assert problem.startswith("storage.noncurrent_days (line 3): unknown key; allowed here: ")
    assert "abort_incomplete_upload_days, access_log_retention_days" in problem


def test_unknown_key_inside_a_network_mode() -> None:
    problem = single_problem("name_prefix: demo\nnetwork:\n  mode: private\n  nat_gateways: 1\n")
    assert problem.startswith("network.nat_gateways (line 4): unknown key; allowed here: ")
    assert "availability_zones, cidr, flow_log_retention_days, mode" in problem


def test_wrong_type_for_a_number() -> None:
    assert single_problem(
        "name_prefix: demo\nstorage:\n  abort_incomplete_upload_days: soon\n"
    ) == (
        "storage.abort_incomplete_upload_days (line 3): Input should be a valid integer, "
        "unable to parse string as an integer (got 'soon')"
    )


def test_number_out_of_range_says_the_range() -> None:
    problem = single_problem("name_prefix: demo\nstorage:\n  abort_incomplete_upload_days: 45\n")
    assert problem == (
        "storage.abort_incomplete_upload_days (line 3): Input should be less than or equal to 30 "
        "(got 45)"
    )


def test_text_too_long_is_counted_in_characters() -> None:
    assert single_problem("name_prefix: demo\nlabeling:\n  teams:\n    - name: " + "a" * 31) == (
        "labeling.teams[0].name (line 4): must be at most 30 characters (got 31: "
        + repr("a" * 31)
        + ")"
    )


def test_hint_of_a_missing_field_keeps_its_example_whole() -> None:
    assert single_problem(
        "name_prefix: demo\ninference:\n  endpoints:\n    e1:\n      model: {source: artifact, "
        "image: {type: uri, uri: a/b:1}, model_data: a.tar.gz}\n      variant: {kind: async}\n"
    ) == (
        "inference.endpoints.e1.variant.instance_type: required in the section on line 6 "
        "(ML instance type, e.g. ml.m5.xlarge)"
    )


def test_section_given_as_a_scalar() -> None:
    assert single_problem("name_prefix: demo\ntags: yes\n") == (
        "tags (line 2): must be a mapping of settings (got True)"
    )


def test_bad_email() -> None:
    problem = single_problem("name_prefix: demo\nalerts:\n  emails: [ops.example.com]\n")
    assert problem.startswith("alerts.emails[0] (line 3): value is not a valid email address")
    assert problem.endswith("(got 'ops.example.com')")


def test_repeated_email() -> None:
    problem = single_problem(
        "name_prefix: demo\nalerts:\n  emails: [a@example.com, A@example.com]\n"
    )
    assert problem == (
        "alerts.emails[1] (line 3): each address may appear only once "
        "('A@example.com' repeats entry 0)"
    )


def test_bad_cidr() -> None:
    problem = single_problem(
        "name_prefix: demo\nnetwork:\n  mode: private\n  cidr: 10.0.0.300/16\n"
    )
    assert problem.startswith(
        "network.cidr (line 4): must be an IPv4 or IPv6 CIDR block such as 10.0.0.0/16"
    )
    assert problem.endswith("(got '10.0.0.300/16')")


def test_cidr_of_the_wrong_size() -> None:
    problem = single_problem("name_prefix: demo\nnetwork:\n  mode: private\n  cidr: 10.0.0.0/8\n")
    assert (
        problem == "network.cidr (line 4): must be a /16 to /24 block (got /8) (got '10.0.0.0/8')"
    )


def test_bad_region_lists_the_allowed_ones() -> None:
    problem = single_problem("name_prefix: demo\nregion: us-east-9\n")
    assert problem.startswith("region (line 2): must be a region where SageMaker is available: ")
    assert "us-east-1, us-east-2" in problem and problem.endswith("(got 'us-east-9')")


def test_account_must_be_a_quoted_twelve_digit_id() -> None:
    unquoted = single_problem("name_prefix: demo\naccount: 123456789012\n")
    assert unquoted.startswith(
        "account (line 2): must be a 12-digit AWS account id written as a quoted"
    )
    short = single_problem("name_prefix: demo\naccount: '1234'\n")
    assert short == "account (line 2): must be a 12-digit AWS account id (got '1234')"


@pytest.mark.parametrize("prefix", ["My_Prefix", "1abc", "a", "ends-", "x" * 21])
def test_bad_prefix_characters(prefix: str) -> None:
    problem = single_problem(f"name_prefix: '{prefix}'\n")
    assert problem == (
        "name_prefix (line 1): must be 2-20 characters of lower-case letters, digits and "
        f"hyphens, starting with a letter and not ending with a hyphen (got '{prefix}')"
    )


def test_missing_required_prefix() -> None:
    assert single_problem("environment: dev\n") == (
        "name_prefix: required (Starts every stack name (`<name_prefix>-Foundation`, ...))"
    )


def test_empty_required_field() -> None:
    problem = single_problem("name_prefix: ''\n")
    assert problem.startswith("name_prefix (line 1): must be 2-20 characters")
    assert problem.endswith("(got '')")


def test_null_required_field() -> None:
    assert single_problem("name_prefix:\n") == (
        "name_prefix (line 1): Input should be a valid string (got None)"
    )


def test_existing_network_without_subnets() -> None:
    problem = single_problem(
        "name_prefix: demo\nnetwork:\n  mode: existing\n  vpc_id: vpc-0123456789abcdef0\n"
        "  security_group_ids: [sg-0123456789abcdef0]\n"
    )
    assert problem == (
        "network.subnet_ids: required in the section on line 2 (Private subnets SageMaker "
        "resources are placed in (1-16; at least two AZs recommended))"
    )


def test_existing_network_with_empty_lists_and_bad_ids() -> None:
    problems = problems_of(
        "name_prefix: demo\nnetwork:\n  mode: existing\n  vpc_id: vpc-1\n"
        "  subnet_ids: [subnet-xyz]\n  security_group_ids: []\n"
    )
    assert problems == [
        "network.vpc_id (line 4): must look like vpc-0123456789abcdef0 (got 'vpc-1')",
        "network.subnet_ids[0] (line 5): must look like subnet-0123456789abcdef0 "
        "(got 'subnet-xyz')",
        "network.security_group_ids (line 6): List should have at least 1 item after validation, "
        "not 0 (got [])",
    ]


def test_unknown_network_mode_lists_the_modes() -> None:
    assert single_problem("name_prefix: demo\nnetwork:\n  mode: public\n") == (
        "network.mode (line 3): got 'public'; allowed: 'none', 'private', 'existing'"
    )


def test_network_without_a_mode() -> None:
    assert single_problem("name_prefix: demo\nnetwork:\n  cidr: 10.0.0.0/16\n") == (
        "network.mode: required in the section on line 2; one of 'none', 'private', 'existing'"
    )


def test_tag_rules() -> None:
    problems = problems_of(
        "name_prefix: demo\ntags:\n  owner: 'a&b'\n  extra:\n    Project: x\n    'aws:team': y\n"
    )
    assert problems == [
        "tags.owner (line 3): must be at most 256 characters of letters, digits, spaces and "
        "_ . : / = + - @ (got 'a&b')",
        "tags.extra['aws:team'] (key) (line 6): must be 1-128 characters of letters, digits, "
        "spaces and _ . : / = + - @, and must not start with 'aws:' (got 'aws:team')",
    ]


def test_reserved_extra_tag() -> None:
    assert single_problem("name_prefix: demo\ntags:\n  extra:\n    Owner: me\n") == (
        "tags.extra.Owner (line 4): the kit sets the 'Owner' tag; use the project / cost_center / "
        "owner settings instead"
    )


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of("name_prefix: BAD\nregion: mars-1\nstorage:\n  bogus: 1\n")
    assert [p.split(" (line")[0] for p in problems] == ["name_prefix", "region", "storage.bogus"]


def test_repeated_key_is_an_error_not_a_silent_override() -> None:
    assert single_problem("name_prefix: a1\nenvironment: dev\nenvironment: prod\n") == (
        "line 3: key 'environment' appears twice in one mapping (first on line 2); "
        "YAML would silently keep the last one"
    )


def test_invalid_yaml_gives_line_and_column() -> None:
    assert single_problem("name_prefix: [demo\n") == (
        "line 2, column 1: not valid YAML: did not find expected ',' or ']'"
    )


# --- hostile files: each is refused quickly with the line, never a traceback or a hang ----


def billion_laughs(levels: int = 9) -> str:
    """Nested aliases: each level stands for nine of the one before (9**10 values)."""
    lines = ["name_prefix: demo", "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for level in range(1, levels + 1):
        lines.append(f"x{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_in_well_under_a_second() -> None:
    started = time.perf_counter()
    problem = single_problem(billion_laughs())
    assert time.perf_counter() - started < 1
    assert problem == (
        "line 7, column 10: the file stands for more than 100,000 values here (each alias "
        "counts as every value of its anchor); a config holds a few hundred"
    )


def test_aliases_that_stand_for_little_still_load() -> None:
    # yaml.safe_dump writes an anchor and aliases for an object used twice.
    branches = ["main"]
    text = yaml.safe_dump(
        {
            "name_prefix": "demo",
            "github_deploy": {"repository": "o/r", "environments": branches, "branches": branches},
        }
    )
    assert "&id001" in text and "*id001" in text
    settings = parse_settings(text)
    assert settings.github_deploy is not None
    assert settings.github_deploy.environments == settings.github_deploy.branches == ["main"]


def test_alias_inside_its_own_anchor() -> None:
    assert single_problem("name_prefix: demo\nx: &a [1, *a]\n") == (
        "line 2, column 11: the alias *a stands for a value that contains it (a value cannot "
        "include itself)"
    )


def test_too_many_values_without_aliases() -> None:
    problem = single_problem("name_prefix: demo\nx: [" + ", ".join(["1"] * 100_001) + "]\n")
    assert problem.startswith("line 2, column 299990: the file stands for more than 100,000")


@pytest.mark.parametrize(
    ("opening", "expected"),
    [
        ("[", "line 2, column 1003: not valid YAML: exceeded maximum nesting depth"),
        (
            "{a: ",
            "line 2, column 128: mappings and lists nest more than 32 levels deep here; the "
            "settings nest far less (is a bracket left open?)",
        ),
    ],
)
def test_deep_nesting_is_a_config_error(opening: str, expected: str) -> None:
    assert single_problem("name_prefix: demo\nx: " + opening * 100_000 + "\n") == expected


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    config = tmp_path / "huge.yaml"
    config.write_bytes(b"name_prefix: demo\n" + b"# padding\n" * 110_000)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert raised.value.problems == [
        "the file is larger than 1 MiB (1,048,576 bytes), the most a config file may be; a "
        "config is a few kilobytes: is this the right file?"
    ]


def test_bytes_that_are_not_utf8_name_the_line_and_byte(tmp_path: Path) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes("name_prefix: demo\ntags:\n  owner: Jos\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert raised.value.problems == [
        "line 3, byte 13 of the line (byte 37 of the file): not UTF-8 text (byte 0xe9); "
        "save the file as UTF-8"
    ]


def test_control_character_names_line_and_column() -> None:
    assert single_problem("name_prefix: demo\ntags:\n  owner: a\x07b\n") == (
        "line 3, column 11: character U+0007 is not allowed in YAML (control characters are "
        "not allowed); remove it or save the file as plain UTF-8 text"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-30", "'2024-02-30' is not a valid timestamp (day is out of range for month)"),
        ("9" * 5000, "is not a valid int (Exceeds the limit (4300 digits)"),
    ],
)
def test_scalar_that_is_no_value_of_its_yaml_type(value: str, expected: str) -> None:
    problem = single_problem(f"name_prefix: demo\nx: {value}\n")
    assert problem.startswith("line 2, column 4: ") and expected in problem
    assert problem.endswith("; quote it to keep it as text")


def test_unhashable_key() -> None:
    assert single_problem("name_prefix: demo\n? [a]\n: 1\n") == (
        "line 2, column 3: not valid YAML: found unhashable key"
    )


def test_empty_file() -> None:
    assert (
        single_problem("# nothing here\n")
        == "the file is empty: `name_prefix` at least is required"
    )


def test_top_level_list() -> None:
    assert single_problem("- name_prefix: demo\n") == (
        "the top level must be a mapping of settings (got list)"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path / "absent.yaml")
    assert raised.value.problems == ["cannot read the file: No such file or directory"]
    assert str(raised.value).startswith(
        f"{tmp_path / 'absent.yaml'}: invalid configuration (1 problem)"
    )


def test_checking_a_config_does_not_load_the_cdk() -> None:
    # `make synth` checks the config before the CDK CLI starts; loading aws-cdk-lib
    # would start a Node.js process and cost seconds.
    import subprocess
    import sys

    code = (
        "import sys; from stacks.settings import load_settings; "
        "load_settings('config/examples/full.yaml'); print('aws_cdk' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
