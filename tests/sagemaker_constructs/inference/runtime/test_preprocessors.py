"""The kit's Model Monitor record preprocessors on captured records as Model Monitor hands
them over (JSON or base64 payloads), and the baseline records made with the same code."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from typing import Any

import pytest

from sagemaker_constructs.inference.runtime.preprocessors import classifier, deepar


@dataclass
class Captured:
    data: str
    encoding: str = "JSON"


@dataclass
class Record:
    endpoint_input: Captured | None
    endpoint_output: Captured | None = None


def captured(payload: Any, encoding: str = "JSON") -> Captured:
    text = json.dumps(payload)
    if encoding == "BASE64":
        return Captured(base64.b64encode(text.encode()).decode(), "BASE64")
    return Captured(text)


def test_deepar_flattens_each_series_of_a_request_with_its_forecast() -> None:
    request = {
        "instances": [
            {"start": "2026-11-01", "target": [2, 4, "NaN", 6]},
            {"start": "2026-11-01", "target": [1], "cat": [3]},
        ],
        "configuration": {"output_types": ["mean"]},
    }
    response = {"predictions": [{"mean": [5.0, 7.0]}, {"mean": [1.5]}]}
    first, second = deepar.preprocess_handler(
        Record(captured(request), captured(response, "BASE64"))
    )
    assert first == {
        "target_length": 4,
        "missing_share": 0.25,
        "target_mean": 4.0,
        "target_std": pytest.approx(math.sqrt(8 / 3)),
        "target_min": 2.0,
        "target_max": 6.0,
        "target_last": 6.0,
        "forecast_mean": 6.0,
    }
    assert second["target_length"] == 1 and second["forecast_mean"] == 1.5
    assert set(first) == set(deepar.FIELDS)


def test_deepar_without_a_captured_response_or_values() -> None:
    (record,) = deepar.preprocess_handler(
        Record(captured({"instances": [{"start": "2026-11-01", "target": ["NaN"]}]}))
    )
    assert record == {"target_length": 1, "missing_share": 1.0}
    assert deepar.preprocess_handler(Record(Captured("not json"))) == []
    assert deepar.preprocess_handler(Record(None)) == []


def test_classifier_flattens_each_text_with_its_prediction() -> None:
    request = {"instances": [{"source": "Great phone"}, {"source": "Broke after a week"}]}
    response = {
        "predictions": [
            {"label": "positive", "confidence": 0.97, "probabilities": {}},
            {"label": "negative", "confidence": 0.88, "probabilities": {}},
        ]
    }
    assert classifier.preprocess_handler(Record(captured(request), captured(response))) == [
        {"text_length": 11, "word_count": 2, "label": "positive", "confidence": 0.97},
        {"text_length": 18, "word_count": 4, "label": "negative", "confidence": 0.88},
    ]


def test_classifier_reads_json_lines_and_single_objects() -> None:
    lines = Captured('{"source": "a b"}\n{"source": "c"}\n')
    out = Captured('{"label": "x", "confidence": 1}\n{"label": "y", "confidence": 0.5}\n')
    assert classifier.preprocess_handler(Record(lines, out)) == [
        {"text_length": 3, "word_count": 2, "label": "x", "confidence": 1.0},
        {"text_length": 1, "word_count": 1, "label": "y", "confidence": 0.5},
    ]
    assert classifier.records({"source": "one text"}) == [{"text_length": 8, "word_count": 2}]


def test_baseline_records_are_the_same_shape_as_monitored_ones() -> None:
    # docs/monitoring.md builds the baseline dataset with `records` over known-good data.
    series = {"start": "2026-01-01", "target": [1.0, 2.0, 3.0]}
    (baseline,) = deepar.records(series)
    (monitored,) = deepar.preprocess_handler(Record(captured({"instances": [series]})))
    assert baseline == monitored
