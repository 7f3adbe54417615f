"""How many CloudFormation resources each stack gets from the settings, so that a config
whose stack would pass CloudFormation's limit is refused by the config check, at the
entry that passes it, instead of failing in the middle of synthesis.

The counts mirror what `stacks/` and `sagemaker_constructs/` build for each entry. The
test `tests/stacks/settings/test_stack_sizes.py` synthesizes configs with every kind of
entry and compares these counts with the templates, so a construct that adds a resource
fails that test until the table here says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .base import Location
from .foundation import NoNetwork, PrivateNetwork
from .inference import AsyncVariantSettings, InstanceVariantSettings
from .labeling import CognitoWorkforce, ExistingWorkforce, ExternalReview, LabelStudioReview

if TYPE_CHECKING:
    from .platform import PlatformSettings

MAX_RESOURCES_PER_STACK = 500
LABEL_STUDIO_RESOURCES = 6
"""A label_studio review's own resources: the annotations function (function, role, policy,
log group), its EventBridge rule and invoke permission."""
LABEL_STUDIO_HOST_RESOURCES = 2
"""The role of a Label Studio host and its policy, shared by the host's workflows."""
"""STACK-1: CloudFormation's quota of resources declared in one stack's template."""


@dataclass(frozen=True)
class Share:
    """Resources one part of the config puts into one stack."""

    location: Location
    """Where in the config (`()`: the stack's own, fixed resources)."""
    resources: int
    """How many."""
    what: str
    """What makes them, for the message: "per alert address", "fixed"."""


def stack_shares(settings: PlatformSettings) -> dict[str, list[Share]]:
    """Each stack's resources (by unit: "Foundation", "Labeling"...), in config order."""
    stacks: dict[str, list[Share]] = {"Foundation": _foundation(settings)}
    for unit, shares in (
        ("Cost", _cost(settings)),
        ("Notebooks", _notebooks(settings)),
        ("Studio", _studio(settings)),
        ("Inference", _inference(settings)),
        ("ModelRegistry", _model_registry(settings)),
        ("Training", _training(settings)),
        ("Workforce", _workforce(settings)),
        ("Labeling", _labeling(settings)),
        ("Transform", _transform(settings)),
    ):
        if shares:
            stacks[unit] = shares
    return stacks


def over_the_limit(settings: PlatformSettings) -> list[tuple[Location, str]]:
    """STACK-1: one problem per stack over `MAX_RESOURCES_PER_STACK`, at the entry whose
    resources pass the limit."""
    problems: list[tuple[Location, str]] = []
    for unit, shares in stack_shares(settings).items():
        total = sum(share.resources for share in shares)
        if total <= MAX_RESOURCES_PER_STACK:
            continue
        running = 0
        for share in shares:
            running += share.resources
            if running > MAX_RESOURCES_PER_STACK:
                problems.append(
                    (
                        share.location,
                        f"stack {settings.stack_name(unit)} would hold {total} resources and "
                        f"CloudFormation allows {MAX_RESOURCES_PER_STACK} per stack; it "
                        f"passes {MAX_RESOURCES_PER_STACK} here ({share.resources} "
                        f"resource{'s' if share.resources != 1 else ''} {share.what}): remove "
                        "entries from here on, or move them to another "
                        "config (its own name_prefix)",
                    )
                )
                break
    return problems


def _fixed(resources: int) -> Share:
    return Share((), resources, "fixed")


def _foundation(settings: PlatformSettings) -> list[Share]:
    # KMS key, buckets, alerts topic; a private network adds the VPC, subnets and endpoints.
    shares = [_fixed(35 if isinstance(settings.network, PrivateNetwork) else 10)]
    studio = settings.studio
    if isinstance(settings.network, PrivateNetwork) and studio and studio.private_studio_endpoint:
        shares.append(Share(("studio", "private_studio_endpoint"), 1, "(an interface endpoint)"))
    shares += [
        Share(("alerts", "emails", index), 1, "per address (a topic subscription)")
        for index, _ in enumerate(settings.alerts.emails)
    ]
    return shares


def _cost(settings: PlatformSettings) -> list[Share]:
    budget = settings.cost.budget if settings.cost else None
    if budget is None:
        return []
    # The budget; the guard adds its function, topic, ignored-message filter and two alarms.
    shares = [_fixed(13 if budget.guard else 1)]
    shares += [
        Share(("cost", "budget", "teams", index), 1, "per team budget")
        for index, _ in enumerate(budget.teams)
    ]
    return shares


def _notebooks(settings: PlatformSettings) -> list[Share]:
    notebooks = settings.notebooks
    if notebooks is None:
        return []
    shares = [_fixed(2)]
    for index, notebook in enumerate(notebooks.instances):
        # instance, lifecycle config, role and policy; idle stop adds its log group and the
        # metric filter and alarm that tell when it cannot decide
        count = 7 if notebook.idle_stop else 4
        shares.append(Share(("notebooks", "instances", index), count, "per notebook"))
    shares += [
        Share(("notebooks", "repositories", key), 1, "per repository")
        for key in notebooks.repositories
    ]
    return shares


def _studio(settings: PlatformSettings) -> list[Share]:
    studio = settings.studio
    if studio is None:
        return []
    # domain, lifecycle configuration, the execution role and the job role with their
    # policies; mode `none` adds the home file system's VPC (subnets, routes, flow logs)
    count = 6 + (17 if isinstance(settings.network, NoNetwork) else 0)
    shares = [_fixed(count)]
    if studio.custom_image is not None:
        # the image, its version, app image configuration, and its role with its policy
        shares.append(Share(("studio", "custom_image"), 5, "for the custom image"))
    for index, user in enumerate(studio.users):
        # the profile; an own role with its policy; each kit space
        count = 1 + 2 * user.own_role + len(user.spaces)
        shares.append(Share(("studio", "users", index), count, "for this user"))
    return shares


def _inference(settings: PlatformSettings) -> list[Share]:
    if settings.inference is None:
        return []
    shares = []
    for key, endpoint in settings.inference.endpoints.items():
        variant = endpoint.variant
        # model, endpoint config, endpoint, role, policy, log group, two alarms
        count = 8
        if isinstance(variant, InstanceVariantSettings) and variant.autoscaling:
            count += 2  # scalable target, target-tracking policy
        elif isinstance(variant, AsyncVariantSettings):
            count += 4  # success and error topics with their policies
            if variant.autoscaling:
                # scalable target and policy; from zero also a step policy and its alarm
                count += 4 if variant.autoscaling.min_capacity == 0 else 2
        monitoring = endpoint.monitoring
        if monitoring is not None and monitoring.data_quality is not None:
            # the monitoring role and policy, job definition and schedule, the baseline
            # workflow (state machine, role, policy, log group) and two alarms
            count += 10
        if monitoring is not None and monitoring.model_quality is not None:
            # the model quality role and policy, job definition and schedule, two alarms
            count += 6
        shares.append(Share(("inference", "endpoints", key), count, "for this endpoint"))
    if settings.inference.followed_groups():
        # The model approval workflow: function, state machine (each with role, policy and
        # log group), the function's run-listing policy, the event rule and its role and
        # policy.
        shares.insert(0, _fixed(12))
    if any(e.monitoring is not None for e in settings.inference.endpoints.values()):
        # the metrics function (function, role, policy, log group), its rule and permission
        shares.append(_fixed(6))
    return shares


def _model_registry(settings: PlatformSettings) -> list[Share]:
    if settings.training is None:
        return []
    return [
        Share(("training", "definitions", name), 1, "per model package group")
        for name in settings.training.definitions
    ]


def _training(settings: PlatformSettings) -> list[Share]:
    training = settings.training
    if training is None:
        return []
    shares = []
    for name, definition in training.definitions.items():
        # state machine, its role, policy and log group, the job role and its policy;
        # each trigger adds a rule with a role and policy
        count = 6 + 3 * (definition.schedule is not None) + 3 * (definition.on_new_data is not None)
        shares.append(Share(("training", "definitions", name), count, "for this definition"))
    for name, tuning in training.tuning.items():
        count = 4 + 3 * (tuning.schedule is not None)
        shares.append(Share(("training", "tuning", name), count, "for this tuning definition"))
    return shares


def _workforce(settings: PlatformSettings) -> list[Share]:
    labeling = settings.labeling
    if labeling is None or labeling.workforce is None:
        return []
    workforce = labeling.workforce
    if isinstance(workforce, CognitoWorkforce):
        # the user pool with its domain and client, the workforce, and what they need
        shares = [_fixed(16)]
        per_team = 4  # group, work team, task topic and its policy
    else:
        shares = [_fixed(2 if isinstance(workforce, ExistingWorkforce) else 3)]
        per_team = 3  # work team, task topic and its policy
    for index, team in enumerate(labeling.teams):
        shares.append(Share(("labeling", "teams", index), per_team, "per team"))
        shares += [
            Share(
                ("labeling", "teams", index, "workers", position),
                3,
                "per worker (user, group membership, task subscription)",
            )
            for position, _ in enumerate(team.workers)
        ]
    return shares


def _labeling(settings: PlatformSettings) -> list[Share]:
    labeling = settings.labeling
    if labeling is None or not (labeling.workflows or labeling.auto_labeling):
        return []
    shares = [_fixed(4 if labeling.workflows else 0)]  # what the labeling workflows share
    shares += [
        Share(("labeling", "workflows", index), 12, "per labeling workflow")
        for index, _ in enumerate(labeling.workflows)
    ]
    hosts: set[object] = set()
    for index, auto in enumerate(labeling.auto_labeling):
        review = auto.human_review
        emails = (
            len(review.notify_emails)
            if isinstance(review, ExternalReview | LabelStudioReview)
            else 0
        )
        # Label Studio: the annotations function and its rule; the host's role comes with
        # the first workflow of that host.
        studio = 0
        if isinstance(review, LabelStudioReview):
            studio = LABEL_STUDIO_RESOURCES
            if review.host not in hosts:
                hosts.add(review.host)
                studio += LABEL_STUDIO_HOST_RESOURCES
        # Model quality of an endpoint takes its ground truth from this workflow: the
        # ground-truth function (function, role, policy, log group).
        ground_truth = 4 if auto.name in _ground_truth_workflows(settings) else 0
        shares.append(
            Share(
                ("labeling", "auto_labeling", index),
                37 + emails + studio + ground_truth,
                "for this workflow",
            )
        )
    return shares


def _ground_truth_workflows(settings: PlatformSettings) -> set[str]:
    inference = settings.inference
    endpoints = inference.endpoints.values() if inference else []
    return {
        e.monitoring.model_quality.ground_truth_from
        for e in endpoints
        if e.monitoring is not None and e.monitoring.model_quality is not None
    }


def _transform(settings: PlatformSettings) -> list[Share]:
    transform = settings.transform
    if transform is None:
        return []
    # the model with its role and policy; the state machine, its role, policy and log
    # group; a schedule adds a rule with a role and policy
    return [
        Share(
            ("transform", "definitions", name),
            7 + 3 * (definition.schedule is not None),
            "for this transform definition",
        )
        for name, definition in transform.definitions.items()
    ]
