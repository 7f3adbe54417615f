"""Settings of SageMaker Studio: one domain, its users, their private JupyterLab spaces,
the kernels and SDK defaults every JupyterLab app starts with, and built-in idle shutdown."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, EmailStr, Field, field_validator, model_validator

from sagemaker_constructs.common.instance_types import (
    STUDIO_CLOUDFORMATION_INSTANCE_TYPES,
    STUDIO_INSTANCE_TYPES,
    describe_allowed,
)

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, TagValue, _matches
from .foundation import ExistingNetwork, NetworkSettings, NoNetwork, PrivateNetwork
from .notebooks import KernelName, KernelSettings, PackageSources

# STUDIO-2: user profile and space names (API_CreateUserProfile.html, API_CreateSpace.html).
# The kit asks for lower case: names become logical IDs and appear in ARNs policies name.
_STUDIO_NAME = r"[a-z0-9](-*[a-z0-9]){0,62}"
_NAME_RULE = (
    "must be 1-63 lower-case letters, digits and hyphens, starting and ending with a letter "
    "or digit"
)
StudioUserName = Annotated[str, _matches(_STUDIO_NAME, _NAME_RULE)]
SpaceName = Annotated[str, _matches(_STUDIO_NAME, _NAME_RULE)]
EcrRepositoryName = Annotated[
    str,
    Field(min_length=2, max_length=256),
    _matches(
        r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*",
        "must be an ECR repository name: lower-case letters, digits and . _ - /, "
        "e.g. ml-platform/jupyterlab",
    ),
]
ImageTag = Annotated[
    str,
    _matches(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "must be an image tag such as 1.4 or latest"),
]
# STUDIO-3: an EBS volume of a space is 5-16,384 GB (API_DefaultEbsStorageSettings.html).
SpaceVolumeGb = Annotated[int, Field(ge=5, le=16384)]
# STUDIO-4: idle timeouts are 60-525,600 minutes (API_IdleSettings.html).
IdleMinutes = Annotated[int, Field(ge=60, le=525_600)]


def _space_instance_type(value: str) -> str:
    # STUDIO-1: a JupyterLab or Code Editor app runs on one of these, not `system`
    # (API_ResourceSpec.html).
    if value not in STUDIO_INSTANCE_TYPES:
        raise ValueError(
            "must be an instance type a Studio JupyterLab app runs on: "
            + describe_allowed(STUDIO_INSTANCE_TYPES)
        )
    if value not in STUDIO_CLOUDFORMATION_INSTANCE_TYPES:
        raise ValueError(
            "is accepted by the SageMaker API but not yet by AWS::SageMaker::Domain and "
            "AWS::SageMaker::Space as a default instance type; choose another default (users "
            "may still start it when cost.limits.instance_types.studio allows it)"
        )
    return value


SpaceInstanceType = Annotated[str, AfterValidator(_space_instance_type)]


class StudioSpaceSettings(StrictModel):
    """A private JupyterLab space the kit creates for its user (`AWS::SageMaker::Space`,
    retained when removed from the config: its volume holds the user's work)."""

    name: SpaceName
    """Space name, unique in the domain. Required. 1-63 lower-case letters, digits and
    hyphens."""

    instance_type: SpaceInstanceType | None = None
    """Instance type the space's JupyterLab app starts on. Default: the domain's
    `default_instance_type`."""

    volume_size_gb: SpaceVolumeGb | None = None
    """Size of the space's EBS volume (the user's home directory). Default: the domain's
    `space_storage.default_size_gb`. At most `space_storage.max_size_gb`."""


class StudioUserSettings(StrictModel):
    """A person's user profile in the domain, tagged with the owner and team."""

    name: StudioUserName
    """User profile name, unique in the domain. Required. 1-63 lower-case letters, digits
    and hyphens."""

    email: EmailStr
    """The person's e-mail address, put in the profile's `Owner` tag (tag propagation puts
    it on the jobs and models the user creates from Studio). Required."""

    team: Annotated[TagValue, Field(min_length=1)]
    """The person's team, put in the profile's team tag (`cost.budget.team_tag_key`,
    default `Team`), so a team budget counts the user's Studio spend. Required."""

    own_role: bool = False
    """Give the user an execution role of their own (the same permissions as the domain's
    default role; the stack outputs its ARN so more can be attached for this one user).
    Default: the domain's default execution role."""

    sso_user_name: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """The user's name in IAM Identity Center. Required with `auth: sso`, refused with
    `auth: iam`."""

    spaces: Annotated[list[StudioSpaceSettings], Field(max_length=10)] = Field(default_factory=list)
    """Private JupyterLab spaces the kit creates for this user (at most 10). Default: none
    (the user creates their own, when `users_create_spaces` allows it)."""

    @field_validator("email")
    @classmethod
    def _fits_a_tag(cls, value: str) -> str:
        if not all(c.isalnum() or c in "_ .:/=+-@" for c in value) or len(value) > 256:
            raise ValueError(
                "must fit an AWS tag value (letters, digits and _ . : / = + - @, at most 256)"
            )
        return value


class SpaceStorageSettings(StrictModel):
    """The EBS volume of each space (the user's home directory in JupyterLab)."""

    default_size_gb: SpaceVolumeGb = 5
    """Size of a new space's volume. Valid range: 5-16384."""

    max_size_gb: SpaceVolumeGb = 100
    """Largest size a user may grow a space's volume to. Valid range: 5-16384, at least
    `default_size_gb`."""


class IdleShutdownSettings(StrictModel):
    """Studio's built-in idle shutdown of JupyterLab and Code Editor apps: an app idle for
    the timeout is stopped; its space and volume stay."""

    enabled: bool = True
    """Stop idle apps. Default: on."""

    idle_minutes: IdleMinutes = 60
    """Minutes an app may be idle before it is stopped. Valid range: 60-525600, within
    `min_minutes`-`max_minutes`."""

    min_minutes: IdleMinutes = 60
    """Shortest idle timeout a user may choose for their own space. Valid range: 60-525600."""

    max_minutes: IdleMinutes = 480
    """Longest idle timeout a user may choose for their own space. Valid range: 60-525600."""


class StudioCustomImage(StrictModel):
    """A JupyterLab image of your own, from an ECR repository of the deployment's account
    and region, offered beside SageMaker Distribution (docs/studio.md lists what the image
    must provide)."""

    repository: EcrRepositoryName
    """ECR repository name in the deployment's account and region. Required."""

    tag: ImageTag = "latest"
    """Image tag. Default: latest. A new tag makes a new image version."""

    display_name: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """Name Studio shows for the image. Default: the repository name."""


class StudioSettings(StrictModel):
    """One SageMaker Studio domain (stack `<name_prefix>-Studio`, stateful): its users,
    their private JupyterLab spaces, kernels and SDK defaults in every JupyterLab app,
    built-in idle shutdown, and instance types limited by `cost.limits`."""

    auth: Literal["iam", "sso"] = "iam"
    """How users sign in: `iam` (presigned URLs, e.g. `smkit studio open`) or `sso` (IAM
    Identity Center, which must be enabled in the account's organization and region; each
    user then needs `sso_user_name`)."""

    users: Annotated[list[StudioUserSettings], Field(min_length=1, max_length=100)]
    """The domain's users (1-100). Required."""

    users_create_spaces: bool = True
    """Let users create their own private JupyterLab spaces (the kit's spaces exist either
    way). Users never create shared spaces."""

    default_instance_type: SpaceInstanceType = "ml.t3.medium"
    """Instance type a JupyterLab or Code Editor app starts on unless its space says
    otherwise. Must be allowed by `cost.limits.instance_types.studio`."""

    space_storage: SpaceStorageSettings = Field(default_factory=SpaceStorageSettings)
    """Size of the spaces' EBS volumes."""

    idle_shutdown: IdleShutdownSettings = Field(default_factory=IdleShutdownSettings)
    """Built-in idle shutdown of JupyterLab and Code Editor apps."""

    code_editor: bool = True
    """Offer Code Editor (VS Code) beside JupyterLab. Default: yes."""

    kernels: dict[KernelName, KernelSettings] = Field(default_factory=dict)
    """Kernels built into every JupyterLab space's volume in the background when its app
    starts (the same definitions as `notebooks.kernels`). Default: none."""

    package_sources: PackageSources = Field(default_factory=PackageSources)
    """Conda channels and pip index the kernels are built from (required in network mode
    `private` for kernels, as for notebooks)."""

    custom_image: StudioCustomImage | None = None
    """A JupyterLab image of your own from ECR. Default: none (SageMaker Distribution)."""

    private_studio_endpoint: bool = False
    """Also create the VPC interface endpoint of Studio's web UI (`aws.sagemaker.<region>.
    studio`), for browsers that reach the VPC (VPN, Direct Connect). Network mode `private`
    only. Default: no (users open Studio over the internet; about $15 a month in two AZs)."""

    @model_validator(mode="after")
    def _consistent(self) -> StudioSettings:
        problems: list[tuple[Location, str]] = []
        storage = self.space_storage
        # STUDIO-3: MaximumEbsVolumeSizeInGb >= DefaultEbsVolumeSizeInGb
        # (API_DefaultEbsStorageSettings.html).
        if storage.max_size_gb < storage.default_size_gb:
            problems.append(
                (
                    ("space_storage", "max_size_gb"),
                    f"{storage.max_size_gb} GB is below default_size_gb "
                    f"({storage.default_size_gb} GB); the maximum must be at least the default",
                )
            )
        idle = self.idle_shutdown
        # STUDIO-4: the default idle timeout lies within the range users may choose from
        # (API_IdleSettings.html).
        if not idle.min_minutes <= idle.idle_minutes <= idle.max_minutes:
            problems.append(
                (
                    ("idle_shutdown", "idle_minutes"),
                    f"{idle.idle_minutes} minutes must lie within min_minutes-max_minutes "
                    f"({idle.min_minutes}-{idle.max_minutes})",
                )
            )
        users: dict[str, int] = {}
        spaces: dict[str, tuple[int, int]] = {}
        for index, user in enumerate(self.users):
            if user.name in users:
                problems.append(
                    (
                        ("users", index, "name"),
                        f"{user.name!r} is already the name of users[{users[user.name]}]; "
                        "user names are unique in a domain",
                    )
                )
            users.setdefault(user.name, index)
            if self.auth == "sso" and user.sso_user_name is None:
                problems.append(
                    (
                        ("users", index, "sso_user_name"),
                        "auth is 'sso': each user needs the user name of their IAM Identity "
                        "Center user",
                    )
                )
            if self.auth == "iam" and user.sso_user_name is not None:
                problems.append(
                    (
                        ("users", index, "sso_user_name"),
                        "is for auth 'sso' only (this domain signs users in with IAM)",
                    )
                )
            for position, space in enumerate(user.spaces):
                where = ("users", index, "spaces", position)
                if space.name in spaces:
                    first_user, first_space = spaces[space.name]
                    problems.append(
                        (
                            (*where, "name"),
                            f"{space.name!r} is already the name of users[{first_user}]."
                            f"spaces[{first_space}]; space names are unique in a domain",
                        )
                    )
                spaces.setdefault(space.name, (index, position))
                if space.volume_size_gb is not None and space.volume_size_gb > storage.max_size_gb:
                    problems.append(
                        (
                            (*where, "volume_size_gb"),
                            f"{space.volume_size_gb} GB is above space_storage.max_size_gb "
                            f"({storage.max_size_gb} GB)",
                        )
                    )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def check_network(self, network: NetworkSettings) -> list[tuple[Location, str]]:
        """Problems of the domain in `network`'s mode, each at its field."""
        problems: list[tuple[Location, str]] = []
        if self.private_studio_endpoint and not isinstance(network, PrivateNetwork):
            problems.append(
                (
                    ("private_studio_endpoint",),
                    "needs network mode 'private' (the kit's VPC); in mode 'existing' create "
                    "the endpoint in your VPC, in mode 'none' there is no VPC to reach",
                )
            )
        if isinstance(network, PrivateNetwork) and self.kernels:
            missing = []
            if self.package_sources.conda_channels is None:
                missing.append("conda_channels (a conda mirror; conda-forge is out of reach)")
            if self.package_sources.pip_index_url is None and any(
                k.pip_packages for k in self.kernels.values()
            ):
                missing.append("pip_index_url (a PyPI mirror; PyPI is out of reach)")
            if missing:
                problems.append(
                    (
                        ("kernels",),
                        "network mode 'private' has no route to the internet, so building "
                        "kernels needs studio.package_sources." + " and ".join(missing) + " "
                        "reachable from the VPC",
                    )
                )
        return problems

    def resource_usages(self) -> list[ResourceUsage]:
        """The domain's default instance type and each kit space's, for the cost limits."""
        usages = [
            ResourceUsage(
                kind="studio",
                path="studio.default_instance_type",
                instance_type=self.default_instance_type,
            )
        ]
        for index, user in enumerate(self.users):
            for position, space in enumerate(user.spaces):
                if space.instance_type is not None:
                    usages.append(
                        ResourceUsage(
                            kind="studio",
                            path=f"studio.users[{index}].spaces[{position}].instance_type",
                            instance_type=space.instance_type,
                        )
                    )
        return usages


MAX_STUDIO_SECURITY_GROUPS = 4
"""STUDIO-5: SageMaker adds a security group of its own for NFS to the home file system,
so a user profile takes at most 4 of yours (API_UserSettings.html, SecurityGroups)."""


def security_group_problem(network: NetworkSettings) -> str | None:
    """Why Studio cannot use the groups of an existing network; None if it can."""
    if isinstance(network, ExistingNetwork):
        count = len(network.security_group_ids)
        if count > MAX_STUDIO_SECURITY_GROUPS:
            return (
                f"lists {count} groups and a Studio domain takes at most "
                f"{MAX_STUDIO_SECURITY_GROUPS} (SageMaker adds one for the home file system); "
                f"list at most {MAX_STUDIO_SECURITY_GROUPS}, or configure no studio section"
            )
    return None


def app_network_access_type(network: NetworkSettings) -> Literal["VpcOnly", "PublicInternetOnly"]:
    """STUDIO-6: `VpcOnly` in a VPC of the platform's (private or existing), public internet
    through SageMaker's own network in mode `none`."""
    return "PublicInternetOnly" if isinstance(network, NoNetwork) else "VpcOnly"
