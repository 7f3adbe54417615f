"""Loading the model directory the training image writes (containers/README.md, "Model
directory") and predicting with it.

The forward pass is the training model's, in numpy: the mean of the embeddings of the
text's known features (zero when it has none), one linear layer, softmax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .features import FEATURES_VERSION, NORMALIZATION, WORD_PATTERN, feature_ids

MODEL_FORMAT = "smkit-text-classifier"
MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.json"


class ModelError(Exception):
    """The model directory cannot be served; the message says why."""


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    probabilities: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "confidence": self.confidence,
            "probabilities": self.probabilities,
        }


class TextClassifierModel:
    def __init__(
        self,
        labels: Sequence[str],
        vocabulary: Sequence[str],
        embedding: npt.NDArray[np.float32],
        weight: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        max_length: int,
        ngram_size: int,
    ) -> None:
        self.labels = tuple(labels)
        self.index = {feature: i for i, feature in enumerate(vocabulary)}
        self.embedding = embedding
        self.weight_t = np.ascontiguousarray(weight.T)
        self.bias = bias
        self.max_length = max_length
        self.ngram_size = ngram_size

    @classmethod
    def load(cls, model_dir: Path) -> TextClassifierModel:
        """Read and check the model directory; ModelError names what is wrong."""
        description = _read_json(model_dir / MODEL_FILE)
        if not isinstance(description, dict) or description.get("format") != MODEL_FORMAT:
            raise ModelError(f"{model_dir / MODEL_FILE} does not describe a {MODEL_FORMAT}")
        version = description.get("format_version")
        if version != MODEL_FORMAT_VERSION:
            raise ModelError(
                f"model format version {version!r} is not supported "
                f"(this server reads version {MODEL_FORMAT_VERSION})"
            )
        features = description.get("features") or {}
        expected = {
            "version": FEATURES_VERSION,
            "normalization": NORMALIZATION,
            "word_pattern": WORD_PATTERN,
        }
        for key, value in expected.items():
            if features.get(key) != value:
                raise ModelError(
                    f"the model's features.{key} is {features.get(key)!r}; "
                    f"this server computes {value!r}"
                )
        files = description.get("files") or {}
        labels = description.get("labels")
        if not isinstance(labels, list) or len(labels) < 2 or len(set(labels)) != len(labels):
            raise ModelError("model.json labels must list 2 or more distinct classes")
        vocabulary = _read_json(model_dir / str(files.get("vocabulary", "vocabulary.json")))
        if not isinstance(vocabulary, list) or not all(isinstance(f, str) for f in vocabulary):
            raise ModelError("the vocabulary file must hold a JSON list of strings")
        weights_path = model_dir / str(files.get("weights", "weights.npz"))
        try:
            with np.load(weights_path, allow_pickle=False) as arrays:
                embedding = arrays["embedding"].astype(np.float32)
                weight = arrays["classifier_weight"].astype(np.float32)
                bias = arrays["classifier_bias"].astype(np.float32)
        except (OSError, KeyError, ValueError) as error:
            raise ModelError(f"cannot read the weights {weights_path}: {error}") from error
        if not all(np.isfinite(array).all() for array in (embedding, weight, bias)):
            raise ModelError("the weights hold NaN or infinite values (did training diverge?)")
        max_length = _positive_int(features.get("max_length"))
        ngram_size = _positive_int(features.get("ngram_size"))
        if max_length is None or ngram_size is None:
            raise ModelError(
                "model.json features.max_length and features.ngram_size must be positive "
                f"integers (got {features.get('max_length')!r} and "
                f"{features.get('ngram_size')!r})"
            )
        dim = description.get("embedding_dim")
        shapes_ok = (
            embedding.shape == (len(vocabulary), dim)
            and weight.shape == (len(labels), dim)
            and bias.shape == (len(labels),)
        )
        if not shapes_ok:
            raise ModelError(
                f"weights do not match model.json: embedding {embedding.shape}, classifier "
                f"{weight.shape} + {bias.shape} for {len(vocabulary)} features, "
                f"{len(labels)} classes and embedding_dim {dim}"
            )
        return cls(
            labels=[str(label) for label in labels],
            vocabulary=vocabulary,
            embedding=embedding,
            weight=weight,
            bias=bias,
            max_length=max_length,
            ngram_size=ngram_size,
        )

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Class probabilities of each text (rows in text order, columns in label order)."""
        id_lists = [
            feature_ids(text, self.index, self.max_length, self.ngram_size) for text in texts
        ]
        lengths = np.fromiter((len(ids) for ids in id_lists), dtype=np.int64, count=len(texts))
        sums = np.zeros((len(texts), self.embedding.shape[1]), dtype=np.float32)
        nonempty = lengths > 0
        if nonempty.any():
            flat = np.fromiter(
                (i for ids in id_lists for i in ids), dtype=np.int64, count=int(lengths.sum())
            )
            starts = np.cumsum(lengths) - lengths
            # Segments of the texts with features; texts without any keep a zero row.
            sums[nonempty] = np.add.reduceat(self.embedding[flat], starts[nonempty], axis=0)
        means = sums / np.maximum(lengths, 1)[:, None].astype(np.float32)
        logits = means @ self.weight_t + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: npt.NDArray[np.float32] = exp / exp.sum(axis=1, keepdims=True)
        return result

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        predictions = []
        for row in self.probabilities(texts).tolist():
            best = max(range(len(row)), key=row.__getitem__)
            predictions.append(
                Prediction(
                    label=self.labels[best],
                    confidence=row[best],
                    probabilities=dict(zip(self.labels, row, strict=True)),
                )
            )
        return predictions


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelError(f"{path} does not exist: is the model directory mounted?") from error
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {path}: {error}") from error
