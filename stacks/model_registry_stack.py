"""The stateful model registry: a model package group per training definition."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from sagemaker_constructs.common import stable_logical_id
from sagemaker_constructs.training.registry import ModelRegistry

from .settings import PlatformSettings


def model_package_group_name(settings: PlatformSettings, definition: str) -> str:
    """The model package group of a training definition: `<name_prefix>-<definition>`."""
    return f"{settings.name_prefix}-{definition}"


def logical_id(definition: str) -> str:
    """Pinned logical ID of a definition's group, e.g. `TextClassifierModelPackageGroup`."""
    return "".join(part.capitalize() for part in definition.split("-")) + "ModelPackageGroup"


class ModelRegistryStack(Stack):
    """Model package groups, retained on deletion; their logical IDs are pinned, so
    refactoring never replaces a group (and loses its model versions)."""

    def __init__(
        self, scope: Construct, id_: str, *, settings: PlatformSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        assert settings.training is not None
        definitions = settings.training.definitions
        self.group_names = {name: model_package_group_name(settings, name) for name in definitions}
        """Model package group name per training definition."""
        registry = ModelRegistry(
            self,
            "Registry",
            groups={
                group: f"Models trained by the {name} training and tuning workflows of "
                f"{settings.name_prefix}"
                for name, group in self.group_names.items()
            },
        )
        for name, group_name in self.group_names.items():
            group = registry.groups[group_name]
            stable_logical_id(group, logical_id(name))
            output = logical_id(name)
            CfnOutput(
                self,
                f"{output}Name",
                value=group_name,
                description=f"Model package group of training definition {name}",
            )
            CfnOutput(
                self,
                f"{output}Arn",
                value=group.attr_model_package_group_arn,
                description=f"ARN of the model package group of training definition {name}",
            )
