"""The serving image's model loader and forward pass, against the training image's own
model: same weights, same features, same probabilities."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from textclf_serve.model import ModelError, TextClassifierModel
from textclf_train.features import feature_ids
from textclf_train.model import TextClassifier, encode_batch

from tests.containers.conftest import TrainedModel

EDGE_TEXTS = [
    "",
    "words the model never saw",
    "REFUND for my INVOICE",
    # Full-width letters: NFKC makes them plain.
    "\uff32\uff45\uff46\uff55\uff4e\uff44 \uff29\uff2e\uff36\uff2f\uff29\uff23\uff25",
    "parcel " * 1000,
    "The courier\u2028lost my parcel",
]


def torch_probabilities(model_dir: Path, texts: list[str]) -> np.ndarray:
    """The training code's model, loaded with the saved weights."""
    description = json.loads((model_dir / "model.json").read_text())
    vocabulary = json.loads((model_dir / "vocabulary.json").read_text())
    index = {feature: i for i, feature in enumerate(vocabulary)}
    model = TextClassifier(
        len(vocabulary), description["embedding_dim"], len(description["labels"])
    )
    with np.load(model_dir / "weights.npz") as weights:
        model.embedding.weight.data = torch.from_numpy(weights["embedding"])
        model.classifier.weight.data = torch.from_numpy(weights["classifier_weight"])
        model.classifier.bias.data = torch.from_numpy(weights["classifier_bias"])
    features = description["features"]
    ids = [feature_ids(t, index, features["max_length"], features["ngram_size"]) for t in texts]
    with torch.no_grad():
        logits = model(*encode_batch(ids, range(len(texts)), torch.device("cpu")))
    return torch.softmax(logits, dim=1).numpy()


def test_serving_forward_pass_equals_the_training_model(trained_model: TrainedModel) -> None:
    texts = [text for text, _ in trained_model.validation[:50]] + EDGE_TEXTS
    served = TextClassifierModel.load(trained_model.model_dir).probabilities(texts)
    np.testing.assert_allclose(
        served, torch_probabilities(trained_model.model_dir, texts), rtol=0, atol=1e-5
    )


def test_predictions_name_the_class_with_its_confidence(trained_model: TrainedModel) -> None:
    model = TextClassifierModel.load(trained_model.model_dir)
    texts = [text for text, _ in trained_model.validation]
    predictions = model.predict(texts)
    correct = sum(
        prediction.label == label
        for prediction, (_, label) in zip(predictions, trained_model.validation, strict=True)
    )
    assert correct / len(texts) >= 0.9
    for prediction in predictions:
        assert list(prediction.probabilities) == ["billing", "delivery", "product"]
        assert prediction.confidence == max(prediction.probabilities.values())
        assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert 0.0 <= prediction.confidence <= 1.0


def broken_copy(trained_model: TrainedModel, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(trained_model.model_dir, target)
    return target


def test_missing_model_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        TextClassifierModel.load(tmp_path / "model")
    assert str(raised.value) == (
        f"{tmp_path / 'model' / 'model.json'} does not exist: is the model directory mounted?"
    )


def test_newer_model_format_is_refused(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = broken_copy(trained_model, tmp_path)
    description = json.loads((model_dir / "model.json").read_text())
    (model_dir / "model.json").write_text(json.dumps({**description, "format_version": 2}))
    with pytest.raises(ModelError) as raised:
        TextClassifierModel.load(model_dir)
    assert str(raised.value) == (
        "model format version 2 is not supported (this server reads version 1)"
    )


def test_weights_that_do_not_match_the_description_are_refused(
    trained_model: TrainedModel, tmp_path: Path
) -> None:
    model_dir = broken_copy(trained_model, tmp_path)
    vocabulary = json.loads((model_dir / "vocabulary.json").read_text())
    (model_dir / "vocabulary.json").write_text(json.dumps(vocabulary[:-1]))
    with pytest.raises(ModelError) as raised:
        TextClassifierModel.load(model_dir)
    assert str(raised.value).startswith("weights do not match model.json: embedding (")


def test_weights_with_nan_are_refused(trained_model: TrainedModel, tmp_path: Path) -> None:
    model_dir = broken_copy(trained_model, tmp_path)
    with np.load(model_dir / "weights.npz") as weights:
        arrays = {key: weights[key].copy() for key in weights.files}
    arrays["classifier_bias"][0] = np.nan
    np.savez(model_dir / "weights.npz", **arrays)
    with pytest.raises(ModelError) as raised:
        TextClassifierModel.load(model_dir)
    assert str(raised.value) == "the weights hold NaN or infinite values (did training diverge?)"


def reference_probabilities(
    embedding: np.ndarray, weight: np.ndarray, bias: np.ndarray, ids: list[list[int]]
) -> np.ndarray:
    """The forward pass written plainly, in float64: mean embedding, linear layer, softmax."""
    means = np.array(
        [embedding[row].astype(np.float64).mean(axis=0) if row else 0 * embedding[0] for row in ids]
    )
    logits = means @ weight.T.astype(np.float64) + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("classes", "dimensions"),
    [(3, 8), (12, 4)],  # fewer classes than dimensions (per-feature logits), and more
)
def test_forward_pass_with_few_and_many_classes(classes: int, dimensions: int) -> None:
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(20)]
    embedding = rng.normal(size=(20, dimensions)).astype(np.float32)
    weight = rng.normal(size=(classes, dimensions)).astype(np.float32)
    bias = rng.normal(size=classes).astype(np.float32)
    model = TextClassifierModel(
        labels=[f"c{i}" for i in range(classes)],
        vocabulary=vocabulary,
        embedding=embedding,
        weight=weight,
        bias=bias,
        max_length=50,
        ngram_size=1,
    )
    texts = ["w1 w2 w2", "", "w19", "nothing known", "w0 w5 w7 w11 w13 w3"]
    ids = [
        [vocabulary.index(word) for word in text.split() if word in vocabulary] for text in texts
    ]
    np.testing.assert_allclose(
        model.probabilities(texts),
        reference_probabilities(embedding, weight, bias, ids),
        rtol=0,
        atol=1e-6,
    )


def test_a_text_gets_the_same_probabilities_alone_and_in_a_batch(
    trained_model: TrainedModel,
) -> None:
    model = TextClassifierModel.load(trained_model.model_dir)
    texts = [text for text, _ in trained_model.validation[:20]] + EDGE_TEXTS
    batch = model.probabilities(texts)
    alone = np.concatenate([model.probabilities([text]) for text in texts])
    np.testing.assert_array_equal(batch, alone)
