"""The training settings: what a config may say about training and tuning, the errors
a mistake gets (field path, line, value, what is allowed) and what the cost limits see."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_constructs.training import DEEPAR, TEXT_CLASSIFIER
from stacks.settings import ConfigError, load_settings, parse_settings
from stacks.settings.base import ResourceUsage

ROOT = Path(__file__).resolve().parents[3]

TEXT_CLASSIFIER_YAML = """\
name_prefix: demo
training:
  definitions:
    text-classifier:
      image: {source: asset}
      instance_type: ml.g5.xlarge
      gpu: true
      hyperparameters: {epochs: 3, learning_rate: 0.01, label_attribute: sentiment}
      channels:
        train:
          s3_key: labeling/job/manifests/output/output.manifest
          data_type: AugmentedManifestFile
          attribute_names: [source, sentiment, sentiment-metadata]
          input_mode: Pipe
          record_wrapper: RecordIO
      overridable:
        hyperparameters: [epochs]
        instance_types: [ml.g5.2xlarge]
"""
WHERE = "training.definitions['text-classifier']"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, source="test.yaml")
    return raised.value.problems


def test_a_definition_gets_documented_defaults_and_its_profile() -> None:
    settings = parse_settings(TEXT_CLASSIFIER_YAML)
    assert settings.training is not None
    definition = settings.training.definitions["text-classifier"]
    assert definition.profile is TEXT_CLASSIFIER
    assert definition.spot is True and definition.checkpoints is True
    assert definition.max_runtime_minutes == 240
    assert definition.model_package.approval == "PendingManualApproval"
    assert definition.string_hyperparameters() == {
        "epochs": "3",
        "learning_rate": "0.01",
        "label_attribute": "sentiment",
    }
    (channel,) = definition.to_channels()
    assert channel.read_prefix == "labeling/job/manifests/output/"
    assert settings.training.watches_data_bucket is False


def test_resource_usages_list_every_instance_type_a_run_may_use() -> None:
    settings = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert settings.training is not None
    usages = settings.training.resource_usages()
    assert (
        ResourceUsage(
            kind="training",
            path="training.definitions.text-classifier",
            instance_type="ml.g6.xlarge",
            instance_count=1,
            max_runtime_seconds=180 * 60,
        )
        in usages
    )
    assert (
        ResourceUsage(
            kind="tuning",
            path="training.tuning.deepar-demand-hpo",
            instance_type="ml.c5.4xlarge",
            instance_count=1,
            max_runtime_seconds=120 * 60,
            max_parallel_jobs=2,
        )
        in usages
    )
    assert {(u.kind, u.path.rsplit(".", 1)[1]) for u in usages} == {
        ("training", "text-classifier"),
        ("training", "deepar-demand"),
        ("tuning", "text-classifier-hpo"),
        ("tuning", "deepar-demand-hpo"),
    }
    assert len(usages) == 10  # three instance types for text, two for DeepAR, each twice
    assert settings.training.definitions["deepar-demand"].profile is DEEPAR
    assert settings.training.watches_data_bucket is True


def test_instance_types_are_checked_against_sagemakers_training_types() -> None:
    (problem,) = problems_of(TEXT_CLASSIFIER_YAML.replace("ml.g5.2xlarge", "ml.g5.mega"))
    assert problem.startswith(
        "training.definitions['text-classifier'].overridable.instance_types (line 18): "
        "must be a SageMaker training instance type; allowed: ml.c4.2xlarge, "
    )


def test_definition_mistakes_are_reported_together_each_at_its_field() -> None:
    text = (
        TEXT_CLASSIFIER_YAML.replace("instance_type: ml.g5.xlarge", "instance_type: ml.c5.xlarge")
        .replace("input_mode: Pipe", "input_mode: File")
        .replace("[source, sentiment, sentiment-metadata]", "[source, sentiment]")
        .replace("hyperparameters: [epochs]", "hyperparameters: [epochs, text_attribute]")
        + "      max_wait_minutes: 60\n      max_runtime_minutes: 120\n"
    )
    assert problems_of(text) == [
        f"{WHERE}.instance_type (line 6): instance type 'ml.c5.xlarge' has no NVIDIA GPU but "
        "the job needs one (gpu): use a GPU type such as ml.g5.xlarge or ml.g6.xlarge",
        f"{WHERE}.max_wait_minutes (line 19): max_wait must be at least max_runtime with spot "
        "training (got 3600 s < 7200 s)",
        f"{WHERE}.channels.train (line 10): channel 'train': SageMaker streams augmented "
        "manifests, so the channel's input mode must be Pipe (got File)",
        f"{WHERE}.channels.train (line 10): channel 'train': the kit's text classifier "
        "(containers/training) reads an augmented manifest's attributes ['source', "
        "'sentiment', 'sentiment-metadata'] (from its text_attribute and label_attribute "
        "hyperparameters), got attribute_names ['source', 'sentiment']",
        f"{WHERE}.overridable.hyperparameters (line 17): hyperparameters ['text_attribute'] "
        "name the augmented manifest's attributes, which the request fixes: they cannot be "
        "overridden while a channel is an augmented manifest",
    ]


def test_gpu_on_an_overridable_cpu_type_points_at_that_type() -> None:
    text = TEXT_CLASSIFIER_YAML.replace("[ml.g5.2xlarge]", "[ml.g5.2xlarge, ml.m5.xlarge]")
    assert problems_of(text) == [
        f"{WHERE}.overridable.instance_types[1] (line 18): instance type 'ml.m5.xlarge' has no "
        "NVIDIA GPU but the job needs one (gpu): use a GPU type such as ml.g5.xlarge or "
        "ml.g6.xlarge"
    ]


def test_images_switch_on_source() -> None:
    (problem,) = problems_of(
        TEXT_CLASSIFIER_YAML.replace("{source: asset}", "{source: builtin, algorithm: deepar}")
    )
    assert problem.startswith(
        "training.definitions['text-classifier'].image.algorithm (line 5): must be one of "
        "blazingtext, factorization-machines, forecasting-deepar,"
    )
    (problem,) = problems_of(TEXT_CLASSIFIER_YAML.replace("{source: asset}", "{source: ecr}"))
    assert problem == (
        "training.definitions['text-classifier'].image.source (line 5): got 'ecr'; allowed: "
        "'asset', 'uri', 'builtin'"
    )


def test_deepar_needs_its_hyperparameters_and_takes_no_metric_definitions() -> None:
    text = """\
name_prefix: demo
training:
  definitions:
    demand:
      image: {source: builtin, algorithm: forecasting-deepar}
      instance_type: ml.c5.2xlarge
      hyperparameters: {time_freq: D, epochs: 10}
      metric_definitions: {rmse: 'rmse=(\\S+)'}
      channels:
        train: {s3_key: demand/train/}
"""
    assert problems_of(text) == [
        "training.definitions.demand.hyperparameters (line 7): built-in algorithm "
        "forecasting-deepar needs the hyperparameter(s) ['context_length', 'prediction_length']",
        "training.definitions.demand.metric_definitions (line 8): metric_definitions are not "
        "allowed for built-in algorithm forecasting-deepar: SageMaker extracts its metrics "
        "itself (test:RMSE, test:mean_wQuantileLoss, train:final_loss)",
    ]


def test_tuning_mistakes_point_at_their_fields() -> None:
    text = (
        TEXT_CLASSIFIER_YAML
        + """\
  tuning:
    tc-hpo:
      training: text-classifier
      objective: {metric: validation:f1, type: Maximize}
      max_jobs: 4
      max_parallel_jobs: 8
      ranges:
        learning_rate: {kind: continuous, min: 0.1, max: 0.01}
        epochs: {kind: integer, min: 1, max: 50}
    other:
      training: missing
      objective: {metric: x, type: Minimize}
      ranges:
        batch_size: {kind: categorical, values: [32]}
"""
    )
    assert problems_of(text) == [
        "training.tuning['tc-hpo'].ranges.learning_rate (line 26): range 'learning_rate': min "
        "must be less than max (got 0.1 >= 0.01)",
        "training.tuning['tc-hpo'].objective.metric (line 22): objective metric "
        "'validation:f1' is not one of the job's metric definitions (epoch, train:loss, "
        "validation:loss, validation:accuracy, validation:macro_f1)",
        "training.tuning['tc-hpo'].max_parallel_jobs (line 24): max_parallel_jobs must be 1 to "
        "max_jobs (4) (got 8)",
        "training.tuning.other.training (line 29): 'missing' is not a training definition "
        "(defined: text-classifier)",
    ]


def test_empty_categorical_range_is_refused_on_the_field() -> None:
    text = TEXT_CLASSIFIER_YAML + (
        "  tuning:\n    hpo:\n      training: text-classifier\n"
        "      objective: {metric: validation:loss, type: Minimize}\n"
        "      ranges:\n        batch_size: {kind: categorical, values: []}\n"
    )
    (problem,) = problems_of(text)
    assert problem == (
        "training.tuning.hpo.ranges.batch_size.values (line 24): List should have at least "
        "1 item after validation, not 0 (got [])"
    )


def test_job_names_that_would_not_fit_ask_for_a_prefix() -> None:
    text = TEXT_CLASSIFIER_YAML.replace(
        "name_prefix: demo", "name_prefix: a-long-platform-name"
    ) + (
        "  tuning:\n    text-classifier-hpo:\n      training: text-classifier\n"
        "      objective: {metric: validation:loss, type: Minimize}\n"
        "      ranges:\n        batch_size: {kind: categorical, values: [32, 64]}\n"
    )
    assert problems_of(text) == [
        f"{WHERE} (line 4): job names would start with 'a-long-platform-name-text-classifier' "
        "(36 characters, at most 28 fit before the run's hash): set job_name_prefix",
        "training.tuning['text-classifier-hpo'] (line 20): tuning job names would start with "
        "'a-long-platform-name-text-classifier-hpo' (40 characters, SageMaker allows 32 in "
        "all, so at most 19): set job_name_prefix",
    ]


def test_new_data_trigger_must_feed_an_overridable_channel_under_its_prefix() -> None:
    text = TEXT_CLASSIFIER_YAML + (
        "      on_new_data: {prefix: elsewhere/, suffix: output.manifest, channel: train}\n"
    )
    assert problems_of(text) == [
        f"{WHERE}.on_new_data.channel (line 19): 'train' must be listed in overridable.channels"
    ]
    text = text.replace(
        "instance_types: [ml.g5.2xlarge]",
        "instance_types: [ml.g5.2xlarge]\n        channels: [train]",
    )
    assert problems_of(text) == [
        f"{WHERE}.on_new_data.prefix (line 20): 'elsewhere/' must be under channel 'train''s "
        "access prefix 'labeling/job/manifests/output/' (the job may read nothing else)"
    ]
