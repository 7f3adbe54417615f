"""Canned answers of the playground's endpoints: what a real endpoint of each kind would
send back, computed from the request without a model.

- The text classifier follows docs/classifier-contract.md: one prediction per instance, in
  order, with a label among the classes of the auto-labeling workflow that uses the
  endpoint, its confidence and every class's probability. The label is a stable function
  of the text (the same text always gets the same answer), not a model's opinion.
- DeepAR answers in DeepAR's format (`{"predictions": [{"mean", "quantiles",
  "samples"}]}`, FACTS.md): a seasonal-naive forecast (the last week of the series,
  repeated) over the model's prediction_length, with quantiles that widen with the
  horizon. Only the output types the request asks for are sent.

A request the real endpoint would refuse raises `BadRequestError`, answered as SageMaker's
ModelError.
"""

from __future__ import annotations

import hashlib
import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from sagemaker_constructs.inference.client.deepar import OUTPUT_TYPES
from stacks.settings import PlatformSettings
from stacks.settings.inference import BuiltinImageSettings, ModelPackageSettings
from stacks.settings.training import BuiltinImage

DEEPAR = "forecasting-deepar"
DEFAULT_PREDICTION_LENGTH = 14
"""DeepAR's horizon when the config has no DeepAR training definition to take it from."""
DEFAULT_LABELS = ("positive", "negative")
"""The classes of a classifier no auto-labeling workflow names."""
DEFAULT_NUM_SAMPLES = 100
"""DeepAR's own default number of sample paths."""
SEASON = 7
"""Steps the seasonal-naive forecast repeats (a week of daily values)."""

Reply = Callable[[Any], dict[str, Any]]
"""Request JSON -> response JSON."""


class BadRequestError(ValueError):
    """A request the endpoint refuses; the message says why."""


def classifier_reply(request: Any, labels: Sequence[str]) -> dict[str, Any]:
    """The classifier's answer to `{"instances": [{"source": text}, ...]}`."""
    instances = request.get("instances") if isinstance(request, Mapping) else None
    if not isinstance(instances, list) or not instances:
        raise BadRequestError('the request must be {"instances": [{"source": "<text>"}, ...]}')
    predictions = []
    for index, instance in enumerate(instances):
        text = (
            instance.get("source", instance.get("source-ref"))
            if isinstance(instance, Mapping)
            else None
        )
        if not isinstance(text, str):
            raise BadRequestError(
                f'instance {index} needs "source" (text) or "source-ref" (S3 URI)'
            )
        predictions.append(_classify(text, labels))
    return {"predictions": predictions}


def _classify(text: str, labels: Sequence[str]) -> dict[str, Any]:
    digest = hashlib.sha256(text.encode()).digest()
    winner = labels[digest[0] % len(labels)]
    # Confidence 0.55-0.99, so that a run's threshold keeps some labels and not others.
    confidence = round(0.55 + 0.44 * digest[1] / 255, 3)
    others = [label for label in labels if label != winner]
    weights = [1 + digest[2 + i % 28] for i in range(len(others))]
    rest = 1 - confidence
    probabilities = {winner: confidence}
    for label, weight in zip(others, weights, strict=True):
        probabilities[label] = round(rest * weight / sum(weights), 3)
    return {"label": winner, "confidence": confidence, "probabilities": probabilities}


def deepar_reply(request: Any, prediction_length: int) -> dict[str, Any]:
    """DeepAR's answer to `{"instances": [...], "configuration": {...}}`."""
    instances = request.get("instances") if isinstance(request, Mapping) else None
    if not isinstance(instances, list) or not instances:
        raise BadRequestError(
            'the request must be {"instances": [{"start": ..., "target": [...]}]}'
        )
    configuration = request.get("configuration") or {}
    output_types = configuration.get("output_types", ["mean", "quantiles"])
    unknown = [t for t in output_types if t not in OUTPUT_TYPES]
    if unknown:
        raise BadRequestError(
            f"output_types must be among {', '.join(OUTPUT_TYPES)} (got {unknown})"
        )
    levels = [str(q) for q in configuration.get("quantiles", ["0.1", "0.5", "0.9"])]
    for level in levels:
        if not _is_level(level):
            raise BadRequestError(f"quantiles must be strictly between 0 and 1 (got {level!r})")
    num_samples = int(configuration.get("num_samples", DEFAULT_NUM_SAMPLES))
    predictions = []
    for index, instance in enumerate(instances):
        target = instance.get("target") if isinstance(instance, Mapping) else None
        if (
            not isinstance(instance, Mapping)
            or "start" not in instance
            or not isinstance(target, list)
        ):
            raise BadRequestError(f'instance {index} needs "start" and "target"')
        observed = [float(v) for v in target if _is_observed(v)]
        predictions.append(
            _forecast(observed, prediction_length, output_types, levels, num_samples)
        )
    return {"predictions": predictions}


def _forecast(
    observed: list[float],
    length: int,
    output_types: Sequence[str],
    levels: Sequence[str],
    num_samples: int,
) -> dict[str, Any]:
    season = observed[-SEASON:] or [0.0]
    mean = [round(season[step % len(season)], 3) for step in range(length)]
    spread = statistics.pstdev(observed[-4 * SEASON :]) if len(observed) > 1 else 1.0
    spread = spread or max(abs(sum(season) / len(season)) * 0.1, 1.0)
    widths = [spread * math.sqrt(1 + step / SEASON) for step in range(length)]
    answer: dict[str, Any] = {}
    if "mean" in output_types:
        answer["mean"] = mean
    if "quantiles" in output_types:
        answer["quantiles"] = {
            level: [
                round(m + statistics.NormalDist().inv_cdf(float(level)) * w, 3)
                for m, w in zip(mean, widths, strict=True)
            ]
            for level in levels
        }
    if "samples" in output_types:
        draw = random.Random(hashlib.sha256(repr(observed).encode()).digest())  # noqa: S311 - not security
        answer["samples"] = [
            [round(draw.gauss(m, w), 3) for m, w in zip(mean, widths, strict=True)]
            for _ in range(num_samples)
        ]
    return answer


def _is_observed(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _is_level(value: str) -> bool:
    try:
        return 0 < float(value) < 1
    except ValueError:
        return False


CLASSIFIER = "classifier"


def endpoint_kinds(settings: PlatformSettings) -> dict[str, str]:
    """What each real-time endpoint of the config serves (`DEEPAR` or `CLASSIFIER`), by
    its key; asynchronous endpoints (InvokeEndpointAsync) are left out."""
    if settings.inference is None:
        return {}
    return {
        key: DEEPAR if _serves_deepar(settings, endpoint.model) else CLASSIFIER
        for key, endpoint in settings.inference.endpoints.items()
        if endpoint.variant.kind != "async"
    }


def endpoint_replies(settings: PlatformSettings) -> dict[str, Reply]:
    """The reply of each real-time endpoint of the config, by deployed name
    (`<name_prefix>-<key>`)."""
    replies: dict[str, Reply] = {}
    for key, kind in endpoint_kinds(settings).items():
        name = f"{settings.name_prefix}-{key}"
        if kind == DEEPAR:
            replies[name] = partial(_deepar, _prediction_length(settings))
        else:
            replies[name] = partial(_classifier, _classes(settings, name))
    return replies


def _deepar(prediction_length: int, request: Any) -> dict[str, Any]:
    return deepar_reply(request, prediction_length)


def _classifier(labels: tuple[str, ...], request: Any) -> dict[str, Any]:
    return classifier_reply(request, labels)


def _serves_deepar(settings: PlatformSettings, model: Any) -> bool:
    image = model.image
    if image is None and isinstance(model, ModelPackageSettings) and settings.training:
        # A package of this platform's registry: group `<name_prefix>-<definition>`.
        group = model.arn.split("/")[-2]
        for name, definition in settings.training.definitions.items():
            if group == f"{settings.name_prefix}-{name}":
                image = definition.image
    if isinstance(image, BuiltinImageSettings | BuiltinImage):
        return image.algorithm == DEEPAR
    return False


def _prediction_length(settings: PlatformSettings) -> int:
    """The prediction_length of the config's first DeepAR training definition."""
    if settings.training is not None:
        for definition in settings.training.definitions.values():
            image = definition.image
            if isinstance(image, BuiltinImage) and image.algorithm == DEEPAR:
                length = definition.hyperparameters.get("prediction_length")
                if length is not None:
                    return int(length)
    return DEFAULT_PREDICTION_LENGTH


def _classes(settings: PlatformSettings, endpoint_name: str) -> tuple[str, ...]:
    """The classes of the first auto-labeling workflow that pre-labels with the endpoint:
    its own, or those of its Ground Truth workflow."""
    labeling = settings.labeling
    if labeling is None:
        return DEFAULT_LABELS
    workflows = {w.name: w for w in labeling.workflows}
    for auto in labeling.auto_labeling:
        if endpoint_name not in auto.endpoint_names:
            continue
        if auto.labels:
            return tuple(auto.labels)
        review = getattr(auto.human_review, "labeling_workflow", None)
        if review in workflows:
            return tuple(workflows[review].labels)
    return DEFAULT_LABELS
