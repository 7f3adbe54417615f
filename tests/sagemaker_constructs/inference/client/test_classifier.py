"""The text classifier's contract, and the client against moto's sagemaker-runtime."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_constructs.inference.client.classifier import (
    ClassifierClient,
    Prediction,
    build_request,
    parse_response,
)
from sagemaker_constructs.inference.client.runtime import InferenceError

from .conftest import Runtime


def answer_for(*labels: str) -> dict[str, Any]:
    """A classifier answer in the contract's format, one prediction per label."""
    return {
        "predictions": [
            {
                "label": label,
                "confidence": 0.9,
                "probabilities": {label: 0.9, "other": 0.1},
            }
            for label in labels
        ]
    }


def test_request_in_the_contract_format() -> None:
    assert build_request(["great product", "broke in a day"]) == {
        "instances": [{"source": "great product"}, {"source": "broke in a day"}]
    }


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        ([], "at least one text is needed"),
        (["ok", 3], "texts must be strings (not at [1])"),
    ],
)
def test_bad_request(texts: list[Any], problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        build_request(texts)
    assert str(raised.value) == f"Invalid classifier request: {problem}"


def test_response_gives_label_confidence_and_probabilities() -> None:
    (prediction,) = parse_response(
        b'{"predictions": [{"label": "positive", "confidence": 0.82, '
        b'"probabilities": {"positive": 0.82, "negative": 0.18}}]}',
        expected=1,
    )
    assert prediction == Prediction(
        label="positive", confidence=0.82, probabilities={"positive": 0.82, "negative": 0.18}
    )


@pytest.mark.parametrize(
    ("prediction", "problem"),
    [
        ("positive", "classifier prediction 0 must be an object"),
        (
            {"label": "", "confidence": 0.5, "probabilities": {"": 0.5}},
            "classifier prediction 0: label must be a non-empty string (got '')",
        ),
        (
            {"label": "a", "confidence": 1.5, "probabilities": {"a": 1.0}},
            "classifier prediction 0: confidence must be a number 0-1 (got 1.5)",
        ),
        (
            {"label": "a", "confidence": 0.5, "probabilities": {"a": "half"}},
            "classifier prediction 0: probabilities must map class names to numbers 0-1",
        ),
        (
            {"label": "a", "confidence": 0.5, "probabilities": {"b": 0.5}},
            "classifier prediction 0: label 'a' is missing from probabilities",
        ),
    ],
)
def test_bad_prediction(prediction: Any, problem: str) -> None:
    with pytest.raises(InferenceError) as raised:
        parse_response({"predictions": [prediction]}, expected=1)
    assert str(raised.value) == problem


def test_client_labels_texts_through_the_runtime(runtime: Runtime) -> None:
    runtime.answer(answer_for("positive", "negative"))
    client = ClassifierClient("smkit-text-classifier", client=runtime.client)
    predictions = client.predict(["love it", "hate it"])
    assert [p.label for p in predictions] == ["positive", "negative"]
    assert predictions[0].probabilities == {"positive": 0.9, "other": 0.1}
    assert runtime.sent() == [{"instances": [{"source": "love it"}, {"source": "hate it"}]}]


def test_client_splits_long_lists_and_keeps_the_order(runtime: Runtime) -> None:
    runtime.answer(answer_for("a", "b"))
    runtime.answer(answer_for("c", "d"))
    runtime.answer(answer_for("e"))
    client = ClassifierClient("smkit-text-classifier", client=runtime.client, batch_size=2)
    predictions = client.predict(["1", "2", "3", "4", "5"])
    assert [p.label for p in predictions] == ["a", "b", "c", "d", "e"]
    assert [len(body["instances"]) for body in runtime.sent()] == [2, 2, 1]


def test_client_keeps_each_request_under_the_payload_limit(runtime: Runtime) -> None:
    runtime.answer(answer_for("a"))
    runtime.answer(answer_for("b", "c"))
    client = ClassifierClient("smkit-text-classifier", client=runtime.client, max_payload_bytes=60)
    predictions = client.predict(["x" * 30, "short", "text"])
    assert [p.label for p in predictions] == ["a", "b", "c"]
    assert [[i["source"] for i in body["instances"]] for body in runtime.sent()] == [
        ["x" * 30],
        ["short", "text"],
    ]


def test_client_refuses_a_text_over_the_payload_limit(runtime: Runtime) -> None:
    client = ClassifierClient("smkit-text-classifier", client=runtime.client, max_payload_bytes=40)
    with pytest.raises(InferenceError, match=r"^text 1 alone exceeds the 40-byte payload limit$"):
        client.predict(["ok", "y" * 40])
    assert runtime.sent() == []


def test_client_refuses_an_answer_of_the_wrong_length(runtime: Runtime) -> None:
    runtime.answer(answer_for("a"))
    client = ClassifierClient("smkit-text-classifier", client=runtime.client)
    with pytest.raises(InferenceError, match=r"^classifier answered 1 predictions for 2 texts$"):
        client.predict(["one", "two"])


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"^batch_size must be at least 1 \(got 0\)$"):
        ClassifierClient("smkit-text-classifier", client=object(), batch_size=0)  # type: ignore[arg-type]
