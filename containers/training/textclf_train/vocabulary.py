"""The model's vocabulary: the training texts' most frequent features."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .features import text_features
from .hyperparameters import Hyperparameters


def build_vocabulary(texts: Iterable[str], hp: Hyperparameters) -> list[str]:
    """Features seen at least `min_count` times, most frequent first (ties by name, so the
    same data always gives the same vocabulary), at most `max_vocab_size` of them."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text_features(text, hp.max_length, hp.ngram_size))
    kept = [(count, feature) for feature, count in counts.items() if count >= hp.min_count]
    kept.sort(key=lambda item: (-item[0], item[1]))
    return [feature for _, feature in kept[: hp.max_vocab_size]]
