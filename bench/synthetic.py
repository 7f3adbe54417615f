"""A synthetic labelled text dataset and SageMaker job folders for the benchmarks."""

from __future__ import annotations

import json
import random
from pathlib import Path


def vocabulary(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(count)]


def examples(count: int, classes: int = 8, seed: int = 0) -> list[tuple[str, str]]:
    """(text, label): 12 to 40 words each, a third of them from the class's own words."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, no secret)
    topic_words = {f"class-{c:02d}": vocabulary(rng, 300) for c in range(classes)}
    filler = vocabulary(rng, 3000)
    labels = sorted(topic_words)
    pairs = []
    for _ in range(count):
        label = rng.choice(labels)
        length = rng.randint(12, 40)
        words = [
            rng.choice(topic_words[label]) if rng.random() < 0.33 else rng.choice(filler)
            for _ in range(length)
        ]
        pairs.append((" ".join(words), label))
    return pairs


def write_job(
    base: Path,
    train: list[tuple[str, str]],
    validation: list[tuple[str, str]],
    hyperparameters: dict[str, object],
) -> Path:
    """A /opt/ml tree: train and validation channels as JSON lines, hyperparameters."""
    for channel, pairs in (("train", train), ("validation", validation)):
        folder = base / "input" / "data" / channel
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "data.jsonl").open("w", encoding="utf-8") as handle:
            for text, label in pairs:
                handle.write(json.dumps({"source": text, "label": label}) + "\n")
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({key: str(value) for key, value in hyperparameters.items()})
    )
    return base
