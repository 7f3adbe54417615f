"""What the kit knows about the algorithms it trains: their hyperparameters, channels
and metrics, so that a misspelt hyperparameter or an objective metric the algorithm
never emits fails at synth instead of hours into a paid job.

Two kinds of profile:

- the kit's own text classifier (`containers/training`), whose contract is fixed:
  hyperparameter names, channels `train` / `validation`, and metric lines
  `[metric] <name>=<value>` matched by the regexes `metric_regex` makes;
- SageMaker built-in algorithms (DeepAR...), whose metrics SageMaker itself
  extracts: a request must not carry MetricDefinitions for them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The value part of a metric line: a float as Python prints it, or nan.
METRIC_VALUE = r"([-+0-9.eE]+|nan)"


def metric_regex(name: str) -> str:
    """The MetricDefinitions regex of one metric the kit's containers print as
    `[metric] <name>=<value>`."""
    return r"\[metric\] " + re.escape(name) + "=" + METRIC_VALUE


@dataclass(frozen=True)
class AlgorithmProfile:
    """The contract of one training algorithm, as far as synth-time checks need it."""

    name: str
    """How messages name the algorithm."""
    hyperparameters: frozenset[str] | None
    """Hyperparameter names it accepts; None where any name is accepted."""
    required_hyperparameters: frozenset[str] = frozenset()
    """Hyperparameters that must be set (statically or by a tuning range)."""
    channels: frozenset[str] | None = None
    """Channel names it reads; None where any name is accepted."""
    required_channels: frozenset[str] = frozenset()
    """Channels every job needs."""
    metrics: tuple[str, ...] = ()
    """Metrics it emits (possible tuning objectives)."""
    builtin: bool = False
    """A SageMaker built-in algorithm: SageMaker extracts its metrics and refuses
    MetricDefinitions in the request."""
    metric_channels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Metric-name prefix -> channel without which those metrics are never emitted."""

    def metric_definitions(self) -> dict[str, str]:
        """MetricDefinitions (name -> regex) every job of this algorithm sends."""
        return {} if self.builtin else {name: metric_regex(name) for name in self.metrics}

    def problems(
        self,
        *,
        hyperparameters: Collection[str],
        channels: Collection[str],
        metric_definitions: Collection[str] = (),
    ) -> list[str]:
        """What a job of this algorithm with these settings gets wrong."""
        found = []
        missing_channels = sorted(self.required_channels - set(channels))
        if missing_channels:
            found.append(f"{self.name} needs the channel(s) {missing_channels}")
        if self.channels is not None and set(channels) - self.channels:
            found.append(
                f"{self.name} reads only the channels {sorted(self.channels)} "
                f"(got {sorted(set(channels) - self.channels)})"
            )
        if self.hyperparameters is not None:
            unknown = sorted(set(hyperparameters) - self.hyperparameters)
            if unknown:
                found.append(
                    f"{self.name} has no hyperparameter(s) {unknown}; known: "
                    f"{', '.join(sorted(self.hyperparameters))}"
                )
        missing = sorted(self.required_hyperparameters - set(hyperparameters))
        if missing:
            found.append(f"{self.name} needs the hyperparameter(s) {missing}")
        if self.builtin and metric_definitions:
            found.append(
                f"metric_definitions are not allowed for {self.name}: SageMaker extracts its "
                f"metrics itself ({', '.join(self.metrics) or 'see its documentation'})"
            )
        return found


TEXT_CLASSIFIER_HYPERPARAMETERS = frozenset(
    {
        "epochs",
        "learning_rate",
        "batch_size",
        "embedding_dim",
        "max_vocab_size",
        "max_length",
        "label_attribute",
        "text_attribute",
        "validation_fraction",
        "seed",
    }
)
TEXT_CLASSIFIER_METRICS = (
    "epoch",
    "train:loss",
    "validation:loss",
    "validation:accuracy",
    "validation:macro_f1",
)

TEXT_CLASSIFIER = AlgorithmProfile(
    name="the kit's text classifier (containers/training)",
    hyperparameters=TEXT_CLASSIFIER_HYPERPARAMETERS,
    channels=frozenset({"train", "validation"}),
    required_channels=frozenset({"train"}),
    metrics=TEXT_CLASSIFIER_METRICS,
)
"""The kit's training container: a text classifier trained on JSON lines or Ground
Truth augmented manifests."""

DEEPAR = AlgorithmProfile(
    name="built-in algorithm forecasting-deepar",
    hyperparameters=frozenset(
        {
            "time_freq",
            "prediction_length",
            "context_length",
            "epochs",
            "cardinality",
            "dropout_rate",
            "early_stopping_patience",
            "embedding_dimension",
            "learning_rate",
            "likelihood",
            "mini_batch_size",
            "num_cells",
            "num_dynamic_feat",
            "num_eval_samples",
            "num_layers",
            "test_quantiles",
        }
    ),
    required_hyperparameters=frozenset(
        {"time_freq", "prediction_length", "context_length", "epochs"}
    ),
    channels=frozenset({"train", "test"}),
    required_channels=frozenset({"train"}),
    metrics=("test:RMSE", "test:mean_wQuantileLoss", "train:final_loss"),
    builtin=True,
    metric_channels=MappingProxyType({"test:": "test"}),
)
"""SageMaker's DeepAR forecasting algorithm: `train` channel required, `test`
optional (and needed for the `test:` metrics)."""

BUILTIN_PROFILES: Mapping[str, AlgorithmProfile] = MappingProxyType({"forecasting-deepar": DEEPAR})
"""Profiles of the built-in algorithms the kit knows, by algorithm name."""


def builtin_profile(algorithm: str) -> AlgorithmProfile:
    """The profile of a built-in algorithm; for one the kit has no table of, a profile
    that accepts any hyperparameter and channel but still refuses MetricDefinitions."""
    return BUILTIN_PROFILES.get(algorithm) or AlgorithmProfile(
        name=f"built-in algorithm {algorithm}", hyperparameters=None, builtin=True
    )
