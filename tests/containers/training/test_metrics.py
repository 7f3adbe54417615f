"""Metric lines and the regexes SageMaker reads them with."""

from __future__ import annotations

import io
import math
import re

import pytest
from textclf_train.metrics import METRIC_NAMES, METRIC_REGEXES, emit, format_metric


@pytest.mark.parametrize("value", [0.0, 1.0, 0.953333, 1234567.0, 1e-07, -2.5, math.nan, math.inf])
def test_every_value_reads_back_through_its_regex(value: float) -> None:
    for name in METRIC_NAMES:
        line = format_metric(name, value)
        matches = [other for other, regex in METRIC_REGEXES.items() if re.search(regex, line)]
        assert matches == [name]
        read = float(re.search(METRIC_REGEXES[name], line).group(1))  # type: ignore[union-attr]
        if math.isfinite(value):
            assert read == pytest.approx(value, rel=1e-5)
        else:
            assert math.isnan(read)


def test_lines_are_flushed_one_per_metric() -> None:
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    stream = Recorder()
    emit("validation:accuracy", 0.5, stream)
    emit("epoch", 3, stream)
    assert stream.getvalue() == "[metric] validation:accuracy=0.5\n[metric] epoch=3\n"
    assert stream.flushes == 2


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        format_metric("accuracy", 1.0)
    assert str(raised.value) == (
        "unknown metric 'accuracy'; known: epoch, train:loss, validation:loss, "
        "validation:accuracy, validation:macro_f1"
    )
