"""README.md and docs/ as a newcomer uses them: links and pictures that resolve, `smkit`
command lines that the CLI accepts, config sections that load when added to the starter,
one example name, and a README short enough to read."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from smkit_cli.main import cli
from stacks.settings import PlatformSettings, parse_settings
from stacks.settings.reference import heading_anchor

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted([README, *(ROOT / "docs").glob("*.md")])
STARTER = ROOT / "config" / "starter.yaml"

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def _without_code(text: str) -> str:
    return _FENCE.sub("", text)


def _anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    text = _without_code(page.read_text())
    found = {heading_anchor(t, seen) for t in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}
    return found | set(re.findall(r'<a (?:name|id)="([^"]+)"', text))


def _links(page: Path) -> list[str]:
    return [
        link
        for link in _LINK.findall(_without_code(page.read_text()))
        if not link.startswith(("http://", "https://", "mailto:"))
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in _links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link}: no heading with this anchor in {path.name}")
    assert broken == []


def test_link_check_finds_a_missing_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Turn it on\n\n[ok](#turn-it-on) [bad](#turn-it-off)\n")
    assert _links(page) == ["#turn-it-on", "#turn-it-off"]
    assert "turn-it-on" in _anchors(page) and "turn-it-off" not in _anchors(page)


def test_readme_is_short_and_shows_the_overview() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    assert "](docs/diagrams/overview.png)" in text
    assert text.index("## Quick start") < text.index("## First deployment")
    assert "make synth   # " in text and "make test    # " in text


# --- smkit command lines ---------------------------------------------------------------------


def _smkit_lines(page: Path) -> list[str]:
    """`smkit ...` lines of the page's bash and text blocks (`$ smkit ...` in a session),
    continuation lines joined."""
    found = []
    for _indent, language, body in _FENCE.findall(page.read_text()):
        if language not in ("bash", "text"):
            continue
        body = re.sub(r"\\\n\s*", " ", body)
        for line in body.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("smkit "):
                found.append(line.split(";")[0].strip())
    return found


SMKIT_LINES = [(page.name, line) for page in PAGES for line in _smkit_lines(page)]


def _parse(args: list[str], workdir: Path) -> None:
    """Parse `args` as the CLI does, down to the command that would run; files the command
    reads are created empty in `workdir` first."""
    command: click.Command = cli
    name = "smkit"
    parent: click.Context | None = None
    while True:
        for param in command.params:
            if isinstance(param.type, click.File) and "r" in param.type.mode:
                for flag in param.opts:
                    if flag in args and args.index(flag) + 1 < len(args):
                        # An absolute path (a sample run's temp folder) moves into workdir.
                        at = args.index(flag) + 1
                        target = workdir / args[at].lstrip("/")
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.touch()
                        args[at] = str(target)
        ctx = command.make_context(name, list(args), parent=parent)
        if not isinstance(command, click.Group):
            return
        rest = [*ctx._protected_args, *ctx.args]
        sub_name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None and sub_name is not None
        command, name, parent = sub, sub_name, ctx


@pytest.mark.parametrize(("page", "line"), SMKIT_LINES, ids=[f"{p}: {x}" for p, x in SMKIT_LINES])
def test_smkit_lines_parse(page: str, line: str, tmp_path: Path) -> None:
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        _parse(shlex.split(line, comments=True)[1:], tmp_path)
    finally:
        os.chdir(previous)


def test_smkit_lines_are_found_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    pages = {name for name, _ in SMKIT_LINES}
    assert {"README.md", "labeling.md", "notebooks.md", "training.md", "operations.md"} <= pages
    with pytest.raises(click.UsageError, match="No such option"):
        _parse(["train", "start", "text-classifier", "--epochs", "20"], tmp_path)
    with pytest.raises(click.UsageError, match="No such command"):
        _parse(["label", "start", "sentiment"], tmp_path)


# --- config sections to add to the starter ---------------------------------------------------


def _sections_to_add(page: Path) -> list[dict[str, Any]]:
    """YAML blocks a page tells the reader to add to config/my-team.yaml."""
    text = page.read_text()
    found = []
    for match in _FENCE.finditer(text):
        indent, language, body = match.groups()
        before = text[: match.start()].rstrip().rsplit("\n\n", 1)[-1]
        if language == "yaml" and "add to `config/my-team.yaml`" in before.lower():
            lines = [line.removeprefix(indent) for line in body.splitlines()]
            found.append(yaml.safe_load("\n".join(lines)))
    return found


SECTIONS = [(page.name, section) for page in PAGES for section in _sections_to_add(page) if section]


@pytest.mark.parametrize(("page", "section"), SECTIONS, ids=[p for p, _ in SECTIONS])
def test_sections_to_add_load_with_the_starter(page: str, section: dict[str, Any]) -> None:
    config = {**yaml.safe_load(STARTER.read_text()), **section}
    settings = parse_settings(yaml.safe_dump(config), source=f"starter + {page}")
    assert all(getattr(settings, key) is not None for key in section)


def test_every_job_page_shows_a_section_to_add() -> None:
    assert {page for page, _ in SECTIONS} == {"labeling.md", "training.md", "inference.md"}


# --- one example name ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_use_one_name(page: Path) -> None:
    text = page.read_text()
    if page.name == "configuration.md":
        text = text.split("<!-- BEGIN CONFIG REFERENCE", 1)[0]
    others = re.findall(r"\bacme\b|\bsmkit-full-|\bops-[a-z]", text)
    assert others == [], "examples name config/my-team.yaml and the prefix my-team"


def _names(settings: PlatformSettings, command: tuple[str, ...]) -> set[str]:
    """What a command's NAME (or --endpoint) may be in `settings`."""
    labeling, training = settings.labeling, settings.training
    notebooks, inference = settings.notebooks, settings.inference
    found: dict[tuple[str, ...], Any] = {
        ("label", "run"): [w.name for w in labeling.workflows] if labeling else [],
        ("label", "auto"): [a.name for a in labeling.auto_labeling] if labeling else [],
        ("train", "start"): list(training.definitions) if training else [],
        ("tune", "start"): list(training.tuning) if training else [],
        ("notebook", "open"): [n.name for n in notebooks.instances] if notebooks else [],
        ("notebook", "stop"): [n.name for n in notebooks.instances] if notebooks else [],
        ("forecast",): list(inference.endpoints) if inference else [],
        ("classify",): list(inference.endpoints) if inference else [],
    }
    return set(found.get(command, []))


def test_readme_one_liners_name_what_the_starter_and_its_sections_deploy() -> None:
    """Each job's one-liner works on config/my-team.yaml once the sections its page says
    to add are in: the workflow, definition, notebook or endpoint it names is there."""
    config = yaml.safe_load(STARTER.read_text())
    for _page, section in SECTIONS:
        config.update(section)
    settings = parse_settings(yaml.safe_dump(config), source="starter + sections")
    checked = []
    for line in _smkit_lines(README):
        args = shlex.split(line, comments=True)[1:]
        command = (
            tuple(args[:2]) if args[0] in ("label", "train", "tune", "notebook") else (args[0],)
        )
        if command in (("status",),):
            continue
        name = args[args.index("--endpoint") + 1] if "--endpoint" in args else args[2]
        assert name in _names(settings, command), f"{line}: no {name!r} in the config"
        checked.append(command)
    assert {c[0] for c in checked} == {"label", "notebook", "train", "tune", "forecast", "classify"}
