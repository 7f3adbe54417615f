"""The metric lines the training job prints, and the regexes that read them.

SageMaker reads metrics from the job's log with the MetricDefinitions of the training
request; tuning jobs optimise one of them. Each metric is printed on a line of its own,
flushed at once:

    [metric] validation:accuracy=0.9125

The workflows copy `METRIC_DEFINITIONS` into their requests (containers/README.md lists
the same table). Values that are not finite print as `nan`.
"""

from __future__ import annotations

import math
import sys
from typing import TextIO

METRIC_NAMES: tuple[str, ...] = (
    "epoch",
    "train:loss",
    "validation:loss",
    "validation:accuracy",
    "validation:macro_f1",
)

VALUE_PATTERN = r"([-+0-9.eE]+|nan)"

# Name -> regex, in SageMaker's MetricDefinition shape ({"Name", "Regex"}).
METRIC_REGEXES: dict[str, str] = {
    name: r"\[metric\] " + name + "=" + VALUE_PATTERN for name in METRIC_NAMES
}
METRIC_DEFINITIONS: tuple[dict[str, str], ...] = tuple(
    {"Name": name, "Regex": regex} for name, regex in METRIC_REGEXES.items()
)


def format_metric(name: str, value: float) -> str:
    """One metric line, e.g. `[metric] train:loss=0.4312`."""
    if name not in METRIC_REGEXES:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}")
    number = float(value)
    text = f"{number:.6g}" if math.isfinite(number) else "nan"
    return f"[metric] {name}={text}"


def emit(name: str, value: float, stream: TextIO | None = None) -> None:
    """Print one metric line and flush it, so that it reaches the log as it happens."""
    out = stream or sys.stdout
    out.write(format_metric(name, value) + "\n")
    out.flush()
