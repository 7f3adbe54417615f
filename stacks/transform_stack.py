"""The stateless batch transform stack: per transform definition a model with its
execution role and a workflow that runs it over an S3 prefix of the data bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.transform import TransformJob, TransformWorkflow

from .model_sources import model_source
from .settings import PlatformSettings
from .settings.inference import ModelPackageGroupSettings
from .settings.transform import resolved_model
from .training_stack import construct_id


class TransformStack(Stack):
    """One transform workflow per definition of the `transform` section. A definition
    that names an endpoint's model gets a model of its own built from the same settings:
    a transform never depends on the endpoint running (nor keeps it from being replaced)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: PlatformSettings,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        alerts_topic: sns.ITopic,
        network: NetworkPlacement | None,
        job_tags: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        """
        :param settings: The platform settings (the `transform` section and the endpoints
            and training definitions its models refer to).
        :param job_tags: Tags of every transform job the workflows start.
        """
        super().__init__(scope, id_, **kwargs)
        transform = settings.transform
        if transform is None:
            raise ValueError("TransformStack needs the `transform` section of the settings")
        self.jobs: dict[str, TransformJob] = {}
        """Transform definitions (models, roles, requests) by name."""
        self.workflows: dict[str, TransformWorkflow] = {}
        """Transform workflows by definition name."""
        for name, definition in transform.definitions.items():
            model = resolved_model(settings, definition.model)
            # The settings refuse both (transform_platform_problems): a config never gets here.
            if model is None or isinstance(model, ModelPackageGroupSettings):
                raise ValueError(
                    f"transform.definitions.{name}: its endpoint is not configured, or follows "
                    "a model package group"
                )
            unit = construct_id(name)
            job = TransformJob(
                self,
                f"{unit}Job",
                model=model_source(
                    settings,
                    model,
                    artifacts_bucket=artifacts_bucket,
                    where=f"transform.definitions.{name}",
                ),
                data_bucket=data_bucket,
                input_prefix=definition.input_prefix,
                output_prefix=transform.output_prefix(name),
                encryption_key=encryption_key,
                instance_type=definition.instance_type,
                allowed_instance_types=definition.overridable.instance_types,
                job_name_prefix=transform.job_prefix(name, settings.name_prefix),
                instance_count=definition.instance_count,
                content_type=definition.content_type,
                accept=definition.accept,
                split_type=definition.split_type,
                batch_strategy=definition.batch_strategy,
                assemble_with=definition.assemble_with,
                max_payload_mb=definition.max_payload_mb,
                max_concurrent_transforms=definition.max_concurrent_transforms,
                invocation_timeout=Duration.seconds(definition.invocation_timeout_seconds),
                invocation_max_retries=definition.invocation_max_retries,
                environment=definition.container_environment,
                network=network,
                network_isolation=definition.network_isolation,
                tags=job_tags,
            )
            self.jobs[name] = job
            workflow = TransformWorkflow(
                self,
                f"{unit}Transform",
                job=job,
                alerts_topic=alerts_topic,
                encryption_key=encryption_key,
                title=f"{settings.name_prefix} {name}",
                max_runtime=Duration.minutes(definition.max_runtime_minutes),
                schedule=(
                    events.Schedule.expression(definition.schedule) if definition.schedule else None
                ),
                log_retention_days=transform.log_retention_days,
            )
            self.workflows[name] = workflow
            CfnOutput(
                self,
                f"{unit}TransformStateMachineArn",
                value=workflow.state_machine.state_machine_arn,
                description=f"Start it to run transform {name}",
            )
