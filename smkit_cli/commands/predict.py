"""`smkit forecast` (DeepAR) and `smkit classify` (the kit's text classifier), through the
kit's client helpers in `sagemaker_constructs.inference.client`."""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import ClientError
from rich.table import Table

from sagemaker_constructs.inference.client.classifier import ClassifierClient
from sagemaker_constructs.inference.client.deepar import DeepArClient
from sagemaker_constructs.inference.client.runtime import InferenceError

from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..errors import CliError, ExitCode
from ..forecast_io import check_frequency, forecast_rows, read_series, save_csv

endpoint_option = click.option(
    "--endpoint",
    "-e",
    required=True,
    help="Endpoint: its name in the config's `inference.endpoints` (or the deployed name).",
)


def _quantiles(_ctx: click.Context, _param: click.Parameter, value: str) -> list[str]:
    levels = [v.strip() for v in value.split(",") if v.strip()]
    for level in levels:
        try:
            ok = 0 < float(level) < 1
        except ValueError:
            ok = False
        if not ok:
            raise click.BadParameter(
                f"each quantile must be a number strictly between 0 and 1 (got {level!r})"
            )
    if not levels or len(set(levels)) != len(levels):
        raise click.BadParameter(f"give distinct quantiles, e.g. 0.1,0.5,0.9 (got {value!r})")
    return levels


def _frequency(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_frequency(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _invoke_errors(endpoint: str, err: Exception) -> CliError:
    """Endpoint errors: a missing endpoint, or one that answered something unusable."""
    if isinstance(err, InferenceError):
        return CliError(f"endpoint {endpoint}: {err}", ExitCode.FAILED)
    if isinstance(err, ClientError) and error_code(err) == "ValidationError":
        message = err.response.get("Error", {}).get("Message", "")
        if "not found" in message.lower():
            return CliError(
                f"endpoint {endpoint} is not deployed: {message}", ExitCode.NOT_DEPLOYED
            )
    if isinstance(err, ClientError) and error_code(err) == "ModelError":
        return CliError(
            f"endpoint {endpoint}'s model refused the request: "
            f"{err.response.get('Error', {}).get('Message', '')}",
            ExitCode.FAILED,
        )
    raise err


@click.command()
@endpoint_option
@click.option(
    "--series",
    "-s",
    "series_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="JSON lines: one series per line, DeepAR's format "
    '({"start": "2026-03-01 00:00:00", "target": [...], "cat": [...], "dynamic_feat": [...]}), '
    'with an optional "id". "-" reads standard input.',
)
@click.option(
    "--quantiles",
    "-q",
    default="0.1,0.5,0.9",
    show_default=True,
    callback=_quantiles,
    help="Comma-separated quantile levels.",
)
@click.option(
    "--freq",
    callback=_frequency,
    help="The model's time_freq (e.g. H, D, 5min): adds each step's timestamp.",
)
@click.option(
    "--csv",
    "csv_path",
    default="forecast.csv",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True),
    help="CSV file written with every series' forecast (replaced if it exists).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Series per request (requests stay under the payload limit).",
)
@json_option
@pass_operator
def forecast(
    operator: Operator,
    endpoint: str,
    series_file: Any,
    quantiles: list[str],
    freq: str | None,
    csv_path: str,
    batch_size: int,
    as_json: bool,
) -> None:
    """Forecast time series with a DeepAR endpoint: a table per series, and a CSV file."""
    try:
        named = read_series(series_file.name, series_file.read())
    except ValueError as err:
        raise CliError(f"cannot use the series file:\n{err}", ExitCode.USAGE) from None
    name = operator.deployment.endpoint_name(endpoint)
    client = DeepArClient(name, client=operator.aws.client("sagemaker-runtime"))
    forecasts = []
    try:
        for first in range(0, len(named), batch_size):
            batch = named[first : first + batch_size]
            forecasts.extend(
                client.forecast(
                    [n.series for n in batch],
                    output_types=["mean", "quantiles"],
                    quantiles=quantiles,
                )
            )
    except (InferenceError, ClientError) as err:
        raise _invoke_errors(name, err) from None
    try:
        tables = [
            forecast_rows(n, f, quantiles, freq) for n, f in zip(named, forecasts, strict=True)
        ]
    except KeyError as err:
        raise CliError(f"endpoint {name}: {err.args[0]}", ExitCode.FAILED) from None
    save_csv(csv_path, tables)
    if as_json:
        operator.emit_json(
            {
                "endpoint": name,
                "quantiles": quantiles,
                "csv": csv_path,
                "series": [
                    {
                        "id": n.name,
                        "line": n.line,
                        "mean": f.mean,
                        "quantiles": {level: f.quantile(level) for level in quantiles},
                        **({"timestamps": [r[1] for r in t.rows]} if freq else {}),
                    }
                    for n, f, t in zip(named, forecasts, tables, strict=True)
                ],
            }
        )
        return
    for table in tables:
        shown = Table(title=f"{table.name}", title_justify="left")
        for column in table.columns:
            shown.add_column(column, justify="left" if column == "timestamp" else "right")
        for row in table.rows:
            shown.add_row(*(_cell(v) for v in row))
        operator.console.print(shown)
    steps = len(tables[0].rows) if tables else 0
    operator.console.print(
        f"Wrote {csv_path}: {len(tables)} series x {steps} steps from endpoint {name}."
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@click.command()
@endpoint_option
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "-f",
    "text_file",
    type=click.File("r", encoding="utf-8"),
    help='Texts to classify, one per line ("-" reads standard input), after any TEXTS.',
)
@json_option
@pass_operator
def classify(
    operator: Operator,
    endpoint: str,
    texts: tuple[str, ...],
    text_file: Any,
    as_json: bool,
) -> None:
    """Classify TEXTS with the text classifier endpoint: label and confidence per text."""
    given = list(texts)
    if text_file is not None:
        given.extend(line.rstrip("\n") for line in text_file if line.strip())
    if not given:
        raise CliError("nothing to classify: give TEXTS or --file", ExitCode.USAGE)
    name = operator.deployment.endpoint_name(endpoint)
    client = ClassifierClient(name, client=operator.aws.client("sagemaker-runtime"))
    try:
        predictions = client.predict(given)
    except (InferenceError, ClientError) as err:
        raise _invoke_errors(name, err) from None
    if as_json:
        operator.emit_json(
            {
                "endpoint": name,
                "predictions": [
                    {
                        "text": text,
                        "label": p.label,
                        "confidence": p.confidence,
                        "probabilities": p.probabilities,
                    }
                    for text, p in zip(given, predictions, strict=True)
                ],
            }
        )
        return
    table = Table(title=f"{name}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("text", overflow="ellipsis", max_width=60)
    table.add_column("label")
    table.add_column("confidence", justify="right")
    for index, (text, p) in enumerate(zip(given, predictions, strict=True), start=1):
        table.add_row(str(index), text, p.label, f"{p.confidence:.3f}")
    operator.console.print(table)
