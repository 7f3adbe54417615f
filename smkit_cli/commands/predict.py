"""`smkit forecast` (DeepAR) and `smkit classify` (the kit's text classifier), through the
kit's client helpers in `sagemaker_constructs.inference.client`: with an endpoint in real
time, or with `--batch` through a batch transform (no endpoint needs to run)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError
from rich.table import Table

from sagemaker_constructs.inference.client import classifier as classifier_contract
from sagemaker_constructs.inference.client import deepar as deepar_contract
from sagemaker_constructs.inference.client.classifier import ClassifierClient, Prediction
from sagemaker_constructs.inference.client.deepar import DeepArClient, Forecast
from sagemaker_constructs.inference.client.runtime import InferenceError

from .. import batch
from ..aws import error_code
from ..context import Operator, json_option, pass_operator
from ..deployment import pascal
from ..errors import CliError, ExitCode
from ..forecast_io import NamedSeries, check_frequency, forecast_rows, read_series, save_csv
from ..options import examples, interval_option

DEEPAR = "forecasting-deepar"
# The kit's serving container, which follows the classifier contract
# (docs/classifier-contract.md).
KIT_INFERENCE_CONTAINER = "containers/inference"

endpoint_option = click.option(
    "--endpoint",
    "-e",
    help="Endpoint: its name in the config's `inference.endpoints` (or the deployed name).",
)
batch_option = click.option(
    "--batch",
    "transform_name",
    metavar="TRANSFORM",
    help="Instead of an endpoint: run transform definition TRANSFORM (transform.definitions) "
    "over the input, wait for it and read its results.",
)
poll_option = interval_option("With --batch: seconds between two polls of the run.")


def _one_target(endpoint: str | None, transform_name: str | None) -> None:
    if (endpoint is None) == (transform_name is None):
        raise CliError("give either --endpoint or --batch TRANSFORM", ExitCode.USAGE)


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


def _serves(endpoint: Any) -> str | None:
    """What an endpoint's config says it serves: `forecasting-deepar` or another built-in
    algorithm, `classifier` (the kit's serving container), or None where it cannot know
    (an image of your own, a model package that names no image)."""
    image = endpoint.model.image
    if image is None:
        return None
    if image.type == "builtin":
        return str(image.algorithm)
    if image.type == "asset" and image.directory.rstrip("/") == KIT_INFERENCE_CONTAINER:
        return "classifier"
    return None


def _endpoint_name(operator: Operator, given: str, command: str) -> str:
    """The deployed name of the endpoint `given`, once the config says `command` can call
    it: a real-time endpoint that serves what the command sends (DeepAR for forecast; not
    a built-in algorithm for classify)."""
    deployment = operator.deployment
    endpoints = deployment.section("inference", "endpoints").endpoints
    key = deployment.pick("endpoint", given, endpoints)
    settings = endpoints[key]
    where = f"inference.endpoints.{key}"
    if settings.variant.kind == "async":
        raise CliError(
            f"endpoint {key} is asynchronous ({where}.variant.kind: async): it takes requests "
            f"through S3 (InvokeEndpointAsync), and smkit {command} calls real-time endpoints",
            ExitCode.USAGE,
            hint=_candidates(endpoints, command),
        )
    serves = _serves(settings)
    wrong = (
        serves is not None and serves != DEEPAR
        if command == "forecast"
        else serves is not None and serves != "classifier"
    )
    if wrong:
        what = "the kit's text classifier" if serves == "classifier" else f"built-in {serves}"
        wanted = (
            "DeepAR (image: {type: builtin, algorithm: forecasting-deepar})"
            if command == "forecast"
            else "a text classifier (docs/classifier-contract.md)"
        )
        raise CliError(
            f"endpoint {key} serves {what} ({where}.model.image): smkit {command} needs {wanted}",
            ExitCode.USAGE,
            hint=_candidates(endpoints, command),
        )
    return deployment.output("Inference", f"{pascal(key)}EndpointName")


def _candidates(endpoints: dict[str, Any], command: str) -> str:
    fits = [
        key
        for key, e in endpoints.items()
        if e.variant.kind != "async"
        and (_serves(e) == DEEPAR if command == "forecast" else _serves(e) in (None, "classifier"))
    ]
    return f"Endpoints smkit {command} can call: {', '.join(fits) or 'none in this config'}."


def _check_output(path: str, option: str = "--csv") -> None:
    """Refuse an output file that cannot be written, before anything is paid for (click's
    Path type has refused a folder)."""
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        problem = f"is in a folder that does not exist ({folder})"
    elif not os.access(folder, os.W_OK):
        problem = f"cannot be written: no write permission in {folder}"
    elif target.exists() and not os.access(target, os.W_OK):
        problem = "exists and cannot be replaced (no write permission)"
    else:
        return
    raise CliError(f"{option} {path} {problem}", ExitCode.USAGE)


@click.command(
    short_help="Forecast time series with a DeepAR endpoint or a batch transform.",
    epilog=examples(
        "smkit forecast -e demand-forecast -s series.jsonl --freq D",
        "smkit forecast -e demand-forecast -s - --csv out/forecast.csv --json < series.jsonl",
        "smkit forecast --batch demand-batch -s series.jsonl --csv weekly.csv",
    ),
)
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
@batch_option
@poll_option
@json_option
@pass_operator
def forecast(
    operator: Operator,
    endpoint: str | None,
    series_file: Any,
    quantiles: list[str],
    freq: str | None,
    csv_path: str,
    batch_size: int,
    transform_name: str | None,
    interval: float,
    as_json: bool,
) -> None:
    """Forecast time series with a DeepAR endpoint, or with --batch through a batch
    transform of a DeepAR model: a table per series, and a CSV file.

    The endpoint must be a real-time DeepAR endpoint of the config; the CSV file's folder
    must exist. Both are checked before anything is paid for."""
    _one_target(endpoint, transform_name)
    try:
        named = read_series(series_file.name, series_file.read())
    except ValueError as err:
        raise CliError(f"cannot use the series file:\n{err}", ExitCode.USAGE) from None
    _check_output(csv_path)
    if transform_name is not None:
        name, forecasts = _batch_forecasts(
            operator, transform_name, named, quantiles, interval=interval, quiet=as_json
        )
    else:
        assert endpoint is not None
        name, forecasts = _endpoint_forecasts(operator, endpoint, named, quantiles, batch_size)
    try:
        tables = [
            forecast_rows(n, f, quantiles, freq) for n, f in zip(named, forecasts, strict=True)
        ]
    except KeyError as err:
        raise CliError(f"endpoint {name}: {err.args[0]}", ExitCode.FAILED) from None
    # The forecasts are paid for: if the file cannot be written after all (the disk
    # filled up...), they are still shown before the error.
    try:
        save_csv(csv_path, tables)
        unsaved = None
    except OSError as err:
        unsaved = CliError(
            f"the forecast was not written to {csv_path}: {err.strerror or err}",
            ExitCode.FAILED,
            hint="It is shown above; run again with --json to keep it, or fix the path.",
        )
    if as_json:
        operator.emit_json(
            {
                "endpoint": name,
                "quantiles": quantiles,
                "csv": None if unsaved else csv_path,
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
    else:
        source = name if transform_name is not None else f"endpoint {name}"
        _show_forecast(operator, tables, source, None if unsaved else csv_path)
    if unsaved is not None:
        raise unsaved


def _show_forecast(operator: Operator, tables: list[Any], name: str, csv_path: str | None) -> None:
    for table in tables:
        shown = Table(title=f"{table.name}", title_justify="left")
        for column in table.columns:
            shown.add_column(column, justify="left" if column == "timestamp" else "right")
        for row in table.rows:
            shown.add_row(*(_cell(v) for v in row))
        operator.console.print(shown)
    if csv_path is not None:
        steps = len(tables[0].rows) if tables else 0
        operator.console.print(
            f"Wrote {csv_path}: {len(tables)} series x {steps} steps from {name}.",
            soft_wrap=True,
        )


def _endpoint_forecasts(
    operator: Operator, endpoint: str, named: list[NamedSeries], quantiles: list[str], size: int
) -> tuple[str, list[Forecast]]:
    name = _endpoint_name(operator, endpoint, "forecast")
    client = DeepArClient(name, client=operator.aws.client("sagemaker-runtime"))
    forecasts: list[Forecast] = []
    try:
        for first in range(0, len(named), size):
            chunk = named[first : first + size]
            forecasts.extend(
                client.forecast(
                    [n.series for n in chunk],
                    output_types=["mean", "quantiles"],
                    quantiles=quantiles,
                )
            )
    except (InferenceError, ClientError) as err:
        raise _invoke_errors(name, err) from None
    return name, forecasts


def _batch_forecasts(
    operator: Operator,
    transform_name: str,
    named: list[NamedSeries],
    quantiles: list[str],
    *,
    interval: float,
    quiet: bool,
) -> tuple[str, list[Forecast]]:
    """DeepAR's batch transform: one series per input line, its configuration set once for
    the job (DEEPAR_INFERENCE_CONFIG); the quantiles asked for must be among the job's."""
    chosen = batch.pick(operator, transform_name)
    configured = _deepar_quantiles(chosen.definition.environment)
    missing = [q for q in quantiles if not any(float(q) == float(c) for c in configured)]
    if missing:
        raise CliError(
            f"transform {chosen.name} computes quantiles {', '.join(configured)} (its "
            f"DEEPAR_INFERENCE_CONFIG); --quantiles asks for {', '.join(missing)} as well",
            ExitCode.USAGE,
        )
    lines = [json.dumps(n.series.to_json()) for n in named]
    results = batch.transform_lines(
        operator, chosen, lines, filename="series.jsonl", interval=interval, quiet=quiet
    )
    where = f"transform {chosen.name}"
    try:
        forecasts = deepar_contract.parse_response(
            {"predictions": batch.json_lines(results, where)}, expected=len(named)
        )
    except InferenceError as err:
        raise CliError(f"{where}: {err}", ExitCode.FAILED) from None
    return where, forecasts


# DeepAR's batch default when DEEPAR_INFERENCE_CONFIG is not set (deepar-in-formats page).
DEEPAR_DEFAULT_QUANTILES = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9")


def _deepar_quantiles(environment: dict[str, str]) -> list[str]:
    raw = environment.get("DEEPAR_INFERENCE_CONFIG")
    if raw is None:
        return list(DEEPAR_DEFAULT_QUANTILES)
    try:
        config = json.loads(raw)
    except ValueError:
        return []
    if "quantiles" not in config.get("output_types", ["quantiles"]):
        return []
    return [str(q) for q in config.get("quantiles", DEEPAR_DEFAULT_QUANTILES)]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@click.command(
    short_help="Classify texts with the text classifier endpoint or a batch transform.",
    epilog=examples(
        'smkit classify -e text-classifier "delivery was late" "great service"',
        "smkit classify -e text-classifier --file reviews.txt --json",
        "smkit classify --batch sentiment-batch -f reviews.manifest --output labeled.jsonl",
    ),
)
@endpoint_option
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "-f",
    "text_file",
    type=click.File("r", encoding="utf-8"),
    help='Texts to classify, one per line ("-" reads standard input), after any TEXTS. '
    'With --batch: a manifest, one JSON object with a "source" text per line.',
)
@batch_option
@click.option(
    "--output",
    "output_path",
    default="predictions.jsonl",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True),
    help="With --batch: JSON lines written with each manifest line and its prediction.",
)
@poll_option
@json_option
@pass_operator
def classify(
    operator: Operator,
    endpoint: str | None,
    texts: tuple[str, ...],
    text_file: Any,
    transform_name: str | None,
    output_path: str,
    interval: float,
    as_json: bool,
) -> None:
    """Classify TEXTS with the text classifier endpoint, or a manifest with --batch
    through a batch transform: label and confidence per text.

    The endpoint must be a real-time endpoint of the config that does not serve a
    built-in algorithm (such as DeepAR)."""
    _one_target(endpoint, transform_name)
    if transform_name is not None:
        records = _manifest(text_file, texts)
        _check_output(output_path, "--output")
        given = [str(r["source"]) for r in records]
        name, predictions = _batch_predictions(
            operator, transform_name, records, interval=interval, quiet=as_json
        )
        with open(output_path, "w", encoding="utf-8") as out:
            for record, p in zip(records, predictions, strict=True):
                line = {**record, "prediction": {"label": p.label, "confidence": p.confidence}}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    else:
        assert endpoint is not None
        given = list(texts)
        if text_file is not None:
            given.extend(line.rstrip("\n") for line in text_file if line.strip())
        if not given:
            raise CliError("nothing to classify: give TEXTS or --file", ExitCode.USAGE)
        name = _endpoint_name(operator, endpoint, "classify")
        client = ClassifierClient(name, client=operator.aws.client("sagemaker-runtime"))
        try:
            predictions = client.predict(given)
        except (InferenceError, ClientError) as err:
            raise _invoke_errors(name, err) from None
    if as_json:
        operator.emit_json(
            {
                "endpoint" if transform_name is None else "transform": name,
                **({"output": output_path} if transform_name is not None else {}),
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
    if transform_name is not None:
        operator.console.print(f"Wrote {output_path}: {len(predictions)} predictions.")


def _manifest(text_file: Any, texts: tuple[str, ...]) -> list[dict[str, Any]]:
    """The manifest's records (each a JSON object with a "source" string), naming every
    bad line; blank lines are skipped."""
    if texts:
        raise CliError("with --batch, give the manifest with --file, not TEXTS", ExitCode.USAGE)
    if text_file is None:
        raise CliError("--batch needs a manifest: --file MANIFEST", ExitCode.USAGE)
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(text_file.read().split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"{text_file.name}: line {number}: not valid JSON")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("source"), str):
            problems.append(
                f'{text_file.name}: line {number}: must be a JSON object with a "source" text'
            )
            continue
        records.append(record)
    if not records and not problems:
        problems.append(f"{text_file.name}: no records (one JSON object per line)")
    if problems:
        raise CliError("cannot use the manifest:\n" + "\n".join(problems), ExitCode.USAGE)
    return records


def _batch_predictions(
    operator: Operator,
    transform_name: str,
    records: list[dict[str, Any]],
    *,
    interval: float,
    quiet: bool,
) -> tuple[str, list[Prediction]]:
    chosen = batch.pick(operator, transform_name)
    # The classifier reads only "source": the other keys of a line stay on this side.
    lines = [json.dumps({"source": r["source"]}, ensure_ascii=False) for r in records]
    results = batch.transform_lines(
        operator, chosen, lines, filename="manifest.jsonl", interval=interval, quiet=quiet
    )
    where = f"transform {chosen.name}"
    try:
        predictions = classifier_contract.parse_response(
            {"predictions": batch.json_lines(results, where)}, expected=len(records)
        )
    except InferenceError as err:
        raise CliError(f"{where}: {err}", ExitCode.FAILED) from None
    return where, predictions
