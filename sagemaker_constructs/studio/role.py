"""The execution role Studio users act with in their apps and in the Studio UI."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..common import Problems, acknowledge, acknowledge_wildcards
from ..notebooks.work_access import (
    acknowledge_notebook_work,
    grant_notebook_work,
    log_group_arn,
)

STUDIO_LOG_GROUP = "/aws/sagemaker/studio"
"""Where Studio writes its apps' logs, lifecycle configuration output included, as the
app's execution role (one stream per domain, space, app type and app)."""

# Studio's own requests on behalf of a user (the UI runs with the execution role): what it
# reads of the domain, and the presigned URL of the user's own profile. The policy
# variables are the calling user's, set by SageMaker in the role's session
# (studio-updated-jl-admin-guide-permissions.html).
READ_ACTIONS = (
    "sagemaker:DescribeApp",
    "sagemaker:DescribeDomain",
    "sagemaker:DescribeSpace",
    "sagemaker:DescribeUserProfile",
    "sagemaker:ListApps",
    "sagemaker:ListDomains",
    "sagemaker:ListSpaces",
    "sagemaker:ListUserProfiles",
)
OWN_PROFILE = "user-profile/${sagemaker:DomainId}/${sagemaker:UserProfileName}"
SPACE_ACTIONS = ("sagemaker:CreateSpace", "sagemaker:UpdateSpace")


class StudioExecutionRole(Construct):
    """A Studio user's execution role: what a notebook user may do with the platform
    (`grant_notebook_work`: data, artifacts under `artifacts_prefix`, the platform key,
    jobs and models run as `job_role` only), plus:

    - Studio itself: read the domain, its profiles, spaces and apps; a presigned URL for
      the user's own profile; create and update the user's own private spaces (when
      `users_create_spaces`) and start and stop apps in the user's own private spaces only,
      on `allowed_instance_types` only (condition `sagemaker:InstanceTypes`, which the
      request must carry); never shared spaces, other users' spaces or profile-level apps
      (Canvas, RStudio, Studio Classic);
    - Studio's logs (`/aws/sagemaker/studio`);
    - KMS grants for the space volumes the platform key encrypts;
    - start and follow the platform's `workflows` (state machines).

    The trust policy lets SageMaker set the user profile name as the session's source
    identity (the domain's `ExecutionRoleIdentityConfig`), so CloudTrail names the person.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        job_role: iam.IRole,
        artifacts_prefix: str = "studio",
        allowed_instance_types: Sequence[str] | None = None,
        users_create_spaces: bool = True,
        workflows: Sequence[sfn.StateMachine] = (),
        description: str = "Studio users of the platform",
    ) -> None:
        """
        :param encryption_key: The platform's KMS key (buckets, space volumes).
        :param data_bucket: The platform's data bucket (read and write).
        :param artifacts_bucket: The artifacts bucket (read; write under artifacts_prefix).
        :param job_role: The only role the user may pass (to SageMaker) for jobs and models.
        :param artifacts_prefix: Where users write in the artifacts bucket. Default:
            `studio`. No leading or trailing `/`.
        :param allowed_instance_types: Instance types apps may start on. Default: None (any
            type; no condition). At least one when given.
        :param users_create_spaces: Let users create and update their own private spaces.
            Default: True.
        :param workflows: State machines users may start and follow. Default: none.
        :param description: Of the role. Default: names the platform's Studio users.
        """
        super().__init__(scope, id_)
        problems = Problems("StudioExecutionRole")
        problems.check(
            bool(artifacts_prefix) and artifacts_prefix.strip("/") == artifacts_prefix,
            f"artifacts_prefix must not be empty nor start or end with '/' "
            f"(got {artifacts_prefix!r})",
        )
        if allowed_instance_types is not None:
            problems.check(
                len(allowed_instance_types) > 0,
                "allowed_instance_types needs at least one type, or None for any",
            )
        problems.raise_if_any()

        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description,
        )
        """The execution role."""
        # STUDIO-7: the domain sets the user profile name as the source identity
        # (monitor-user-access.html), which the trust policy must allow.
        trust = self.role.assume_role_policy
        assert trust is not None
        trust.add_statements(
            iam.PolicyStatement(
                actions=["sts:SetSourceIdentity"],
                principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")],
            )
        )
        grant_notebook_work(
            self.role,
            encryption_key=encryption_key,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=artifacts_prefix,
            job_role=job_role,
        )
        # SageMaker encrypts a space's volume with a grant it creates as the app's role.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        self._grant_studio(stack, allowed_instance_types, users_create_spaces)
        studio_logs = log_group_arn(stack, STUDIO_LOG_GROUP)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                resources=[studio_logs],
            )
        )
        executions = self._grant_workflows(stack, workflows)

        acknowledge_notebook_work(
            self.role,
            data_bucket=data_bucket,
            artifacts_bucket=artifacts_bucket,
            artifacts_prefix=artifacts_prefix,
        )
        acknowledge_wildcards(
            self.role,
            reason="Studio's UI lists and describes the domain's profiles, spaces and apps "
            "(their names are the users' own); spaces and apps are created and stopped only "
            "in the calling user's own private spaces of this domain (conditions on "
            "sagemaker:OwnerUserProfileArn and sagemaker:SpaceSharingType); Studio names its "
            "log streams per space and app.",
            resources=[
                self._arn("app/${sagemaker:DomainId}/*"),
                self._arn("space/${sagemaker:DomainId}/*"),
                studio_logs,
            ],
        )
        if executions:
            acknowledge_wildcards(
                self.role,
                reason="Users follow the runs of the platform's workflows: Step Functions "
                "names executions per run under each state machine.",
                resources=executions,
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "SageMaker's List actions and Studio's Describe/List of domains, profiles, spaces "
            "and apps accept no resource ARN (ListDomains, ListSpaces, ListApps...).",
        )

    def _grant_workflows(self, stack: Stack, workflows: Sequence[sfn.StateMachine]) -> list[str]:
        """Start, follow and stop runs of `workflows`; returns their executions' ARNs."""
        if not workflows:
            return []
        machines = [w.state_machine_arn for w in workflows]
        executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{w.state_machine_name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for w in workflows
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartThePlatformsWorkflows",
                actions=[
                    "states:DescribeStateMachine",
                    "states:ListExecutions",
                    "states:StartExecution",
                ],
                resources=machines,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="FollowTheirRuns",
                actions=[
                    "states:DescribeExecution",
                    "states:GetExecutionHistory",
                    "states:StopExecution",
                ],
                resources=executions,
            )
        )
        return executions

    def _arn(self, suffix: str) -> str:
        resource, name = suffix.split("/", 1)
        return Stack.of(self).format_arn(service="sagemaker", resource=resource, resource_name=name)

    def _grant_studio(
        self, stack: Stack, instance_types: Sequence[str] | None, create_spaces: bool
    ) -> None:
        own_profile = self._arn(OWN_PROFILE)
        owned_private = {
            "ArnLike": {"sagemaker:OwnerUserProfileArn": own_profile},
            "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
        }
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StudioReadsTheDomain", actions=list(READ_ACTIONS), resources=["*"]
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StudioOpensTheUsersOwnProfile",
                actions=["sagemaker:CreatePresignedDomainUrl"],
                resources=[own_profile],
            )
        )
        if create_spaces:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="UsersCreateTheirOwnPrivateSpaces",
                    actions=list(SPACE_ACTIONS),
                    resources=[self._arn("space/${sagemaker:DomainId}/*")],
                    conditions=owned_private,
                )
            )
        create_conditions: dict[str, dict[str, object]] = {
            key: dict(value) for key, value in owned_private.items()
        }
        if instance_types is not None:
            # STUDIO-8: CreateApp takes the sagemaker:InstanceTypes condition key
            # (list_amazonsagemaker.html); a request without an instance type is refused,
            # so a space's own default cannot bypass the list.
            create_conditions["ForAllValues:StringEquals"] = {
                "sagemaker:InstanceTypes": sorted(instance_types)
            }
            create_conditions["Null"] = {"sagemaker:InstanceTypes": "false"}
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="UsersStartAppsInTheirOwnPrivateSpaces",
                actions=["sagemaker:CreateApp"],
                resources=[self._arn("app/${sagemaker:DomainId}/*")],
                conditions=create_conditions,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="UsersStopAppsInTheirOwnPrivateSpaces",
                actions=["sagemaker:DeleteApp"],
                resources=[self._arn("app/${sagemaker:DomainId}/*")],
                conditions=owned_private,
            )
        )
        # Studio tags what it creates; tagging is allowed only while creating.
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="StudioTagsWhatItCreates",
                actions=["sagemaker:AddTags"],
                resources=[
                    self._arn("app/${sagemaker:DomainId}/*"),
                    self._arn("space/${sagemaker:DomainId}/*"),
                ],
                conditions={"Null": {"sagemaker:TaggingAction": "false"}},
            )
        )
