"""A labeling workflow: a state machine that runs one Ground Truth labeling job per
execution (`createLabelingJob.sync`) and alerts when it fails."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..common import (
    LABELING_JOB,
    LoggedStateMachine,
    Problems,
    PythonFunction,
    SageMakerJobTask,
    acknowledge,
    acknowledge_policy_wildcards,
    acknowledge_wildcards,
)
from ..common.execution_role import grant_network_interfaces
from ..foundation import NetworkPlacement
from .access import grant_objects
from .ground_truth import algorithm_arn, human_task_ui_arn, lambda_arns, public_workteam_arn
from .task_types import (
    PUBLIC_MAX_AVAILABILITY_SECONDS,
    PUBLIC_MAX_TASK_SECONDS,
    PUBLIC_PRICES,
    TASK_TYPES,
    DataType,
    TaskType,
)
from .templates import label_category_config, render_template

RUNTIME = Path(__file__).parent / "runtime"

PRIVATE_MAX_AVAILABILITY_SECONDS = 2_592_000
KEYWORDS = {
    DataType.TEXT: ["Text", "Labeling"],
    DataType.IMAGE: ["Images", "Labeling"],
}


@dataclass(frozen=True)
class LabelingWorkforce:
    """Who does a workflow's tasks. Use the factories."""

    kind: str
    workteam_arn: str
    price_per_task_usd: Decimal | None = None

    @staticmethod
    def private_team(workteam_arn: str) -> LabelingWorkforce:
        """A work team of your private workforce (`WorkTeam.workteam_arn`)."""
        return LabelingWorkforce("private", workteam_arn)

    @staticmethod
    def public_crowd(price_per_task_usd: Decimal | str) -> LabelingWorkforce:
        """Amazon Mechanical Turk, paying this much per task (one of 0.012 ... 1.200)."""
        return LabelingWorkforce("public", public_workteam_arn(), Decimal(price_per_task_usd))

    @staticmethod
    def vendor(workteam_arn: str) -> LabelingWorkforce:
        """A vendor's work team you subscribed to in AWS Marketplace."""
        return LabelingWorkforce("vendor", workteam_arn)

    def price(self) -> dict[str, Any] | None:
        """PublicWorkforceTaskPrice of the request, for the public crowd."""
        if self.price_per_task_usd is None:
            return None
        tenths = int(self.price_per_task_usd * 1000)
        return {
            "AmountInUsd": {
                "Dollars": tenths // 1000,
                "Cents": (tenths % 1000) // 10,
                "TenthFractionsOfACent": tenths % 10,
            }
        }


class LabelingWorkflow(Construct):
    """A state machine that runs one Ground Truth labeling job per execution.

    Execution input: `{"manifest_uri": "s3://<data bucket>/..."}`, optionally `job_name`,
    `title`, `description`, `workers_per_object`, `task_time_limit_seconds`,
    `task_availability_seconds` and `label_attribute` for this run. A function checks the
    input first and names the job `<job_name_prefix><job_name or execution name>`.

    The job reads the manifest and its objects from the data bucket, writes its output
    under `labeling/<name>/output/` there (encrypted with `encryption_key`), and uses the
    worker template and label categories this construct deploys to the artifacts bucket
    under `labeling/<name>/` (named entity recognition uses AWS's hosted UI). The AWS-owned
    pre-annotation and consolidation Lambdas resolve per region (CfnMapping). The
    execution output is `{job_name, status, output_manifest_uri, label_attribute,
    label_counters}`; a failure is published to `alerts_topic`.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        task_type: str,
        labels: Sequence[str],
        title: str,
        description: str,
        instructions: str,
        workforce: LabelingWorkforce,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        job_name_prefix: str,
        tags: Mapping[str, str] | None = None,
        workers_per_object: int = 1,
        task_time_limit: Duration = Duration.minutes(5),
        task_availability: Duration = Duration.days(10),
        max_concurrent_tasks: int | None = None,
        automated_labeling: bool = False,
        label_attribute: str = "label",
        content_classifiers: Sequence[str] = (),
        network: NetworkPlacement | None = None,
        timeout: Duration = Duration.days(30),
        log_retention_days: int = 365,
    ) -> None:
        """
        :param name: Workflow name: its files live under `labeling/<name>/`. 1-20 lower-case
            letters, digits and hyphens.
        :param task_type: One of `TASK_TYPES` (image/text classification, single or
            multi-label, bounding_box, named_entity_recognition).
        :param labels: Label categories in order (classification: 2-30, others: 1-30).
        :param title: Task title for workers. 1-128 characters.
        :param description: One-line task description. 1-255 characters.
        :param instructions: Instructions beside each task. 1-4000 characters.
        :param workforce: `LabelingWorkforce.private_team(...)`, `.public_crowd(price)` or
            `.vendor(arn)`.
        :param data_bucket: Holds manifests and objects; receives the output.
        :param artifacts_bucket: Receives the worker template and label categories.
        :param encryption_key: Encrypts the output, the job's volumes and the logs.
        :param alerts_topic: Told when a run fails.
        :param job_name_prefix: Lower-case prefix of the job names, e.g. `smkit-sentiment-`.
            At most 40 characters; the role may only manage jobs named so.
        :param tags: Put on every labeling job (cost allocation). Default: none.
        :param workers_per_object: Default: 1. Valid range: 1-9.
        :param task_time_limit: Per task. Default: 5 minutes. Valid range: 30 seconds -
            8 hours (public crowd: 1 hour).
        :param task_availability: How long tasks wait for workers. Default: 10 days. Valid
            range: 1 minute - 30 days (public crowd: 12 hours).
        :param max_concurrent_tasks: Default: Ground Truth's (1000). Valid range: 1-5000.
        :param automated_labeling: Ground Truth's automated data labeling (image and text
            classification, bounding box). Default: false.
        :param label_attribute: Output attribute of the labels. Default: `label`.
        :param content_classifiers: `FreeOfPersonallyIdentifiableInformation`,
            `FreeOfAdultContent`. Default: none.
        :param network: VPC of automated labeling's training and inference. Default: none.
        :param timeout: Longest run. Default: 30 days.
        :param log_retention_days: Of the state machine's and function's logs. Default: 365.
        """
        super().__init__(scope, id_)
        task = TASK_TYPES.get(task_type)
        self._validate(
            name=name,
            task=task,
            task_type=task_type,
            labels=labels,
            title=title,
            description=description,
            instructions=instructions,
            workforce=workforce,
            job_name_prefix=job_name_prefix,
            workers_per_object=workers_per_object,
            task_time_limit=task_time_limit,
            task_availability=task_availability,
            max_concurrent_tasks=max_concurrent_tasks,
            automated_labeling=automated_labeling,
            label_attribute=label_attribute,
            content_classifiers=content_classifiers,
        )
        assert task is not None
        self.task_type = task
        self.name = name
        self.job_name_prefix = job_name_prefix
        """Prefix of every job name."""
        files_prefix = f"labeling/{name}/"
        self.output_path = f"s3://{data_bucket.bucket_name}/{files_prefix}output/"
        """Where the jobs write (`<output_path><job name>/manifests/output/output.manifest`)."""

        self.files = s3deploy.BucketDeployment(
            self,
            "WorkerFiles",
            # By reference: a deployment tags a bucket it owns, which would change the
            # bucket's own (stateful) stack for every workflow.
            destination_bucket=s3.Bucket.from_bucket_attributes(
                self,
                "Artifacts",
                bucket_arn=artifacts_bucket.bucket_arn,
                bucket_name=artifacts_bucket.bucket_name,
                encryption_key=artifacts_bucket.encryption_key,
            ),
            destination_key_prefix=files_prefix,
            sources=self._worker_files(task, labels, title, description, instructions),
            prune=False,
            retain_on_delete=True,
        )
        """Deploys the worker template and label categories to the artifacts bucket."""
        acknowledge_deployment_handler(self.files)

        self.role = iam.Role(
            self,
            "JobRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs the {name} labeling jobs",
        )
        """The labeling jobs' execution role."""
        self._grant_job_role(
            data_bucket, artifacts_bucket, encryption_key, files_prefix, automated_labeling, network
        )

        self.prepare = PythonFunction(
            self,
            "Prepare",
            code_dir=RUNTIME,
            handler="labeling_job.prepare.handler",
            description=f"Checks the input of a {name} labeling run and names the job",
            encryption_key=encryption_key,
            timeout=Duration.seconds(30),
            log_retention_days=log_retention_days,
            environment={
                "DATA_BUCKET": data_bucket.bucket_name,
                "JOB_PREFIX": job_name_prefix,
                "DEFAULTS": json.dumps(
                    {
                        "title": title,
                        "description": description,
                        "workers_per_object": workers_per_object,
                        "task_time_limit_seconds": int(task_time_limit.to_seconds()),
                        "task_availability_seconds": int(task_availability.to_seconds()),
                        "label_attribute": label_attribute,
                    }
                ),
                "LIMITS": json.dumps(self._limits(workforce)),
            },
        )
        """Checks the execution input and names the job."""
        grant_objects(self.prepare.role, data_bucket, encryption_key, "*")
        acknowledge_wildcards(
            self.prepare.role,
            resources=[data_bucket.arn_for_objects("*")],
            reason="Manifests may be anywhere in the data bucket; the function only checks "
            "that the one named in the input exists (HeadObject needs s3:GetObject).",
        )

        self.request = labeling_job_request(
            self,
            task=task,
            role_arn=self.role.role_arn,
            data_bucket_name=data_bucket.bucket_name,
            artifacts_bucket_name=artifacts_bucket.bucket_name,
            files_prefix=files_prefix,
            workforce=workforce,
            key_arn=encryption_key.key_arn,
            tags=tags or {},
            max_concurrent_tasks=max_concurrent_tasks,
            automated_labeling=automated_labeling,
            content_classifiers=content_classifiers,
            network=network,
        )
        """The CreateLabelingJob request (JSONPath keys end in `.$`)."""

        check = tasks.LambdaInvoke(
            self,
            "CheckInput",
            lambda_function=self.prepare.function,
            payload=sfn.TaskInput.from_object(
                {
                    "input": sfn.JsonPath.entire_payload,
                    "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
                }
            ),
            payload_response_only=True,
            result_path="$.job",
        )
        label = SageMakerJobTask(
            self,
            "Label",
            kind=LABELING_JOB,
            parameters=self.request,
            job_name_prefix=job_name_prefix,
            passed_roles=[self.role],
            keys_for_grants=[encryption_key] if automated_labeling else (),
            result_path="$.result",
            result_selector={
                "job_name.$": "$.LabelingJobName",
                "status.$": "$.LabelingJobStatus",
                "output_manifest_uri.$": "$.LabelingJobOutput.OutputDatasetS3Uri",
                "label_attribute.$": "$.LabelAttributeName",
                "label_counters.$": "$.LabelCounters",
            },
            comment="Runs the labeling job to its end",
        )
        label.state.add_retry(
            errors=["SageMaker.ThrottlingException"],
            interval=Duration.seconds(10),
            max_attempts=5,
            backoff_rate=2,
        )
        failed = alert_and_fail(self, alerts_topic, f"Labeling workflow {name} failed")
        check.add_catch(failed, result_path="$.error")
        label.state.add_catch(failed, result_path="$.error")
        done = sfn.Succeed(self, "Done", output_path="$.result")

        self.machine = LoggedStateMachine(
            self,
            # Names the log group: unique per stack.
            f"labeling-{name}",
            definition=check.next(label.state).next(done),
            encryption_key=encryption_key,
            timeout=timeout,
            comment=f"Runs one {task_type} labeling job ({name})",
            log_retention_days=log_retention_days,
        )
        self.state_machine = self.machine.state_machine
        """The state machine."""
        label.grant(self.state_machine)
        alerts_topic.grant_publish(self.state_machine)
        acknowledge_wildcards(
            self.state_machine.role,
            actions=["kms:GenerateDataKey*"],
            resources=[f"{self.prepare.function.function_arn}:*"],
            reason="Invokes only its own input-check function (any version of it) and "
            "publishes to the KMS-encrypted alerts topic (data keys of the platform key).",
        )

    @staticmethod
    def _validate(**kw: Any) -> None:
        problems = Problems("LabelingWorkflow")
        name: str = kw["name"]
        task: TaskType | None = kw["task"]
        labels = list(kw["labels"])
        workforce: LabelingWorkforce = kw["workforce"]
        problems.check(
            1 <= len(name) <= 20
            and name[:1].isalpha()
            and all(c.islower() or c.isdigit() or c == "-" for c in name),
            f"name must be 1-20 lower-case letters, digits and hyphens (got {name!r})",
        )
        problems.check(
            task is not None,
            f"task_type must be one of {', '.join(TASK_TYPES)} (got {kw['task_type']!r})",
        )
        if task is not None:
            problems.check(
                task.min_labels <= len(labels) <= 30,
                f"{task.name} needs {task.min_labels}-30 labels (got {len(labels)})",
            )
            problems.check(
                not kw["automated_labeling"] or task.algorithm is not None,
                f"automated_labeling is not available for {task.name}",
            )
        problems.check(len(set(labels)) == len(labels), f"labels must be unique (got {labels})")
        for key, most in (("title", 128), ("description", 255), ("instructions", 4000)):
            problems.check(
                1 <= len(kw[key]) <= most, f"{key} must be 1-{most} characters (got {len(kw[key])})"
            )
        prefix: str = kw["job_name_prefix"]
        problems.check(
            prefix == prefix.lower() and 1 <= len(prefix) <= 40,
            f"job_name_prefix must be 1-40 lower-case characters (got {prefix!r})",
        )
        problems.check(
            1 <= kw["workers_per_object"] <= 9,
            f"workers_per_object must be 1-9 (got {kw['workers_per_object']})",
        )
        public = workforce.kind == "public"
        seconds = kw["task_time_limit"].to_seconds()
        most = PUBLIC_MAX_TASK_SECONDS if public else 28_800
        problems.check(
            30 <= seconds <= most, f"task_time_limit must be 30-{most} seconds (got {seconds})"
        )
        seconds = kw["task_availability"].to_seconds()
        most = PUBLIC_MAX_AVAILABILITY_SECONDS if public else PRIVATE_MAX_AVAILABILITY_SECONDS
        problems.check(
            60 <= seconds <= most, f"task_availability must be 60-{most} seconds (got {seconds})"
        )
        concurrent = kw["max_concurrent_tasks"]
        problems.check(
            concurrent is None or 1 <= concurrent <= 5000,
            f"max_concurrent_tasks must be 1-5000 (got {concurrent})",
        )
        if public:
            problems.check(
                workforce.price_per_task_usd in PUBLIC_PRICES,
                "price_per_task_usd must be one of "
                + ", ".join(map(str, PUBLIC_PRICES))
                + f" (got {workforce.price_per_task_usd})",
            )
        attribute: str = kw["label_attribute"]
        # LABEL-4 (API_CreateLabelingJob, LabelAttributeName).
        problems.check(
            bool(attribute) and not attribute.endswith(("-metadata", "-ref")),
            f"label_attribute must not be empty or end with -metadata or -ref (got {attribute!r})",
        )
        unknown = sorted(
            set(kw["content_classifiers"])
            - {"FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"}
        )
        problems.check(not unknown, f"content_classifiers: unknown {unknown}")
        problems.raise_if_any()

    @staticmethod
    def _limits(workforce: LabelingWorkforce) -> dict[str, int]:
        public = workforce.kind == "public"
        return {
            "workers_per_object": 9,
            "task_time_limit_seconds": PUBLIC_MAX_TASK_SECONDS if public else 28_800,
            "task_availability_seconds": (
                PUBLIC_MAX_AVAILABILITY_SECONDS if public else PRIVATE_MAX_AVAILABILITY_SECONDS
            ),
        }

    @staticmethod
    def _worker_files(
        task: TaskType, labels: Sequence[str], title: str, description: str, instructions: str
    ) -> list[s3deploy.ISource]:
        sources = [
            s3deploy.Source.data("label-categories.json", label_category_config(list(labels)))
        ]
        if task.element is not None:
            sources.append(
                s3deploy.Source.data(
                    "worker-task.liquid.html",
                    render_template(
                        task, title=title, description=description, instructions=instructions
                    ),
                )
            )
        return sources

    def _grant_job_role(
        self,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        files_prefix: str,
        automated_labeling: bool,
        network: NetworkPlacement | None,
    ) -> None:
        # Manifests and the objects they point at may be anywhere in the data bucket.
        grant_objects(self.role, data_bucket, key, "*")
        grant_objects(self.role, data_bucket, key, f"{files_prefix}output/*", write=True)
        grant_objects(self.role, artifacts_bucket, key, f"{files_prefix}*")
        stack = Stack.of(self)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/LabelingJobs*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )
        acknowledge_wildcards(
            self.role,
            resources=[
                data_bucket.arn_for_objects("*"),
                data_bucket.arn_for_objects(f"{files_prefix}output/*"),
                artifacts_bucket.arn_for_objects(f"{files_prefix}*"),
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name="/aws/sagemaker/LabelingJobs*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                ),
            ],
            reason="Labeling jobs read manifests and the objects they name anywhere in the "
            "data bucket, write only under this workflow's output prefix, read only its worker "
            "files, and log only to SageMaker's labeling-job log groups.",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData accepts no resource ARN; the statement is limited to "
            "SageMaker's metric namespaces by condition"
            + (
                "; the EC2 Describe calls automated labeling makes in the VPC accept none either."
                if automated_labeling and network is not None
                else "."
            ),
        )
        if automated_labeling and network is not None:
            grant_network_interfaces(self.role, network)


def labeling_job_request(
    scope: Construct,
    *,
    task: TaskType,
    role_arn: str,
    data_bucket_name: str,
    artifacts_bucket_name: str,
    files_prefix: str,
    workforce: LabelingWorkforce,
    key_arn: str,
    tags: Mapping[str, str],
    max_concurrent_tasks: int | None = None,
    automated_labeling: bool = False,
    content_classifiers: Sequence[str] = (),
    network: NetworkPlacement | None = None,
) -> dict[str, Any]:
    """The CreateLabelingJob request of a labeling workflow; the run's values (job name,
    manifest, texts, counts, label attribute) come from `$.job` (JSONPath)."""
    pre, consolidation = lambda_arns(scope, task)
    files = f"s3://{artifacts_bucket_name}/{files_prefix}"
    ui: dict[str, str] = (
        {"UiTemplateS3Uri": f"{files}worker-task.liquid.html"}
        if task.element is not None
        else {"HumanTaskUiArn": human_task_ui_arn()}
    )
    human: dict[str, Any] = {
        "WorkteamArn": workforce.workteam_arn,
        "UiConfig": ui,
        "PreHumanTaskLambdaArn": pre,
        "TaskKeywords": KEYWORDS[task.data_type],
        "TaskTitle.$": "$.job.title",
        "TaskDescription.$": "$.job.description",
        "NumberOfHumanWorkersPerDataObject.$": "$.job.workers_per_object",
        "TaskTimeLimitInSeconds.$": "$.job.task_time_limit_seconds",
        "TaskAvailabilityLifetimeInSeconds.$": "$.job.task_availability_seconds",
        "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": consolidation},
    }
    if max_concurrent_tasks is not None:
        human["MaxConcurrentTaskCount"] = max_concurrent_tasks
    price = workforce.price()
    if price is not None:
        human["PublicWorkforceTaskPrice"] = price
    input_config: dict[str, Any] = {
        "DataSource": {"S3DataSource": {"ManifestS3Uri.$": "$.job.manifest_uri"}}
    }
    if content_classifiers:
        input_config["DataAttributes"] = {"ContentClassifiers": list(content_classifiers)}
    request: dict[str, Any] = {
        "LabelingJobName.$": "$.job.job_name",
        "LabelAttributeName.$": "$.job.label_attribute",
        "InputConfig": input_config,
        "OutputConfig": {
            "S3OutputPath": f"s3://{data_bucket_name}/{files_prefix}output/",
            "KmsKeyId": key_arn,
        },
        "RoleArn": role_arn,
        "LabelCategoryConfigS3Uri": f"{files}label-categories.json",
        "HumanTaskConfig": human,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }
    if automated_labeling:
        resources: dict[str, Any] = {"VolumeKmsKeyId": key_arn}
        if network is not None:
            resources["VpcConfig"] = network.vpc_config()
        request["LabelingJobAlgorithmsConfig"] = {
            "LabelingJobAlgorithmSpecificationArn": algorithm_arn(task),
            "LabelingJobResourceConfig": resources,
        }
    return request


def alert_and_fail(scope: Construct, topic: sns.ITopic, subject: str) -> sfn.IChainable:
    """Publish the caught error (`$.error`) to `topic`, then fail the execution with it."""
    publish = tasks.SnsPublish(
        scope,
        "Alert",
        topic=topic,
        subject=subject[:100],
        message=sfn.TaskInput.from_object(
            {
                "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                "error": sfn.JsonPath.string_at("$.error.Error"),
                "cause": sfn.JsonPath.string_at("$.error.Cause"),
            }
        ),
        result_path=sfn.JsonPath.DISCARD,
    )
    return publish.next(
        sfn.Fail(scope, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
    )


def acknowledge_deployment_handler(deployment: s3deploy.BucketDeployment) -> None:
    """Acknowledge what CDK's shared BucketDeployment handler is made of."""
    role = deployment.handler_role
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole]",
        "CDK's BucketDeployment handler writes its own logs with the basic execution "
        "policy; it runs only while a stack deploys the worker files.",
    )
    acknowledge_policy_wildcards(
        role,
        reason="CDK's BucketDeployment handler copies the worker files from the CDK asset "
        "bucket into the artifacts bucket: read on the staged assets, read/write on the "
        "destination bucket, with the data keys of its KMS key.",
    )
    handler = role.node.scope
    assert handler is not None
    acknowledge(
        handler,
        "AwsSolutions-L1",
        "CDK's BucketDeployment handler pins its own Python runtime (it bundles the AWS "
        "CLI for it); the kit cannot choose it.",
    )
