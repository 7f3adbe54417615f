"""The model directory the training job leaves in /opt/ml/model (SageMaker uploads it as
model.tar.gz) and the serving image loads:

    model.json        format, classes in output order, feature settings, sizes, and how
                      the model was trained (hyperparameters, final metrics)
    vocabulary.json   the features, a JSON list: feature i is row i of the embedding
    weights.npz       numpy arrays: embedding (V x D), classifier_weight (C x D),
                      classifier_bias (C), all float32

Files are world-readable: the serving image runs as a non-root user.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .features import FEATURES_VERSION, NORMALIZATION, WORD_PATTERN
from .hyperparameters import Hyperparameters
from .model import TextClassifier

MODEL_FORMAT = "smkit-text-classifier"
MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.json"
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"


def write_model(
    model_dir: Path,
    model: TextClassifier,
    vocabulary: list[str],
    labels: list[str],
    hp: Hyperparameters,
    training: dict[str, Any],
) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    embedding = model.embedding.weight.detach().to("cpu", dtype=torch.float32).numpy()
    weight = model.classifier.weight.detach().to("cpu", dtype=torch.float32).numpy()
    bias = model.classifier.bias.detach().to("cpu", dtype=torch.float32).numpy()
    description = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "labels": labels,
        "features": {
            "version": FEATURES_VERSION,
            "normalization": NORMALIZATION,
            "word_pattern": WORD_PATTERN,
            "max_length": hp.max_length,
            "ngram_size": hp.ngram_size,
        },
        "vocabulary_size": len(vocabulary),
        "embedding_dim": hp.embedding_dim,
        "files": {"vocabulary": VOCABULARY_FILE, "weights": WEIGHTS_FILE},
        "training": training,
    }
    with (model_dir / WEIGHTS_FILE).open("wb") as handle:
        np.savez(handle, embedding=embedding, classifier_weight=weight, classifier_bias=bias)
    (model_dir / VOCABULARY_FILE).write_text(
        json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    (model_dir / MODEL_FILE).write_text(
        json.dumps(description, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    for name in (MODEL_FILE, VOCABULARY_FILE, WEIGHTS_FILE):
        (model_dir / name).chmod(0o644)
    model_dir.chmod(0o755)
