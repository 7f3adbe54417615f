"""Tables generated from botocore and the SageMaker SDK match the installed packages."""

from __future__ import annotations

import json

import pytest

from tools.generate_tables import (
    BUILTIN_ALGORITHMS,
    DEVELOPER_GUIDE,
    METRIC_PAGES,
    METRICS_SOURCE,
    TABLES,
    parse_metric_tables,
)


@pytest.mark.parametrize("path", sorted(TABLES), ids=lambda p: p.name)
def test_committed_table_matches_installed_packages(path) -> None:  # type: ignore[no-untyped-def]
    assert path.read_text() == TABLES[path](), (
        f"stale: run `python -m tools.generate_tables` ({path.name})"
    )


def test_metric_tables_are_read_from_the_developer_guides_markdown() -> None:
    page = "\n".join(
        [
            "# Tune a model",
            "| Metric Name | Description | Optimization Direction | ",
            "| --- | --- | --- | ",
            "| test:mean\\_loss |  A loss\\.  |  Minimize  | ",
            "| validation:f1 | F1 \\(macro\\) | Maximize | ",
            "",
            "Some text | with a bar",
            "| Metric Name | Description | Optimization Direction | ",
            "| --- | --- | --- | ",
            "| validation:f1 | again | Maximize | ",
            "| train:accuracy | Accuracy | Maximize | ",
            "## Tunable hyperparameters",
            "| Parameter Name | Parameter Type | Recommended Ranges | ",
            "| --- | --- | --- | ",
            "| eta | Continuous | 0.1-0.5 | ",
        ]
    )
    assert parse_metric_tables(page) == [
        ("test:mean_loss", "Minimize"),
        ("validation:f1", "Maximize"),
        ("train:accuracy", "Maximize"),
    ]


def test_the_metrics_snapshot_covers_every_builtin_the_kit_runs() -> None:
    snapshot = json.loads(METRICS_SOURCE.read_text(encoding="utf-8"))["algorithms"]
    assert sorted(snapshot) == sorted(BUILTIN_ALGORITHMS) == sorted(METRIC_PAGES)
    for algorithm, entry in snapshot.items():
        page = METRIC_PAGES[algorithm]
        assert entry["page"] == (None if page is None else f"{DEVELOPER_GUIDE}{page}.html")
        assert bool(entry["metrics"]) is (page is not None), algorithm
        assert set(entry["metrics"].values()) <= {"Maximize", "Minimize"}
