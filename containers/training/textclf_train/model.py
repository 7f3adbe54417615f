"""The classifier: the mean of the text's feature embeddings, then one linear layer (a
fastText-style bag of word n-grams). Small, fast on CPU and GPU, and exactly reproducible
by the serving image's numpy code from the saved weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class TextClassifier(nn.Module):
    def __init__(self, vocabulary_size: int, embedding_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocabulary_size, embedding_dim, mode="mean")
        self.classifier = nn.Linear(embedding_dim, num_classes)
        # Small initial embeddings: the mean of many unit-variance vectors would start
        # every text near the same point with a large norm.
        nn.init.uniform_(self.embedding.weight, -0.5 / embedding_dim, 0.5 / embedding_dim)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.embedding(ids, offsets))
        return logits


def encode_batch(
    id_lists: Sequence[Sequence[int]], indices: Sequence[int], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """EmbeddingBag's input for some texts: all their feature ids in one flat tensor and
    the offset where each text starts (a text without known features is an empty bag,
    whose embedding is zero)."""
    flat: list[int] = []
    offsets: list[int] = []
    for index in indices:
        offsets.append(len(flat))
        flat.extend(id_lists[index])
    return (
        torch.tensor(flat, dtype=torch.long, device=device),
        torch.tensor(offsets, dtype=torch.long, device=device),
    )
