"""`make deploy` deploys every stack after the stacks whose outputs it reads (DEPLOY-1).

Cross-stack references are weak (`Fn::GetStackOutput`, cdk.json): CloudFormation resolves
them when the consumer is created or updated, so the producer must be deployed first. The
proof has three links: every reference's producer is a dependency of its consumer in the
cloud assembly; the CDK CLI reads those dependencies (what its deploy work graph waits
on) and orders the stacks by them; and `make deploy` deploys `--all` of them, never
`--exclusively`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

from tests.oracles.synth import ROOT, Synthesis
from tools.assembly import Assembly, load_assembly


def _weak_references(assembly: Assembly) -> set[tuple[str, str]]:
    """(consumer, producer) stack names of every `Fn::GetStackOutput`."""
    found: set[tuple[str, str]] = set()

    def walk(consumer: str, value: Any) -> None:
        if isinstance(value, dict):
            spec = value.get("Fn::GetStackOutput")
            if isinstance(spec, dict):
                found.add((consumer, str(spec["StackName"])))
            for item in value.values():
                walk(consumer, item)
        elif isinstance(value, list):
            for item in value:
                walk(consumer, item)

    for stack in assembly:
        walk(stack.name, stack.template)
    return found


def _upstream(assembly: Assembly, name: str) -> set[str]:
    by_id = {s.artifact_id: s for s in assembly}
    names = {s.artifact_id: s.name for s in assembly}
    seen: set[str] = set()
    todo = [s.artifact_id for s in assembly if s.name == name]
    while todo:
        for dependency in by_id[todo.pop()].dependencies:
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return {names[d] for d in seen}


def test_every_weak_reference_names_a_dependency_of_its_consumer(any_synth: Synthesis) -> None:
    assembly = load_assembly(any_synth.outdir)
    references = _weak_references(assembly)
    if any_synth.settings.inference is not None:
        assert references, "the full config has cross-stack references"
    missing = [(c, p) for c, p in sorted(references) if p not in _upstream(assembly, c)]
    assert missing == []


def test_the_cdk_cli_orders_every_producer_before_its_consumers(full_synth: Synthesis) -> None:
    listed = subprocess.run(
        ["npx", "--no-install", "cdk", "ls", "--app", str(full_synth.outdir), "-d", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        env={**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"},
    )
    stacks = json.loads(listed.stdout)
    order = [entry["id"] for entry in stacks]
    dependencies = {entry["id"]: {d["id"] for d in entry["dependencies"]} for entry in stacks}
    references = _weak_references(load_assembly(full_synth.outdir))
    assert {consumer for consumer, _ in references} >= {
        full_synth.settings.stack_name(unit) for unit in ("Inference", "Training", "Labeling")
    }
    for consumer, producer in sorted(references):
        assert producer in dependencies[consumer], (consumer, producer)
        assert order.index(producer) < order.index(consumer), (consumer, producer)


def test_make_deploy_deploys_all_stacks_never_exclusively() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^deploy:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    lines = recipe.group(1).splitlines()
    (deploy,) = [line for line in lines if "$(CDK) deploy" in line]
    assert "--all" in deploy.split()
    assert not {"-e", "--exclusively"} & set(deploy.split())
