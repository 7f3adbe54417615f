"""AWS-owned Ground Truth resources, resolved per region.

Every built-in task type runs an AWS-owned pre-annotation (`PRE-<Task>`) and
annotation-consolidation (`ACS-<Task>`) Lambda that lives in an AWS account of its own
in each region. `lambda_arns` resolves them through a CfnMapping, so stacks stay
environment-agnostic; `require_ground_truth_region` fails at synth for a known region
without them, and for an environment-agnostic stack adds a CloudFormation rule that
rejects such a region before anything is created.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnMapping, CfnRule, CfnRuleAssertion, Fn, Stack, Token
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .ground_truth_data import GROUND_TRUTH_LAMBDA_ACCOUNTS
from .task_types import GROUND_TRUTH_REGIONS, TaskType

LAMBDA_MAPPING_ID = "GroundTruthLambdaAccounts"
REGION_RULE_ID = "GroundTruthRegion"

# AWS-owned accounts that are the same in every region (SageMaker API reference:
# UiConfig.HumanTaskUiArn, LabelingJobAlgorithmsConfig, the public work team).
HUMAN_TASK_UI_ACCOUNT = "394669845002"
PUBLIC_WORKTEAM_ACCOUNT = "394669845002"
ALGORITHM_ACCOUNT = "027400017018"


def region_problem(region: str) -> str | None:
    """Why Ground Truth cannot run in `region`, or None where it can (or is unknown)."""
    if Token.is_unresolved(region) or region in GROUND_TRUTH_LAMBDA_ACCOUNTS:
        return None
    return (
        f"Ground Truth's built-in task types are not available in region {region}; "
        f"available in: {', '.join(GROUND_TRUTH_REGIONS)}"
    )


def require_ground_truth_region(scope: Construct) -> None:
    """Fail now for a known region without Ground Truth; for an environment-agnostic
    stack, add a CloudFormation rule that rejects such a region before deployment."""
    stack = Stack.of(scope)
    problem = region_problem(stack.region)
    if problem:
        raise ValueError(problem)
    if Token.is_unresolved(stack.region) and stack.node.try_find_child(REGION_RULE_ID) is None:
        CfnRule(
            stack,
            REGION_RULE_ID,
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_contains(list(GROUND_TRUTH_REGIONS), Aws.REGION),
                    assert_description=(
                        "Ground Truth's built-in task types (their AWS-owned pre-annotation "
                        "and consolidation Lambdas) exist only in "
                        + ", ".join(GROUND_TRUTH_REGIONS)
                    ),
                )
            ],
        )


def lambda_arns(scope: Construct, task: TaskType) -> tuple[str, str]:
    """(pre-annotation, consolidation) Lambda ARNs of `task` in the stack's region."""
    require_ground_truth_region(scope)
    account = _mapping(Stack.of(scope)).find_in_map(Aws.REGION, "Account")

    def arn(kind: str) -> str:
        return Fn.join(
            "",
            [
                f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:",
                account,
                f":function:{kind}-{task.lambda_suffix}",
            ],
        )

    return arn("PRE"), arn("ACS")


def human_task_ui_arn() -> str:
    """The AWS-hosted worker UI of named entity recognition."""
    return (
        f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{HUMAN_TASK_UI_ACCOUNT}:"
        "human-task-ui/NamedEntityRecognition"
    )


def algorithm_arn(task: TaskType) -> str:
    """Ground Truth's automated data labeling algorithm of `task`."""
    if task.algorithm is None:
        raise ValueError(f"{task.name} has no automated data labeling")
    return (
        f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{ALGORITHM_ACCOUNT}:"
        f"labeling-job-algorithm-specification/{task.algorithm}"
    )


def public_workteam_arn() -> str:
    """The Amazon Mechanical Turk work team of the stack's region."""
    return (
        f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{PUBLIC_WORKTEAM_ACCOUNT}:"
        "workteam/public-crowd/default"
    )


def worker_image_cors_rule() -> s3.CorsRule:
    """The CORS rule Ground Truth requires on buckets holding input images (AWS docs,
    "CORS Requirement for Input Image Data"): the worker UI fetches images through
    presigned URLs from its own origin. CORS grants no access by itself; the URLs do."""
    return s3.CorsRule(
        allowed_methods=[s3.HttpMethods.GET],
        allowed_origins=["*"],
        exposed_headers=["Access-Control-Allow-Origin"],
    )


def _mapping(stack: Stack) -> CfnMapping:
    existing = stack.node.try_find_child(LAMBDA_MAPPING_ID)
    if isinstance(existing, CfnMapping):
        return existing
    return CfnMapping(
        stack,
        LAMBDA_MAPPING_ID,
        mapping={
            region: {"Account": account} for region, account in GROUND_TRUTH_LAMBDA_ACCOUNTS.items()
        },
    )
