"""The `labeling` section: what it accepts, and each mistake named with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.settings import ConfigError, load_settings, parse_settings
from stacks.settings.labeling import (
    CognitoWorkforce,
    ExistingWorkforce,
    GroundTruthReview,
    LabelStudioReview,
)

WORKFLOW = """
    - name: sentiment
      task_type: text_classification
      labels: [positive, negative]
      title: Sentiment
      description: Pick the sentiment.
      instructions: Read it all.
      workforce: {type: private, team: reviewers}
"""

ROOT = Path(__file__).resolve().parents[3]


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def config(labeling: str, head: str = "name_prefix: demo\n") -> str:
    return head + "labeling:\n" + labeling


def test_a_complete_section_loads_with_its_defaults() -> None:
    settings = parse_settings(
        config(
            """
  workforce: {mode: cognito, domain_prefix: demo-labelers}
  teams:
    - name: reviewers
      workers: [a@example.com]
  workflows:"""
            + WORKFLOW
            + """
  auto_labeling:
    - name: sentiment-auto
      data_type: text
      endpoint_names: [text-classifier]
      human_review: {mode: ground_truth, labeling_workflow: sentiment}
"""
        )
    )
    labeling = settings.labeling
    assert labeling is not None and isinstance(labeling.workforce, CognitoWorkforce)
    assert (labeling.workforce.mfa, labeling.workforce.feature_plan) == ("required", "plus")
    workflow = labeling.workflows[0]
    assert (workflow.workers_per_object, workflow.task_time_limit_seconds) == (1, 300)
    assert workflow.task_availability_seconds == 864_000 and workflow.automated_labeling is False
    auto = labeling.auto_labeling[0]
    assert auto.default_threshold == 0.9 and isinstance(auto.human_review, GroundTruthReview)
    assert labeling.labels_of(auto) == ["positive", "negative"]
    assert auto.human_cost_per_object_usd == 0.08
    assert labeling.waits_for_labels and not labeling.uses_images


def test_cross_references_are_checked() -> None:
    problems = problems_of(
        config(
            """
  teams: [{name: reviewers, workers: [a@example.com]}]
  workflows:"""
            + WORKFLOW.replace("team: reviewers", "team: nobody")
            + """
    - name: photos
      task_type: image_classification_multi_label
      labels: [a, b]
      title: t
      description: d
      instructions: i
      workforce:
        type: vendor
        workteam_arn: arn:aws:sagemaker:us-east-1:123456789012:workteam/vendor-crowd/acme
  auto_labeling:
    - name: auto
      data_type: image
      labels: [x, y]
      endpoint_names: [m]
      human_review: {mode: ground_truth, labeling_workflow: photos}
    - name: other
      data_type: text
      endpoint_names: [m]
      human_review: {mode: ground_truth, labeling_workflow: missing}
"""
        )
    )
    assert problems == [
        "labeling.teams (line 4): teams need a workforce (labeling.workforce)",
        "labeling.teams[0].workers (line 4): workers can be invited only into a Cognito "
        "workforce the kit creates (workforce.mode 'cognito')",
        "labeling.workflows[0].workforce.team (line 12): no team 'nobody' in labeling.teams "
        "(teams: reviewers)",
        "labeling.auto_labeling[0].human_review.labeling_workflow (line 28): 'photos' is "
        "image_classification_multi_label; auto-labeling image needs image_classification",
        "labeling.auto_labeling[0].labels (line 26): must equal the labels of 'photos' in the "
        "same order (a, b), or be left out",
        "labeling.auto_labeling[1].human_review.labeling_workflow (line 32): no workflow "
        "'missing' in labeling.workflows (workflows: sentiment, photos)",
    ]


def test_repeated_names_point_at_the_repeat() -> None:
    problems = problems_of(
        config(
            "  workforce: {mode: cognito, domain_prefix: demo}\n"
            "  teams:\n    - name: reviewers\n    - name: reviewers\n"
        )
    )
    assert problems == [
        "labeling.teams[1].name (line 6): 'reviewers' is already the name of teams[0]; names "
        "must be unique"
    ]


def test_a_cognito_workforce_needs_a_team() -> None:
    # The construct refused it in the middle of synthesis; the config check says it now.
    assert problems_of(config("  workforce: {mode: cognito, domain_prefix: demo}\n")) == [
        "labeling.workforce.mode (line 3): a Cognito workforce the kit creates needs at least "
        "one team in labeling.teams (a private workforce needs a group of workers)"
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            "  workforce: {mode: cognito, domain_prefix: Bad_Prefix}\n",
            "labeling.workforce.domain_prefix (line 3): must be lower-case letters, digits and "
            "single hyphens, not starting or ending with a hyphen (got 'Bad_Prefix')",
        ),
        (
            "  workforce: {mode: cognito, domain_prefix: demo, mfa: sms}\n",
            "labeling.workforce.mfa (line 3): Input should be 'off', 'optional' or 'required' "
            "(got 'sms')",
        ),
        (
            "  workforce: {mode: cognito, domain_prefix: demo, source_ip_cidrs: [10.0.0.1/8]}\n",
            "labeling.workforce.source_ip_cidrs[0] (line 3): must be an IPv4 or IPv6 CIDR block",
        ),
        (
            "  workforce: {mode: saml}\n",
            "labeling.workforce.mode (line 3): got 'saml'; allowed: 'cognito', 'oidc', 'existing'",
        ),
        (
            "  workforce: {mode: existing, identity: cognito}\n",
            "labeling.workforce.identity (line 3): identity 'cognito' needs user_pool_id and "
            "client_id",
        ),
        (
            "  workforce: {mode: oidc, issuer: 'http://idp', authorization_endpoint: 'https://a', "
            "token_endpoint: 'https://t', user_info_endpoint: 'https://u', logout_endpoint: "
            "'https://l', jwks_uri: 'https://j', client_id: 'a-b', client_secret_arn: 'secret'}\n",
            "labeling.workforce.issuer (line 3): must be an https:// URL (got 'http://idp')",
        ),
    ],
)
def test_workforce_mistakes_name_the_field(snippet: str, expected: str) -> None:
    problems = problems_of(config(snippet))
    assert any(p.startswith(expected) for p in problems), problems


def test_oidc_client_id_and_secret_follow_cloudformations_rules() -> None:
    problems = problems_of(
        config(
            "  workforce: {mode: oidc, issuer: 'https://i', authorization_endpoint: 'https://a', "
            "token_endpoint: 'https://t', user_info_endpoint: 'https://u', logout_endpoint: "
            "'https://l', jwks_uri: 'https://j', client_id: 'a-b', client_secret_arn: 'secret'}\n"
        )
    )
    assert problems == [
        "labeling.workforce.client_id (line 3): must be letters, digits, underscores and plus "
        "signs (CloudFormation's rule) (got 'a-b')",
        "labeling.workforce.client_secret_arn (line 3): must be a Secrets Manager secret ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) (got 'secret')",
    ]


def test_workflow_mistakes_name_the_field_and_the_rule() -> None:
    problems = problems_of(
        config(
            """
  workflows:
    - name: Sentiment
      task_type: video
      labels: [a, a]
      title: t
      description: d
      instructions: i
      workers_per_object: 10
      label_attribute: label-metadata
      workforce: {type: public, price_per_task_usd: 0.05}
    - name: boxes
      task_type: bounding_box
      labels: [car]
      title: t
      description: d
      instructions: i
      automated_labeling: true
      task_time_limit_seconds: 7200
      task_availability_seconds: 86400
      workforce: {type: public, price_per_task_usd: 0.024}
    - name: ner
      task_type: named_entity_recognition
      labels: [person]
      title: t
      description: d
      instructions: i
      automated_labeling: true
      workforce: {type: vendor, workteam_arn: "arn:aws:iam::123456789012:role/x"}
"""
        )
    )
    joined = "\n".join(problems)
    assert "labeling.workflows[0].name (line 5): must be lower-case letters" in joined
    assert (
        "labeling.workflows[0].task_type (line 6): Input should be 'image_classification'" in joined
    )
    assert (
        "labeling.workflows[0].labels[1] (line 7): each label may appear only once ('a' repeats "
        "entry 0)" in joined
    )
    assert (
        "labeling.workflows[0].workers_per_object (line 11): Input should be less than or "
        "equal to 9" in joined
    )
    assert (
        "labeling.workflows[0].label_attribute (line 12): must not end with -metadata or -ref"
        in joined
    )
    assert (
        "labeling.workflows[0].workforce.price_per_task_usd (line 13): must be one of "
        "Mechanical Turk's prices" in joined
    )
    assert (
        "labeling.workflows[1].workforce.price_per_task_usd (line 23): price_per_task_usd for "
        "bounding_box must be at least 0.036\n"
        "labeling.workflows[1].task_time_limit_seconds (line 21): must be at most 3600 for the "
        "public crowd (got 7200)\n"
        "labeling.workflows[1].task_availability_seconds (line 22): must be at most 43200 for "
        "the public crowd (got 86400)"
    ) in joined
    assert (
        "labeling.workflows[2].workforce.workteam_arn (line 31): must be a SageMaker work team ARN"
        in joined
    )


def test_auto_labeling_mistakes_name_the_field() -> None:
    problems = problems_of(
        config(
            """
  auto_labeling:
    - name: auto
      data_type: audio
      endpoint_names: [good, GOOD, "bad name"]
      default_threshold: 1.5
      instances_per_request: 0
      human_review: {mode: external}
"""
        )
    )
    joined = "\n".join(problems)
    assert (
        "labeling.auto_labeling[0].data_type (line 6): Input should be 'text' or 'image'" in joined
    )
    assert (
        "labeling.auto_labeling[0].endpoint_names[2] (line 7): must be a SageMaker endpoint name"
        in joined
    )
    assert (
        "labeling.auto_labeling[0].default_threshold (line 8): Input should be less than or "
        "equal to 1" in joined
    )
    assert (
        "labeling.auto_labeling[0].instances_per_request (line 9): Input should be greater "
        "than or equal to 1" in joined
    )
    fixed_text = config(
        """
  auto_labeling:
    - name: auto
      data_type: text
      endpoint_names: [good, GOOD]
      human_review: {mode: external}
"""
    )
    fixed = problems_of(fixed_text)
    assert fixed == [
        "labeling.auto_labeling[0].endpoint_names[1] (line 7): each endpoint may appear only "
        "once ('GOOD' repeats entry 0)"
    ]
    no_labels = problems_of(fixed_text.replace("[good, GOOD]", "[good]"))
    assert no_labels == [
        "labeling.auto_labeling[0].human_review.mode (line 8): 'external' review needs labels "
        "(the classes)"
    ]


def test_regions_without_ground_truth_are_refused_but_external_review_alone_is_fine() -> None:
    (problem,) = problems_of(
        config(
            "  workforce: {mode: existing, identity: oidc}\n",
            head="name_prefix: demo\nregion: sa-east-1\n",
        )
    )
    assert problem.startswith(
        "region (line 2): Ground Truth is not available in region 'sa-east-1', and "
        "labeling.workforce needs it; choose one of: ap-northeast-1, "
    )
    assert problem.endswith("us-west-2")
    settings = parse_settings(
        config(
            """
  auto_labeling:
    - name: auto
      data_type: text
      labels: [a, b]
      endpoint_names: [m]
      human_review: {mode: external, notify_emails: [ops@example.com]}
""",
            head="name_prefix: demo\nregion: sa-east-1\n",
        )
    )
    assert settings.labeling is not None and settings.labeling.workforce is None
    existing = parse_settings(config("  workforce: {mode: existing, identity: oidc}\n"))
    assert existing.labeling is not None and isinstance(
        existing.labeling.workforce, ExistingWorkforce
    )
    assert existing.labeling.workforce.name == "default"


@pytest.mark.parametrize("attribute", ["sentiment-metadata", "mask-ref"])
def test_an_auto_labeling_label_attribute_ground_truth_would_refuse_is_refused(
    attribute: str,
) -> None:
    """LABEL-4: the ground_truth review hands the attribute to a labeling job."""
    problems = problems_of(
        config(
            f"""
  auto_labeling:
    - name: auto
      data_type: text
      labels: [a, b]
      endpoint_names: [good]
      label_attribute: {attribute}
      human_review: {{mode: external}}
"""
        )
    )
    assert problems == [
        "labeling.auto_labeling[0].label_attribute (line 9): must not end with -metadata or -ref "
        f"(got '{attribute}')"
    ]


STUDIO = """
  auto_labeling:
    - name: photos
      data_type: {data_type}
      labels: [shoe, bag]
      endpoint_names: [m]
      human_review:
        mode: label_studio
        host:
{host}
{extra}
"""


def studio(host: str, extra: str = "", data_type: str = "image") -> str:
    return config(STUDIO.format(host=host, extra=extra, data_type=data_type))


def test_a_label_studio_review_loads_with_its_host() -> None:
    settings = parse_settings(
        studio(
            '          account: "210987654321"\n          external_id: smkit-photos',
            "        images_prefix: catalog/\n"
            "        s3_endpoint: https://s3-fips.us-east-1.amazonaws.com",
        )
    )
    assert settings.labeling is not None
    (auto,) = settings.labeling.auto_labeling
    review = auto.human_review
    assert isinstance(review, LabelStudioReview)
    assert (review.host.account, review.host.external_id) == ("210987654321", "smkit-photos")
    assert review.images_prefix == "catalog/" and auto.multi_label is False
    # Label Studio alone needs no Ground Truth, wherever it is deployed.
    assert settings.labeling.region_problem("eu-south-2") is None


@pytest.mark.parametrize(
    ("host", "extra", "expected"),
    [
        (
            "          ecs_task_role_arn: arn:aws:iam::123456789012:role/ls\n"
            "          ec2_instance_role_arn: arn:aws:iam::123456789012:role/ls-host",
            "",
            [
                "labeling.auto_labeling[0].human_review.host.ec2_instance_role_arn (line 13): "
                "name exactly one principal: ecs_task_role_arn, ec2_instance_role_arn or "
                "account (got ecs_task_role_arn, ec2_instance_role_arn)"
            ],
        ),
        (
            '          account: "210987654321"',
            "",
            [
                "labeling.auto_labeling[0].human_review.host.account (line 12): another "
                "account needs an external_id (the confused-deputy guard)"
            ],
        ),
        (
            "          ecs_task_role_arn: arn:aws:iam::123456789012:role/ls\n"
            "          external_id: abc",
            "",
            [
                "labeling.auto_labeling[0].human_review.host.external_id (line 13): an "
                "external_id goes with account only; a role of your own needs none"
            ],
        ),
        (
            # LABEL-5: STS refuses such an external ID.
            '          account: "210987654321"\n          external_id: "has space"',
            "",
            [
                "labeling.auto_labeling[0].human_review.host.external_id (line 13): must be "
                "2-1224 characters of letters, digits and _ + = , . @ : / - (STS's rule for an "
                "external ID) (got 'has space')"
            ],
        ),
        (
            "          ec2_instance_role_arn: arn:aws:iam::123456789012:user/ls",
            "        images_prefix: /catalog",
            [
                "labeling.auto_labeling[0].human_review.host.ec2_instance_role_arn (line 12): "
                "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) (got "
                "'arn:aws:iam::123456789012:user/ls')",
                "labeling.auto_labeling[0].human_review.images_prefix (line 13): must be "
                "empty or a key prefix ending in a slash, e.g. photos/ (no leading slash) (got "
                "'/catalog')",
            ],
        ),
    ],
)
def test_label_studio_host_mistakes_name_the_field(
    host: str, extra: str, expected: list[str]
) -> None:
    assert problems_of(studio(host, extra)) == expected


def test_label_studio_text_workflows_read_no_images_and_need_labels() -> None:
    text = studio(
        "          ecs_task_role_arn: arn:aws:iam::123456789012:role/ls",
        "        images_prefix: photos/",
        data_type="text",
    )
    assert problems_of(text) == [
        "labeling.auto_labeling[0].human_review.images_prefix (line 13): only image workflows "
        "read images"
    ]
    assert problems_of(text.replace("      labels: [shoe, bag]\n", "")) == [
        "labeling.auto_labeling[0].human_review.mode (line 9): 'label_studio' review needs "
        "labels (the classes)",
        "labeling.auto_labeling[0].human_review.images_prefix (line 12): only image workflows "
        "read images",
    ]


def test_multi_label_auto_labeling_needs_a_multi_label_ground_truth_workflow() -> None:
    text = config(
        """
  workflows:
    - name: tags
      task_type: image_classification
      labels: [a, b]
      title: t
      description: d
      instructions: i
      workforce:
        type: vendor
        workteam_arn: arn:aws:sagemaker:us-east-1:123456789012:workteam/vendor-crowd/acme
  auto_labeling:
    - name: auto
      data_type: image
      multi_label: true
      endpoint_names: [m]
      human_review: {mode: ground_truth, labeling_workflow: tags}
"""
    )
    assert problems_of(text) == [
        "labeling.auto_labeling[0].human_review.labeling_workflow (line 19): 'tags' is "
        "image_classification; multi-label auto-labeling image needs "
        "image_classification_multi_label"
    ]
    fixed = parse_settings(
        text.replace(
            "task_type: image_classification", "task_type: image_classification_multi_label"
        ),
        source="test.yaml",
    )
    assert fixed.labeling is not None and fixed.labeling.auto_labeling[0].multi_label


def test_the_full_examples_labels_are_what_its_training_reads() -> None:
    # label -> train: the text classifier reads the attribute its labeling workflows write.
    full = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert full.labeling is not None and full.training is not None
    definition = full.training.definitions["text-classifier"]
    attribute = definition.hyperparameters["label_attribute"]
    workflows = [w for w in full.labeling.workflows if w.task_type == "text_classification"]
    autos = [a for a in full.labeling.auto_labeling if a.data_type == "text"]
    assert workflows and autos
    assert {w.label_attribute for w in workflows} | {a.label_attribute for a in autos} == {
        attribute
    }
    assert attribute in (definition.channels["train"].attribute_names or [])
