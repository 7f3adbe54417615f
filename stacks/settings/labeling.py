"""Settings of Ground Truth labeling: the private workforce and its teams, labeling
workflows, and auto-labeling workflows with a confidence threshold."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from sagemaker_constructs.labeling.task_types import (
    GROUND_TRUTH_REGIONS,
    PUBLIC_MAX_AVAILABILITY_SECONDS,
    PUBLIC_MAX_TASK_SECONDS,
    PUBLIC_PRICES,
    TASK_TYPES,
)

from .base import (
    AccountId,
    Cidr,
    InvalidFieldsError,
    Location,
    StrictModel,
    _matches,
    check_unique,
)

MAX_TEAMS = 25
"""Private work teams per account and region (SageMaker's quota)."""
MAX_EMAILS = 100
"""Addresses in one list of e-mail addresses (each becomes a resource)."""

WorkforceName = Annotated[
    str,
    _matches(
        r"[a-zA-Z0-9][a-zA-Z0-9-]{0,62}",
        "must be 1-63 letters, digits and hyphens, starting with a letter or digit",
    ),
]
TeamName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9]*(-[a-z0-9]+)*",
        "must be lower-case letters, digits and single hyphens, starting with a letter "
        "(e.g. reviewers, text-team)",
    ),
    Field(max_length=30),
]
WorkflowName = Annotated[
    str,
    _matches(
        r"[a-z][a-z0-9]*(-[a-z0-9]+)*",
        "must be lower-case letters, digits and single hyphens, starting with a letter "
        "(e.g. sentiment, product-photos)",
    ),
    Field(max_length=20),
]
HttpsUrl = Annotated[
    str, _matches(r"https://[^\s/$.?#][^\s]*", "must be an https:// URL"), Field(max_length=500)
]
SecretArn = Annotated[
    str,
    _matches(
        r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+",
        "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:"
        "secret:<name>)",
    ),
]
WorkteamArn = Annotated[
    str,
    _matches(
        r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:workteam/[\w/-]+",
        "must be a SageMaker work team ARN (arn:aws:sagemaker:<region>:<account>:workteam/...)",
    ),
]
EndpointName = Annotated[
    str,
    _matches(
        r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        "must be a SageMaker endpoint name: 1-63 letters, digits and hyphens",
    ),
]
LabelName = Annotated[str, Field(min_length=1, max_length=256)]
TaskTypeName = Literal[
    "image_classification",
    "image_classification_multi_label",
    "text_classification",
    "text_classification_multi_label",
    "bounding_box",
    "named_entity_recognition",
]


class CognitoWorkforce(StrictModel):
    """A private workforce whose workers sign in with an Amazon Cognito user pool the kit
    creates (user pool, domain, app client, one group per team). There is only one
    private workforce per account and region: deploying a second one fails."""

    mode: Literal["cognito"]
    """`cognito`: the kit creates the user pool and the workforce."""

    name: WorkforceName | None = None
    """Name of the workforce. Default: `name_prefix`."""

    domain_prefix: Annotated[
        str,
        _matches(
            r"[a-z0-9](-?[a-z0-9])*",
            "must be lower-case letters, digits and single hyphens, not starting or ending "
            "with a hyphen",
        ),
        Field(min_length=1, max_length=63),
    ]
    """Prefix of the Cognito sign-in domain (`https://<domain_prefix>.auth.<region>.amazoncognito.com`).
    Required; unique within the region across all AWS accounts, and must not contain
    `aws`, `amazon` or `cognito`."""

    mfa: Literal["off", "optional", "required"] = "required"
    """Multi-factor authentication of workers (authenticator app, TOTP). Default:
    `required`."""

    feature_plan: Literal["essentials", "plus"] = "plus"
    """Cognito feature plan. `plus` (default) turns on threat protection (blocks
    compromised credentials and risky sign-ins), billed per monthly active worker, so
    nothing when nobody signs in."""

    source_ip_cidrs: Annotated[list[Cidr], Field(max_length=10)] = Field(default_factory=list)
    """Workers may reach the labeling portal only from these ranges (at most 10). Default:
    from anywhere."""

    vpc_access: bool = True
    """When the platform network is a VPC (`network.mode` `private` or `existing`), workers
    reach the labeling portal and task data through an interface endpoint in it, so only
    from that VPC (a VPN or Direct Connect). Default: true. Ignored in network mode
    `none`."""

    @field_validator("domain_prefix")
    @classmethod
    def _no_reserved_words(cls, value: str) -> str:
        reserved = [word for word in ("aws", "amazon", "cognito") if word in value]
        if reserved:
            raise ValueError(f"must not contain {', '.join(repr(w) for w in reserved)}")
        return value


class OidcWorkforce(StrictModel):
    """A private workforce whose workers sign in with your OpenID Connect identity provider;
    teams are the provider's groups (the `sagemaker:groups` claim)."""

    mode: Literal["oidc"]
    """`oidc`: the kit creates the workforce against your identity provider."""

    name: WorkforceName | None = None
    """Name of the workforce. Default: `name_prefix`."""

    issuer: HttpsUrl
    """Issuer of the identity provider."""
    authorization_endpoint: HttpsUrl
    """Authorization endpoint."""
    token_endpoint: HttpsUrl
    """Token endpoint."""
    user_info_endpoint: HttpsUrl
    """User info endpoint."""
    logout_endpoint: HttpsUrl
    """Logout endpoint."""
    jwks_uri: HttpsUrl
    """JSON Web Key Set URI."""

    client_id: Annotated[
        str,
        _matches(
            r"[\w+]+", "must be letters, digits, underscores and plus signs (CloudFormation's rule)"
        ),
        Field(max_length=1024),
    ]
    """Client id of the workforce's application in the identity provider."""

    client_secret_arn: SecretArn
    """Secrets Manager secret holding the client secret (read at deploy time, never put in
    the template)."""

    client_secret_key: str | None = None
    """JSON key of the client secret inside the secret. Default: the whole secret string."""

    scope: str | None = None
    """OAuth scopes to request, space-separated. Default: the provider's default."""

    source_ip_cidrs: Annotated[list[Cidr], Field(max_length=10)] = Field(default_factory=list)
    """Workers may reach the labeling portal only from these ranges (at most 10)."""

    vpc_access: bool = True
    """As for `cognito`: in a VPC network mode, workers reach the portal only from the VPC."""


class ExistingWorkforce(StrictModel):
    """The account's private workforce in this region, created outside this config (there
    can only be one). The kit adds work teams to it."""

    mode: Literal["existing"]
    """`existing`: reuse the workforce."""

    name: WorkforceName = "default"
    """Name of the workforce. Default: `default` (what the SageMaker console names it)."""

    identity: Literal["cognito", "oidc"]
    """How its workers sign in."""

    user_pool_id: (
        Annotated[str, _matches(r"[\w-]+_[0-9a-zA-Z]+", "must look like us-east-1_AbCdEf123")]
        | None
    ) = None
    """Cognito user pool of the workforce (identity `cognito`)."""

    client_id: (
        Annotated[
            str, _matches(r"[\w+]+", "must be a Cognito app client id"), Field(max_length=128)
        ]
        | None
    ) = None
    """Cognito app client of the workforce (identity `cognito`)."""

    portal_url: HttpsUrl | None = None
    """The workforce's labeling portal, shown in the outputs. Default: not shown."""

    @model_validator(mode="after")
    def _cognito_ids(self) -> ExistingWorkforce:
        given = self.user_pool_id is not None and self.client_id is not None
        if self.identity == "cognito" and not given:
            raise InvalidFieldsError(
                [(("identity",), "identity 'cognito' needs user_pool_id and client_id")]
            )
        problems: list[tuple[Location, str]] = [
            ((name,), f"identity 'oidc' takes no {name}")
            for name in ("user_pool_id", "client_id")
            if self.identity == "oidc" and getattr(self, name)
        ]
        if problems:
            raise InvalidFieldsError(problems)
        return self


WorkforceSettings = Annotated[
    CognitoWorkforce | OidcWorkforce | ExistingWorkforce, Field(discriminator="mode")
]


class TeamSettings(StrictModel):
    """One work team of the private workforce."""

    name: TeamName
    """Name of the team (the work team is `<name_prefix>-<name>`). Lower-case letters,
    digits and hyphens, at most 30 characters."""

    description: Annotated[str, Field(min_length=1, max_length=200)] = "Labeling team"
    """Shown to workers and in the console."""

    workers: Annotated[list[EmailStr], Field(max_length=MAX_EMAILS)] = Field(default_factory=list)
    """Workers invited by e-mail when the team is created (Cognito workforce only), at most
    100 per team; each is three resources of the Workforce stack, which holds at most 500.
    Each gets a temporary password by e-mail and is subscribed to the team's task
    notifications. Removing an address deletes that worker's sign-in."""

    groups: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=63)]], Field(max_length=10)
    ] = Field(default_factory=list)
    """Groups whose members form the team: identity-provider groups (OIDC), or the
    existing user pool's group (an existing Cognito workforce, exactly one). At most 10.
    Default: the team name. Not used for a Cognito workforce the kit creates (it makes
    the group)."""


class PrivateTeam(StrictModel):
    """Tasks go to one of this config's work teams."""

    type: Literal["private"]
    """`private`: a work team of the private workforce."""
    team: TeamName
    """Name of a team in `labeling.teams`."""


class PublicCrowd(StrictModel):
    """Tasks go to Amazon Mechanical Turk workers, who are paid per task. Use it only for
    public data, free of personal information."""

    type: Literal["public"]
    """`public`: the Mechanical Turk crowd."""
    price_per_task_usd: Decimal
    """What one worker earns per task. One of 0.012, 0.024, 0.036, 0.048, 0.060, 0.072,
    0.120, 0.240 ... 1.200 (bounding boxes: from 0.036)."""

    @field_validator("price_per_task_usd")
    @classmethod
    def _known_price(cls, value: Decimal) -> Decimal:
        if value not in PUBLIC_PRICES:
            raise ValueError(
                "must be one of Mechanical Turk's prices: " + ", ".join(map(str, PUBLIC_PRICES))
            )
        return value


class VendorTeam(StrictModel):
    """Tasks go to a vendor's work team you subscribed to in AWS Marketplace."""

    type: Literal["vendor"]
    """`vendor`: a vendor work team."""
    workteam_arn: WorkteamArn
    """ARN of the vendor's work team."""


Workteam = Annotated[PrivateTeam | PublicCrowd | VendorTeam, Field(discriminator="type")]


class LabelingWorkflowSettings(StrictModel):
    """A state machine that runs one Ground Truth labeling job per execution
    (`createLabelingJob.sync`) over a manifest in the data bucket."""

    name: WorkflowName
    """Name of the workflow: lower-case letters, digits and hyphens, at most 20 characters."""

    task_type: TaskTypeName
    """What workers do: `image_classification` (one label per image),
    `image_classification_multi_label`, `text_classification`,
    `text_classification_multi_label`, `bounding_box` or `named_entity_recognition`."""

    labels: Annotated[list[LabelName], Field(min_length=1, max_length=30)]
    """Label categories (classification: 2-30; others: 1-30), in order: a class's index in
    this list is its id in the output."""

    title: Annotated[str, Field(min_length=1, max_length=128)]
    """Task title shown to workers."""

    description: Annotated[str, Field(min_length=1, max_length=255)]
    """One-line task description shown to workers."""

    instructions: Annotated[str, Field(min_length=1, max_length=4000)]
    """Instructions shown beside each task (plain text; blank lines separate paragraphs)."""

    workforce: Workteam
    """Who labels: `private` (a team), `public` (Mechanical Turk, with a price) or `vendor`."""

    workers_per_object: Annotated[int, Field(ge=1, le=9)] = 1
    """Workers labeling each object; their answers are consolidated. Valid range: 1-9."""

    task_time_limit_seconds: Annotated[int, Field(ge=30, le=28_800)] = 300
    """Time a worker has for one task. Valid range: 30-28800 (public: at most 3600)."""

    task_availability_seconds: Annotated[int, Field(ge=60, le=2_592_000)] = 864_000
    """How long a task waits for workers. Default: 10 days. Valid range: 60-2592000
    (public: at most 43200)."""

    max_concurrent_tasks: Annotated[int, Field(ge=1, le=5000)] | None = None
    """Objects labeled at the same time. Default: Ground Truth's (1000)."""

    automated_labeling: bool = False
    """Ground Truth's automated data labeling (image and text classification, bounding
    box): a model it trains labels the objects it is sure of, at a threshold it picks
    itself; needs at least 1,250 objects. For a threshold you set, use `auto_labeling`."""

    label_attribute: Annotated[
        str,
        _matches(
            r"[a-zA-Z0-9](-*[a-zA-Z0-9])*",
            "must be letters, digits and hyphens, starting with a letter or digit",
        ),
        Field(max_length=127),
    ] = "label"
    """Attribute of the output manifest that holds the label (executions may override it).
    Must not end with `-metadata` or `-ref`."""

    content_classifiers: list[
        Literal["FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent"]
    ] = Field(default_factory=list)
    """Declarations about the data, shown to Mechanical Turk workers. Default: none."""

    timeout_hours: Annotated[int, Field(ge=1, le=8760)] = 720
    """Longest a run may take before it fails. Default: 30 days. Valid range: 1-8760."""

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, value: list[str]) -> list[str]:
        check_unique(value, "label")
        return value

    @field_validator("label_attribute")
    @classmethod
    def _attribute_suffix(cls, value: str) -> str:
        return _label_attribute(value)

    @model_validator(mode="after")
    def _fits_task_type(self) -> LabelingWorkflowSettings:
        task = TASK_TYPES[self.task_type]
        problems: list[tuple[Location, str]] = []
        if len(self.labels) < task.min_labels:
            problems.append(
                (
                    ("labels",),
                    f"{self.task_type} needs at least {task.min_labels} labels "
                    f"(got {len(self.labels)})",
                )
            )
        if self.automated_labeling and task.algorithm is None:
            supported = sorted(t.name for t in TASK_TYPES.values() if t.algorithm)
            problems.append(
                (
                    ("automated_labeling",),
                    f"automated_labeling is not available for {self.task_type}; "
                    f"only for {', '.join(supported)}",
                )
            )
        if isinstance(self.workforce, PublicCrowd):
            if self.task_type == "bounding_box" and self.workforce.price_per_task_usd < Decimal(
                "0.036"
            ):
                problems.append(
                    (
                        ("workforce", "price_per_task_usd"),
                        "price_per_task_usd for bounding_box must be at least 0.036",
                    )
                )
            if self.task_time_limit_seconds > PUBLIC_MAX_TASK_SECONDS:
                problems.append(
                    (
                        ("task_time_limit_seconds",),
                        f"must be at most {PUBLIC_MAX_TASK_SECONDS} for the public crowd "
                        f"(got {self.task_time_limit_seconds})",
                    )
                )
            if self.task_availability_seconds > PUBLIC_MAX_AVAILABILITY_SECONDS:
                problems.append(
                    (
                        ("task_availability_seconds",),
                        f"must be at most {PUBLIC_MAX_AVAILABILITY_SECONDS} for the public crowd "
                        f"(got {self.task_availability_seconds})",
                    )
                )
        if problems:
            raise InvalidFieldsError(problems)
        return self


class GroundTruthReview(StrictModel):
    """People label the low-confidence objects in a labeling workflow of this config."""

    mode: Literal["ground_truth"]
    """`ground_truth`: run a labeling workflow (executions may still choose `external`)."""
    labeling_workflow: WorkflowName
    """Name of a single-label classification workflow in `labeling.workflows` with the same
    labels and data type."""


class ExternalReview(StrictModel):
    """People label the low-confidence objects in a tool of your choice: the run writes the
    objects to label, publishes where they are, and waits until the labels are put back
    at the documented S3 location."""

    mode: Literal["external"]
    """`external`: hand off to another labeling tool and resume on its labels."""
    notify_emails: Annotated[list[EmailStr], Field(max_length=MAX_EMAILS)] = Field(
        default_factory=list
    )
    """Addresses subscribed to the review-request topic (at most 100). Default: none."""


RoleArn = Annotated[
    str,
    _matches(
        r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}",
        "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    ),
]
# LABEL-5 (STS AssumeRole API, ExternalId): 2-1224 characters of letters, digits and
# _ + = , . @ : / -; AssumeRole refuses any other value, so the trust could never be met.
ExternalId = Annotated[
    str,
    _matches(
        r"[\w+=,.@:/-]{2,1224}",
        "must be 2-1224 characters of letters, digits and _ + = , . @ : / - (STS's rule "
        "for an external ID)",
    ),
]
S3Prefix = Annotated[
    str,
    _matches(
        r"(?:[\w!\-.*'()=+@,;:& $]+/)*",
        "must be empty or a key prefix ending in a slash, e.g. photos/ (no leading slash)",
    ),
    Field(max_length=512),
]


class LabelStudioHost(StrictModel):
    """Who may assume the role that Label Studio's host uses for the data bucket: exactly
    one of `ecs_task_role_arn`, `ec2_instance_role_arn` or `account` (with
    `external_id`)."""

    ecs_task_role_arn: RoleArn | None = None
    """The task role of the ECS task that runs Label Studio."""
    ec2_instance_role_arn: RoleArn | None = None
    """The role of the EC2 instance profile of the host that runs Label Studio."""
    account: AccountId | None = None
    """Another account (its administrators decide who in it may assume the role); needs
    `external_id`."""
    external_id: ExternalId | None = None
    """The external ID the other account must pass (sts:ExternalId); only with
    `account`."""

    @model_validator(mode="after")
    def _one_principal(self) -> LabelStudioHost:
        given = [
            name
            for name in ("ecs_task_role_arn", "ec2_instance_role_arn", "account")
            if getattr(self, name) is not None
        ]
        problems: list[tuple[Location, str]] = []
        if len(given) != 1:
            problems.append(
                (
                    (given[1],) if len(given) > 1 else (),
                    "name exactly one principal: ecs_task_role_arn, ec2_instance_role_arn or "
                    f"account (got {', '.join(given) or 'none'})",
                )
            )
        if self.account is not None and self.external_id is None:
            problems.append(
                (("account",), "another account needs an external_id (the confused-deputy guard)")
            )
        if self.external_id is not None and self.account is None:
            problems.append(
                (
                    ("external_id",),
                    "an external_id goes with account only; a role of your own needs none",
                )
            )
        if problems:
            raise InvalidFieldsError(problems)
        return self


class LabelStudioReview(StrictModel):
    """People label the low-confidence objects in a Label Studio you run: the run writes
    them as Label Studio tasks for an S3 source storage, and resumes when every object has
    an accepted annotation in the S3 target storage (docs/label-studio.md)."""

    mode: Literal["label_studio"]
    """`label_studio`: Label Studio reads tasks from and writes annotations to the data
    bucket (executions may still choose `external`)."""
    host: LabelStudioHost
    """Who assumes the kit's Label Studio role (the principal of Label Studio's host)."""
    s3_endpoint: HttpsUrl | None = None
    """S3 endpoint of the storages, when not S3's regional one (e.g. its FIPS endpoint).
    Label Studio refuses a storage endpoint that resolves to a private address (its SSRF
    guard): for an interface VPC endpoint set `S3_ENDPOINT` on Label Studio's host instead
    (docs/label-studio.md). Default: none."""
    images_prefix: S3Prefix = ""
    """Image workflows: key prefix of the images in the data bucket that Label Studio may
    read (runs refuse images elsewhere). Default: the whole data bucket."""
    notify_emails: Annotated[list[EmailStr], Field(max_length=MAX_EMAILS)] = Field(
        default_factory=list
    )
    """Addresses subscribed to the review topic: tasks ready, progress, annotations to fix
    (at most 100). Default: none."""


HumanReview = Annotated[
    GroundTruthReview | ExternalReview | LabelStudioReview, Field(discriminator="mode")
]


def _label_attribute(value: str) -> str:
    # LABEL-4 (API_CreateLabelingJob, LabelAttributeName): not ending in -metadata, and in
    # -ref only for semantic segmentation, video frame and 3D point cloud tasks (none here).
    if value.endswith(("-metadata", "-ref")):
        raise ValueError("must not end with -metadata or -ref")
    return value


class AutoLabelingSettings(StrictModel):
    """A state machine that pre-labels a manifest with a model behind a SageMaker endpoint,
    keeps the labels whose confidence is at or above a threshold you set, has people
    label the rest, and merges both into one Ground Truth style output manifest."""

    name: WorkflowName
    """Name of the workflow: lower-case letters, digits and hyphens, at most 20 characters."""

    data_type: Literal["text", "image"]
    """`text`: manifest lines `{"source": "<text>"}`; `image`: `{"source-ref": "s3://..."}`."""

    labels: Annotated[list[LabelName], Field(min_length=2, max_length=30)] | None = None
    """Classes, in order (a class's index is its id in the output). Default: those of the
    `ground_truth` review's labeling workflow; required for `external` review."""

    endpoint_names: Annotated[list[EndpointName], Field(min_length=1, max_length=10)]
    """Endpoints serving the classifier contract (docs/classifier-contract.md). The first is
    the default; an execution may choose another from this list."""

    default_threshold: Annotated[float, Field(ge=0, le=1)] = 0.9
    """Confidence at or above which a prediction is kept. Executions may set their own.
    Valid range: 0-1."""

    label_attribute: Annotated[
        str,
        _matches(
            r"[a-zA-Z0-9](-*[a-zA-Z0-9])*",
            "must be letters, digits and hyphens, starting with a letter or digit",
        ),
        Field(max_length=127),
    ] = "label"
    """Attribute of the output manifest that holds the label."""

    multi_label: bool = False
    """Whether an object may get several classes (the endpoint answers `labels`, see
    docs/classifier-contract.md; the output is Ground Truth's multi-label format)."""

    human_review: HumanReview
    """How people label the objects below the threshold: `ground_truth`, `external` or
    `label_studio`."""

    instances_per_request: Annotated[int, Field(ge=1, le=1000)] = 32
    """Objects per endpoint request. Valid range: 1-1000 (mind the endpoint's 6 MB payload).
    An endpoint whose model quality reads this workflow's labels gets one object per
    request, with its InferenceId (docs/monitoring.md)."""

    objects_per_batch: Annotated[int, Field(ge=10, le=10_000)] = 500
    """Objects one parallel pre-labeling task handles. Valid range: 10-10000."""

    max_concurrency: Annotated[int, Field(ge=1, le=1000)] = 10
    """Batches pre-labeled at the same time. Valid range: 1-1000."""

    human_cost_per_object_usd: Annotated[float, Field(ge=0, le=100)] = 0.08
    """What one human-labeled object costs you, for the summary's estimate of money saved.
    Default: 0.08 (Ground Truth's per-object fee, without worker pay)."""

    timeout_hours: Annotated[int, Field(ge=1, le=8760)] = 720
    """Longest a run (including waiting for people) may take. Default: 30 days."""

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            check_unique(value, "label")
        return value

    @field_validator("label_attribute")
    @classmethod
    def _attribute_suffix(cls, value: str) -> str:
        # Its runs hand it to the ground_truth review's labeling job as LabelAttributeName.
        return _label_attribute(value)

    @field_validator("endpoint_names")
    @classmethod
    def _unique_endpoints(cls, value: list[str]) -> list[str]:
        check_unique(value, "endpoint", fold=lambda v: str(v).lower())
        return value

    @model_validator(mode="after")
    def _labels_for_external(self) -> AutoLabelingSettings:
        review = self.human_review
        problems: list[tuple[Location, str]] = []
        if not isinstance(review, GroundTruthReview) and self.labels is None:
            problems.append(
                (("human_review", "mode"), f"{review.mode!r} review needs labels (the classes)")
            )
        if (
            isinstance(review, LabelStudioReview)
            and review.images_prefix
            and (self.data_type != "image")
        ):
            problems.append((("human_review", "images_prefix"), "only image workflows read images"))
        if problems:
            raise InvalidFieldsError(problems)
        return self


class LabelingSettings(StrictModel):
    """Ground Truth labeling: a private workforce with work teams, labeling workflows and
    auto-labeling workflows. Ground Truth is closed to new customers since 2026-07-30;
    auto-labeling's `external` review works without it."""

    workforce: WorkforceSettings | None = None
    """The private workforce: `cognito` (created by the kit), `oidc` or `existing`.
    Default: none (workflows then use the public crowd or vendors only)."""

    teams: list[TeamSettings] = Field(default_factory=list)
    """Work teams of the private workforce (at most 25 per account and region)."""

    workflows: list[LabelingWorkflowSettings] = Field(default_factory=list)
    """Labeling workflows (one state machine each)."""

    auto_labeling: list[AutoLabelingSettings] = Field(default_factory=list)
    """Auto-labeling workflows (one state machine each)."""

    @model_validator(mode="after")
    def _consistent(self) -> LabelingSettings:
        problems: list[tuple[Location, str]] = []
        team_names = [t.name for t in self.teams]
        workflow_names = [w.name for w in self.workflows]
        for kind, names in (
            ("teams", team_names),
            ("workflows", workflow_names),
            ("auto_labeling", [a.name for a in self.auto_labeling]),
        ):
            first: dict[str, int] = {}
            for index, name in enumerate(names):
                if name in first:
                    problems.append(
                        (
                            (kind, index, "name"),
                            f"{name!r} is already the name of {kind}[{first[name]}]; "
                            "names must be unique",
                        )
                    )
                first.setdefault(name, index)
        if len(self.teams) > MAX_TEAMS:
            problems.append(
                (
                    ("teams", MAX_TEAMS),
                    f"at most {MAX_TEAMS} work teams per account and region "
                    f"(got {len(self.teams)})",
                )
            )
        if self.teams and self.workforce is None:
            problems.append((("teams",), "teams need a workforce (labeling.workforce)"))
        mode = self.workforce.mode if self.workforce else None
        if mode == "cognito" and not self.teams:
            problems.append(
                (
                    ("workforce", "mode"),
                    "a Cognito workforce the kit creates needs at least one team in "
                    "labeling.teams (a private workforce needs a group of workers)",
                )
            )
        identity = (
            self.workforce.identity if isinstance(self.workforce, ExistingWorkforce) else mode
        )
        for index, team in enumerate(self.teams):
            if team.workers and mode != "cognito":
                problems.append(
                    (
                        ("teams", index, "workers"),
                        "workers can be invited only into a Cognito workforce the kit creates "
                        "(workforce.mode 'cognito')",
                    )
                )
            if team.groups and mode == "cognito":
                problems.append(
                    (
                        ("teams", index, "groups"),
                        "a Cognito workforce the kit creates makes its own group per team; "
                        "remove groups",
                    )
                )
            if identity == "cognito" and mode == "existing" and len(team.groups) > 1:
                problems.append(
                    (
                        ("teams", index, "groups"),
                        "an existing Cognito workforce takes one group per team "
                        f"(got {len(team.groups)})",
                    )
                )
        for index, workflow in enumerate(self.workflows):
            if isinstance(workflow.workforce, PrivateTeam) and workflow.workforce.team not in (
                team_names
            ):
                problems.append(
                    (
                        ("workflows", index, "workforce", "team"),
                        f"no team {workflow.workforce.team!r} in labeling.teams "
                        f"(teams: {', '.join(team_names) or 'none'})",
                    )
                )
        by_name = {w.name: w for w in self.workflows}
        for index, auto in enumerate(self.auto_labeling):
            review = auto.human_review
            if not isinstance(review, GroundTruthReview):
                continue
            where: Location = ("auto_labeling", index, "human_review", "labeling_workflow")
            target = by_name.get(review.labeling_workflow)
            if target is None:
                problems.append(
                    (
                        where,
                        f"no workflow {review.labeling_workflow!r} in labeling.workflows "
                        f"(workflows: {', '.join(workflow_names) or 'none'})",
                    )
                )
                continue
            wanted = f"{auto.data_type}_classification" + (
                "_multi_label" if auto.multi_label else ""
            )
            if target.task_type != wanted:
                problems.append(
                    (
                        where,
                        f"{review.labeling_workflow!r} is {target.task_type}; "
                        f"{'multi-label ' if auto.multi_label else ''}auto-labeling "
                        f"{auto.data_type} needs {wanted}",
                    )
                )
            if auto.labels is not None and auto.labels != target.labels:
                problems.append(
                    (
                        ("auto_labeling", index, "labels"),
                        f"must equal the labels of {review.labeling_workflow!r} in the same "
                        f"order ({', '.join(target.labels)}), or be left out",
                    )
                )
        if problems:
            raise InvalidFieldsError(problems)
        return self

    def labels_of(self, auto: AutoLabelingSettings) -> list[str]:
        """The classes of an auto-labeling workflow (its own or its review workflow's)."""
        if auto.labels is not None:
            return list(auto.labels)
        review = auto.human_review
        assert isinstance(review, GroundTruthReview)
        return next(w.labels for w in self.workflows if w.name == review.labeling_workflow)

    @property
    def uses_images(self) -> bool:
        """Whether workers' browsers load images from the data bucket (needs CORS)."""
        return any(
            TASK_TYPES[w.task_type].data_type.value == "image" for w in self.workflows
        ) or any(a.data_type == "image" for a in self.auto_labeling)

    @property
    def waits_for_labels(self) -> bool:
        """Whether runs may wait for labels put into the data bucket (any auto-labeling
        workflow: executions can always choose `external` review)."""
        return bool(self.auto_labeling)

    def region_problem(self, region: str | None) -> str | None:
        """Why this section cannot be deployed to `region`, or None."""
        if region is None or region in GROUND_TRUTH_REGIONS:
            return None
        users = [name for name in ("workforce", "workflows") if getattr(self, name)]
        if not users:
            return None  # external review alone needs no Ground Truth
        return (
            f"Ground Truth is not available in region {region!r}, and "
            f"{' and '.join(f'labeling.{name}' for name in users)} "
            f"{'need' if len(users) > 1 else 'needs'} it; choose one of: "
            + ", ".join(GROUND_TRUTH_REGIONS)
        )
