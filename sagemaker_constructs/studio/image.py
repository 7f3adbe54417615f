"""A JupyterLab image of the platform team's own, from an ECR repository, for a domain."""

from __future__ import annotations

import re

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import Problems, acknowledge
from ..common.execution_role import grant_image_pull

_IMAGE_NAME = re.compile(r"[a-zA-Z0-9]([-.]?[a-zA-Z0-9]){0,62}")
_REPOSITORY = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class StudioImage(Construct):
    """A SageMaker image (`AWS::SageMaker::Image`) with one version, the image
    `repository:tag` of this account and region, and its JupyterLab app image
    configuration. SageMaker pulls it with the image's own role, which may pull from that
    repository only. A new tag makes a new version; the domain uses the latest."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        image_name: str,
        repository_name: str,
        tag: str = "latest",
        display_name: str | None = None,
    ) -> None:
        """
        :param image_name: Name of the SageMaker image and its app image configuration.
            1-63 letters, digits and single hyphens or dots.
        :param repository_name: ECR repository in this account and region.
        :param tag: Image tag. Default: latest.
        :param display_name: Shown in Studio. Default: the repository name. 1-128 chars.
        """
        super().__init__(scope, id_)
        problems = Problems("StudioImage")
        problems.check(
            bool(_IMAGE_NAME.fullmatch(image_name)),
            "image_name must be 1-63 letters, digits and single hyphens or dots "
            f"(got {image_name!r})",
        )
        problems.check(
            2 <= len(repository_name) <= 256 and bool(_REPOSITORY.fullmatch(repository_name)),
            f"repository_name must be an ECR repository name (got {repository_name!r})",
        )
        problems.check(bool(_TAG.fullmatch(tag)), f"tag must be an image tag (got {tag!r})")
        shown = display_name or repository_name
        problems.check(
            0 < len(shown) <= 128, f"display_name must be 1-128 characters (got {shown!r})"
        )
        problems.raise_if_any()

        stack = Stack.of(self)
        repository_arn = stack.format_arn(
            service="ecr", resource="repository", resource_name=repository_name
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"SageMaker pulls the Studio image {repository_name}:{tag}",
        )
        """The role SageMaker pulls the image with."""
        grant_image_pull(self.role, [repository_arn])
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken accepts no resource ARN; the image pulls are "
            "limited to this one repository.",
        )

        self.image = sagemaker.CfnImage(
            self,
            "Image",
            image_name=image_name,
            image_role_arn=self.role.role_arn,
            image_display_name=shown,
            image_description=f"{repository_name}:{tag} from ECR",
        )
        """The SageMaker image."""
        self.image.node.add_dependency(self.role)
        self.version = sagemaker.CfnImageVersion(
            self,
            "Version",
            image_name=image_name,
            base_image=(
                f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}/{repository_name}:{tag}"
            ),
        )
        """The image's version (a new tag replaces it with the next version)."""
        self.version.node.add_dependency(self.image)
        self.app_image_config = sagemaker.CfnAppImageConfig(
            self,
            "AppImageConfig",
            app_image_config_name=image_name,
            jupyter_lab_app_image_config=sagemaker.CfnAppImageConfig.JupyterLabAppImageConfigProperty(),
        )
        """How JupyterLab runs the image (SageMaker's defaults)."""
        self.image_name = image_name
        """The SageMaker image's name."""
