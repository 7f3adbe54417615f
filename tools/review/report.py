"""The review page: one Markdown file a reviewer reads instead of the templates."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tools.assembly import Assembly, Stack, short_type

from .cost import Estimate
from .diff import ADDED, MODIFIED, REMOVED, REPLACED, STATEFUL_TYPES, Change
from .endpoint_updates import RefusedUpdate
from .iam import Statement, statements
from .weak_references import StaleReference


@dataclass(frozen=True)
class Acknowledgement:
    stack: str
    logical_id: str
    rule_id: str
    reason: str


def acknowledgements(stack: Stack) -> list[Acknowledgement]:
    """cdk-nag acknowledgements copied into the template (`Metadata.cdk_nag`)."""
    found = []
    for logical_id, resource in stack.resources.items():
        rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        found += [
            Acknowledgement(stack.name, logical_id, str(r.get("id")), str(r.get("reason", "")))
            for r in rules
        ]
    return found


@dataclass
class Review:
    """Everything the page shows, computed once."""

    title: str
    assembly: Assembly
    estimate: Estimate
    changes: list[Change] | None = None
    base_label: str | None = None
    refused: list[RefusedUpdate] = field(default_factory=list)
    """Updates against the base that AWS refuses: the deploy would fail."""
    stale: list[StaleReference] = field(default_factory=list)
    """Consumers of outputs whose value changes against the base."""
    statements: dict[str, list[Statement]] = field(default_factory=dict)
    acknowledgements: dict[str, list[Acknowledgement]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        outputs = self.assembly.outputs()
        for stack in self.assembly:
            self.statements[stack.name] = statements(stack, outputs)
            self.acknowledgements[stack.name] = acknowledgements(stack)

    @property
    def resource_count(self) -> int:
        return sum(len(s.resources) for s in self.assembly)

    @property
    def flagged(self) -> list[Statement]:
        return [s for stmts in self.statements.values() for s in stmts if s.wildcards]

    @property
    def loud_changes(self) -> list[Change]:
        return [c for c in self.changes or [] if c.loud]

    def summary_lines(self) -> list[str]:
        """The few lines printed to the terminal and shown first on the page."""
        est = self.estimate
        approx = "~" if est.approximate else ""
        lines = [
            f"{len(self.assembly.stacks)} stack(s), {self.resource_count} resources",
            f"IAM: {sum(len(v) for v in self.statements.values())} policy statements, "
            f"{len(self.flagged)} with wildcards",
            f"cdk-nag: {sum(len(v) for v in self.acknowledgements.values())} acknowledgements",
            f"estimated monthly cost ({est.region}, prices of {est.table.as_of}): "
            f"idle {approx}${est.idle:,.2f}, at usage {approx}${est.usage:,.2f}"
            + (f" (+{len(est.unpriced)} unpriced item(s))" if est.unpriced else ""),
        ]
        if self.changes is not None:
            counts = Counter(c.kind for c in self.changes)
            lines.append(
                f"against {self.base_label}: {counts[ADDED]} added, {counts[REMOVED]} removed, "
                f"{counts[REPLACED]} replaced, {counts[MODIFIED]} modified"
            )
            lines += [f"WARNING: {_loud_text(c)}" for c in self.loud_changes]
            lines += [f"FAILS ON DEPLOY: {r.text()}" for r in self.refused]
            lines += [f"STALE REFERENCE: {r.text()}" for r in self.stale]
        return lines

    def markdown(self) -> str:
        out = [f"# Synth review: {self.title}", ""]
        out += [f"- {line}" for line in self.summary_lines()]
        out.append("")
        if self.changes is not None:
            out += self._changes()
        out += self._cost()
        for stack in self.assembly:
            out += self._stack(stack)
        return "\n".join(out).rstrip() + "\n"

    def _changes(self) -> list[str]:
        out = [f"## Changes against {self.base_label}", ""]
        if self.refused:
            out += [
                "> [!CAUTION]",
                "> **Updates AWS refuses.** `make deploy` stops before deploying this; as is, "
                "the stack update would fail and roll back:",
            ]
            out += [f"> - {r.text()}" for r in self.refused]
            out.append("")
        if self.stale:
            out += [
                "> [!WARNING]",
                "> **Stack outputs change under weak references.** These consumers keep "
                "the value they read when they were last updated "
                "(docs/deploy-updates.md#weak-cross-stack-references):",
            ]
            out += [f"> - {r.text()}" for r in self.stale]
            out.append("")
        if self.loud_changes:
            out += [
                "> [!CAUTION]",
                "> **Stateful resources replaced or deleted.** Deploying this change loses "
                "data or identity:",
            ]
            out += [f"> - {_loud_text(c)}" for c in self.loud_changes]
            out.append("")
        if not self.changes:
            return [*out, "No resource changes.", ""]
        out += ["| Stack | Change | Resource | Type | Detail |", "| --- | --- | --- | --- | --- |"]
        order = {REPLACED: 0, REMOVED: 1, ADDED: 2, MODIFIED: 3}
        for change in sorted(self.changes or [], key=lambda c: (order[c.kind], c.stack)):
            mark = " **(stateful)**" if change.stateful and change.kind != ADDED else ""
            out.append(
                f"| {change.stack} | {change.kind}{mark} | `{change.logical_id}` | "
                f"{short_type(change.resource_type)} | {_cell(change.detail)} |"
            )
        return [
            *out,
            "",
            "Replacement is judged from each type's create-only properties and from "
            "logical ID changes; updates that replace only under some conditions "
            "(CloudFormation's `Conditional` updates) show as modified.",
            "",
        ]

    def _cost(self) -> list[str]:
        est = self.estimate
        out = [
            "## Estimated monthly cost",
            "",
            f"Region: {est.region_note}. Prices: `tools/review/prices.yaml` as of "
            f"{est.table.as_of} ({est.table.currency}, on demand, no free tiers deducted, "
            f"{est.table.hours_per_month:.0f} hours a month). Figures marked ~ rest on an "
            "approximate price.",
            "",
        ]
        if est.notes:
            out += [*(f"- {n}" for n in est.notes), ""]
        out += [
            "| Stack | Resource | Item | Idle | At usage | How |",
            "| --- | --- | --- | ---: | ---: | --- |",
        ]
        for line in sorted(est.lines, key=lambda x: (-x.usage, x.stack, x.resource)):
            mark = "~" if line.approximate else ""
            out.append(
                f"| {line.stack} | `{line.resource}` | {_cell(line.item)} | "
                f"{mark}${line.idle:,.2f} | {mark}${line.usage:,.2f} | {_cell(line.basis)} |"
            )
        approx = "~" if est.approximate else ""
        out += [
            f"| **Total** | | | **{approx}${est.idle:,.2f}** | **{approx}${est.usage:,.2f}** | |",
            "",
            "Idle: deployed, nobody using it (no jobs, no requests, empty buckets). "
            "At usage: the assumptions below, on top of what the templates and the "
            "config fix (instance types and counts, AZs, volumes, runtimes).",
            "",
        ]
        out += ["General assumptions:", ""]
        out += [f"- {text}" for text in est.table.general_assumptions]
        out += ["", f"Price sources: {', '.join(est.table.sources)}.", ""]
        if est.assumptions_used:
            out += ["Usage assumptions:", ""]
            out += [
                f"- `{a.key}` = {a.value:g}: {a.note}"
                for a in sorted(est.assumptions_used.values(), key=lambda a: a.key)
            ]
            out.append("")
        if est.unpriced:
            out += ["Not priced (no rule or no price; not in the totals):", ""]
            out += [
                f"- {u.stack} `{u.resource}` ({short_type(u.resource_type)}): {u.reason}"
                for u in est.unpriced
            ]
            out.append("")
        return out

    def _stack(self, stack: Stack) -> list[str]:
        out = [f"## Stack `{stack.name}`", ""]
        env = stack.environment.removeprefix("aws://")
        protection = "on" if stack.termination_protection else "off"
        out += [
            f"Environment `{env}`, termination protection {protection}, "
            f"{len(stack.resources)} resources.",
            "",
            "### Resources by type",
            "",
            "| Type | Count | Logical IDs |",
            "| --- | ---: | --- |",
        ]
        by_type: dict[str, list[str]] = {}
        for logical_id, resource in stack.resources.items():
            by_type.setdefault(resource.get("Type", "?"), []).append(logical_id)
        for resource_type in sorted(by_type):
            ids = by_type[resource_type]
            stateful = " (stateful)" if resource_type in STATEFUL_TYPES else ""
            out.append(
                f"| {short_type(resource_type)}{stateful} | {len(ids)} | "
                f"{', '.join(f'`{i}`' for i in sorted(ids))} |"
            )
        out += ["", "### IAM permissions", ""]
        stmts = self.statements[stack.name]
        if not stmts:
            out += ["None.", ""]
        else:
            out += [
                "| Kind | Policy | Attached to | Effect | Principal | Actions | Resources | "
                "Condition | Wildcards |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            ]
            for s in stmts:
                flags = ", ".join(s.wildcards)
                out.append(
                    f"| {s.kind} | `{s.source}` | {_cell(s.attached_to)} | {s.effect} | "
                    f"{_cell(', '.join(s.principals))} | {_cell(', '.join(s.actions))} | "
                    f"{_cell(', '.join(s.resources))} | {_cell(s.condition_text)} | "
                    f"{'**' + flags + '**' if flags else ''} |"
                )
            out.append("")
        out += ["### cdk-nag acknowledgements", ""]
        acks = self.acknowledgements[stack.name]
        if not acks:
            out += ["None.", ""]
        else:
            out += ["| Resource | Finding | Reason |", "| --- | --- | --- |"]
            out += [f"| `{a.logical_id}` | {_cell(a.rule_id)} | {_cell(a.reason)} |" for a in acks]
            out.append("")
        return out


def _loud_text(change: Change) -> str:
    verb = "REPLACED" if change.kind == REPLACED else "DELETED"
    return (
        f"{verb} stateful {short_type(change.resource_type)} `{change.logical_id}` in "
        f"{change.stack} ({change.detail}): {STATEFUL_TYPES[change.resource_type]}"
    )


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ") if text else ""
