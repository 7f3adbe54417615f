"""Notebook instances: stateful (each volume holds a user's work)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.common import stable_logical_id
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.notebooks import (
    CONDA_FORGE,
    GitRepository,
    Kernel,
    NotebookInstance,
    NotebookJobRole,
    PackageSources,
)

from .settings import PlatformSettings
from .settings.notebooks import NotebookSettings


def notebook_logical_id(name: str) -> str:
    """Pinned logical ID of a notebook instance: a new ID would make CloudFormation try
    to replace the instance, and with it the volume holding the user's work."""
    return "Notebook" + "".join(part.capitalize() for part in name.split("-"))


class NotebooksStack(Stack):
    """One notebook instance per configured entry, its Git repositories, and the role the
    jobs started from notebooks run as. Instances are retained when the stack is deleted.
    Each notebook's idle-stop alarm notifies `alerts_topic` (default: nowhere)."""

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
        alerts_topic: sns.ITopic | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        notebooks: NotebookSettings | None = settings.notebooks
        if notebooks is None:
            raise ValueError("NotebooksStack needs settings.notebooks")

        self.job_role: iam.IRole = NotebookJobRole(
            self,
            "JobRole",
            encryption_key=encryption_key,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            network=network,
        ).role
        """The role of jobs and models started from notebooks."""

        self.repositories: dict[str, GitRepository] = {}
        """Git repositories by configured name."""
        for key, repo in notebooks.repositories.items():
            self.repositories[key] = GitRepository(
                self,
                f"Repository-{key}",
                repository_url=repo.url,
                branch=repo.branch,
                credentials=secretsmanager.Secret.from_secret_complete_arn(
                    self, f"RepositorySecret-{key}", repo.secret_arn
                )
                if repo.secret_arn
                else None,
            )

        sources = PackageSources(
            conda_channels=tuple(notebooks.package_sources.conda_channels or (CONDA_FORGE,)),
            pip_index_url=notebooks.package_sources.pip_index_url,
        )
        self.notebooks: dict[str, NotebookInstance] = {}
        """Notebook instances by configured name."""
        logical_ids: dict[str, str] = {}
        for entry in notebooks.instances:
            logical_id = notebook_logical_id(entry.name)
            if logical_id in logical_ids:
                raise ValueError(
                    f"notebooks {logical_ids[logical_id]!r} and {entry.name!r} map to the same "
                    f"logical ID {logical_id!r}; rename one of them"
                )
            logical_ids[logical_id] = entry.name
            kernels = [
                Kernel(
                    name=name,
                    python=notebooks.kernels[name].python,
                    conda_packages=tuple(notebooks.kernels[name].conda_packages),
                    pip_packages=tuple(notebooks.kernels[name].pip_packages),
                    display_name=notebooks.kernels[name].display_name,
                )
                for name in entry.kernels
            ]
            notebook = NotebookInstance(
                self,
                f"Notebook-{entry.name}",
                notebook_name=f"{settings.name_prefix}-{entry.name}",
                owner=entry.owner,
                encryption_key=encryption_key,
                data_bucket=data_bucket,
                artifacts_bucket=artifacts_bucket,
                job_role=self.job_role,
                instance_type=entry.instance_type,
                volume_size_gb=entry.volume_size_gb,
                platform_identifier=entry.platform,
                root_access=entry.root_access,
                network=network,
                direct_internet_access=entry.direct_internet_access,
                kernels=kernels,
                package_sources=sources,
                idle_stop_minutes=entry.idle_minutes if entry.idle_stop else None,
                idle_stop_alarm_runs=notebooks.idle_stop_alarm_runs,
                alerts_topic=alerts_topic,
                log_retention_days=notebooks.log_retention_days,
                default_repository=self.repositories[entry.default_repository]
                if entry.default_repository
                else None,
                additional_repositories=[
                    self.repositories[key] for key in entry.additional_repositories
                ],
                sdk_tags=sdk_tags,
            )
            stable_logical_id(notebook.instance, logical_id)
            self.notebooks[entry.name] = notebook
