"""Loading the model directory the training image writes (containers/README.md, "Model
directory") and predicting with it.

The forward pass is the training model's, in numpy: the mean of the embeddings of the
text's known features (zero when it has none), one linear layer, softmax.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
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
        self.max_length = max_length
        self.ngram_size = ngram_size
        self.dimensions = embedding.shape[1]
        # The layer after the mean is linear, so mean(E[ids]) @ W.T == mean((E @ W.T)[ids]):
        # with no more classes than embedding dimensions, each feature's own logits (in
        # float64) make a smaller table than the embedding, and a request reads a few of
        # their short rows instead of wider embedding rows plus a matrix product.
        self._rows: npt.NDArray[np.floating[Any]]
        self._weight_t: npt.NDArray[np.float32] | None
        if len(self.labels) <= self.dimensions:
            self._rows = embedding.astype(np.float64) @ weight.T.astype(np.float64)
            self._weight_t = None
            self._bias: npt.NDArray[np.floating[Any]] = bias.astype(np.float64)
        else:
            self._rows = embedding
            self._weight_t = np.ascontiguousarray(weight.T)
            self._bias = bias

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

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.floating[Any]]:
        """Class probabilities of each text (rows in text order, columns in label order)."""
        id_lists = [
            feature_ids(text, self.index, self.max_length, self.ngram_size) for text in texts
        ]
        lengths = [len(ids) for ids in id_lists]
        # Few numpy calls: for one short text, each call costs more than its arithmetic.
        if all(lengths):
            flat = [i for ids in id_lists for i in ids]
            sums = np.add.reduceat(self._rows[flat], [0, *accumulate(lengths[:-1])], axis=0)
        else:
            # Texts without known features keep a zero row (their logits are the bias).
            sums = np.zeros((len(texts), self._rows.shape[1]), dtype=self._rows.dtype)
            rows = [row for row, length in enumerate(lengths) if length]
            if rows:
                kept = [lengths[row] for row in rows]
                flat = [i for row in rows for i in id_lists[row]]
                starts = [0, *accumulate(kept[:-1])]
                sums[rows] = np.add.reduceat(self._rows[flat], starts, axis=0)
        counts = np.array([max(length, 1) for length in lengths], dtype=sums.dtype)
        logits: npt.NDArray[np.floating[Any]] = sums / counts[:, None]
        if self._weight_t is not None:
            logits = logits @ self._weight_t
        logits += self._bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

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
