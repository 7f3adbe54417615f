"""What the kit knows about the algorithms it trains: their hyperparameters, channels
and metrics, so that a misspelt hyperparameter or an objective metric the algorithm
never emits fails at synth instead of hours into a paid job.

Two kinds of profile:

- the kit's own text classifier (`containers/training`), whose contract is fixed:
  hyperparameter names, channels `train` / `validation`, and metric lines
  `[metric] <name>=<value>` matched by the regexes `metric_regex` makes;
- SageMaker built-in algorithms (DeepAR, XGBoost...), whose metrics SageMaker itself
  extracts: a request must not carry MetricDefinitions for them. Their objective metrics
  and directions come from AWS's published tables (`builtin_metrics_data.py`, generated);
  what they need of instances and checkpoints from the algorithms' pages (cited below).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ..common.builtin_images_data import BUILTIN_IMAGES
from ..common.builtin_metrics_data import BUILTIN_OBJECTIVE_METRICS

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
    manifest_attributes: Callable[[Mapping[str, str]], list[str]] | None = None
    """For augmented-manifest channels: the AttributeNames the algorithm reads, given
    the job's hyperparameters. None: any."""
    manifest_record_wrapper: str | None = None
    """For augmented-manifest channels: the RecordWrapperType the algorithm reads."""
    manifest_hyperparameters: frozenset[str] = frozenset()
    """Hyperparameters that decide `manifest_attributes`."""
    metric_directions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Objective metric -> `Maximize` / `Minimize`, where AWS publishes it (built-ins)."""
    checkpointing: bool = True
    """It writes checkpoints to /opt/ml/checkpoints and resumes from them, so a managed
    spot job may wait for capacity longer than an hour (TRAIN-1)."""
    not_tunable: str | None = None
    """Why it cannot be tuned (no published objective metric); None where it can."""
    instance_class: Literal["gpu", "cpu"] | None = None
    """`gpu` / `cpu`: it trains only on NVIDIA GPU / only on CPU instances; None: either."""
    single_instance: bool = False
    """It trains on one instance only (instance_count 1)."""
    channel_distributions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Channel -> the only S3DataDistributionType it reads that channel with."""
    source: str | None = None
    """AWS's page of the algorithm, cited in messages."""

    def metric_channel(self, metric: str) -> str | None:
        """The channel without which a built-in never emits `metric`: built-ins name their
        metrics `<channel>:<name>` (`test:RMSE` is computed on the `test` channel)."""
        channel = metric.partition(":")[0]
        return channel if self.builtin and channel in ("train", "validation", "test") else None

    def metric_definitions(self) -> dict[str, str]:
        """MetricDefinitions (name -> regex) every job of this algorithm sends."""
        return {} if self.builtin else {name: metric_regex(name) for name in self.metrics}

    def problems(
        self,
        *,
        hyperparameters: Mapping[str, str],
        channels: Collection[str],
        metric_definitions: Collection[str] = (),
        manifests: Mapping[str, tuple[Sequence[str], str | None]] | None = None,
    ) -> list[str]:
        """What a job of this algorithm with these settings gets wrong.

        :param hyperparameters: Static hyperparameters (name -> value).
        :param manifests: Augmented-manifest channels -> (AttributeNames, RecordWrapperType).
        """
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
        if self.manifest_attributes is not None and manifests:
            expected = self.manifest_attributes(hyperparameters)
            for channel, (attributes, wrapper) in manifests.items():
                if list(attributes) != expected:
                    found.append(
                        f"channel {channel!r}: {self.name} reads an augmented manifest's "
                        f"attributes {expected} (from its text_attribute and label_attribute "
                        f"hyperparameters), got attribute_names {list(attributes)}"
                    )
                if wrapper != self.manifest_record_wrapper:
                    found.append(
                        f"channel {channel!r}: {self.name} reads augmented manifests with "
                        f"record_wrapper {self.manifest_record_wrapper} (got {wrapper})"
                    )
        return found

    def override_problems(
        self, overridable_hyperparameters: Collection[str], *, has_manifest: bool
    ) -> list[str]:
        """What is wrong with letting runs override these hyperparameters."""
        found = []
        if self.hyperparameters is not None:
            unknown = sorted(set(overridable_hyperparameters) - self.hyperparameters)
            if unknown:
                found.append(
                    f"overridable hyperparameters: {self.name} has no hyperparameter(s) {unknown}"
                )
        fixed = sorted(self.manifest_hyperparameters & set(overridable_hyperparameters))
        if has_manifest and fixed:
            found.append(
                f"hyperparameters {fixed} name the augmented manifest's attributes, which "
                "the request fixes: they cannot be overridden while a channel is an "
                "augmented manifest"
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
        "ngram_size",
        "min_count",
        "label_attribute",
        "text_attribute",
        "validation_fraction",
        "seed",
    }
)
# The text and label attributes the container reads when not set.
TEXT_ATTRIBUTE_DEFAULT = "source"
LABEL_ATTRIBUTE_DEFAULT = "label"


def _text_classifier_manifest(hyperparameters: Mapping[str, str]) -> list[str]:
    label = hyperparameters.get("label_attribute", LABEL_ATTRIBUTE_DEFAULT)
    text = hyperparameters.get("text_attribute", TEXT_ATTRIBUTE_DEFAULT)
    return [text, label, f"{label}-metadata"]


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
    manifest_attributes=_text_classifier_manifest,
    manifest_record_wrapper="RecordIO",
    manifest_hyperparameters=frozenset({"text_attribute", "label_attribute"}),
)
"""The kit's training container: a text classifier trained on JSON lines or Ground
Truth augmented manifests. An augmented manifest reaches it in Pipe mode as RecordIO
records of [text, label, label-metadata] (the metadata carries the class names)."""

# Built-ins that checkpoint, so that SageMaker lets their managed spot jobs wait longer than
# an hour (TRAIN-1, model-checkpoints page): Image Classification, Object Detection,
# Semantic Segmentation and XGBoost 0.90-1 or later (the kit pins 1.7-1).
CHECKPOINTING_BUILTINS = frozenset(
    {"image-classification", "object-detection", "semantic-segmentation", "xgboost"}
)
# TRAIN-8: what each built-in trains on, from its own page (docs.aws.amazon.com/sagemaker/
# latest/dg/<page>.html): GPU only (image-classification, object-detection,
# semantic-segmentation, seq-2-seq), CPU only (lda), one instance only (lda,
# semantic-segmentation, seq-2-seq).
_GPU_ONLY = frozenset(
    {"image-classification", "object-detection", "semantic-segmentation", "seq2seq"}
)
_CPU_ONLY = frozenset({"lda"})
_SINGLE_INSTANCE = frozenset({"lda", "semantic-segmentation", "seq2seq"})
# TRAIN-9 (randomcutforest page): its train channel must be sharded, its test channel not.
_DISTRIBUTIONS: Mapping[str, Mapping[str, str]] = {
    "randomcutforest": MappingProxyType({"train": "ShardedByS3Key", "test": "FullyReplicated"}),
}
DEVELOPER_GUIDE = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
_PAGES = {
    "forecasting-deepar": "deepar",
    "blazingtext": "blazingtext",
    "factorization-machines": "fact-machines",
    "image-classification": "image-classification",
    "ipinsights": "ip-insights",
    "kmeans": "k-means",
    "knn": "k-nearest-neighbors",
    "lda": "lda",
    "linear-learner": "linear-learner",
    "ntm": "ntm",
    "object-detection": "object-detection",
    "object2vec": "object2vec",
    "pca": "pca",
    "randomcutforest": "randomcutforest",
    "semantic-segmentation": "semantic-segmentation",
    "seq2seq": "seq-2-seq",
    "xgboost": "xgboost",
}


def _generic_builtin(algorithm: str) -> AlgorithmProfile:
    """What the kit knows of any built-in: its metrics (AWS's table), whether it
    checkpoints, what it trains on; any hyperparameter and channel name passes."""
    directions = BUILTIN_OBJECTIVE_METRICS.get(algorithm, {})
    return AlgorithmProfile(
        name=f"built-in algorithm {algorithm}",
        hyperparameters=None,
        metrics=tuple(directions),
        builtin=True,
        metric_directions=MappingProxyType(dict(directions)),
        checkpointing=algorithm in CHECKPOINTING_BUILTINS,
        not_tunable=(
            None
            if directions
            else f"AWS publishes no objective metric for built-in algorithm {algorithm} "
            "(its documentation has no tuning page)"
        ),
        instance_class=(
            "gpu" if algorithm in _GPU_ONLY else "cpu" if algorithm in _CPU_ONLY else None
        ),
        single_instance=algorithm in _SINGLE_INSTANCE,
        channel_distributions=_DISTRIBUTIONS.get(algorithm, MappingProxyType({})),
        source=f"{DEVELOPER_GUIDE}{_PAGES.get(algorithm, algorithm)}.html",
    )


_DEEPAR_BASE = _generic_builtin("forecasting-deepar")
DEEPAR = dataclasses.replace(
    _DEEPAR_BASE,
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
)
"""SageMaker's DeepAR forecasting algorithm: `train` channel required, `test`
optional (and needed for the `test:` metrics). It cannot checkpoint."""

BUILTIN_PROFILES: Mapping[str, AlgorithmProfile] = MappingProxyType(
    {
        **{name: _generic_builtin(name) for name in sorted(BUILTIN_IMAGES)},
        "forecasting-deepar": DEEPAR,
    }
)
"""Profiles of every built-in algorithm the kit runs, by algorithm name."""


def builtin_profile(algorithm: str) -> AlgorithmProfile:
    """The profile of a built-in algorithm the kit runs (`BUILTIN_IMAGES`)."""
    return BUILTIN_PROFILES.get(algorithm) or _generic_builtin(algorithm)
