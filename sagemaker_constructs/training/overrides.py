"""Execution input that may change a run, checked inside the state machine.

A workflow's execution input may override hyperparameters, channel data URIs and the
instance type, but only those named in an allow-list, before any job is created:

    {"hyperparameters": {"epochs": "20"},
     "channels": {"train": "s3://<data bucket>/<allowed prefix>/..."},
     "instance_type": "ml.g5.2xlarge"}

Anything else ends the execution in a Fail state whose error names the rule and whose
cause shows the offending input and what is allowed. The checks are plain JSONPath
states (Pass, Choice, Fail): no Lambda, nothing to pay for, nothing to patch.

Counting keys is how "only these keys" is checked without a function that lists an
object's keys: merging the input object with an object holding every allowed key
(`States.JsonMerge`) and counting the merged object's values (`$.x.*`) gives more than
the number of allowed keys exactly when the input has a key outside the list.
The allowed objects hold one more key, `-`, which no real hyperparameter or channel is
called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..common import Problems

if TYPE_CHECKING:
    from .job import TrainingJob

# Names an override may address: JSONPath dot notation must reach them safely.
OVERRIDABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOP_LEVEL_KEYS = ("hyperparameters", "channels", "instance_type")
# Counted with the allowed keys so that `$.x.*` always matches several values (a single
# match may come back as a bare value instead of a one-element array).
SENTINEL = "-"
_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")


@dataclass(frozen=True)
class OverridePolicy:
    """What execution input may change, and the values a run starts from."""

    hyperparameters: Mapping[str, str]
    """The run's hyperparameters (name -> value) before overrides."""
    channel_uris: Mapping[str, str]
    """The run's data URI per channel before overrides."""
    instance_type: str
    """The run's instance type before overrides."""
    overridable_hyperparameters: Sequence[str] = ()
    """Hyperparameters the input may set."""
    overridable_channels: Mapping[str, str] = field(default_factory=dict)
    """Channels the input may point elsewhere -> the URI prefix the new URI must start with."""
    allowed_instance_types: Sequence[str] = ()
    """Instance types the input may choose besides `instance_type`."""

    @classmethod
    def for_job(
        cls,
        job: TrainingJob,
        *,
        hyperparameters: Mapping[str, str],
        overridable_hyperparameters: Sequence[str],
        overridable_channels: Sequence[str],
    ) -> tuple[OverridePolicy, list[str]]:
        """The policy of a workflow that runs `job` from `hyperparameters`, and what is
        wrong with it (unknown channels, bad names, hyperparameters the job refuses)."""
        channels = {c.name: c for c in job.channels}
        policy = cls(
            hyperparameters=hyperparameters,
            channel_uris={c.name: job.channel_uri(c) for c in job.channels},
            instance_type=job.instance_type,
            overridable_hyperparameters=list(overridable_hyperparameters),
            overridable_channels={
                name: job.channel_access_uri(channels[name])
                for name in overridable_channels
                if name in channels
            },
            allowed_instance_types=job.allowed_instance_types,
        )
        unknown_channels = sorted(set(overridable_channels) - set(channels))
        found = (
            [
                f"overridable channels {unknown_channels} are not channels of the job "
                f"(channels: {sorted(channels)})"
            ]
            if unknown_channels
            else []
        )
        found += policy.problems()
        found += job.override_problems(list(overridable_hyperparameters))
        return policy, found

    def problems(self) -> list[str]:
        """What is wrong with the policy itself."""
        found = []
        for name in [*self.overridable_hyperparameters, *self.overridable_channels]:
            if not OVERRIDABLE_NAME.match(name):
                found.append(
                    f"override name {name!r} must be letters, digits and underscores, "
                    "not starting with a digit"
                )
        unknown_channels = sorted(set(self.overridable_channels) - set(self.channel_uris))
        if unknown_channels:
            found.append(
                f"overridable channels {unknown_channels} are not channels of the job "
                f"(channels: {sorted(self.channel_uris)})"
            )
        for name, prefix in self.overridable_channels.items():
            # Tokens (a bucket name known at deploy) are safe; the literal parts end up in
            # a StringMatches pattern and an intrinsic-function string.
            literal = _TOKEN.sub("", prefix)
            if any(c in literal for c in "*\\{}'"):
                found.append(
                    f"the URI prefix of channel {name!r} must not contain * \\ {{ }} or ' "
                    f"(got {prefix!r})"
                )
        return found


class InputCheck:
    """The states that read, check and resolve a workflow's execution input.

    `start` is the first state. After the checks, the state holds
    `{"run": {"hyperparameters": {...}, "channels": {...}, "instance_type": "..."}}`
    and `next(state)` continues there.
    """

    def __init__(self, scope: Construct, *, policy: OverridePolicy) -> None:
        problems = Problems("InputCheck")
        for problem in policy.problems():
            problems.add(problem)
        problems.raise_if_any()
        self._policy = policy
        allowed_hp = list(policy.overridable_hyperparameters)
        allowed_channels = list(policy.overridable_channels)
        instance_types = [policy.instance_type] + [
            t for t in policy.allowed_instance_types if t != policy.instance_type
        ]

        self.start = sfn.Pass(
            scope,
            "ReadInput",
            comment="Execution input next to the defaults and allow-lists it is checked against",
            parameters={
                "input.$": "$",
                "kit": {
                    # Missing sections become empty; the instance type defaults.
                    "skeleton": {
                        "hyperparameters": {},
                        "channels": {},
                        "instance_type": policy.instance_type,
                    },
                    "allowed": {
                        "top": dict.fromkeys(TOP_LEVEL_KEYS, 0),
                        "hyperparameters": dict.fromkeys([*allowed_hp, SENTINEL], 0),
                        "channels": dict.fromkeys([*allowed_channels, SENTINEL], 0),
                    },
                    "defaults": {
                        "hyperparameters": dict(policy.hyperparameters),
                        "channels": dict(policy.channel_uris),
                    },
                },
            },
        )
        shape = sfn.Choice(scope, "CheckInputShape")
        not_object = sfn.Fail(
            scope,
            "InputNotAnObject",
            error="InvalidExecutionInput",
            cause_path="States.Format('The execution input must be a JSON object with the keys "
            f"{', '.join(TOP_LEVEL_KEYS)} (each optional); got: {{}}', "
            "States.JsonToString($.input))",
        )
        shape.when(_scalar("$.input"), not_object)
        for section in ("hyperparameters", "channels"):
            path = f"$.input.{section}"
            shape.when(
                sfn.Condition.and_(sfn.Condition.is_present(path), _scalar(path)),
                sfn.Fail(
                    scope,
                    f"{section.capitalize()}NotAnObject",
                    error="InvalidExecutionInput",
                    cause_path=f"States.Format('{section} must be a JSON object of name: value "
                    f"(got {{}})', States.JsonToString({path}))",
                ),
            )

        merge = sfn.Pass(
            scope,
            "MergeInput",
            parameters={
                "input.$": "$.input",
                "given.$": "States.JsonMerge($.kit.skeleton, $.input, false)",
                "kit.$": "$.kit",
            },
        )
        # Union of the given and the allowed keys, then their values, then how many.
        union: dict[str, Any] = {
            "top.$": "States.JsonMerge($.given, $.kit.allowed.top, false)",
        }
        listed: dict[str, Any] = {"top.$": "$.keys.top.*"}
        counted: dict[str, Any] = {"top.$": "States.ArrayLength($.keys.top)"}
        for section, allowed in (("hyperparameters", allowed_hp), ("channels", allowed_channels)):
            if allowed:
                union[f"{section}.$"] = (
                    f"States.JsonMerge($.given.{section}, $.kit.allowed.{section}, false)"
                )
                listed[f"{section}.$"] = f"$.keys.{section}.*"
                counted[f"{section}.$"] = f"States.ArrayLength($.keys.{section})"
            else:
                # Nothing may be overridden: the section must be empty.
                counted[f"{section}_json.$"] = f"States.JsonToString($.given.{section})"
        keep = {"input.$": "$.input", "given.$": "$.given", "kit.$": "$.kit"}
        collect = sfn.Pass(scope, "CollectKeys", parameters={**keep, "keys": union})
        list_keys = sfn.Pass(scope, "ListKeys", parameters={**keep, "keys": listed})
        count = sfn.Pass(scope, "CountKeys", parameters={**keep, "counts": counted})

        check = sfn.Choice(scope, "CheckOverrides")
        check.when(
            sfn.Condition.number_greater_than("$.counts.top", len(TOP_LEVEL_KEYS)),
            sfn.Fail(
                scope,
                "UnknownInputKey",
                error="InvalidExecutionInput",
                cause_path="States.Format('The execution input may only have the keys "
                f"{', '.join(TOP_LEVEL_KEYS)}; got: {{}}', States.JsonToString($.input))",
            ),
        )
        self._section_rules(scope, check, "hyperparameters", allowed_hp)
        self._section_rules(scope, check, "channels", allowed_channels)
        for name in allowed_hp:
            path = f"$.given.hyperparameters.{name}"
            check.when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(path),
                    sfn.Condition.not_(sfn.Condition.is_string(path)),
                ),
                sfn.Fail(
                    scope,
                    f"HyperparameterNotAString{_camel(name)}",
                    error="HyperparameterNotAString",
                    cause_path=f"States.Format('hyperparameter {name} must be a string, as "
                    'SageMaker takes hyperparameters (e.g. "10", not 10); got {}\', '
                    f"States.JsonToString({path}))",
                ),
            )
        for name, prefix in policy.overridable_channels.items():
            path = f"$.given.channels.{name}"
            check.when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(path),
                    sfn.Condition.not_(
                        sfn.Condition.and_(
                            sfn.Condition.is_string(path),
                            sfn.Condition.string_matches(path, f"{prefix}*"),
                        )
                    ),
                ),
                sfn.Fail(
                    scope,
                    f"ChannelOutsideItsPrefix{_camel(name)}",
                    error="ChannelOutsideItsPrefix",
                    cause_path=f"States.Format('channel {name} must be an S3 URI under "
                    f"{prefix} (the job may read nothing else); got {{}}', "
                    f"States.JsonToString({path}))",
                ),
            )
        check.when(
            sfn.Condition.not_(
                sfn.Condition.or_(
                    *[
                        sfn.Condition.string_equals("$.given.instance_type", t)
                        for t in instance_types
                    ]
                )
            ),
            sfn.Fail(
                scope,
                "InstanceTypeNotAllowed",
                error="InstanceTypeNotAllowed",
                cause_path="States.Format('instance_type must be one of "
                f"{', '.join(instance_types)}; got {{}}', "
                "States.JsonToString($.given.instance_type))",
            ),
        )
        self._resolve = sfn.Pass(
            scope,
            "ResolveInput",
            comment="Defaults with the checked overrides applied",
            parameters={
                "run": {
                    "hyperparameters.$": "States.JsonMerge($.kit.defaults.hyperparameters, "
                    "$.given.hyperparameters, false)",
                    "channels.$": "States.JsonMerge($.kit.defaults.channels, $.given.channels, "
                    "false)",
                    "instance_type.$": "$.given.instance_type",
                }
            },
        )
        merge.next(collect)
        collect.next(list_keys).next(count).next(check)
        shape.otherwise(merge)
        self.start.next(shape)
        check.otherwise(self._resolve)

    def next(self, state: sfn.IChainable) -> sfn.Chain:
        """Continue with `state` once the input is checked and resolved."""
        return self._resolve.next(state)

    @staticmethod
    def _section_rules(
        scope: Construct, check: sfn.Choice, section: str, allowed: Sequence[str]
    ) -> None:
        if allowed:
            condition = sfn.Condition.number_greater_than(f"$.counts.{section}", len(allowed) + 1)
            shown = ", ".join(allowed)
        else:
            condition = sfn.Condition.not_(
                sfn.Condition.string_equals(f"$.counts.{section}_json", "{}")
            )
            shown = "none"
        check.when(
            condition,
            sfn.Fail(
                scope,
                f"{section.capitalize()}NotOverridable",
                error=f"{section.capitalize()}NotOverridable",
                cause_path=f"States.Format('{section} that the execution input may set: "
                f"{shown}; got {{}}', States.JsonToString($.given.{section}))",
            ),
        )


def _scalar(path: str) -> sfn.Condition:
    """Not a JSON object: a scalar, or a non-empty array (JSONPath has no IsObject)."""
    return sfn.Condition.or_(
        sfn.Condition.is_string(path),
        sfn.Condition.is_numeric(path),
        sfn.Condition.is_boolean(path),
        sfn.Condition.is_null(path),
        sfn.Condition.is_present(f"{path}[0]"),
    )


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))
