"""The stateless side of Ground Truth: labeling workflows and auto-labeling workflows
(state machines, their functions, the worker templates they deploy)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.labeling.auto_labeling import AutoLabelingWorkflow
from sagemaker_constructs.labeling.label_studio import LabelStudioHost, LabelStudioRole
from sagemaker_constructs.labeling.labeling_workflow import LabelingWorkflow, LabelingWorkforce

from .inference_monitoring import ground_truth_prefixes
from .settings import PlatformSettings
from .settings.labeling import (
    ExternalReview,
    GroundTruthReview,
    LabelStudioReview,
    PrivateTeam,
    PublicCrowd,
)
from .workforce_stack import WorkforceStack


class LabelingStack(Stack):
    """Labeling and auto-labeling workflows (stateless: state machines and functions)."""

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
        workforce: WorkforceStack | None,
        job_tags: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        labeling = settings.labeling
        assert labeling is not None
        prefix = settings.name_prefix

        self.workflows: dict[str, LabelingWorkflow] = {}
        """Labeling workflows by name."""
        for config in labeling.workflows:
            choice = config.workforce
            if isinstance(choice, PrivateTeam):
                assert workforce is not None
                who = LabelingWorkforce.private_team(workforce.teams[choice.team].workteam_arn)
            elif isinstance(choice, PublicCrowd):
                who = LabelingWorkforce.public_crowd(choice.price_per_task_usd)
            else:
                who = LabelingWorkforce.vendor(choice.workteam_arn)
            made = LabelingWorkflow(
                self,
                f"Labeling-{config.name}",
                name=config.name,
                task_type=config.task_type,
                labels=list(config.labels),
                title=config.title,
                description=config.description,
                instructions=config.instructions,
                workforce=who,
                data_bucket=data_bucket,
                artifacts_bucket=artifacts_bucket,
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                job_name_prefix=f"{prefix}-{config.name}-",
                tags=job_tags,
                workers_per_object=config.workers_per_object,
                task_time_limit=Duration.seconds(config.task_time_limit_seconds),
                task_availability=Duration.seconds(config.task_availability_seconds),
                max_concurrent_tasks=config.max_concurrent_tasks,
                automated_labeling=config.automated_labeling,
                label_attribute=config.label_attribute,
                content_classifiers=list(config.content_classifiers),
                network=network,
                timeout=Duration.hours(config.timeout_hours),
            )
            self.workflows[config.name] = made
            CfnOutput(
                self,
                f"LabelingWorkflow{_pascal(config.name)}Arn",
                value=made.state_machine.state_machine_arn,
                description=f"State machine of the {config.name} labeling workflow",
            )

        self.label_studio_roles: dict[LabelStudioHost, LabelStudioRole] = {}
        """The roles of Label Studio hosts, one per host (its workflows share it)."""
        self.auto_labeling: dict[str, AutoLabelingWorkflow] = {}
        """Auto-labeling workflows by name."""
        for auto in labeling.auto_labeling:
            review = auto.human_review
            made_auto = AutoLabelingWorkflow(
                self,
                f"AutoLabeling-{auto.name}",
                name=auto.name,
                data_type=auto.data_type,
                labels=labeling.labels_of(auto),
                endpoint_names=list(auto.endpoint_names),
                data_bucket=data_bucket,
                encryption_key=encryption_key,
                alerts_topic=alerts_topic,
                labeling_state_machine=(
                    self.workflows[review.labeling_workflow].state_machine
                    if isinstance(review, GroundTruthReview)
                    else None
                ),
                label_studio=self._studio_role(
                    _studio_host(review), data_bucket=data_bucket, encryption_key=encryption_key
                )
                if isinstance(review, LabelStudioReview)
                else None,
                label_studio_images_prefix=review.images_prefix
                if isinstance(review, LabelStudioReview)
                else "",
                multi_label=auto.multi_label,
                default_threshold=auto.default_threshold,
                label_attribute=auto.label_attribute,
                instances_per_request=auto.instances_per_request,
                objects_per_batch=auto.objects_per_batch,
                max_concurrency=auto.max_concurrency,
                human_cost_per_object_usd=Decimal(str(auto.human_cost_per_object_usd)),
                review_emails=list(review.notify_emails)
                if isinstance(review, ExternalReview | LabelStudioReview)
                else [],
                ground_truth_prefixes=ground_truth_prefixes(settings, auto.name),
                timeout=Duration.hours(auto.timeout_hours),
            )
            self.auto_labeling[auto.name] = made_auto
            name = _pascal(auto.name)
            CfnOutput(
                self,
                f"AutoLabeling{name}Arn",
                value=made_auto.state_machine.state_machine_arn,
                description=f"State machine of the {auto.name} auto-labeling workflow",
            )
            CfnOutput(
                self,
                f"AutoLabeling{name}ReviewTopicArn",
                value=made_auto.review_topic.topic_arn,
                description=f"Review requests of the {auto.name} auto-labeling workflow",
            )
            if made_auto.label_studio_role is not None:
                CfnOutput(
                    self,
                    f"AutoLabeling{name}LabelStudioRoleArn",
                    value=made_auto.label_studio_role.role_arn,
                    description=f"Role Label Studio's host assumes for {auto.name} runs",
                )

    def _studio_role(
        self, host: LabelStudioHost, *, data_bucket: s3.IBucket, encryption_key: kms.IKey
    ) -> LabelStudioRole:
        """The role of `host`, made for its first workflow."""
        if host not in self.label_studio_roles:
            # Named after the principal: another workflow of the same host never renames
            # the role that host's AWS profile names.
            digest = hashlib.sha256(f"{host.kind}/{host.principal_id}/{host.external_id}".encode())
            self.label_studio_roles[host] = LabelStudioRole(
                self,
                f"LabelStudioHost{digest.hexdigest()[:8]}",
                host=host,
                data_bucket=data_bucket,
                encryption_key=encryption_key,
                description=f"Label Studio on {host.kind.replace('_', ' ')} "
                f"{host.principal_id}: auto-labeling runs in the data bucket",
            )
        return self.label_studio_roles[host]


def _studio_host(review: LabelStudioReview) -> LabelStudioHost:
    host = review.host
    if host.ecs_task_role_arn:
        return LabelStudioHost.ecs_task_role(host.ecs_task_role_arn)
    if host.ec2_instance_role_arn:
        return LabelStudioHost.ec2_instance_role(host.ec2_instance_role_arn)
    assert host.account is not None
    assert host.external_id is not None
    return LabelStudioHost.account(host.account, host.external_id)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
