"""`smkit forecast` and `smkit classify` against moto's sagemaker-runtime, which answers
in DeepAR's and the classifier's real response formats."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from moto.sagemakerruntime.models import sagemakerruntime_backends

from .conftest import ACCOUNT, REGION, Platform, with_async_endpoint

SERIES = "\n".join(
    [
        json.dumps({"id": "store-1", "start": "2026-03-01 00:00:00", "target": [5, "NaN", 7]}),
        "",
        json.dumps({"start": "2026-03-01", "target": [1.5, 2.5], "cat": [2]}),
    ]
)
# DeepAR's answer for two series, prediction_length 2, mean and the quantiles asked for.
DEEPAR_ANSWER = {
    "predictions": [
        {
            "mean": [7.5, 8.25],
            "quantiles": {"0.1": [6.0, 6.5], "0.5": [7.5, 8.0], "0.9": [9.0, 10.0]},
        },
        {
            "mean": [3.0, 3.5],
            "quantiles": {"0.1": [2.0, 2.25], "0.5": [3.0, 3.5], "0.9": [4.0, 4.75]},
        },
    ]
}


def sent_bodies() -> list[dict[str, Any]]:
    """The JSON bodies InvokeEndpoint received, in order."""
    backend = sagemakerruntime_backends[ACCOUNT][REGION]
    return [
        json.loads(json.loads(base64.b64decode(key))["Body"])
        for per_endpoint in backend.results.values()
        for key in per_endpoint
    ]


def test_forecast_prints_a_table_per_series_and_writes_csv(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    platform.answer(DEEPAR_ANSWER)
    series = tmp_path / "series.jsonl"
    series.write_text(SERIES)
    out = tmp_path / "forecast.csv"

    result = platform.run(
        "forecast", "--endpoint", "demand-forecast", "--series", str(series),
        "--freq", "D", "--csv", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert sent_bodies() == [
        {
            "instances": [
                {"start": "2026-03-01 00:00:00", "target": [5, "NaN", 7]},
                {"start": "2026-03-01", "target": [1.5, 2.5], "cat": [2]},
            ],
            "configuration": {
                "output_types": ["mean", "quantiles"],
                "quantiles": ["0.1", "0.5", "0.9"],
            },
        }
    ]
    assert "store-1" in result.output and "line 3" in result.output
    assert "2026-03-04 00:00:00" in result.output  # the day after the third value
    assert "2 series x 2 steps from endpoint ops-demand-forecast." in result.output
    rows = list(csv.reader(out.open()))
    assert rows == [
        ["series", "step", "timestamp", "mean", "0.1", "0.5", "0.9"],
        ["store-1", "1", "2026-03-04 00:00:00", "7.5", "6.0", "7.5", "9.0"],
        ["store-1", "2", "2026-03-05 00:00:00", "8.25", "6.5", "8.0", "10.0"],
        ["line 3", "1", "2026-03-03 00:00:00", "3.0", "2.0", "3.0", "4.0"],
        ["line 3", "2", "2026-03-04 00:00:00", "3.5", "2.25", "3.5", "4.75"],
    ]


def test_forecast_json_with_other_quantiles(platform: Platform, tmp_path: Path) -> None:
    platform.deploy_ops()
    platform.answer({"predictions": [{"mean": [2.0], "quantiles": {"0.2": [1.0], "0.8": [3.0]}}]})
    series = tmp_path / "one.jsonl"
    series.write_text('{"start": "2026-01-31", "target": [1, 2, 3]}\n')

    result = platform.run(
        "forecast", "-e", "ops-demand-forecast", "-s", str(series), "-q", "0.2,0.8",
        "--freq", "M", "--csv", str(tmp_path / "f.csv"), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert sent_bodies()[0]["configuration"]["quantiles"] == ["0.2", "0.8"]
    assert json.loads(result.stdout) == {
        "endpoint": "ops-demand-forecast",
        "quantiles": ["0.2", "0.8"],
        "csv": str(tmp_path / "f.csv"),
        "series": [
            {
                "id": "line 1",
                "line": 1,
                "mean": [2.0],
                "quantiles": {"0.2": [1.0], "0.8": [3.0]},
                "timestamps": ["2026-04-30 00:00:00"],  # three months on, clamped to April
            }
        ],
    }


def test_forecast_names_every_bad_line_and_sends_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    series = tmp_path / "bad.jsonl"
    series.write_text(
        '{"start": "01/03/2026", "target": [1]}\n'
        "not json\n"
        '{"start": "2026-03-01", "target": [1], "item": 3}\n'
        '{"start": "2026-03-01", "target": []}\n'
    )

    result = platform.run("forecast", "-e", "demand-forecast", "-s", str(series))

    assert result.exit_code == 2
    assert f"{series}: line 1: start must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'" in (
        result.stderr
    )
    assert f"{series}: line 2: not valid JSON" in result.stderr
    assert f"{series}: line 3: unknown keys ['item']; allowed: start, target, cat" in (
        result.stderr
    )
    assert f"{series}: line 4: target needs at least one value" in result.stderr
    assert sent_bodies() == []


def test_forecast_refuses_bad_quantiles_and_frequencies(platform: Platform) -> None:
    result = platform.run("forecast", "-e", "x", "-s", "-", "-q", "0.1,1.5", input="")
    assert result.exit_code == 2
    assert "each quantile must be a number strictly between 0 and 1 (got '1.5')" in (result.stderr)
    result = platform.run("forecast", "-e", "x", "-s", "-", "--freq", "fortnight", input="")
    assert result.exit_code == 2
    assert "must be DeepAR's time_freq: [n]min, [n]H, [n]D, [n]W or [n]M (got 'fortnight')" in (
        result.stderr
    )


def test_forecast_unknown_endpoint_lists_the_configured_ones(
    platform: Platform, tmp_path: Path
) -> None:
    series = tmp_path / "s.jsonl"
    series.write_text('{"start": "2026-03-01", "target": [1]}\n')
    result = platform.run("forecast", "-e", "sales", "-s", str(series))
    assert result.exit_code == 2
    assert (
        f"no endpoint 'sales' in {platform.config}; configured: demand-forecast, "
        "text-classifier" in result.stderr
    )


def test_forecast_with_a_broken_answer_fails(platform: Platform, tmp_path: Path) -> None:
    platform.deploy_ops()
    platform.answer({"predictions": []})
    series = tmp_path / "s.jsonl"
    series.write_text('{"start": "2026-03-01", "target": [1]}\n')
    result = platform.run("forecast", "-e", "demand-forecast", "-s", str(series))
    assert result.exit_code == 1
    assert "endpoint ops-demand-forecast: DeepAR answered 0 predictions for 1 series" in (
        result.stderr
    )


def test_classify_texts_and_a_file(platform: Platform, tmp_path: Path) -> None:
    platform.deploy_ops()
    platform.answer(
        {
            "predictions": [
                {"label": "positive", "confidence": 0.97,
                 "probabilities": {"positive": 0.97, "negative": 0.03}},
                {"label": "negative", "confidence": 0.61,
                 "probabilities": {"positive": 0.39, "negative": 0.61}},
            ]
        }
    )  # fmt: skip
    texts = tmp_path / "texts.txt"
    texts.write_text("delivery was late\n\n")

    result = platform.run(
        "classify", "--endpoint", "text-classifier", "great service", "--file", str(texts)
    )

    assert result.exit_code == 0, result.output
    assert sent_bodies() == [
        {"instances": [{"source": "great service"}, {"source": "delivery was late"}]}
    ]
    lines = [line for line in result.output.splitlines() if "│" in line]
    assert any("great service" in line and "positive" in line and "0.970" in line for line in lines)
    assert any("delivery was late" in line and "negative" in line and "0.610" in line
               for line in lines)  # fmt: skip


def test_classify_json(platform: Platform) -> None:
    platform.deploy_ops()
    platform.answer(
        {"predictions": [{"label": "a", "confidence": 0.5, "probabilities": {"a": 0.5, "b": 0.5}}]}
    )
    result = platform.run("classify", "-e", "text-classifier", "hello", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "endpoint": "ops-text-classifier",
        "predictions": [
            {
                "text": "hello",
                "label": "a",
                "confidence": 0.5,
                "probabilities": {"a": 0.5, "b": 0.5},
            }
        ],
    }


def test_classify_needs_texts(platform: Platform) -> None:
    result = platform.run("classify", "-e", "text-classifier")
    assert result.exit_code == 2
    assert "nothing to classify: give TEXTS or --file" in result.stderr


def test_forecast_from_an_endpoint_that_is_gone(platform: Platform, tmp_path: Path) -> None:
    platform.deploy_ops()
    series = tmp_path / "s.jsonl"
    series.write_text('{"start": "2026-03-01", "target": [1]}\n')
    gone = {
        "Error": {
            "Code": "ValidationError",
            "Message": "Endpoint ops-demand-forecast of account 123456789012 not found.",
        }
    }
    with platform.answering("InvokeEndpoint", gone, service="sagemaker-runtime", status=400):
        result = platform.run("forecast", "-e", "demand-forecast", "-s", str(series))
    assert result.exit_code == 4
    assert (
        "endpoint ops-demand-forecast is not deployed: Endpoint ops-demand-forecast of account "
        "123456789012 not found." in result.stderr
    )


def test_forecast_checks_the_csv_path_before_calling_the_endpoint(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    series = tmp_path / "s.jsonl"
    series.write_text('{"start": "2026-03-01", "target": [1]}\n')
    result = platform.run(
        "forecast", "-e", "demand-forecast", "-s", str(series), "--csv", "/nonexistent/dir/x.csv"
    )
    assert result.exit_code == 2, result.output
    assert (
        "Error: --csv /nonexistent/dir/x.csv is in a folder that does not exist "
        "(/nonexistent/dir)" in result.stderr
    )
    assert "Traceback" not in result.output
    assert sent_bodies() == []


def test_forecast_shows_what_it_paid_for_when_the_csv_cannot_be_written(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform.deploy_ops()
    platform.answer(DEEPAR_ANSWER)
    series = tmp_path / "s.jsonl"
    series.write_text(SERIES)

    def disk_full(path: str, tables: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("smkit_cli.commands.predict.save_csv", disk_full)
    out = tmp_path / "f.csv"
    result = platform.run("forecast", "-e", "demand-forecast", "-s", str(series), "--csv", str(out))
    assert result.exit_code == 1
    assert "store-1" in result.stdout and "7.50" in result.stdout
    assert f"the forecast was not written to {out}: No space left on device" in result.stderr


def test_an_unexpected_error_is_a_message_not_a_traceback(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the moon is in the wrong phase")

    monkeypatch.setattr("smkit_cli.commands.predict.read_series", broken)
    monkeypatch.delenv("SMKIT_DEBUG", raising=False)
    series = tmp_path / "s.jsonl"
    series.write_text("{}\n")
    result = platform.run("forecast", "-e", "demand-forecast", "-s", str(series))
    assert result.exit_code == 70
    assert "Traceback" not in result.output
    assert (
        "smkit failed unexpectedly: RuntimeError: the moon is in the wrong phase at "
        "test_predict.py:" in result.stderr
    )
    assert "set SMKIT_DEBUG=1 to see the traceback" in result.stderr


def test_forecast_and_classify_refuse_an_endpoint_of_the_other_kind(
    platform: Platform, tmp_path: Path
) -> None:
    platform.deploy_ops()
    config = with_async_endpoint(tmp_path)
    series = tmp_path / "s.jsonl"
    series.write_text('{"start": "2026-03-01", "target": [1]}\n')

    result = platform.run("classify", "-e", "demand-forecast", "hello", config=config)
    assert result.exit_code == 2
    assert (
        "endpoint demand-forecast serves built-in forecasting-deepar "
        "(inference.endpoints.demand-forecast.model.image): smkit classify needs a text "
        "classifier" in result.stderr
    )
    assert "Endpoints smkit classify can call: text-classifier." in result.stderr

    result = platform.run("forecast", "-e", "batch-scoring", "-s", str(series), config=config)
    assert result.exit_code == 2
    assert (
        "endpoint batch-scoring is asynchronous (inference.endpoints.batch-scoring.variant."
        "kind: async): it takes requests through S3 (InvokeEndpointAsync), and smkit forecast "
        "calls real-time endpoints" in " ".join(result.stderr.split())
    )
    assert "Endpoints smkit forecast can call: demand-forecast." in result.stderr

    result = platform.run("forecast", "-e", "ops-text-classifier", "-s", str(series))
    assert result.exit_code == 2
    assert "endpoint text-classifier serves the kit's text classifier" in result.stderr
    assert sent_bodies() == []
