"""Forecast input and output files: DeepAR series as JSON lines in, CSV out, and the
timestamps of forecast steps from DeepAR's time frequency."""

from __future__ import annotations

import calendar
import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sagemaker_constructs.inference.client.deepar import DeepArSeries, Forecast

SERIES_KEYS = ("start", "target", "cat", "dynamic_feat", "id")
_FREQ = re.compile(r"^(?P<n>[1-9]\d*)?(?P<unit>min|H|D|W|M)$")
_UNITS = {"min": timedelta(minutes=1), "H": timedelta(hours=1), "D": timedelta(days=1)}
_UNITS["W"] = timedelta(weeks=1)


@dataclass(frozen=True)
class NamedSeries:
    """One line of a series file."""

    name: str
    """The line's `id`, or `line <n>`."""
    line: int
    """Line number in the file (1-based)."""
    series: DeepArSeries
    """What is sent to DeepAR."""


def read_series(path: str, text: str) -> list[NamedSeries]:
    """Parse a JSON-lines series file (DeepAR's own format, plus an optional `id` per line)
    naming every bad line; blank lines are skipped."""
    found: list[NamedSeries] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}: line {number}"
        try:
            data = json.loads(raw)
        except ValueError as err:
            problems.append(f"{where}: not valid JSON ({err})")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: must be a JSON object with start and target")
            continue
        unknown = sorted(set(data) - set(SERIES_KEYS))
        if unknown:
            problems.append(f"{where}: unknown keys {unknown}; allowed: {', '.join(SERIES_KEYS)}")
            continue
        try:
            series = DeepArSeries(
                start=str(data.get("start", "")),
                target=[None if v == "NaN" else v for v in data.get("target") or []],
                cat=data.get("cat"),
                dynamic_feat=data.get("dynamic_feat"),
            )
        except TypeError:
            problems.append(f"{where}: target, cat and dynamic_feat must be lists")
            continue
        index = len(found)
        problems.extend(
            f"{where}: {p.removeprefix(f'series {index}: ')}" for p in series.problems(index)
        )
        name = str(data["id"]) if "id" in data else f"line {number}"
        found.append(NamedSeries(name=name, line=number, series=series))
    if not found and not problems:
        problems.append(f"{path}: no series (one JSON object per line)")
    if problems:
        raise ValueError("\n".join(problems))
    return found


def check_frequency(freq: str) -> str:
    """DeepAR's time_freq: an optional multiple and min, H, D, W or M (e.g. 5min, 2H, D)."""
    if not _FREQ.match(freq):
        raise ValueError(
            f"must be DeepAR's time_freq: [n]min, [n]H, [n]D, [n]W or [n]M (got {freq!r})"
        )
    return freq


def forecast_timestamps(series: DeepArSeries, freq: str, steps: int) -> list[str]:
    """The timestamps of the `steps` forecast values: they follow the last target value."""
    match = _FREQ.match(freq)
    if match is None:
        raise ValueError(f"unknown frequency {freq!r}")
    multiple = int(match.group("n") or 1)
    unit = match.group("unit")
    fmt = "%Y-%m-%d %H:%M:%S" if " " in series.start else "%Y-%m-%d"
    start = datetime.strptime(series.start, fmt)
    offsets = range(len(series.target), len(series.target) + steps)
    if unit == "M":
        stamps = [_add_months(start, multiple * n) for n in offsets]
    else:
        stamps = [start + _UNITS[unit] * multiple * n for n in offsets]
    return [s.strftime("%Y-%m-%d %H:%M:%S") for s in stamps]


def _add_months(start: datetime, months: int) -> datetime:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class ForecastRows:
    """One series' forecast as rows: step, timestamp (with a frequency), mean, quantiles."""

    name: str
    columns: list[str]
    rows: list[list[Any]]


def forecast_rows(
    named: NamedSeries, forecast: Forecast, levels: Sequence[str], freq: str | None
) -> ForecastRows:
    """The table of one series' forecast."""
    paths = [forecast.quantile(level) for level in levels]
    steps = max([len(forecast.mean or []), *(len(p) for p in paths)])
    stamps = forecast_timestamps(named.series, freq, steps) if freq else None
    columns = ["step", *(["timestamp"] if stamps else []), "mean", *levels]
    rows = []
    for step in range(steps):
        row: list[Any] = [step + 1]
        if stamps:
            row.append(stamps[step])
        row.append(forecast.mean[step] if forecast.mean else None)
        row.extend(path[step] for path in paths)
        rows.append(row)
    return ForecastRows(name=named.name, columns=columns, rows=rows)


def write_csv(out: TextIO, tables: Sequence[ForecastRows]) -> None:
    """Every series' rows in one CSV, the series name first."""
    writer = csv.writer(out, lineterminator="\n")
    if tables:
        writer.writerow(["series", *tables[0].columns])
    for table in tables:
        for row in table.rows:
            writer.writerow([table.name, *("" if v is None else v for v in row)])


def save_csv(path: str, tables: Sequence[ForecastRows]) -> None:
    """Write the CSV file (its folder must exist)."""
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        write_csv(out, tables)
