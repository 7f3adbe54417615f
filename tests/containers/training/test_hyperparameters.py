"""Hyperparameters arrive as strings: typed, range-checked, every problem reported."""

from __future__ import annotations

import pytest
from textclf_train.errors import TrainingError
from textclf_train.hyperparameters import SPECS, Hyperparameters, parse_hyperparameters


def test_defaults_when_nothing_is_set() -> None:
    assert parse_hyperparameters({}) == Hyperparameters()
    assert set(SPECS) == set(Hyperparameters().as_dict())


def test_strings_become_typed_values() -> None:
    hp = parse_hyperparameters(
        {
            "epochs": "12",
            "learning_rate": "0.05",
            "batch_size": "128.0",
            "embedding_dim": "1e2",
            "validation_fraction": "0",
            "label_attribute": " sentiment ",
            "seed": 7,
        }
    )
    assert (hp.epochs, hp.learning_rate, hp.batch_size, hp.embedding_dim) == (12, 0.05, 128, 100)
    assert (hp.validation_fraction, hp.label_attribute, hp.seed) == (0.0, "sentiment", 7)
    assert isinstance(hp.batch_size, int)


def test_sagemaker_reserved_keys_are_ignored() -> None:
    hp = parse_hyperparameters(
        {"_tuning_objective_metric": "validation:accuracy", "sagemaker_region": "eu-west-1"}
    )
    assert hp == Hyperparameters()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("epochs", "2.5", "epochs must be an integer from 1 to 10000 (got '2.5')"),
        ("epochs", "0", "epochs must be an integer from 1 to 10000 (got '0')"),
        (
            "learning_rate",
            "0",
            "learning_rate must be a number greater than 0 and at most 10 (got '0')",
        ),
        (
            "learning_rate",
            "nan",
            "learning_rate must be a number greater than 0 and at most 10 (got 'nan')",
        ),
        (
            "validation_fraction",
            "0.75",
            "validation_fraction must be a number from 0 to 0.5 (got '0.75')",
        ),
        ("ngram_size", "6", "ngram_size must be an integer from 1 to 5 (got '6')"),
        ("batch_size", True, "batch_size must be an integer from 1 to 65536 (got True)"),
        ("seed", "-1", "seed must be an integer from 0 to 4294967295 (got '-1')"),
        ("text_attribute", "  ", "text_attribute must be a non-empty string (got '  ')"),
        (
            "learnig_rate",
            "0.1",
            "learnig_rate: unknown hyperparameter; did you mean 'learning_rate'?",
        ),
        ("dropout", "0.1", "dropout: unknown hyperparameter"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(key: str, value: object, message: str) -> None:
    with pytest.raises(TrainingError) as raised:
        parse_hyperparameters({key: value})
    assert str(raised.value) == f"invalid hyperparameters: {message}"


def test_label_and_text_attributes_must_differ() -> None:
    with pytest.raises(TrainingError) as raised:
        parse_hyperparameters({"label_attribute": "source"})
    assert str(raised.value) == (
        "invalid hyperparameters: label_attribute and text_attribute must differ "
        "(both are 'source')"
    )
