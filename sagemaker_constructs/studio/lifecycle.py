"""The JupyterLab lifecycle configuration every app of the domain starts with: the
SageMaker SDK defaults and the kernels, built by the same code as a notebook instance's."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IValidation

from ..common import Problems
from ..foundation import NetworkPlacement
from ..notebooks.kernels import Kernel, PackageSources, check_kernels
from ..notebooks.scripts import (
    MAX_LENGTHS,
    OnStartScript,
    slow_foreground_commands,
    studio_start_script,
)
from ..notebooks.sdk_config import sdk_defaults, to_yaml

_NAME_PREFIX = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,50}")
HASH_CHARS = 10


class JupyterLabLifecycleConfig(Construct):
    """An `AWS::SageMaker::StudioLifecycleConfig` for JupyterLab apps: at every start it
    writes the SageMaker SDK defaults (jobs and models run as `job_role`, write to the
    artifacts bucket under `artifacts_prefix` with the platform key, in the network, with
    `sdk_tags`) and builds `kernels` in the background into the space's volume.

    Checked at construction (STUDIO-9, STUDIO-10): the base64-encoded script fits
    SageMaker's 16,384 characters (deploy-time values counted at their longest), and its
    foreground runs nothing slow (the start fails after 5 minutes).

    Its content and tags can only be set when it is created, and it has a fixed name: the
    name ends in a hash of both, so a change creates a new configuration under a new name
    instead of failing. Old ones are retained by default (an app that started with one
    keeps working; they cost nothing).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name_prefix: str,
        encryption_key: kms.IKey,
        artifacts_bucket: s3.IBucket,
        job_role: iam.IRole,
        artifacts_prefix: str = "studio",
        network: NetworkPlacement | None = None,
        kernels: Sequence[Kernel] = (),
        package_sources: PackageSources | None = None,
        sdk_tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param name_prefix: Starts the configuration's name (`<name_prefix>-<hash>`). 1-51
            letters, digits and hyphens, starting and ending with a letter or digit.
        :param encryption_key: The platform key (the SDK's output and S3 encryption).
        :param artifacts_bucket: The SDK's default bucket.
        :param job_role: The role the SDK's jobs and models run as.
        :param artifacts_prefix: The SDK's default key prefix. Default: `studio`.
        :param network: Where the SDK places jobs and models. Default: None (no VPC).
        :param kernels: Kernels to build. Default: none. Unique names.
        :param package_sources: Where kernels come from. Default: conda-forge and PyPI.
        :param sdk_tags: Tags the SDK defaults put on jobs and models. Default: none.
        :param removal_policy: Of each version of the configuration. Default: RETAIN.
        """
        super().__init__(scope, id_)
        sources = package_sources or PackageSources()
        problems = Problems("JupyterLabLifecycleConfig")
        problems.check(
            bool(_NAME_PREFIX.fullmatch(name_prefix)),
            "name_prefix must be 1-51 letters, digits and hyphens, starting and ending with a "
            f"letter or digit (got {name_prefix!r})",
        )
        check_kernels(kernels, sources, problems)
        problems.raise_if_any()

        defaults = sdk_defaults(
            job_role_arn=job_role.role_arn,
            bucket_name=artifacts_bucket.bucket_name,
            key_prefix=artifacts_prefix,
            kms_key_id=encryption_key.key_arn,
            network=network,
            tags=dict(sdk_tags or {}),
        )
        bounds = {
            job_role.role_arn: MAX_LENGTHS["role_arn"],
            artifacts_bucket.bucket_name: MAX_LENGTHS["bucket_name"],
            encryption_key.key_arn: MAX_LENGTHS["key_arn"],
        }
        if network is not None:
            bounds.update((s, MAX_LENGTHS["subnet_id"]) for s in network.subnet_ids)
            bounds.update((g, MAX_LENGTHS["security_group_id"]) for g in network.security_group_ids)
        self.script: OnStartScript = studio_start_script(
            sdk_defaults_yaml=to_yaml(defaults),
            kernels=kernels,
            sources=sources,
            bounds=bounds,
        )
        """The rendered start script."""
        problems = Problems("JupyterLabLifecycleConfig")
        # STUDIO-9 (jl-lcc.html): a script of at most 16,384 characters, base64-encoded.
        size = self.script.size_problem("JupyterLab lifecycle script of the Studio domain")
        problems.check(size is None, size or "")
        # STUDIO-10 (studio-lifecycle-configurations-debug-timeout.html): 5 minutes at most.
        slow = slow_foreground_commands(self.script.text)
        problems.check(
            not slow,
            f"the JupyterLab lifecycle script runs {', '.join(slow)} in the foreground; a "
            "start fails after 5 minutes, so slow work must run in the background",
        )
        problems.raise_if_any()

        self.resource = sagemaker.CfnStudioLifecycleConfig(
            self,
            "Resource",
            studio_lifecycle_config_app_type="JupyterLab",
            studio_lifecycle_config_content=Fn.base64(self.script.text),
            # Set once the app's tags are applied (below).
            studio_lifecycle_config_name=name_prefix,
        )
        """The lifecycle configuration."""
        # STUDIO-11 (aws-resource-sagemaker-studiolifecycleconfig.html): content and tags
        # are create-only and the name is required: a new name for every change.
        self.node.add_validation(_ContentHashName(self.resource, name_prefix))
        self.resource.apply_removal_policy(removal_policy)
        self.arn = self.resource.attr_studio_lifecycle_config_arn
        """Its ARN (changes with its content)."""


@jsii.implements(IValidation)
class _ContentHashName:
    """Names the configuration `<prefix>-<hash of its resolved content and tags>`. Runs
    as a validation: after the app's tags are applied and references resolved, before
    the template is written."""

    def __init__(self, resource: sagemaker.CfnStudioLifecycleConfig, prefix: str) -> None:
        self._resource = resource
        self._prefix = prefix

    def validate(self) -> list[str]:
        stack = Stack.of(self._resource)
        content: Any = stack.resolve(self._resource.studio_lifecycle_config_content)
        tags: Any = stack.resolve(self._resource.cdk_tag_manager.render_tags())
        digest = hashlib.sha256(
            json.dumps([content, tags], sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()
        self._resource.studio_lifecycle_config_name = f"{self._prefix}-{digest[:HASH_CHARS]}"
        return []
