"""The algorithm profiles against what the algorithms really do: the kit's training
container's own constants, and DeepAR's documented contract."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sagemaker_constructs.common.builtin_images_data import BUILTIN_IMAGES
from sagemaker_constructs.training.algorithms import (
    BUILTIN_PROFILES,
    CHECKPOINTING_BUILTINS,
    DEEPAR,
    TEXT_CLASSIFIER,
    builtin_profile,
    metric_regex,
)

CONTAINER = Path(__file__).resolve().parents[3] / "containers" / "training"
if str(CONTAINER) not in sys.path:
    sys.path.insert(0, str(CONTAINER))

from textclf_train import metrics as container_metrics  # noqa: E402
from textclf_train.hyperparameters import SPECS, Hyperparameters  # noqa: E402


def test_metric_definitions_are_the_containers_own() -> None:
    assert TEXT_CLASSIFIER.metrics == container_metrics.METRIC_NAMES
    assert TEXT_CLASSIFIER.metric_definitions() == container_metrics.METRIC_REGEXES
    assert metric_regex("validation:accuracy") == (
        r"\[metric\] validation:accuracy=([-+0-9.eE]+|nan)"
    )


def test_every_metric_line_the_container_prints_is_read_back() -> None:
    for name, regex in TEXT_CLASSIFIER.metric_definitions().items():
        for value in (0.9125, -1.5e-07, 12.0, float("nan")):
            line = container_metrics.format_metric(name, value)
            match = re.search(regex, f"2026-01-01 INFO {line}")
            assert match is not None, (name, line)
            assert match.group(1) == line.split("=", 1)[1]
        # One metric's regex never reads another's line.
        other = next(n for n in TEXT_CLASSIFIER.metrics if n != name)
        assert re.search(regex, container_metrics.format_metric(other, 1.0)) is None


def test_hyperparameter_names_and_manifest_attributes_match_the_container() -> None:
    assert TEXT_CLASSIFIER.hyperparameters == frozenset(SPECS)
    defaults = Hyperparameters()
    manifest = TEXT_CLASSIFIER.manifest_attributes
    assert manifest is not None
    assert manifest({}) == [
        defaults.text_attribute,
        defaults.label_attribute,
        f"{defaults.label_attribute}-metadata",
    ]
    assert manifest({"label_attribute": "sentiment"}) == [
        "source",
        "sentiment",
        "sentiment-metadata",
    ]


def test_text_classifier_problems_name_channel_hyperparameter_and_manifest_mistakes() -> None:
    problems = TEXT_CLASSIFIER.problems(
        hyperparameters={"epochs": "3", "epoch": "3", "label_attribute": "sentiment"},
        channels=["validation", "test"],
        manifests={"validation": (["source", "label"], None)},
    )
    assert problems == [
        "the kit's text classifier (containers/training) needs the channel(s) ['train']",
        "the kit's text classifier (containers/training) reads only the channels "
        "['train', 'validation'] (got ['test'])",
        "the kit's text classifier (containers/training) has no hyperparameter(s) ['epoch']; "
        "known: batch_size, embedding_dim, epochs, label_attribute, learning_rate, max_length, "
        "max_vocab_size, min_count, ngram_size, seed, text_attribute, validation_fraction",
        "channel 'validation': the kit's text classifier (containers/training) reads an "
        "augmented manifest's attributes ['source', 'sentiment', 'sentiment-metadata'] (from "
        "its text_attribute and label_attribute hyperparameters), got attribute_names "
        "['source', 'label']",
        "channel 'validation': the kit's text classifier (containers/training) reads augmented "
        "manifests with record_wrapper RecordIO (got None)",
    ]
    assert TEXT_CLASSIFIER.override_problems(
        ["epochs", "label_attribute", "dropout"], has_manifest=True
    ) == [
        "overridable hyperparameters: the kit's text classifier (containers/training) has no "
        "hyperparameter(s) ['dropout']",
        "hyperparameters ['label_attribute'] name the augmented manifest's attributes, which "
        "the request fixes: they cannot be overridden while a channel is an augmented manifest",
    ]
    assert TEXT_CLASSIFIER.override_problems(["label_attribute"], has_manifest=False) == []


def test_deepar_needs_its_four_hyperparameters_and_takes_no_metric_definitions() -> None:
    assert builtin_profile("forecasting-deepar") is DEEPAR
    assert DEEPAR.metric_definitions() == {}
    assert DEEPAR.problems(
        hyperparameters={"epochs": "10"},
        channels=["train"],
        metric_definitions=["rmse"],
    ) == [
        "built-in algorithm forecasting-deepar needs the hyperparameter(s) "
        "['context_length', 'prediction_length', 'time_freq']",
        "metric_definitions are not allowed for built-in algorithm forecasting-deepar: "
        "SageMaker extracts its metrics itself (test:RMSE, test:mean_wQuantileLoss, "
        "train:final_loss)",
    ]


def test_other_builtins_accept_any_hyperparameter_but_no_metric_definitions() -> None:
    xgboost = builtin_profile("xgboost")
    assert xgboost.problems(hyperparameters={"anything": "1"}, channels=["x"]) == []
    assert xgboost.problems(hyperparameters={}, channels=[], metric_definitions=["m"]) == [
        "metric_definitions are not allowed for built-in algorithm xgboost: SageMaker extracts "
        "its metrics itself (validation:accuracy, validation:auc, validation:error, "
        "validation:f1, validation:logloss, validation:mae, validation:map, validation:merror, "
        "validation:mlogloss, validation:mse, validation:ndcg, validation:rmse)"
    ]


def test_checkpointing_builtins_are_the_documented_ones_at_the_pinned_versions() -> None:
    # TRAIN-1: XGBoost checkpoints from 0.90-1 on; the kit's pinned image must be one.
    assert {
        "image-classification",
        "object-detection",
        "semantic-segmentation",
        "xgboost",
    } == CHECKPOINTING_BUILTINS
    major, minor, build = map(int, re.split(r"[.-]", BUILTIN_IMAGES["xgboost"].tag))
    assert (major, minor, build) >= (0, 90, 1)
    assert {n for n, p in BUILTIN_PROFILES.items() if p.checkpointing} == CHECKPOINTING_BUILTINS
    assert sorted(BUILTIN_PROFILES) == sorted(BUILTIN_IMAGES)
