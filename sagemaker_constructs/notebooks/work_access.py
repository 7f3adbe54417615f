"""What a notebook's user may do with the platform, as one set of grants on a role: the
notebook instance's role and Studio's execution roles both get it.

Read and write the data bucket, read the artifacts bucket and write one prefix of it, use
the platform key, the SageMaker actions of training, tuning, processing and models,
describe and invoke endpoints, list them all, read SageMaker's logs, and pass only the
platform's job role (to SageMaker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from ..common import acknowledge_wildcards

# SageMaker actions a data scientist's notebook needs, by resource type (ARN suffix).
JOB_ACTIONS: Mapping[str, Sequence[str]] = {
    "training-job/*": (
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
    ),
    "hyper-parameter-tuning-job/*": (
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    ),
    "processing-job/*": (
        "sagemaker:CreateProcessingJob",
        "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob",
    ),
    "model/*": ("sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:DeleteModel"),
    "endpoint/*": (
        "sagemaker:DescribeEndpoint",
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
    ),
    "endpoint-config/*": ("sagemaker:DescribeEndpointConfig",),
}
TAGGED_RESOURCES = ("training-job/*", "hyper-parameter-tuning-job/*", "processing-job/*", "model/*")
"""Resources created with tags (sagemaker:AddTags is needed to create them with `Tags`)."""
LIST_ACTIONS = (
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListEndpoints",
    "sagemaker:ListHyperParameterTuningJobs",
    "sagemaker:ListModels",
    "sagemaker:ListProcessingJobs",
    "sagemaker:ListTrainingJobs",
)
SAGEMAKER_LOGS = "/aws/sagemaker/*"
"""SageMaker's log groups (jobs, endpoints, notebooks, Studio), which notebook users read."""


def sagemaker_arn(stack: Stack, suffix: str) -> str:
    """`arn:...:sagemaker:<region>:<account>:<type>/<name>` for `<type>/<name>`."""
    resource, name = suffix.split("/", 1)
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)


def log_group_arn(stack: Stack, name: str) -> str:
    """The ARN of log group `name` and its streams (`...:log-group:<name>:*`)."""
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def grant_notebook_work(
    role: iam.IRole,
    *,
    encryption_key: kms.IKey,
    data_bucket: s3.IBucket,
    artifacts_bucket: s3.IBucket,
    artifacts_prefix: str,
    job_role: iam.IRole,
) -> None:
    """Grant `role` what a notebook's user does with the platform (module docstring);
    writes to the artifacts bucket go under `artifacts_prefix/` only."""
    stack = Stack.of(role)
    data_bucket.grant_read_write(role)
    artifacts_bucket.grant_read(role)
    artifacts_bucket.grant_read_write(role, f"{artifacts_prefix}/*")
    encryption_key.grant_encrypt_decrypt(role)
    for suffix, actions in JOB_ACTIONS.items():
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=[sagemaker_arn(stack, suffix)])
        )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["sagemaker:AddTags", "sagemaker:ListTags"],
            resources=[sagemaker_arn(stack, suffix) for suffix in TAGGED_RESOURCES],
        )
    )
    role.add_to_principal_policy(iam.PolicyStatement(actions=list(LIST_ACTIONS), resources=["*"]))
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[job_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents"],
            resources=[log_group_arn(stack, SAGEMAKER_LOGS)],
        )
    )


def acknowledge_notebook_work(
    role: iam.IRole,
    *,
    data_bucket: s3.IBucket,
    artifacts_bucket: s3.IBucket,
    artifacts_prefix: str,
) -> None:
    """cdk-nag acknowledgements of the wildcards `grant_notebook_work` puts on `role`,
    each naming its resources and why."""
    stack = Stack.of(role)
    acknowledge_wildcards(
        role,
        reason="The notebook reads and writes the platform's data, reads its artifacts and "
        "writes only its own artifacts prefix; the wildcards are object keys of those "
        "buckets and the KMS actions CDK grants for encrypt/decrypt with the platform key.",
        actions=[
            "s3:GetObject*",
            "s3:GetBucket*",
            "s3:List*",
            "s3:DeleteObject*",
            "s3:Abort*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        ],
        resources=[
            data_bucket.arn_for_objects("*"),
            artifacts_bucket.arn_for_objects("*"),
            artifacts_bucket.arn_for_objects(f"{artifacts_prefix}/*"),
        ],
    )
    acknowledge_wildcards(
        role,
        reason="Job, model and endpoint names are chosen in notebook code at run time; the "
        "role may act on those resource types in this account and region only, and List "
        "actions have no resource type.",
        resources=[*(sagemaker_arn(stack, suffix) for suffix in JOB_ACTIONS), "*"],
    )
    acknowledge_wildcards(
        role,
        reason="SageMaker names log groups per kind of job and log streams per job: the "
        "notebook reads SageMaker's log groups only.",
        resources=[log_group_arn(stack, SAGEMAKER_LOGS)],
    )
