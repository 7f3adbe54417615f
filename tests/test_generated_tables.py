"""Tables generated from botocore and the SageMaker SDK match the installed packages."""

from __future__ import annotations

import pytest

from tools.generate_tables import TABLES


@pytest.mark.parametrize("path", sorted(TABLES), ids=lambda p: p.name)
def test_committed_table_matches_installed_packages(path) -> None:  # type: ignore[no-untyped-def]
    assert path.read_text() == TABLES[path](), (
        f"stale: run `python -m tools.generate_tables` ({path.name})"
    )
