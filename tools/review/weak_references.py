"""Consumers of changed stack outputs under weak cross-stack references.

With `@aws-cdk/core:defaultCrossStackReferences: weak`, a consumer stack reads a producer's
output through `Fn::GetStackOutput`. CloudFormation resolves it when it creates or
updates the consumer; when the output's value changes later, the consumer is neither
updated nor told (DEPLOY-2, Fn::GetStackOutput page). And `cdk deploy --all`, which deploys
every consumer after its producers (DEPLOY-1), skips a stack whose template did not
change (the CLI's `canSkipDeploy`). So a review lists, for each output whose value
changes, the consumers and the resources that read it.

An output's value changes when its expression changes or when a resource it reads is
replaced (a new physical ID or ARN behind the same logical ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.assembly import Assembly, references, render

from .diff import REPLACED, Change

GET_STACK_OUTPUT_PAGE = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "intrinsic-function-reference-getstackoutput.html"
)


@dataclass(frozen=True)
class StaleReference:
    """A consumer stack that reads an output whose value changes."""

    producer: str
    output: str
    reason: str
    """Why the value changes."""
    consumer: str
    readers: tuple[str, ...]
    """Logical IDs of the consumer's resources (and `Outputs.X`) that read the output."""
    consumer_changes: bool
    """Whether the consumer's own template changes (otherwise `cdk deploy` skips it)."""

    def text(self) -> str:
        if self.consumer_changes:
            after = (
                f"`make deploy` updates it after {self.producer}; check that the new value "
                "reached them"
            )
        else:
            after = (
                "its template does not change, so `make deploy` skips it and they keep the "
                "old value"
            )
        return (
            f"{self.consumer} reads {self.producer}.{self.output} in "
            f"{', '.join(self.readers)}, and {self.reason}: {after} (DEPLOY-2)"
        )


def stale_references(
    base: Assembly, new: Assembly, changes: list[Change] | None = None
) -> list[StaleReference]:
    """Every (changed output, consumer) pair of `new` over `base`. `changes`: the
    resource changes of `compare(base, new)`, for outputs that read a replaced resource."""
    replaced = {(c.stack, c.logical_id): c for c in changes or [] if c.kind == REPLACED}
    base_stacks = {s.name: s for s in base}
    changed: dict[tuple[str, str], str] = {}
    for stack in new:
        old = base_stacks.get(stack.name)
        if old is None:
            continue
        old_outputs = old.template.get("Outputs", {})
        for name, output in stack.template.get("Outputs", {}).items():
            before = old_outputs.get(name)
            if before is None:
                continue  # a new output: its readers are new references, resolved at update
            value, old_value = output.get("Value"), before.get("Value")
            if value != old_value:
                changed[(stack.name, name)] = (
                    f"its value changes from {render(old_value)} to {render(value)}"
                )
                continue
            for target in sorted(references(value)):
                change = replaced.get((stack.name, target))
                if change is not None:
                    changed[(stack.name, name)] = (
                        f"its value changes: it reads {target}, which is replaced ({change.detail})"
                    )
                    break
    found: list[StaleReference] = []
    for consumer in new:
        readers = _readers(consumer.template)
        old = base_stacks.get(consumer.name)
        consumer_changes = old is None or old.template != consumer.template
        for (producer, output), reason in changed.items():
            holders = readers.get((producer, output))
            if holders:
                found.append(
                    StaleReference(
                        producer, output, reason, consumer.name, holders, consumer_changes
                    )
                )
    return found


def _readers(template: dict[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(producer stack, output) -> the resources and outputs that read it."""
    found: dict[tuple[str, str], list[str]] = {}
    holders = [
        *template.get("Resources", {}).items(),
        *((f"Outputs.{k}", v) for k, v in template.get("Outputs", {}).items()),
    ]
    for holder, body in holders:
        for reference in _stack_outputs(body):
            found.setdefault(reference, [])
            if holder not in found[reference]:
                found[reference].append(holder)
    return {key: tuple(value) for key, value in found.items()}


def _stack_outputs(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        spec = value.get("Fn::GetStackOutput")
        if isinstance(spec, dict) and len(value) == 1:
            return [(str(spec.get("StackName")), str(spec.get("OutputName")))]
        return [ref for item in value.values() for ref in _stack_outputs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _stack_outputs(item)]
    return []
