"""Both images cut text into features with the same code: they carry one file twice (each
image's build context is its own folder), and the copies must not drift apart."""

from __future__ import annotations

import textclf_serve.features as serving
import textclf_train.features as training

from tests.containers.conftest import INFERENCE, TRAINING


def test_training_and_serving_carry_the_same_features_file() -> None:
    assert (TRAINING / "textclf_train" / "features.py").read_bytes() == (
        INFERENCE / "textclf_serve" / "features.py"
    ).read_bytes()


def test_features_of_a_text() -> None:
    text = "\uff34\uff48\uff45  PARCEL, the parcel!"  # "The" in full-width letters
    assert training.text_features(text, max_length=3, ngram_size=2) == [
        "the",
        "parcel",
        "the",
        "the parcel",
        "parcel the",
    ]
    vocabulary = {"parcel": 0, "the parcel": 1}
    assert serving.feature_ids(text, vocabulary, max_length=100, ngram_size=3) == [0, 0, 1, 1]
