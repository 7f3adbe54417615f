"""What the playground prints once it is ready: how to point `smkit` at it, commands to
try, and what runs in moto and what does not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stacks.settings import PlatformSettings
from tools.rehearsal import Rehearsal

from . import samples
from .environment import Environment
from .moto_gaps import Gaps
from .replies import DEEPAR, endpoint_kinds


@dataclass
class Report:
    """What the start-up did."""

    rehearsal: Rehearsal
    gaps: Gaps = field(default_factory=Gaps)
    workflows: dict[str, str] = field(default_factory=dict)
    """State machine name -> the stack output that names it, without `StateMachineArn`
    (e.g. TextClassifierTraining)."""
    series: Path | None = None
    """The sample series file for `smkit forecast`."""
    manifest_key: str | None = None
    """The sample manifest's key in the data bucket, for `smkit label auto`."""

    @property
    def ok(self) -> bool:
        """Every stack was created."""
        stacks = self.rehearsal.stacks
        return bool(stacks) and all(s.create_status == "CREATE_COMPLETE" for s in stacks)

    def failure(self) -> str:
        """Why the playground could not start."""
        return "playground: the stacks could not be created in moto\n" + self.rehearsal.report()

    def summary(self, environment: Environment, settings: PlatformSettings, seconds: float) -> str:
        """The start-up summary."""
        lines = [
            f"Playground ready in {seconds:.1f} s: moto at {environment.endpoint_url} with "
            f"the {_count(len(self.rehearsal.stacks), 'stack')} of {environment.config}.",
            "",
            "Point smkit at it, in another shell (moto takes any credentials; these keep "
            "yours out of it):",
            *(f"  {line}" for line in environment.exports()),
            "",
            "Then try:",
            *(f"  {command}" for command in self.commands(settings)),
            "",
            "What runs in moto:",
            *(f"  {line}" for line in self.limits()),
            "",
            "Ctrl-C stops it; nothing is kept.",
        ]
        return "\n".join(lines)

    def commands(self, settings: PlatformSettings) -> list[str]:
        """One `smkit` command per kind of thing the config deploys."""
        commands = ["smkit status"]
        if settings.training is not None:
            definition = next(iter(settings.training.definitions))
            commands.append(f"smkit train start {definition}")
            tuning = next(iter(settings.training.tuning), None)
            if tuning is not None:
                commands.append(f"smkit tune start {tuning} --wait --interval 1")
        labeling = settings.labeling
        if labeling is not None and labeling.workflows and self.manifest_key:
            commands.append(
                f"smkit label run {labeling.workflows[0].name} --manifest {self.manifest_key} "
                "--job-name try-1 --wait --interval 1"
            )
        if labeling is not None and labeling.auto_labeling and self.manifest_key:
            auto = next(
                (a for a in labeling.auto_labeling if a.human_review.mode == "ground_truth"),
                labeling.auto_labeling[0],
            )
            commands.append(
                f"smkit label auto {auto.name} --manifest {self.manifest_key} "
                "--threshold 0.9 --wait --interval 1"
            )
        kinds = endpoint_kinds(settings)
        forecaster = next((key for key, kind in kinds.items() if kind == DEEPAR), None)
        classifier = next((key for key, kind in kinds.items() if kind != DEEPAR), None)
        if forecaster and self.series is not None:
            commands.append(
                f"smkit forecast -e {forecaster} --series {self.series} "
                f"--csv {self.series.with_name('forecast.csv')}"
            )
        if classifier:
            texts = " ".join(f'"{text}"' for text in samples.REVIEWS[:2])
            commands.append(f"smkit classify -e {classifier} {texts}")
        return commands

    def limits(self) -> list[str]:
        """What runs in moto, what was filled in, and what is missing."""
        lines = []
        if self.gaps.executable:
            lines.append(
                "workflows that run to the end (their SageMaker jobs complete at once): "
                + ", ".join(self._named(self.gaps.executable))
            )
        for name, blocked in sorted(self.gaps.partly_executable.items()):
            state, reason = next(iter(blocked.items()))
            lines.append(f"{self._named([name])[0]}: starts, then fails at {state} ({reason})")
        functions = self.gaps.functions
        if functions.in_process:
            sources = "; ".join(
                f"{folder} ({', '.join(handlers)})"
                for folder, handlers in functions.sources().items()
            )
            lines.append(
                f"Lambda functions run in this process from the kit's source "
                f"({len(functions.in_process)}): {sources}"
            )
        if functions.not_run:
            lines.append(
                "Lambda functions that do not run (not the kit's code; moto runs them only in "
                "Docker): " + ", ".join(sorted(functions.not_run))
            )
        if any("Labeling" in label for label in self.workflows.values()):
            lines.append(
                "Ground Truth labeling jobs complete at once: playground stand-in workers "
                "label each object with a class of the job's categories (the same object, the "
                "same class); Label Studio and external human steps wait for people's labels"
            )
        if self.gaps.endpoints:
            lines.append("endpoints with canned answers: " + ", ".join(self.gaps.endpoints))
        if self.gaps.filled_in:
            lines.append(
                "created through moto's API (its CloudFormation skips them): "
                + ", ".join(f"{t.removeprefix('AWS::')} {name}" for t, name in self.gaps.filled_in)
            )
        filled_in = {resource_type for resource_type, _ in self.gaps.filled_in}
        skipped = [t for t in self.rehearsal.skipped_types if t not in filled_in]
        if skipped:
            lines.append(
                "not created (moto's CloudFormation does not model them): "
                + ", ".join(t.removeprefix("AWS::") for t in skipped)
            )
        held_back = sum(len(s.not_rehearsable) for s in self.rehearsal.stacks)
        if held_back:
            lines.append(
                f"not created: {held_back} resources moto cannot create (custom resources and "
                "what refers to them, values moto does not know)"
            )
        return lines

    def _named(self, machines: list[str]) -> list[str]:
        return sorted(self.workflows.get(m, m) for m in machines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
