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
        "notebooks.instances[0].platform (line 17): Input should be 'notebook-al2023-v1' or "
        "'notebook-al2-v3' (got 'notebook-al2-v2')",
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
