"""The stateless training stack: per training definition a job definition (execution
role) and a training workflow; per tuning definition a tuning workflow."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.training import (
    ModelPackageSpec,
    NewDataTrigger,
    TrainingJob,
    TrainingWorkflow,
    TuningWorkflow,
)

from .settings.training import (
    AssetImage,
    BuiltinImage,
    ImageSettings,
    TrainingDefinition,
    TrainingSettings,
    UriImage,
)

ROOT = Path(__file__).resolve().parents[1]


def image_of(settings: ImageSettings) -> ContainerImage:
    """The container image a setting names (asset directories are relative to the
    repository root)."""
    if isinstance(settings, AssetImage):
        return ContainerImage.from_asset(ROOT / settings.directory)
    if isinstance(settings, UriImage):
        return ContainerImage.from_uri(settings.uri)
    assert isinstance(settings, BuiltinImage)
    return ContainerImage.from_builtin(settings.algorithm)


def construct_id(name: str) -> str:
    """`text-classifier` -> `TextClassifier`."""
    return "".join(part.capitalize() for part in name.split("-"))


class TrainingStack(Stack):
    """Training and tuning workflows. Nothing here holds data: the models live in the
    artifacts bucket and the model registry stack."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        training: TrainingSettings,
        name_prefix: str,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        alerts_topic: sns.ITopic,
        network: NetworkPlacement | None,
        model_package_groups: Mapping[str, str],
        job_tags: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        """
        :param training: The training settings.
        :param name_prefix: Starts job names and alert titles.
        :param model_package_groups: Model package group per training definition.
        :param job_tags: Tags of every job and model package the workflows create.
        """
        super().__init__(scope, id_, **kwargs)
        self.jobs: dict[str, TrainingJob] = {}
        """Training job definitions (roles, requests) by name."""
        self.training_workflows: dict[str, TrainingWorkflow] = {}
        """Training workflows by definition name."""
        self.tuning_workflows: dict[str, TuningWorkflow] = {}
        """Tuning workflows by tuning definition name."""
        packages: dict[str, ModelPackageSpec] = {}
        for name, definition in training.definitions.items():
            job = self._job(
                name,
                definition,
                name_prefix=name_prefix,
                encryption_key=encryption_key,
                data_bucket=data_bucket,
                artifacts_bucket=artifacts_bucket,
                network=network,
                job_tags=job_tags,
            )
            self.jobs[name] = job
            package = definition.model_package
            # Binding needs a grantee: the job's role, which for an image asset already
            # pulls from the same bootstrap repository; endpoints pull with their own role.
            packages[name] = ModelPackageSpec(
                group_name=model_package_groups[name],
                image_uri=(
                    image_of(package.image).bind(job, job.role)
                    if package.image is not None
                    else job.image_uri
                ),
                approval=package.approval,
                content_types=tuple(package.content_types),
                response_types=tuple(package.response_types),
            )
            trigger = definition.on_new_data
            self.training_workflows[name] = TrainingWorkflow(
                self,
                f"{construct_id(name)}Training",
                job=job,
                model_package=packages[name],
                title=f"{name_prefix} {name}",
                overridable_hyperparameters=definition.overridable.hyperparameters,
                overridable_channels=definition.overridable.channels,
                capacity_retries=definition.capacity_retries,
                capacity_retry_delay=Duration.minutes(definition.capacity_retry_delay_minutes),
                schedule=_schedule(definition.schedule),
                new_data=(
                    NewDataTrigger(
                        prefix=trigger.prefix, suffix=trigger.suffix, channel=trigger.channel
                    )
                    if trigger is not None
                    else None
                ),
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                tags=job_tags,
            )
        for name, tuning in training.tuning.items():
            definition = training.definitions[tuning.training]
            spec = packages[tuning.training]
            if tuning.model_approval is not None:
                spec = dataclasses.replace(spec, approval=tuning.model_approval)
            hyperband = tuning.hyperband
            warm_start = tuning.warm_start
            self.tuning_workflows[name] = TuningWorkflow(
                self,
                f"{construct_id(name)}Tuning",
                job=self.jobs[tuning.training],
                job_name_prefix=tuning.job_name_prefix or f"{name_prefix}-{name}",
                objective_metric=tuning.objective.metric,
                objective_type=tuning.objective.type,
                ranges=tuning.to_ranges(),
                model_package=spec,
                title=f"{name_prefix} {name}",
                strategy=tuning.strategy,
                max_jobs=tuning.max_jobs,
                max_parallel_jobs=tuning.max_parallel_jobs,
                max_runtime=(
                    Duration.minutes(tuning.max_runtime_minutes)
                    if tuning.max_runtime_minutes
                    else None
                ),
                early_stopping=tuning.early_stopping,
                hyperband_min_resource=hyperband.min_resource if hyperband else None,
                hyperband_max_resource=hyperband.max_resource if hyperband else None,
                warm_start_parents=warm_start.parents if warm_start else (),
                warm_start_type=warm_start.type if warm_start else "TransferLearning",
                random_seed=tuning.random_seed,
                overridable_hyperparameters=[
                    h for h in definition.overridable.hyperparameters if h not in tuning.ranges
                ],
                overridable_channels=definition.overridable.channels,
                schedule=_schedule(tuning.schedule),
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                tags=job_tags,
            )

        for name, workflow in self.training_workflows.items():
            CfnOutput(
                self,
                f"{construct_id(name)}TrainingStateMachineArn",
                value=workflow.state_machine.state_machine_arn,
                description=f"Start it to train {name}",
            )
        for name, tuning_workflow in self.tuning_workflows.items():
            CfnOutput(
                self,
                f"{construct_id(name)}TuningStateMachineArn",
                value=tuning_workflow.state_machine.state_machine_arn,
                description=f"Start it to run tuning definition {name}",
            )

    def _job(
        self,
        name: str,
        definition: TrainingDefinition,
        *,
        name_prefix: str,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        network: NetworkPlacement | None,
        job_tags: Mapping[str, str],
    ) -> TrainingJob:
        return TrainingJob(
            self,
            f"{construct_id(name)}Job",
            image=image_of(definition.image),
            channels=definition.to_channels(),
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=f"training/{name}/",
            encryption_key=encryption_key,
            instance_type=definition.instance_type,
            job_name_prefix=definition.job_name_prefix or f"{name_prefix}-{name}",
            profile=definition.profile,
            hyperparameters=definition.string_hyperparameters(),
            metric_definitions=definition.metric_definitions,
            input_mode=definition.input_mode,
            gpu=definition.gpu,
            allowed_instance_types=definition.overridable.instance_types,
            instance_count=definition.instance_count,
            volume_size_gb=definition.volume_size_gb,
            max_runtime=Duration.minutes(definition.max_runtime_minutes),
            spot=definition.uses_spot,
            max_wait=(
                Duration.minutes(definition.max_wait_minutes)
                if definition.max_wait_minutes
                else None
            ),
            checkpoints=definition.uses_checkpoints,
            network=network,
            network_isolation=definition.network_isolation,
            inter_container_encryption=definition.inter_container_encryption,
            environment=definition.environment,
            tags=job_tags,
        )


def _schedule(expression: str | None) -> events.Schedule | None:
    return events.Schedule.expression(expression) if expression else None
