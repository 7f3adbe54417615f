"""The `notebooks` section: defaults, references between its parts, what the network
mode allows, and the usages the cost limits see."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_constructs.common.instance_types import NOTEBOOK_INSTANCE_TYPES
from stacks.settings import ConfigError, load_settings, parse_settings
from stacks.settings.base import ResourceUsage

ROOT = Path(__file__).resolve().parents[3]


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def config(notebooks: str, network: str = "none") -> str:
    return f"name_prefix: demo\nnetwork:\n  mode: {network}\nnotebooks:\n{notebooks}"


def test_a_minimal_notebook_gets_secure_defaults() -> None:
    settings = parse_settings(
        config("  instances:\n    - {name: alice, owner: alice@example.com}\n")
    )
    assert settings.notebooks is not None
    (notebook,) = settings.notebooks.instances
    assert notebook.instance_type == "ml.t3.medium"
    assert notebook.platform == "notebook-al2023-v1"
    assert notebook.root_access is False
    assert notebook.idle_stop is True and notebook.idle_minutes == 60
    assert notebook.direct_internet_access is None  # decided by the network mode
    assert notebook.volume_size_gb == 20
    assert settings.notebooks.package_sources.conda_channels is None
    assert settings.notebooks.idle_stop_alarm_runs == 3


def test_full_config_notebooks_and_their_usages() -> None:
    settings = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert settings.notebooks is not None
    assert settings.notebooks.resource_usages() == [
        ResourceUsage(kind="notebook", path="notebooks.instances[0]", instance_type="ml.t3.large"),
        ResourceUsage(kind="notebook", path="notebooks.instances[1]", instance_type="ml.g5.xlarge"),
    ]
    assert sorted(settings.notebooks.kernels) == ["pytorch", "sklearn"]


def test_references_to_undefined_kernels_and_repositories() -> None:
    problems = problems_of(
        config(
            "  kernels:\n    torch: {}\n  instances:\n"
            "    - {name: alice, owner: a, kernels: [tf], default_repository: ml}\n"
            "    - {name: alice, owner: b}\n"
        )
    )
    assert problems == [
        "notebooks.instances[1].name (line 9): 'alice' is already the name of instances[0]; "
        "instance names must be unique",
        "notebooks.instances[0].kernels[0] (line 8): 'tf' is not defined in notebooks.kernels "
        "(torch)",
        "notebooks.instances[0].default_repository (line 8): 'ml' is not defined in "
        "notebooks.repositories (none)",
    ]


def test_private_network_without_mirrors_cannot_build_kernels() -> None:
    problems = problems_of(
        config(
            "  kernels:\n    torch: {pip_packages: [torch==2.5.1]}\n"
            "  instances:\n    - {name: alice, owner: a, kernels: [torch]}\n"
            "    - {name: bob, owner: b, kernels: [torch], direct_internet_access: true}\n",
            network="private",
        )
    )
    assert problems == [
        "notebooks.instances[0].kernels (line 8): network mode 'private' has no "
        "route to the internet, so building kernels needs notebooks.package_sources."
        "conda_channels (a conda mirror; conda-forge is out of reach) and pip_index_url (a "
        "PyPI mirror; PyPI is out of reach) reachable from the VPC, or "
        "direct_internet_access: true on this notebook"
    ]


def test_private_network_with_a_conda_mirror_needs_a_pip_mirror_only_for_pip_packages() -> None:
    mirrors = "  package_sources:\n    conda_channels: [https://mirror.example.internal/conda]\n"
    conda_only = config(
        mirrors + "  kernels:\n    sk: {conda_packages: [scikit-learn]}\n"
        "  instances:\n    - {name: alice, owner: a, kernels: [sk]}\n",
        network="private",
    )
    assert parse_settings(conda_only).notebooks is not None
    with_pip = conda_only.replace("conda_packages: [scikit-learn]", "pip_packages: [xgboost]")
    (problem,) = problems_of(with_pip)
    assert "needs notebooks.package_sources.pip_index_url (a PyPI mirror" in problem


def test_direct_internet_cannot_be_turned_off_without_a_vpc() -> None:
    (problem,) = problems_of(
        config("  instances:\n    - {name: alice, owner: a, direct_internet_access: false}\n")
    )
    assert problem == (
        "notebooks.instances[0].direct_internet_access (line 6): false needs a VPC, and network "
        "mode is 'none'; set network.mode to 'private' or 'existing'"
    )


def test_field_rules_name_the_path_the_value_and_what_is_allowed() -> None:
    problems = problems_of(
        config(
            "  kernels:\n    pt:\n      python: '3.8'\n      pip_packages: ['torch; curl x']\n"
            "  repositories:\n    ml:\n      url: git@github.com:a/b.git\n"
            "      secret_arn: arn:aws:secretsmanager:us-east-1:123456789012:secret:git\n"
            "  instances:\n"
            "    - name: Alice\n      owner: a\n      instance_type: ml.t3.nano\n"
            "      platform: notebook-al2-v2\n      idle_minutes: 5\n"
        )
    )
    assert problems == [
        "notebooks.instances[0].name (line 14): must be 2-40 lower-case letters, digits and "
        "hyphens, starting with a letter and not ending with a hyphen (got 'Alice')",
        "notebooks.instances[0].instance_type (line 16): must be a SageMaker notebook instance "
        "type: ml.c4.2xlarge, ml.c4.4xlarge, ml.c4.8xlarge, ml.c4.xlarge, ml.c5.18xlarge, "
        f"ml.c5.2xlarge, ml.c5.4xlarge, ml.c5.9xlarge, ... ({len(NOTEBOOK_INSTANCE_TYPES)} in all) "
        "(got 'ml.t3.nano')",
        "notebooks.instances[0].platform (line 17): notebook-al2-v2 is Amazon Linux 2 with "
        "JupyterLab 3, which AWS retired on 2025-06-30; use notebook-al2023-v1 (Amazon Linux "
        "2023, JupyterLab 4). A notebook already deployed on it moves with a new entry: see "
        "docs/notebooks.md#moving-a-notebook-to-amazon-linux-2023 (got 'notebook-al2-v2')",
        "notebooks.instances[0].idle_minutes (line 18): Input should be greater than or equal "
        "to 10 (got 5)",
        "notebooks.kernels.pt.python (line 7): Input should be '3.10', '3.11', '3.12' or "
        "'3.13' (got '3.8')",
        "notebooks.kernels.pt.pip_packages[0] (line 8): must be one package spec without "
        "spaces, quotes or shell characters, e.g. torch==2.5.1, scikit-learn>=1.5 or "
        "transformers[torch] (got 'torch; curl x')",
        "notebooks.repositories.ml.url (line 11): must be an https:// URL without spaces, "
        "quotes or query string (got 'git@github.com:a/b.git')",
        "notebooks.repositories.ml.secret_arn (line 12): must be the complete ARN of a Secrets "
        "Manager secret, ending in the six characters Secrets Manager appends (arn:aws:"
        "secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf) (got "
        "'arn:aws:secretsmanager:us-east-1:123456789012:secret:git')",
    ]


def test_at_most_three_additional_repositories_each_listed_once() -> None:
    repos = "".join(f"    r{i}: {{url: https://git.example.com/r{i}.git}}\n" for i in range(5))
    problems = problems_of(
        config(
            f"  repositories:\n{repos}  instances:\n"
            "    - {name: a1, owner: a, additional_repositories: [r1, r2, r3, r4]}\n"
            "    - {name: a2, owner: a, default_repository: r1, additional_repositories: [r1]}\n"
        )
    )
    assert [p.split(": ", 1)[0] for p in problems] == [
        "notebooks.instances[0].additional_repositories (line 12)",
        "notebooks.instances[1].additional_repositories[0] (line 13)",
    ]
    assert "List should have at most 3 items after validation, not 4" in problems[0]
    assert problems[1].endswith(": 'r1' is already the default_repository")


def test_amazon_linux_2_is_refused_with_what_to_use_instead() -> None:
    problems = problems_of(
        config(
            "  instances:\n"
            "    - {name: alice, owner: a, platform: notebook-al2-v3}\n"
            "    - {name: bob, owner: b, platform: notebook-al2023-v2}\n"
            "    - {name: carol, owner: c, platform: notebook-al3}\n"
        )
    )
    assert problems == [
        "notebooks.instances[0].platform (line 6): notebook-al2-v3 is Amazon Linux 2, which "
        "reached its end of support on 2026-06-30 (AWS creates and restarts no Amazon Linux 2 "
        "notebook from 2026-07-01); use notebook-al2023-v1 (Amazon Linux 2023, JupyterLab 4). "
        "A notebook already deployed on it moves with a new entry: see "
        "docs/notebooks.md#moving-a-notebook-to-amazon-linux-2023 (got 'notebook-al2-v3')",
        "notebooks.instances[1].platform (line 7): notebook-al2023-v2 is in the SageMaker "
        "API, but AWS::SageMaker::NotebookInstance does not accept it yet (its CloudFormation "
        "schema stops at notebook-al2023-v1); use notebook-al2023-v1 (got 'notebook-al2023-v2')",
        "notebooks.instances[2].platform (line 8): Input should be 'notebook-al2023-v1' "
        "(got 'notebook-al3')",
    ]


@pytest.mark.parametrize(
    "instance_type", ["ml.p2.xlarge", "ml.p3.2xlarge", "ml.p3dn.24xlarge", "ml.inf1.xlarge"]
)
def test_instance_types_amazon_linux_2023_does_not_run_are_refused_at_their_line(
    instance_type: str,
) -> None:
    assert instance_type in NOTEBOOK_INSTANCE_TYPES  # SageMaker's API still lists it
    (problem,) = problems_of(
        config(
            "  instances:\n"
            "    - {name: alice, owner: a}\n"
            "    - name: bob\n"
            "      owner: b\n"
            f"      instance_type: {instance_type}\n"
        )
    )
    assert problem == (
        f"notebooks.instances[1].instance_type (line 9): {instance_type} does not run on "
        "notebook-al2023-v1 (Amazon Linux 2023 notebooks do not support ml.g3, ml.inf1, "
        "ml.p2, ml.p3, ml.p3dn); use a current type, e.g. ml.g5.xlarge or ml.g6.xlarge for "
        "a GPU, ml.m5.xlarge or ml.t3.medium without one"
    )


def test_current_gpu_types_run_on_amazon_linux_2023() -> None:
    for instance_type in ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.g6.xlarge", "ml.p4d.24xlarge"):
        settings = parse_settings(
            config(f"  instances:\n    - {{name: ai, owner: a, instance_type: {instance_type}}}\n")
        )
        assert settings.notebooks is not None
        assert settings.notebooks.instances[0].has_gpu


def test_idle_stop_alarm_runs_is_bounded() -> None:
    (problem,) = problems_of(
        config("  idle_stop_alarm_runs: 0\n  instances:\n    - {name: ai, owner: a}\n")
    )
    assert problem == (
        "notebooks.idle_stop_alarm_runs (line 5): Input should be greater than or equal to 1 "
        "(got 0)"
    )


def test_volume_size_is_five_to_16384_gb() -> None:
    problems = problems_of(
        config(
            "  instances:\n"
            "    - {name: ai, owner: a, volume_size_gb: 4}\n"
            "    - {name: bo, owner: b, volume_size_gb: 16385}\n"
        )
    )
    assert problems == [
        "notebooks.instances[0].volume_size_gb (line 6): Input should be greater than or equal "
        "to 5 (got 4)",
        "notebooks.instances[1].volume_size_gb (line 7): Input should be less than or equal to "
        "16384 (got 16385)",
    ]
