"""Settings of the notebooks: instances, kernels, Git repositories, package sources."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from sagemaker_constructs.common.instance_types import (
    NOTEBOOK_INSTANCE_TYPES,
    describe_allowed,
    is_gpu_instance_type,
)
from sagemaker_constructs.notebooks.platforms import (
    NOT_IN_CLOUDFORMATION,
    RETIRED_PLATFORMS,
    instance_type_problem,
    platform_problem,
)

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, TagValue, _matches
from .foundation import NetworkSettings, NoNetwork, PrivateNetwork


def _notebook_instance_type(value: str) -> str:
    if value not in NOTEBOOK_INSTANCE_TYPES:
        raise ValueError(
            "must be a SageMaker notebook instance type: "
            + describe_allowed(NOTEBOOK_INSTANCE_TYPES)
        )
    return value


NotebookInstanceType = Annotated[str, AfterValidator(_notebook_instance_type)]


def _startable_platform(value: object) -> object:
    # NOTEBOOK-1: https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2.html
    if isinstance(value, str) and (value in RETIRED_PLATFORMS or value in NOT_IN_CLOUDFORMATION):
        raise ValueError(platform_problem(value))
    return value


NotebookPlatform = Annotated[Literal["notebook-al2023-v1"], BeforeValidator(_startable_platform)]

NotebookName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,38}[a-z0-9]",
        "must be 2-40 lower-case letters, digits and hyphens, starting with a letter "
        "and not ending with a hyphen",
    ),
]
KernelName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9_-]{0,30}",
        "must be 1-31 lower-case letters, digits, _ and -, starting with a letter",
    ),
]
RepositoryKey = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9-]{0,30}",
        "must be 1-31 lower-case letters, digits and hyphens, starting with a letter",
    ),
]
# Package specs end up on a shell command line: no spaces, quotes or shell characters.
PackageSpec = Annotated[
    str,
    _matches(
        r"[A-Za-z0-9][A-Za-z0-9._\-\[\],<>=!~*+:/@]{0,199}",
        "must be one package spec without spaces, quotes or shell characters, "
        "e.g. torch==2.5.1, scikit-learn>=1.5 or transformers[torch]",
    ),
]
HttpsUrl = Annotated[
    str,
    _matches(
        r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/+=@:-]*)?",
        "must be an https:// URL without spaces, quotes or query string",
    ),
]
GitBranch = Annotated[
    str,
    _matches(
        r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}",
        "must be a branch name of letters, digits and . _ / -",
    ),
]
SecretArn = Annotated[
    str,
    _matches(
        r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}",
        "must be the complete ARN of a Secrets Manager secret, ending in the six "
        "characters Secrets Manager appends (arn:aws:secretsmanager:REGION:ACCOUNT:"
        "secret:NAME-AbCdEf)",
    ),
]


class KernelSettings(StrictModel):
    """A Jupyter kernel: a conda environment built on the notebook's volume."""

    display_name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    """Name shown in Jupyter's launcher. Default: `<name> (Python <python>)`. At most 80
    characters; no quotes."""

    python: Literal["3.10", "3.11", "3.12", "3.13"] = "3.12"
    """Python version of the environment."""

    conda_packages: list[PackageSpec] = Field(default_factory=list)
    """Conda packages (match specs such as `scikit-learn=1.5`). `ipykernel` is always added."""

    pip_packages: list[PackageSpec] = Field(default_factory=list)
    """pip packages installed after the conda ones (e.g. `torch==2.5.1`)."""

    @field_validator("display_name")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        if value is not None and any(c in value for c in "'\"`$\\\n"):
            raise ValueError("must not contain quotes, backslashes, $ or line breaks")
        return value

    @property
    def has_packages(self) -> bool:
        """Whether building it downloads anything beyond Python and ipykernel."""
        return bool(self.conda_packages or self.pip_packages)


class GitRepositorySettings(StrictModel):
    """A Git repository cloned into notebooks (an `AWS::SageMaker::CodeRepository`)."""

    url: Annotated[HttpsUrl, Field(min_length=11, max_length=1024)]
    """HTTPS URL of the repository. The notebook must reach the Git host: in network mode
    `private` that is a host inside or routed to the VPC."""

    branch: GitBranch | None = None
    """Branch checked out. Default: the repository's default branch."""

    secret_arn: SecretArn | None = None
    """Secrets Manager secret holding `username` and `password` (or a token as password)
    for a private repository. Default: none (public repository). The notebook's role may
    read this secret and no other."""


class PackageSources(StrictModel):
    """Where kernels' packages come from."""

    conda_channels: Annotated[list[HttpsUrl], Field(min_length=1, max_length=5)] | None = None
    """Conda channel URLs, used instead of any other channel. Default: conda-forge
    (`https://conda.anaconda.org/conda-forge`; Anaconda's own `defaults` channel is not
    used because its terms require a paid licence in larger organisations). Required in
    network mode `private` when a notebook without direct internet access has kernels."""

    pip_index_url: HttpsUrl | None = None
    """pip index (e.g. a CodeArtifact or Artifactory PyPI mirror). Default: PyPI. Required
    in network mode `private` when such a notebook has kernels with pip packages."""


class NotebookInstanceSettings(StrictModel):
    """One notebook instance, usually for one person or team."""

    name: NotebookName
    """Notebook name; the instance is called `<name_prefix>-<name>`. Required."""

    owner: Annotated[TagValue, Field(min_length=1)]
    """Who uses it (e-mail or team), put in the notebook's `Owner` tag. Required."""

    instance_type: NotebookInstanceType = "ml.t3.medium"
    """SageMaker notebook instance type (`ml.g*` / `ml.p*` for a GPU) that the platform
    runs: Amazon Linux 2023 notebooks do not run ml.p2, ml.p3, ml.p3dn, ml.g3 or ml.inf1."""

    volume_size_gb: Annotated[int, Field(ge=5, le=16384)] = 20
    """Size of the notebook's encrypted storage volume, which holds the user's work and the
    kernels' environments (a PyTorch environment needs about 8 GB). Valid range: 5-16384."""

    platform: NotebookPlatform = "notebook-al2023-v1"
    """Platform identifier: `notebook-al2023-v1` (Amazon Linux 2023, JupyterLab 4), the
    only one AWS still starts: Amazon Linux 2 (`notebook-al2-v3` and older) reached its
    end of support on 2026-06-30. A notebook deployed on Amazon Linux 2 moves with a new
    entry (docs/notebooks.md)."""

    root_access: bool = False
    """Whether the notebook's users get root (sudo). Lifecycle scripts run as root either way."""

    direct_internet_access: bool | None = None
    """Whether SageMaker gives the notebook a route to the internet. Default: yes in network
    mode `none` (the only choice there: AWS allows `false` only with a subnet), no in
    `private` and `existing`."""

    kernels: list[KernelName] = Field(default_factory=list)
    """Names of kernels (from `notebooks.kernels`) built on this notebook. Default: none."""

    default_repository: RepositoryKey | None = None
    """Name of a repository (from `notebooks.repositories`) Jupyter opens in. Default: none."""

    additional_repositories: Annotated[list[RepositoryKey], Field(max_length=3)] = Field(
        default_factory=list
    )
    """Further repositories cloned beside the default one (at most 3)."""

    idle_stop: bool = True
    """Stop the instance after `idle_minutes` without kernel or terminal activity."""

    idle_minutes: Annotated[int, Field(ge=10, le=1440)] = 60
    """Minutes without activity before the instance stops. Valid range: 10-1440 (the check
    runs every 5 minutes)."""

    @model_validator(mode="after")
    def _platform_runs_the_instance_type(self) -> NotebookInstanceSettings:
        # NOTEBOOK-2: https://docs.aws.amazon.com/sagemaker/latest/dg/nbi-al2023.html
        problem = instance_type_problem(self.instance_type, self.platform)
        if problem:
            raise InvalidFieldsError([(("instance_type",), problem)])
        return self

    @model_validator(mode="after")
    def _repositories_once(self) -> NotebookInstanceSettings:
        problems: list[tuple[Location, str]] = []
        for index, repository in enumerate(self.additional_repositories):
            if repository == self.default_repository:
                problems.append(
                    (
                        ("additional_repositories", index),
                        f"{repository!r} is already the default_repository",
                    )
                )
            elif repository in self.additional_repositories[:index]:
                problems.append(
                    (("additional_repositories", index), f"{repository!r} is listed twice")
                )
        for index, kernel in enumerate(self.kernels):
            if kernel in self.kernels[:index]:
                problems.append((("kernels", index), f"{kernel!r} is listed twice"))
        if problems:
            raise InvalidFieldsError(problems)
        return self

    @property
    def has_gpu(self) -> bool:
        """Whether the instance type carries an NVIDIA GPU."""
        return is_gpu_instance_type(self.instance_type)


class NotebookSettings(StrictModel):
    """SageMaker notebook instances with kernels, idle auto-stop and SageMaker SDK defaults."""

    instances: Annotated[list[NotebookInstanceSettings], Field(min_length=1, max_length=50)]
    """The notebook instances (1-50). Required."""

    kernels: dict[KernelName, KernelSettings] = Field(default_factory=dict)
    """Kernel definitions by name, shared by the notebooks that list them."""

    repositories: dict[RepositoryKey, GitRepositorySettings] = Field(default_factory=dict)
    """Git repositories by name, shared by the notebooks that list them."""

    package_sources: PackageSources = Field(default_factory=PackageSources)
    """Conda channels and pip index the kernels are built from."""

    log_retention_days: Literal[30, 90, 180, 365, 731] = 365
    """Days the idle-stop decisions are kept in CloudWatch Logs."""

    idle_stop_alarm_runs: Annotated[int, Field(ge=1, le=288)] = 3
    """Runs in a row (5 minutes apart) in which a notebook's idle stop could not decide or
    act (Jupyter did not answer, or an AWS call failed) before an alarm tells the alerts
    topic: the notebook is then not stopped when idle. Valid range: 1-288 (a day)."""

    @model_validator(mode="after")
    def _references_resolve(self) -> NotebookSettings:
        problems: list[tuple[Location, str]] = []
        first: dict[str, int] = {}
        for index, notebook in enumerate(self.instances):
            if notebook.name in first:
                problems.append(
                    (
                        ("instances", index, "name"),
                        f"{notebook.name!r} is already the name of instances"
                        f"[{first[notebook.name]}]; instance names must be unique",
                    )
                )
            first.setdefault(notebook.name, index)
        kernels = ", ".join(sorted(self.kernels)) or "none"
        repositories = ", ".join(sorted(self.repositories)) or "none"
        for index, notebook in enumerate(self.instances):
            for position, kernel in enumerate(notebook.kernels):
                if kernel not in self.kernels:
                    problems.append(
                        (
                            ("instances", index, "kernels", position),
                            f"{kernel!r} is not defined in notebooks.kernels ({kernels})",
                        )
                    )
            listed: list[tuple[Location, str]] = [
                (("instances", index, "additional_repositories", position), repository)
                for position, repository in enumerate(notebook.additional_repositories)
            ]
            if notebook.default_repository:
                listed.insert(
                    0, (("instances", index, "default_repository"), notebook.default_repository)
                )
            for location, repository in listed:
                if repository not in self.repositories:
                    problems.append(
                        (
                            location,
                            f"{repository!r} is not defined in notebooks.repositories "
                            f"({repositories})",
                        )
                    )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def check_network(self, network: NetworkSettings) -> list[tuple[Location, str]]:
        """Problems of these notebooks in `network`'s mode, each at its field.

        In mode `none` AWS requires direct internet access (it can be disabled only with a
        subnet). In mode `private` the subnets reach nothing but the VPC's endpoints and S3,
        so kernels cannot be built from the public conda-forge and PyPI: they need
        `package_sources` the VPC reaches, unless the notebook has direct internet access.
        """
        problems: list[tuple[Location, str]] = []
        for index, notebook in enumerate(self.instances):
            if isinstance(network, NoNetwork) and notebook.direct_internet_access is False:
                problems.append(
                    (
                        ("instances", index, "direct_internet_access"),
                        "false needs a VPC, and network mode is 'none'; set network.mode to "
                        "'private' or 'existing'",
                    )
                )
            offline = isinstance(network, PrivateNetwork) and not notebook.direct_internet_access
            if not offline or not notebook.kernels:
                continue
            kernels = [self.kernels[k] for k in notebook.kernels if k in self.kernels]
            missing = []
            if self.package_sources.conda_channels is None:
                missing.append("conda_channels (a conda mirror; conda-forge is out of reach)")
            if self.package_sources.pip_index_url is None and any(k.pip_packages for k in kernels):
                missing.append("pip_index_url (a PyPI mirror; PyPI is out of reach)")
            if missing:
                problems.append(
                    (
                        ("instances", index, "kernels"),
                        "network mode 'private' has no route to the internet, so building "
                        "kernels needs notebooks.package_sources."
                        + " and ".join(missing)
                        + " reachable from the VPC, or direct_internet_access: true on this "
                        "notebook",
                    )
                )
        return problems

    def resource_usages(self) -> list[ResourceUsage]:
        """One usage per notebook instance, for the cost limits."""
        return [
            ResourceUsage(
                kind="notebook",
                path=f"notebooks.instances[{index}]",
                instance_type=notebook.instance_type,
            )
            for index, notebook in enumerate(self.instances)
        ]
