"""A SageMaker Studio domain with user profiles and private JupyterLab spaces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import RemovalPolicy, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import Problems, describe_allowed
from ..common.instance_types import STUDIO_CLOUDFORMATION_INSTANCE_TYPES
from .image import StudioImage
from .lifecycle import JupyterLabLifecycleConfig

_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
# STUDIO-2: user profile and space names, lower case in the kit: they appear in ARNs
# (API_CreateUserProfile.html, API_CreateSpace.html).
_LOWER_NAME = re.compile(r"[a-z0-9](-*[a-z0-9]){0,62}")
MIN_IDLE_MINUTES = 60
MAX_IDLE_MINUTES = 525_600
MIN_VOLUME_GB = 5
MAX_VOLUME_GB = 16_384
MAX_SECURITY_GROUPS = 4
"""STUDIO-5: SageMaker adds a security group of its own for NFS to the home file system,
so a user profile takes at most 4 of ours (API_UserSettings.html, SecurityGroups)."""
HIDDEN_APP_TYPES = ("Canvas", "JupyterServer", "RStudioServerPro")
"""Apps the kit's users do not get (the execution role cannot start them either): Canvas,
Studio Classic and RStudio run on a user profile, not in a private space."""


@dataclass(frozen=True)
class IdleShutdown:
    """Studio's built-in idle shutdown of JupyterLab and Code Editor apps."""

    idle_minutes: int = 60
    """Minutes idle before the app is stopped. Default: 60. Valid range: 60-525600."""
    min_minutes: int = 60
    """Shortest timeout a user may set for their space. Default: 60. Valid range: 60-525600."""
    max_minutes: int = 480
    """Longest timeout a user may set for their space. Default: 480. Valid range: 60-525600."""

    def problems(self) -> list[str]:
        """What is wrong with these settings, one sentence each."""
        found = [
            f"idle {name} must be {MIN_IDLE_MINUTES}-{MAX_IDLE_MINUTES} minutes (got {value})"
            for name, value in (
                ("idle_minutes", self.idle_minutes),
                ("min_minutes", self.min_minutes),
                ("max_minutes", self.max_minutes),
            )
            if not MIN_IDLE_MINUTES <= value <= MAX_IDLE_MINUTES
        ]
        if not self.min_minutes <= self.idle_minutes <= self.max_minutes:
            found.append(
                f"idle_minutes ({self.idle_minutes}) must lie within min_minutes-max_minutes "
                f"({self.min_minutes}-{self.max_minutes})"
            )
        return found


class StudioDomain(Construct):
    """One `AWS::SageMaker::Domain` for the platform's Studio users.

    - IAM or IAM Identity Center sign-in; the user profile name is each session's source
      identity, so CloudTrail names the person behind the shared execution role.
    - In a VPC: `VpcOnly` (all traffic through the platform's subnets and security groups)
      or public internet through SageMaker's network (the VPC then carries only the home
      file system's traffic).
    - The platform key encrypts the home EFS and every space's EBS volume; tags propagate
      to what users create in Studio.
    - JupyterLab apps start with `lifecycle_config` (the domain's default) and may use
      `custom_image`; JupyterLab and Code Editor apps start on `default_instance_type` and
      stop after `idle_shutdown`.
    - Retained when removed from the stack (its home EFS outlives it either way: SageMaker
      retains it when a domain is deleted), like its user profiles and spaces.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        domain_name: str,
        encryption_key: kms.IKey,
        execution_role: iam.IRole,
        vpc_id: str,
        subnet_ids: Sequence[str],
        vpc_only: bool,
        security_group_ids: Sequence[str] = (),
        auth_mode: Literal["IAM", "SSO"] = "IAM",
        default_instance_type: str = "ml.t3.medium",
        lifecycle_config: JupyterLabLifecycleConfig | None = None,
        idle_shutdown: IdleShutdown | None = IdleShutdown(),
        code_editor: bool = True,
        default_space_size_gb: int = 5,
        max_space_size_gb: int = 100,
        custom_image: StudioImage | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param domain_name: 1-63 letters, digits and hyphens, starting and ending with a
            letter or digit.
        :param encryption_key: Encrypts the home EFS and the spaces' EBS volumes.
        :param execution_role: The users' default execution role.
        :param vpc_id: The VPC of the home EFS (and of all traffic with `vpc_only`).
        :param subnet_ids: 1-16 subnets of that VPC (private ones with `vpc_only`).
        :param vpc_only: All traffic through the VPC (`VpcOnly`); False: public internet
            through SageMaker's network (`PublicInternetOnly`).
        :param security_group_ids: The apps' groups. Default: none. 1-4 with `vpc_only`.
        :param auth_mode: `IAM` or `SSO` (IAM Identity Center). Default: IAM.
        :param default_instance_type: JupyterLab and Code Editor apps' default. Default:
            ml.t3.medium. One that AWS::SageMaker::Domain accepts (not `system`).
        :param lifecycle_config: JupyterLab apps' default lifecycle configuration.
            Default: none.
        :param idle_shutdown: Built-in idle shutdown. Default: after 60 idle minutes
            (users may choose 60-480). None turns it off.
        :param code_editor: Offer Code Editor. Default: True.
        :param default_space_size_gb: A new space's EBS volume. Default: 5. 5-16384.
        :param max_space_size_gb: The largest a user may grow it. Default: 100. 5-16384, at
            least the default.
        :param custom_image: A JupyterLab image of the team's own. Default: none.
        :param removal_policy: Of the domain, its profiles and spaces. Default: RETAIN.
        """
        super().__init__(scope, id_)
        problems = Problems("StudioDomain")
        problems.check(
            bool(_NAME.fullmatch(domain_name)),
            "domain_name must be 1-63 letters, digits and hyphens, starting and ending with a "
            f"letter or digit (got {domain_name!r})",
        )
        problems.check(
            1 <= len(subnet_ids) <= 16, f"subnet_ids needs 1-16 subnets (got {len(subnet_ids)})"
        )
        problems.check(
            len(security_group_ids) <= MAX_SECURITY_GROUPS,
            f"security_group_ids takes at most {MAX_SECURITY_GROUPS} groups (SageMaker adds "
            f"one for the home file system; got {len(security_group_ids)})",
        )
        problems.check(
            not vpc_only or len(security_group_ids) > 0,
            "vpc_only needs at least one security group (UserSettings.SecurityGroups is "
            "required with VpcOnly)",
        )
        # STUDIO-1 (API_ResourceSpec.html): a JupyterLab app does not run on `system`.
        problems.check(
            default_instance_type in STUDIO_CLOUDFORMATION_INSTANCE_TYPES,
            "default_instance_type must be one AWS::SageMaker::Domain accepts for JupyterLab: "
            f"{describe_allowed(STUDIO_CLOUDFORMATION_INSTANCE_TYPES)} "
            f"(got {default_instance_type!r})",
        )
        for name, size in (
            ("default_space_size_gb", default_space_size_gb),
            ("max_space_size_gb", max_space_size_gb),
        ):
            problems.check(
                MIN_VOLUME_GB <= size <= MAX_VOLUME_GB,
                f"{name} must be {MIN_VOLUME_GB}-{MAX_VOLUME_GB} (got {size})",
            )
        problems.check(
            default_space_size_gb <= max_space_size_gb,
            f"max_space_size_gb ({max_space_size_gb}) must be at least default_space_size_gb "
            f"({default_space_size_gb})",
        )
        # STUDIO-3 above, STUDIO-4 (API_IdleSettings.html) here.
        for message in idle_shutdown.problems() if idle_shutdown else ():
            problems.add(message)
        problems.raise_if_any()

        self.domain_name = domain_name
        """The domain's name."""
        self.auth_mode = auth_mode
        self.max_space_size_gb = max_space_size_gb
        self._removal_policy = removal_policy
        self._space_names: set[str] = set()
        self._user_tags: dict[str, dict[str, str]] = {}

        lifecycle = (
            sagemaker.CfnDomain.AppLifecycleManagementProperty(
                idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                    lifecycle_management="ENABLED",
                    idle_timeout_in_minutes=idle_shutdown.idle_minutes,
                    min_idle_timeout_in_minutes=idle_shutdown.min_minutes,
                    max_idle_timeout_in_minutes=idle_shutdown.max_minutes,
                )
            )
            if idle_shutdown
            else sagemaker.CfnDomain.AppLifecycleManagementProperty(
                idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                    lifecycle_management="DISABLED"
                )
            )
        )
        jupyter_lab = sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=default_instance_type,
                lifecycle_config_arn=lifecycle_config.arn if lifecycle_config else None,
            ),
            lifecycle_config_arns=[lifecycle_config.arn] if lifecycle_config else None,
            app_lifecycle_management=lifecycle,
            custom_images=[
                sagemaker.CfnDomain.CustomImageProperty(
                    app_image_config_name=custom_image.image_name,
                    image_name=custom_image.image_name,
                )
            ]
            if custom_image
            else None,
        )
        hidden = sorted({*HIDDEN_APP_TYPES, *(() if code_editor else ("CodeEditor",))})
        self.domain = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=domain_name,
            auth_mode=auth_mode,
            app_network_access_type="VpcOnly" if vpc_only else "PublicInternetOnly",
            vpc_id=vpc_id,
            subnet_ids=list(subnet_ids),
            kms_key_id=encryption_key.key_arn,
            tag_propagation="ENABLED",
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                execution_role_identity_config="USER_PROFILE_NAME"
            ),
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=execution_role.role_arn,
                security_groups=list(security_group_ids) or None,
                default_landing_uri="studio::",
                studio_web_portal="ENABLED",
                studio_web_portal_settings=sagemaker.CfnDomain.StudioWebPortalSettingsProperty(
                    hidden_app_types=hidden
                ),
                jupyter_lab_app_settings=jupyter_lab,
                code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                    default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                        instance_type=default_instance_type
                    ),
                    app_lifecycle_management=lifecycle,
                ),
                space_storage_settings=sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
                    default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                        default_ebs_volume_size_in_gb=default_space_size_gb,
                        maximum_ebs_volume_size_in_gb=max_space_size_gb,
                    )
                ),
                sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(
                    notebook_output_option="Disabled"
                ),
            ),
        )
        """The domain."""
        # STUDIO-12: a domain cannot be deleted while profiles, spaces or apps exist
        # (gs-studio-delete-domain.html): it is retained, like its profiles and spaces, and
        # docs/studio.md gives the order in which to remove them.
        self.domain.apply_removal_policy(removal_policy)
        if custom_image is not None:
            # The image needs a version and a configuration before a domain may name it.
            self.domain.node.add_dependency(custom_image.version, custom_image.app_image_config)
        # The role's policy must exist before apps start with the role.
        policy = execution_role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.domain.node.add_dependency(policy)
        self.domain_id = self.domain.attr_domain_id
        """The domain's id (`d-...`)."""
        self.domain_arn = self.domain.attr_domain_arn
        """The domain's ARN."""
        self.url = self.domain.attr_url
        """Studio's URL for the domain."""
        self.home_efs_file_system_id = self.domain.attr_home_efs_file_system_id
        """The home EFS (retained by SageMaker when the domain is deleted)."""

    def add_user(
        self,
        id_: str,
        *,
        user_name: str,
        owner_email: str,
        team: str,
        team_tag_key: str = "Team",
        execution_role: iam.IRole | None = None,
        sso_user_name: str | None = None,
    ) -> sagemaker.CfnUserProfile:
        """A user profile, tagged `Owner` = `owner_email` and `team_tag_key` = `team`
        (tag propagation puts both on what the user creates), with its own execution role
        or the domain's default. `sso_user_name`: the IAM Identity Center user name, for
        (and only for) an SSO domain."""
        problems = Problems("StudioDomain.add_user")
        problems.check(
            bool(_LOWER_NAME.fullmatch(user_name)),
            "user_name must be 1-63 lower-case letters, digits and hyphens, starting and "
            f"ending with a letter or digit (got {user_name!r})",
        )
        problems.check(
            user_name not in self._user_tags, f"user {user_name!r} is already in the domain"
        )
        problems.check(
            (sso_user_name is not None) == (self.auth_mode == "SSO"),
            f"user {user_name!r}: sso_user_name is required with SSO and refused with IAM "
            f"(auth_mode {self.auth_mode}, sso_user_name {sso_user_name!r})",
        )
        problems.raise_if_any()
        self._user_tags[user_name] = {"Owner": owner_email, team_tag_key: team}
        profile = sagemaker.CfnUserProfile(
            self,
            id_,
            domain_id=self.domain_id,
            user_profile_name=user_name,
            single_sign_on_user_identifier="UserName" if sso_user_name else None,
            single_sign_on_user_value=sso_user_name,
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=execution_role.role_arn
            )
            if execution_role
            else None,
        )
        profile.apply_removal_policy(self._removal_policy)
        if execution_role is not None:
            policy = execution_role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                profile.node.add_dependency(policy)
        for key, value in self._user_tags[user_name].items():
            Tags.of(profile).add(key, value, priority=300)
        return profile

    def add_space(
        self,
        id_: str,
        *,
        space_name: str,
        owner: sagemaker.CfnUserProfile,
        instance_type: str | None = None,
        volume_size_gb: int | None = None,
    ) -> sagemaker.CfnSpace:
        """A private JupyterLab space of `owner` (a profile of this domain), carrying the
        profile's tags; its app starts on `instance_type` (default: the domain's) with a
        volume of `volume_size_gb` (default: the domain's)."""
        problems = Problems("StudioDomain.add_space")
        problems.check(
            bool(_LOWER_NAME.fullmatch(space_name)),
            "space_name must be 1-63 lower-case letters, digits and hyphens, starting and "
            f"ending with a letter or digit (got {space_name!r})",
        )
        problems.check(
            space_name not in self._space_names,
            f"space {space_name!r} is already in the domain (space names are unique in it)",
        )
        if instance_type is not None:
            problems.check(
                instance_type in STUDIO_CLOUDFORMATION_INSTANCE_TYPES,
                f"space {space_name!r}: instance_type must be one AWS::SageMaker::Space "
                f"accepts for JupyterLab (got {instance_type!r})",
            )
        if volume_size_gb is not None:
            problems.check(
                MIN_VOLUME_GB <= volume_size_gb <= self.max_space_size_gb,
                f"space {space_name!r}: volume_size_gb must be {MIN_VOLUME_GB}-"
                f"{self.max_space_size_gb}, the domain's maximum (got {volume_size_gb})",
            )
        problems.raise_if_any()
        self._space_names.add(space_name)
        space = sagemaker.CfnSpace(
            self,
            id_,
            domain_id=self.domain_id,
            space_name=space_name,
            ownership_settings=sagemaker.CfnSpace.OwnershipSettingsProperty(
                owner_user_profile_name=owner.user_profile_name
            ),
            space_sharing_settings=sagemaker.CfnSpace.SpaceSharingSettingsProperty(
                sharing_type="Private"
            ),
            space_settings=sagemaker.CfnSpace.SpaceSettingsProperty(
                app_type="JupyterLab",
                jupyter_lab_app_settings=sagemaker.CfnSpace.SpaceJupyterLabAppSettingsProperty(
                    default_resource_spec=sagemaker.CfnSpace.ResourceSpecProperty(
                        instance_type=instance_type
                    )
                )
                if instance_type
                else None,
                space_storage_settings=sagemaker.CfnSpace.SpaceStorageSettingsProperty(
                    ebs_storage_settings=sagemaker.CfnSpace.EbsStorageSettingsProperty(
                        ebs_volume_size_in_gb=volume_size_gb
                    )
                )
                if volume_size_gb
                else None,
            ),
        )
        space.apply_removal_policy(self._removal_policy)
        # The owner's profile must exist first (the space names it, not its id).
        space.node.add_dependency(owner)
        for key, value in self._user_tags.get(owner.user_profile_name, {}).items():
            Tags.of(space).add(key, value, priority=300)
        return space
