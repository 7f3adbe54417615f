"""docs/aws-rules.md: every rule names a source page, where it is enforced and a test that
exists, and ids are unique."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "aws-rules.md"
ROW = re.compile(r"^\| *([A-Z]+-\d+) *\|(.+)\|$")


def _rows() -> list[list[str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            cells = [match.group(1), *(c.strip() for c in match.group(2).split(" | "))]
            rows.append(cells)
    return rows


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_the_table_has_rules_with_unique_ids() -> None:
    ids = [row[0] for row in _rows()]
    assert ids, "no rule rows found"
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_rule_names_its_source_place_and_an_existing_test() -> None:
    problems = []
    for row in _rows():
        if len(row) != 5:
            problems.append(f"{row[0]}: expected 5 columns, got {len(row)}")
            continue
        rule_id, _rule, source, enforced, tests = row
        if "https://" not in source:
            problems.append(f"{rule_id}: the source must link AWS's page")
        places = re.findall(r"`([\w./-]+\.py)", enforced)
        if not places or not all((ROOT / p).is_file() for p in places):
            problems.append(f"{rule_id}: 'Enforced in' must name existing files ({enforced})")
        named = re.findall(r"`([\w./-]+\.py)::(\w+)`", tests)
        if not named:
            problems.append(f"{rule_id}: names no test as `path::test_name`")
        for path, name in named:
            file = ROOT / path
            if not file.is_file() or name not in _test_names(file):
                problems.append(f"{rule_id}: test {path}::{name} does not exist")
    assert not problems, "\n".join(problems)
