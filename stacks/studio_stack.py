"""SageMaker Studio: stateful (the home EFS and the spaces' volumes hold users' work)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from sagemaker_constructs.common import stable_logical_id
from sagemaker_constructs.foundation import IsolatedNetwork, NetworkPlacement
from sagemaker_constructs.notebooks import CONDA_FORGE, Kernel, NotebookJobRole, PackageSources
from sagemaker_constructs.studio import (
    IdleShutdown,
    JupyterLabLifecycleConfig,
    StudioDomain,
    StudioExecutionRole,
    StudioImage,
)

from .settings import PlatformSettings
from .settings.studio import StudioSettings, app_network_access_type

ARTIFACTS_PREFIX = "studio"
"""Where Studio users and their jobs write in the artifacts bucket."""
HOME_NETWORK_CIDR = "10.41.0.0/22"
"""The VPC of the home EFS in network mode `none` (isolated: it reaches nothing, and the
apps' other traffic goes through SageMaker's network)."""
DOMAIN_LOGICAL_ID = "StudioDomain"


def pascal(name: str) -> str:
    """`data-science` -> `DataScience`."""
    return "".join(part.capitalize() for part in name.split("-"))


def user_logical_id(name: str) -> str:
    """Pinned logical ID of a user profile (a new one would replace the profile)."""
    return f"StudioUser{pascal(name)}"


def space_logical_id(name: str) -> str:
    """Pinned logical ID of a kit space (a new one would replace its volume)."""
    return f"StudioSpace{pascal(name)}"


class StudioStack(Stack):
    """One Studio domain with the configured users and their spaces, the users' execution
    role(s), the role of the jobs they start, the JupyterLab lifecycle configuration and an
    optional custom image. In network mode `none` it also holds the isolated VPC the
    domain's home EFS needs (SageMaker requires one for every domain).

    The domain, profiles and spaces are retained when the stack is deleted: docs/studio.md
    gives the order in which to remove them."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: PlatformSettings,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        network: NetworkPlacement | None,
        sdk_tags: dict[str, str],
        workflows: Sequence[sfn.StateMachine] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        studio: StudioSettings | None = settings.studio
        if studio is None:
            raise ValueError("StudioStack needs settings.studio")
        domain_name = f"{settings.name_prefix}-studio"
        self.domain_name = domain_name
        """The domain's name."""

        if network is None:
            home = IsolatedNetwork(
                self,
                "HomeNetwork",
                encryption_key=encryption_key,
                cidr=HOME_NETWORK_CIDR,
                flow_log_retention=logs.RetentionDays.ONE_MONTH,
                interface_endpoints={},
                s3_gateway=False,
            )
            vpc_id = home.vpc.vpc_id
            subnet_ids: Sequence[str] = [s.subnet_id for s in home.vpc.isolated_subnets]
            security_groups: Sequence[str] = ()
        else:
            vpc_id = network.vpc_id
            subnet_ids = network.subnet_ids
            security_groups = network.security_group_ids

        self.job_role: iam.IRole = NotebookJobRole(
            self,
            "JobRole",
            encryption_key=encryption_key,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=f"{ARTIFACTS_PREFIX}/",
            network=network,
            description="Runs SageMaker jobs and models started from Studio",
        ).role
        """The role of jobs and models started from Studio (the only one users may pass)."""

        limits = settings.cost.limits if settings.cost else None
        allowed = limits.instance_types.studio if limits else None

        def execution_role(id_: str, description: str) -> iam.IRole:
            return StudioExecutionRole(
                self,
                id_,
                encryption_key=encryption_key,
                data_bucket=data_bucket,
                artifacts_bucket=artifacts_bucket,
                job_role=self.job_role,
                artifacts_prefix=ARTIFACTS_PREFIX,
                allowed_instance_types=allowed,
                users_create_spaces=studio.users_create_spaces,
                workflows=workflows,
                description=description,
            ).role

        self.execution_role = execution_role(
            "ExecutionRole", f"Studio users of {settings.name_prefix} (the domain's default)"
        )
        """The users' default execution role."""

        sources = PackageSources(
            conda_channels=tuple(studio.package_sources.conda_channels or (CONDA_FORGE,)),
            pip_index_url=studio.package_sources.pip_index_url,
        )
        self.lifecycle_config = JupyterLabLifecycleConfig(
            self,
            "JupyterLabLifecycle",
            name_prefix=f"{settings.name_prefix}-jupyterlab",
            encryption_key=encryption_key,
            artifacts_bucket=artifacts_bucket,
            job_role=self.job_role,
            artifacts_prefix=ARTIFACTS_PREFIX,
            network=network,
            kernels=[
                Kernel(
                    name=name,
                    python=kernel.python,
                    conda_packages=tuple(kernel.conda_packages),
                    pip_packages=tuple(kernel.pip_packages),
                    display_name=kernel.display_name,
                )
                for name, kernel in studio.kernels.items()
            ],
            package_sources=sources,
            sdk_tags={**sdk_tags, "smkit:studio": domain_name},
        )
        """The JupyterLab lifecycle configuration (SDK defaults and kernels)."""

        image = studio.custom_image
        self.image = (
            StudioImage(
                self,
                "Image",
                image_name=f"{settings.name_prefix}-jupyterlab-image",
                repository_name=image.repository,
                tag=image.tag,
                display_name=image.display_name,
            )
            if image
            else None
        )
        """The custom JupyterLab image, when configured."""

        idle = studio.idle_shutdown
        self.domain = StudioDomain(
            self,
            "Domain",
            domain_name=domain_name,
            encryption_key=encryption_key,
            execution_role=self.execution_role,
            vpc_id=vpc_id,
            subnet_ids=subnet_ids,
            vpc_only=app_network_access_type(settings.network) == "VpcOnly",
            security_group_ids=security_groups,
            auth_mode="SSO" if studio.auth == "sso" else "IAM",
            default_instance_type=studio.default_instance_type,
            lifecycle_config=self.lifecycle_config,
            idle_shutdown=IdleShutdown(
                idle_minutes=idle.idle_minutes,
                min_minutes=idle.min_minutes,
                max_minutes=idle.max_minutes,
            )
            if idle.enabled
            else None,
            code_editor=studio.code_editor,
            default_space_size_gb=studio.space_storage.default_size_gb,
            max_space_size_gb=studio.space_storage.max_size_gb,
            custom_image=self.image,
        )
        """The domain."""
        stable_logical_id(self.domain.domain, DOMAIN_LOGICAL_ID)

        budget = settings.cost.budget if settings.cost else None
        team_tag_key = budget.team_tag_key if budget else "Team"
        self.user_roles: dict[str, iam.IRole] = {}
        """Execution roles of users with `own_role`, by user name."""
        for user in studio.users:
            role = None
            if user.own_role:
                role = execution_role(
                    f"UserRole-{user.name}", f"Studio user {user.name} of {settings.name_prefix}"
                )
                self.user_roles[user.name] = role
            profile = self.domain.add_user(
                f"User-{user.name}",
                user_name=user.name,
                owner_email=user.email,
                team=user.team,
                team_tag_key=team_tag_key,
                execution_role=role,
                sso_user_name=user.sso_user_name,
            )
            stable_logical_id(profile, user_logical_id(user.name))
            for space in user.spaces:
                made = self.domain.add_space(
                    f"Space-{space.name}",
                    space_name=space.name,
                    owner=profile,
                    instance_type=space.instance_type,
                    volume_size_gb=space.volume_size_gb,
                )
                stable_logical_id(made, space_logical_id(space.name))
        self._outputs()

    def _outputs(self) -> None:
        outputs = {
            "DomainId": (self.domain.domain_id, "Studio domain id (smkit studio open uses it)"),
            "DomainUrl": (self.domain.url, "Studio's URL (sign in through smkit studio open)"),
            "HomeEfsFileSystemId": (
                self.domain.home_efs_file_system_id,
                "The domain's home EFS (retained when the domain is deleted)",
            ),
            "ExecutionRoleArn": (self.execution_role.role_arn, "Studio users' default role"),
            "JobRoleArn": (self.job_role.role_arn, "Role of jobs and models started from Studio"),
        }
        for name, role in self.user_roles.items():
            outputs[f"UserRole{pascal(name)}Arn"] = (
                role.role_arn,
                f"Execution role of Studio user {name}",
            )
        for key, (value, description) in outputs.items():
            CfnOutput(self, key, value=value, description=description)
