"""config/starter.yaml, the README's first deployment: it synthesizes clean under the same
oracles as the shipped configs, deploys without Docker, rehearses in moto, and is as cheap
when idle as the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks.settings import load_settings
from stacks.settings.foundation import NoNetwork
from tests.oracles.cfn_lint import lint
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.synth import ROOT, Synthesis, synthesize
from tools.assembly import load_assembly
from tools.rehearsal import rehearse
from tools.review.cost import estimate

STARTER = ROOT / "config" / "starter.yaml"
README = ROOT / "README.md"


@pytest.fixture(scope="module")
def starter_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return synthesize(STARTER, tmp_path_factory.mktemp("cdk.out-starter"))


def test_starter_is_a_cheap_dev_deployment_without_docker(starter_synth: Synthesis) -> None:
    settings = starter_synth.settings
    assert settings.name_prefix == "my-team"
    assert isinstance(settings.network, NoNetwork)  # no interface endpoints billed by the hour
    assert settings.account is None and settings.region is None  # the credentials' account
    assert settings.protect_stateful_stacks is False  # dev: easy to tear down
    assert settings.cost is not None and settings.cost.budget is not None
    assert settings.cost.budget.guard is not None and settings.cost.budget.guard.dry_run
    assert sorted(starter_synth.stack_names) == [
        "my-team-Cost",
        "my-team-Foundation",
        "my-team-Notebooks",
    ]
    assembly = load_assembly(starter_synth.outdir)
    docker = [name for stack in assembly for name in stack.assets()["dockerImages"]]
    assert docker == [], "the first deployment must not need Docker"


def test_starter_passes_cdk_nag_and_cfn_lint(starter_synth: Synthesis) -> None:
    assert unacknowledged_findings(starter_synth.app) == []
    errors = [e for path in starter_synth.template_paths() for e in lint(path)[0]]
    assert errors == [], "\n".join(errors)


def test_starter_rehearses_in_moto(starter_synth: Synthesis) -> None:
    rehearsal = rehearse(load_assembly(starter_synth.outdir), "the starter config")
    assert rehearsal.ok, rehearsal.report()
    assert [s.missing for s in rehearsal.stacks if s.missing] == [], rehearsal.report()


def test_readme_states_the_starter_idle_estimate(starter_synth: Synthesis) -> None:
    idle = estimate(load_assembly(starter_synth.outdir)).idle
    assert 1.0 < idle < 10.0  # the key, the notebook's volume, the guard's alarms
    assert f"idles at about **${idle:,.2f} a month**" in README.read_text()


def test_readme_first_deployment_copies_the_starter_and_uses_the_copy() -> None:
    readme = README.read_text()
    section = readme[readme.index("## First deployment") :]
    section = section[: section.index("\n## ", 1)]
    commands = [
        line.strip()
        for line in re.findall(r"^ *(?:cp|make|smkit|export) .*$", section, re.MULTILINE)
    ]
    assert commands[0] == "cp config/starter.yaml config/my-team.yaml"
    configs = set(re.findall(r"config/[\w./-]+\.yaml", "\n".join(commands[1:])))
    assert configs == {"config/my-team.yaml"}
    steps = [c.split()[1] for c in commands[1:] if c.startswith("make")]
    assert steps == ["bootstrap", "preflight", "deploy"]
    assert commands.index("smkit status") > commands.index("make deploy CONFIG=config/my-team.yaml")
    assert "export SMKIT_CONFIG=config/my-team.yaml" in commands


def test_starter_edits_are_marked_and_the_copy_loads(tmp_path: Path) -> None:
    text = STARTER.read_text()
    assert "name_prefix: my-team" in text and "# EDIT" in text
    copy = tmp_path / "my-team.yaml"
    copy.write_text(text.replace("name_prefix: my-team", "name_prefix: forecasting"))
    assert load_settings(copy).stack_name("Foundation") == "forecasting-Foundation"
