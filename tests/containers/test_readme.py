"""containers/README.md states the contracts the workflows are built on: its tables must
say what the code does."""

from __future__ import annotations

import re

from textclf_train.hyperparameters import SPECS, Hyperparameters
from textclf_train.metrics import METRIC_DEFINITIONS

from tests.containers.conftest import ROOT

README = (ROOT / "containers" / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n### {title}\n")
    end = README.find("\n##", start + 1)
    return README[start:end]


def test_metric_table_is_the_code_s() -> None:
    block = section("Metrics").split("```text\n")[2].split("```")[0]
    rows = [line.split(None, 1) for line in block.strip().splitlines()]
    assert [{"Name": name, "Regex": regex} for name, regex in rows] == list(METRIC_DEFINITIONS)


def test_hyperparameter_table_is_the_code_s() -> None:
    rows = re.findall(
        r"^\| `(\w+)` \| (int|float|str) \| `?([^|`]+?)`? \| ([^|]+) \|",
        section("Hyperparameters"),
        re.MULTILINE,
    )
    defaults = Hyperparameters().as_dict()
    assert [name for name, *_ in rows] == list(defaults)
    for name, kind, default, allowed in rows:
        assert kind == SPECS[name].kind.__name__, name
        assert SPECS[name].kind(default) == defaults[name], name
        spec = SPECS[name]
        for bound in (spec.minimum, spec.maximum):
            if bound is not None:
                text = str(int(bound)) if float(bound).is_integer() else str(bound)
                assert re.search(rf"\b{re.escape(text)}\b", allowed), (name, allowed)
