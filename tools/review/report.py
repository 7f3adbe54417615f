"""The review page: one Markdown file a reviewer reads instead of the templates.

It opens with what a reviewer decides on, short (SUMMARY_LINES for the full example
config): the totals, the cost and, against a base, its change, what fails on deploy or
replaces stateful resources; then the cost by stack, training and tuning, and the largest
items. Every detail (each change, each priced item, each stack's resources, IAM
statements and cdk-nag acknowledgements) follows in collapsed `<details>` sections."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tools.assembly import Assembly, Stack, short_type

from .cost import Estimate
from .diff import ADDED, MODIFIED, REMOVED, REPLACED, STATEFUL_TYPES, Change
from .endpoint_updates import RefusedUpdate
from .iam import Statement, statements
from .replacements import FailingReplacement
from .weak_references import StaleReference

SUMMARY_LINES = 80
"""Most lines before the first collapsed section, for the full example config."""
LISTED = 8
"""Findings of one kind listed in the summary; the rest are counted, and all are in the
changes below."""
LARGEST = 8
"""Cost items listed in the summary (the largest at usage)."""


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
    failing: list[FailingReplacement] = field(default_factory=list)
    """Replacements against the base that cannot be made: the deploy would fail."""
    stale: list[StaleReference] = field(default_factory=list)
    """Consumers of outputs whose value changes against the base."""
    base_estimate: Estimate | None = None
    """The base's cost, priced with the same table."""
    base_usage_note: str | None = None
    """Where the base's training and tuning usage comes from."""
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

    @property
    def fails_on_deploy(self) -> list[str]:
        return [r.text() for r in self.refused] + [f.text() for f in self.failing]

    def summary_lines(self) -> list[str]:
        """The lines printed to the terminal and shown first on the page."""
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
        jobs = est.jobs
        if jobs:
            expected = sum(line.usage for line in jobs)
            lines.append(
                f"training and tuning (in the cost at usage): {approx}${expected:,.2f} a month "
                f"expected, ceiling {approx}${est.job_ceiling:,.2f} (every job to its max "
                "runtime)"
            )
        if self.changes is not None:
            counts = Counter(c.kind for c in self.changes)
            lines.append(
                f"against {self.base_label}: {counts[ADDED]} added, {counts[REMOVED]} removed, "
                f"{counts[REPLACED]} replaced, {counts[MODIFIED]} modified"
            )
            if self.base_estimate is not None:
                lines.append(self._cost_change())
            lines += [f"FAILS ON DEPLOY: {text}" for text in self.fails_on_deploy]
            lines += [f"WARNING: {_loud_text(c)}" for c in self.loud_changes]
            lines += [f"STALE REFERENCE: {r.text()}" for r in self.stale]
        return lines

    def _cost_change(self) -> str:
        before, after = self.base_estimate, self.estimate
        assert before is not None
        approx = "~" if before.approximate or after.approximate else ""
        return (
            f"cost against {self.base_label}: idle {_delta(before.idle, after.idle, approx)}, "
            f"at usage {_delta(before.usage, after.usage, approx)}"
            + (f" ({self.base_usage_note})" if self.base_usage_note else "")
        )

    def markdown(self) -> str:
        out = [f"# Synth review: {self.title}", ""]
        out += self._summary()
        if self.changes is not None:
            out += _collapsed(self._changes_summary(), self._changes())
        out += _collapsed(
            f"<b>Estimated monthly cost</b>: {len(self.estimate.lines)} priced items, "
            "assumptions and sources",
            self._cost(),
        )
        for stack in self.assembly:
            out += _collapsed(self._stack_summary(stack), self._stack(stack))
        return "\n".join(out).rstrip() + "\n"

    # --- the summary -----------------------------------------------------------------------

    def _summary(self) -> list[str]:
        lines = self.summary_lines()
        listed = [line for line in lines if not line.startswith(("FAILS ON", "WARNING", "STALE"))]
        out = ["## Summary", "", *(f"- {line}" for line in listed), ""]
        if self.changes is not None:
            out += self._findings()
        out += self._cost_by_stack()
        out += self._jobs()
        out += self._largest()
        out.append("Details follow, collapsed: click a heading to open it.")
        out.append("")
        return out

    def _findings(self) -> list[str]:
        out: list[str] = []
        if self.fails_on_deploy:
            out += [
                "> [!CAUTION]",
                "> **Updates AWS refuses.** As is, the stack update would fail and roll back "
                "(`make deploy` stops the endpoint updates among them before deploying):",
            ]
            out += _listed(self.fails_on_deploy)
            out.append("")
        if self.loud_changes:
            out += [
                "> [!CAUTION]",
                "> **Stateful resources replaced or deleted.** Deploying this change loses "
                "data or identity:",
            ]
            out += _listed([_loud_text(c) for c in self.loud_changes])
            out.append("")
        if self.stale:
            out += [
                "> [!WARNING]",
                "> **Stack outputs change under weak references.** These consumers keep "
                "the value they read when they were last updated "
                "(docs/deploy-updates.md#weak-cross-stack-references):",
            ]
            out += _listed([r.text() for r in self.stale])
            out.append("")
        return out

    def _cost_by_stack(self) -> list[str]:
        est, base = self.estimate, self.base_estimate
        approx = "~" if est.approximate else ""
        after = _by_stack(est)
        out = ["### Cost by stack (a month)", ""]
        if base is None:
            out += ["| Stack | Idle | At usage |", "| --- | ---: | ---: |"]
            out += [f"| {name} | {approx}${idle:,.2f} | {approx}${usage:,.2f} |"
                    for name, (idle, usage) in after.items()]  # fmt: skip
            out.append(
                f"| **Total** | **{approx}${est.idle:,.2f}** | **{approx}${est.usage:,.2f}** |"
            )
            return [*out, ""]
        before = _by_stack(base)
        approx = "~" if est.approximate or base.approximate else ""
        out += [
            "| Stack | Idle before -> after | At usage before -> after |",
            "| --- | ---: | ---: |",
        ]
        for name in [*after, *(n for n in before if n not in after)]:
            old, new = before.get(name, (0.0, 0.0)), after.get(name, (0.0, 0.0))
            out.append(
                f"| {name} | {_delta(old[0], new[0], approx)} | {_delta(old[1], new[1], approx)} |"
            )
        out.append(
            f"| **Total** | **{_delta(base.idle, est.idle, approx)}** | "
            f"**{_delta(base.usage, est.usage, approx)}** |"
        )
        if self.base_usage_note:
            out += ["", f"Before: {self.base_usage_note}."]
        return [*out, ""]

    def _jobs(self) -> list[str]:
        jobs = self.estimate.jobs
        if not jobs:
            return []
        out = [
            "### Training and tuning (a month)",
            "",
            "Expected: jobs run part of their max runtime (`job_runtime_share`); ceiling: "
            "every job runs to it. A run may pick another instance type where the config "
            "lets it (the range).",
            "",
            "| Workflow | Runs on | Expected | Ceiling a run | Ceiling |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for line in sorted(jobs, key=lambda x: -(x.ceiling or 0)):
            mark = "~" if line.approximate else ""
            span = (
                f" (${line.run_range[0]:,.2f}-${line.run_range[1]:,.2f})" if line.run_range else ""
            )
            out.append(
                f"| `{line.resource.split('.', 1)[1]}` | {_cell(line.item.split(' ', 1)[1])} | "
                f"{mark}${line.usage:,.2f} | {mark}${line.run_ceiling or 0:,.2f}{span} | "
                f"{mark}${line.ceiling or 0:,.2f} |"
            )
        return [*out, ""]

    def _largest(self) -> list[str]:
        lines = [x for x in self.estimate.lines if x.ceiling is None and x.usage > 0]
        if not lines:
            return []
        out = [
            f"### Largest costs at usage (top {min(LARGEST, len(lines))} of {len(lines)})",
            "",
            "| Stack | Item | Idle | At usage |",
            "| --- | --- | ---: | ---: |",
        ]
        for line in sorted(lines, key=lambda x: (-x.usage, x.stack, x.resource))[:LARGEST]:
            mark = "~" if line.approximate else ""
            out.append(
                f"| {line.stack} | {_cell(line.item)} | {mark}${line.idle:,.2f} | "
                f"{mark}${line.usage:,.2f} |"
            )
        return [*out, ""]

    def _changes_summary(self) -> str:
        counts = Counter(c.kind for c in self.changes or [])
        return (
            f"<b>Changes against {self.base_label}</b>: {counts[ADDED]} added, "
            f"{counts[REMOVED]} removed, {counts[REPLACED]} replaced, {counts[MODIFIED]} modified"
        )

    def _stack_summary(self, stack: Stack) -> str:
        stmts = self.statements[stack.name]
        wild = sum(1 for s in stmts if s.wildcards)
        return (
            f"<b>Stack {stack.name}</b>: {len(stack.resources)} resources, {len(stmts)} IAM "
            f"statements ({wild} with wildcards), {len(self.acknowledgements[stack.name])} "
            "cdk-nag acknowledgements"
        )

    def _changes(self) -> list[str]:
        out = [f"## Changes against {self.base_label}", ""]
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
    old = ""
    if change.kind == REPLACED:
        old = (
            "; the old one is kept outside the stack (Retain): move what it holds, then "
            "delete it by hand"
            if change.retained
            else "; the old one is deleted"
        )
    return (
        f"{verb} stateful {short_type(change.resource_type)} `{change.logical_id}` in "
        f"{change.stack} ({change.detail}): {STATEFUL_TYPES[change.resource_type]}{old}"
    )


def _listed(texts: list[str]) -> list[str]:
    shown = [f"> - {text}" for text in texts[:LISTED]]
    if len(texts) > LISTED:
        shown.append(f"> - ... and {len(texts) - LISTED} more in the changes below")
    return shown


def _collapsed(summary: str, body: list[str]) -> list[str]:
    """A `<details>` section (GitHub renders Markdown in it after a blank line)."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "</details>", ""]


def _by_stack(estimate: Estimate) -> dict[str, tuple[float, float]]:
    totals: dict[str, tuple[float, float]] = {}
    for line in estimate.lines:
        idle, usage = totals.get(line.stack, (0.0, 0.0))
        totals[line.stack] = (idle + line.idle, usage + line.usage)
    return totals


def _delta(before: float, after: float, approx: str) -> str:
    """`$1.00 -> $3.00 (+$2.00)`."""
    change = after - before
    sign = "+" if change >= 0 else "-"
    return f"{approx}${before:,.2f} -> {approx}${after:,.2f} ({sign}${abs(change):,.2f})"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ") if text else ""
