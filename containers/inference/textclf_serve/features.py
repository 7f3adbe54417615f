"""How a text becomes the model's features. The training and the serving image each carry
this file, byte for byte the same (a test compares them): a model only means what it
meant at training time if both sides cut text into the same features.

A text is normalised (Unicode NFKC, then case-folded), cut into word tokens (runs of
letters, digits and underscores), truncated to `max_length` tokens, and expanded into
word n-grams from 1 to `ngram_size` (n-grams joined by one space). Features that the
vocabulary does not know are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from itertools import islice, pairwise

FEATURES_VERSION = 1
WORD_PATTERN = r"\w+"
NORMALIZATION = "NFKC+casefold"

_TOKEN = re.compile(WORD_PATTERN)
# Up to this many characters per wanted token, tokenize lets findall collect every token.
_FINDALL_CHARS_PER_TOKEN = 64


def tokenize(text: str, max_length: int) -> list[str]:
    """The first `max_length` word tokens of the normalised text."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    if len(normalized) <= _FINDALL_CHARS_PER_TOKEN * max_length:
        # findall runs in C; on a text this short, the tokens past max_length it also
        # collects cost less than a Python step per token.
        return _TOKEN.findall(normalized)[:max_length]
    return [match.group() for match in islice(_TOKEN.finditer(normalized), max_length)]


def text_features(text: str, max_length: int, ngram_size: int) -> list[str]:
    """The text's features: its tokens, then its word n-grams up to `ngram_size`."""
    tokens = tokenize(text, max_length)
    features = list(tokens)
    if ngram_size >= 2:
        features.extend(map(" ".join, pairwise(tokens)))
    for n in range(3, ngram_size + 1):
        features.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return features


def feature_ids(
    text: str, vocabulary: Mapping[str, int], max_length: int, ngram_size: int
) -> list[int]:
    """The vocabulary ids of the text's known features, in order, repeats kept."""
    return [
        index
        for index in map(vocabulary.get, text_features(text, max_length, ngram_size))
        if index is not None
    ]
