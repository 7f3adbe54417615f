"""DeepAR requests and responses in DeepAR's documented JSON format, and the client
against moto's sagemaker-runtime."""

from __future__ import annotations

import math
from typing import Any

import pytest

from sagemaker_constructs.inference.client.deepar import (
    DeepArClient,
    DeepArSeries,
    Forecast,
    build_request,
    parse_response,
)
from sagemaker_constructs.inference.client.runtime import InferenceError

from .conftest import Runtime

# A DeepAR answer for two series, prediction_length 3, as the algorithm returns it.
DEEPAR_RESPONSE: dict[str, Any] = {
    "predictions": [
        {
            "mean": [10.5, 11.25, 9.75],
            "quantiles": {"0.1": [8.0, 8.5, 7.0], "0.5": [10.0, 11.0, 9.5], "0.9": [13, 14, 12]},
            "samples": [[10, 11, 9], [11, 12, 10]],
        },
        {
            "mean": [1.0, 1.5, 2.0],
            "quantiles": {"0.1": [0.5, 0.5, 1], "0.5": [1, 1.5, 2], "0.9": [2, 2.5, 3]},
            "samples": [[1, 1, 2], [1, 2, 2]],
        },
    ]
}


def test_request_in_deepar_format() -> None:
    request = build_request(
        [
            DeepArSeries("2026-01-01 00:00:00", [4.0, None, math.nan, 6], cat=[0, 2]),
            DeepArSeries("2026-01-01", [1, 2], dynamic_feat=[[0.1, 0.2, 0.3, 0.4, 0.5]]),
        ],
        output_types=["mean", "quantiles", "samples"],
        quantiles=["0.1", 0.5, "0.9"],
        num_samples=50,
    )
    assert request == {
        "instances": [
            {"start": "2026-01-01 00:00:00", "target": [4.0, "NaN", "NaN", 6], "cat": [0, 2]},
            {"start": "2026-01-01", "target": [1, 2], "dynamic_feat": [[0.1, 0.2, 0.3, 0.4, 0.5]]},
        ],
        "configuration": {
            "output_types": ["mean", "quantiles", "samples"],
            "quantiles": ["0.1", "0.5", "0.9"],
            "num_samples": 50,
        },
    }


def test_request_without_quantiles_sends_no_quantile_levels() -> None:
    request = build_request([DeepArSeries("2026-01-01", [1.0])], output_types=["mean"])
    assert request["configuration"] == {"output_types": ["mean"]}


@pytest.mark.parametrize(
    ("series", "options", "problem"),
    [
        ([], {}, "at least one series is needed"),
        (
            [DeepArSeries("01/02/2026", [1.0])],
            {},
            "series 0: start must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (got '01/02/2026')",
        ),
        ([DeepArSeries("2026-01-01", [])], {}, "series 0: target needs at least one value"),
        (
            [DeepArSeries("2026-01-01", [1.0, "x"])],  # type: ignore[list-item]
            {},
            "series 0: target values must be numbers or None for missing ones",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0], cat=[-1])],
            {},
            "series 0: cat values must be non-negative integers (got [-1])",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0, 2.0], dynamic_feat=[[1.0, 2.0], [1.0, 2.0, 3.0]])],
            {},
            "series 0: every dynamic_feat must have the same length",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0, 2.0, 3.0], dynamic_feat=[[1.0]])],
            {},
            "series 0: dynamic_feat must cover target and the prediction range "
            "(at least 3 values, got 1)",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0])],
            {"output_types": ["mean", "median"]},
            "output_types must be distinct values among mean, quantiles, samples "
            "(got ['mean', 'median'])",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0])],
            {"quantiles": ["0.5", "1.5"]},
            "quantiles must be numbers strictly between 0 and 1 (got ['0.5', '1.5'])",
        ),
        (
            [DeepArSeries("2026-01-01", [1.0])],
            {"num_samples": 0},
            "num_samples must be a positive integer (got 0)",
        ),
    ],
)
def test_bad_request(series: list[DeepArSeries], options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        build_request(series, **options)
    assert str(raised.value) == f"Invalid DeepAR request: {problem}"


def test_response_gives_mean_quantiles_and_samples() -> None:
    first, second = parse_response(DEEPAR_RESPONSE, expected=2)
    assert first.mean == [10.5, 11.25, 9.75]
    assert first.quantile("0.9") == [13.0, 14.0, 12.0]
    assert first.quantile(0.1) == [8.0, 8.5, 7.0]
    assert first.samples == [[10.0, 11.0, 9.0], [11.0, 12.0, 10.0]]
    assert second.quantiles["0.5"] == [1.0, 1.5, 2.0]
    with pytest.raises(KeyError, match=r"quantile 0.99 was not requested"):
        second.quantile(0.99)


def test_response_with_only_quantiles() -> None:
    (forecast,) = parse_response(b'{"predictions": [{"quantiles": {"0.5": [1, 2]}}]}', expected=1)
    assert forecast == Forecast(mean=None, quantiles={"0.5": [1.0, 2.0]}, samples=[])


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "DeepAR endpoint answered with something other than JSON: 'not json'"),
        ({"forecasts": []}, 'DeepAR response must be {"predictions": [...]}'),
        ({"predictions": [{"mean": [1]}]}, "DeepAR answered 1 predictions for 2 series"),
        (
            {"predictions": [{"mean": [1]}, {"mean": ["high"]}]},
            "DeepAR prediction 1: mean must be a list of numbers",
        ),
        (
            {"predictions": [{"mean": [1]}, {"samples": [[1], "x"]}]},
            "DeepAR prediction 1: sample 1 must be a list of numbers",
        ),
    ],
)
def test_bad_response(body: Any, problem: str) -> None:
    with pytest.raises(InferenceError) as raised:
        parse_response(body, expected=2)
    assert str(raised.value) == problem


def test_client_forecasts_through_the_runtime(runtime: Runtime) -> None:
    runtime.answer(DEEPAR_RESPONSE)
    client = DeepArClient("smkit-demand-forecast", client=runtime.client)
    series = [
        DeepArSeries("2026-03-01 00:00:00", [5.0, 6.0, None, 7.0], cat=[1]),
        DeepArSeries("2026-03-01 00:00:00", [1.0, 1.0, 2.0]),
    ]
    forecasts = client.forecast(
        series, output_types=["mean", "quantiles", "samples"], num_samples=2
    )
    assert [f.mean for f in forecasts] == [[10.5, 11.25, 9.75], [1.0, 1.5, 2.0]]
    assert forecasts[1].quantile("0.9") == [2.0, 2.5, 3.0]
    assert runtime.sent() == [
        build_request(series, output_types=["mean", "quantiles", "samples"], num_samples=2)
    ]


def test_client_refuses_an_answer_for_fewer_series(runtime: Runtime) -> None:
    runtime.answer({"predictions": DEEPAR_RESPONSE["predictions"][:1]})
    client = DeepArClient("smkit-demand-forecast", client=runtime.client)
    with pytest.raises(InferenceError, match=r"^DeepAR answered 1 predictions for 2 series$"):
        client.forecast([DeepArSeries("2026-01-01", [1.0]), DeepArSeries("2026-01-01", [2.0])])
