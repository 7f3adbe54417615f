"""The model registry: one model package group per kind of model."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import Problems

_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


class ModelRegistry(Construct):
    """Model package groups by name. Each trained model becomes a versioned package in
    its group, pending approval (or approved); endpoints deploy approved versions.

    The groups hold the record of every model ever registered: they are retained when
    the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        groups: Mapping[str, str],
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param groups: Group name -> description (at most 1024 characters). Names are
            1-63 letters, digits and hyphens.
        :param removal_policy: Default: RETAIN.
        """
        super().__init__(scope, id_)
        problems = Problems("ModelRegistry")
        problems.check(bool(groups), "groups needs at least one model package group")
        for name, description in groups.items():
            problems.check(
                bool(_GROUP_NAME.match(name)),
                f"group name {name!r} must be 1-63 letters, digits and hyphens",
            )
            problems.check(
                len(description) <= 1024,
                f"description of group {name!r} must be at most 1024 characters",
            )
        problems.raise_if_any()
        self.groups: dict[str, sagemaker.CfnModelPackageGroup] = {}
        """The model package groups, by name."""
        for name, description in groups.items():
            group = sagemaker.CfnModelPackageGroup(
                self,
                name,
                model_package_group_name=name,
                model_package_group_description=description,
            )
            group.apply_removal_policy(removal_policy)
            self.groups[name] = group
