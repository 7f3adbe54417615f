"""The overview picture of an assembly: one box per stack, numbered in deploy order and
placed in deploy waves, and the platform's main flow between them (label -> train ->
register -> serve -> auto-label). Drawn to read at README width (about 900 px): nine
boxes, a few words each, no resources.

What a stack does is the kit's own knowledge (UNITS); which stacks exist, their order,
what they depend on and how many of their main resources there are come from the
assembly, so the picture follows the config it is drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from tools.assembly import Assembly, Stack


@dataclass(frozen=True)
class Unit:
    """What one kind of stack is for, and the resources it counts."""

    summary: str
    counts: tuple[tuple[str, str, str], ...] = ()
    """(resource type, singular, plural) shown as `2 endpoints`."""
    fill: str = "#eef2f7"


UNITS: dict[str, Unit] = {
    "Foundation": Unit("KMS key, buckets, alerts, network", fill="#f8e1e4"),
    "Workforce": Unit(
        "Ground Truth workforce",
        (("AWS::SageMaker::Workteam", "work team", "work teams"),),
        fill="#e3f1e6",
    ),
    "Labeling": Unit(
        "labeling, auto-labeling",
        (("AWS::StepFunctions::StateMachine", "workflow", "workflows"),),
        fill="#e3f1e6",
    ),
    "Notebooks": Unit(
        "notebooks, idle stop",
        (("AWS::SageMaker::NotebookInstance", "instance", "instances"),),
        fill="#e0eefa",
    ),
    "Studio": Unit(
        "Studio domain, spaces",
        (("AWS::SageMaker::UserProfile", "user", "users"),),
        fill="#e0eefa",
    ),
    "ModelRegistry": Unit(
        "model versions, approval",
        (("AWS::SageMaker::ModelPackageGroup", "model group", "model groups"),),
        fill="#fdf0d8",
    ),
    "Training": Unit(
        "training and tuning",
        (("AWS::StepFunctions::StateMachine", "workflow", "workflows"),),
        fill="#fdf0d8",
    ),
    "Inference": Unit(
        "serving, autoscaling",
        (("AWS::SageMaker::Endpoint", "endpoint", "endpoints"),),
        fill="#ede3f5",
    ),
    "Transform": Unit(
        "batch transform",
        (("AWS::StepFunctions::StateMachine", "workflow", "workflows"),),
        fill="#ede3f5",
    ),
    "Cost": Unit("budgets, budget guard", (("AWS::Budgets::Budget", "budget", "budgets"),)),
    "GitHubDeploy": Unit("OIDC deploy role"),
}

# The main flow: (from unit, to unit, label). An arrow is drawn when both stacks exist.
FLOWS: tuple[tuple[str, str, str], ...] = (
    ("Labeling", "Training", "labels: train"),
    ("Training", "ModelRegistry", "register"),
    ("ModelRegistry", "Inference", "approved: serve"),
    ("Inference", "Labeling", "auto-label"),
)
FLOW_COLOUR = "#c0392b"


def unit_of(stack: Stack) -> str:
    """`my-team-ModelRegistry` -> `ModelRegistry` (units have no hyphen; prefixes may)."""
    return stack.name.rsplit("-", 1)[-1]


def deploy_waves(assembly: Assembly) -> dict[str, int]:
    """Stack name -> its wave: 0 for a stack that depends on none, else one more than
    the latest wave among the stacks it is deployed after."""
    by_id = {stack.artifact_id: stack for stack in assembly}
    waves: dict[str, int] = {}
    for stack in assembly:  # deployment order: dependencies come first
        before = [waves[by_id[d].name] for d in stack.dependencies if d in by_id]
        waves[stack.name] = 1 + max(before) if before else 0
    return waves


def overview_dot(assembly: Assembly, title: str) -> str:
    """The overview picture of `assembly` as Graphviz DOT text."""
    stacks = list(assembly)
    names = {unit_of(stack): stack.name for stack in stacks}
    waves = deploy_waves(assembly)
    by_id = {stack.artifact_id: stack for stack in stacks}
    lines = [
        "digraph overview {",
        '  graph [rankdir=LR, fontname="DejaVu Sans", fontsize=20, labelloc=t, '
        f"label=<{_title(title)}>, nodesep=0.2, ranksep=0.6, pad=0.2, newrank=true];",
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans", fontsize=15, '
        'color="#5b6770", margin="0.15,0.08"];',
        '  edge [fontname="DejaVu Sans", fontsize=14];',
    ]
    for position, stack in enumerate(stacks, start=1):
        unit = UNITS.get(unit_of(stack), Unit(""))
        lines.append(
            f'  "{stack.name}" [label=<{_label(position, stack, unit)}>, fillcolor="{unit.fill}"];'
        )
    for wave in sorted(set(waves.values())):
        members = " ".join(f'"{name}";' for name, w in waves.items() if w == wave)
        lines.append(f"  {{ rank=same; {members} }}")
    for stack in stacks:
        for dependency in stack.dependencies:
            if dependency in by_id:
                lines.append(
                    f'  "{by_id[dependency].name}" -> "{stack.name}" '
                    '[style=dashed, color="#9aa5ad", arrowsize=0.6];'
                )
    for source, target, label in FLOWS:
        if source in names and target in names:
            lines.append(
                f'  "{names[source]}" -> "{names[target]}" [label="{label}", '
                f'color="{FLOW_COLOUR}", fontcolor="{FLOW_COLOUR}", penwidth=2.5, '
                "constraint=false];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(title: str) -> str:
    return (
        f"{escape(title)}<br/>"
        '<font point-size="14" color="#5b6770">numbered in deploy order; dashed: deployed after; '
        f'</font><font point-size="14" color="{FLOW_COLOUR}">red: the main flow</font>'
    )


def _label(position: int, stack: Stack, unit: Unit) -> str:
    lines = [f"<b>{position}  {escape(unit_of(stack))}</b>"]
    if unit.summary:
        lines.append(escape(unit.summary))
    counts = []
    for resource_type, singular, plural in unit.counts:
        n = len(stack.of_type(resource_type))
        if n:
            counts.append(f"{n} {singular if n == 1 else plural}")
    if counts:
        lines.append(escape(", ".join(counts)))
    detail = "<br/>".join(
        f'<font point-size="13" color="#39434a">{line}</font>' for line in lines[1:]
    )
    return "<br/>".join([lines[0], detail]) if detail else lines[0]
