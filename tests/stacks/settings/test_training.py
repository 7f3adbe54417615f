"""The training settings: what a config may say about training and tuning, the errors
a mistake gets (field path, line, value, what is allowed) and what the cost limits see."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_constructs.common.builtin_images_data import BUILTIN_IMAGES
from sagemaker_constructs.training import DEEPAR, TEXT_CLASSIFIER, builtin_profile
from sagemaker_constructs.training.tuning_rules import objective_direction
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
    assert definition.spot is None and definition.checkpoints is None
    assert definition.uses_spot is True and definition.uses_checkpoints is True
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
            spot=True,
            overridable=True,
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
            max_jobs=10,
            spot=False,  # DeepAR cannot checkpoint: it trains on demand (TRAIN-1)
            overridable=True,
        )
        in usages
    )
    # The definition's own instance type is the one a run uses unless it picks another.
    assert [u.instance_type for u in usages if u.kind == "training" and not u.overridable] == [
        "ml.g5.xlarge",
        "ml.c5.2xlarge",
    ]
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


def builtin_yaml(algorithm: str, extra: str = "", channels: str = "train, validation") -> str:
    """A one-definition config of a built-in algorithm; `extra` lines follow its keys."""
    listed = "".join(f"        {c}: {{s3_key: data/{c}/}}\n" for c in channels.split(", "))
    return (
        "name_prefix: demo\ntraining:\n  definitions:\n    algo:\n"
        f"      image: {{source: builtin, algorithm: {algorithm}}}\n"
        "      instance_type: ml.g5.xlarge\n"
        f"      channels:\n{listed}{extra}"
    )


DEEPAR_YAML = """\
name_prefix: demo
training:
  definitions:
    demand:
      image: {source: builtin, algorithm: forecasting-deepar}
      instance_type: ml.c5.2xlarge
      hyperparameters: {time_freq: D, prediction_length: 14, context_length: 28, epochs: 10}
      channels:
        train: {s3_key: demand/train/}
        test: {s3_key: demand/test/}
"""


def test_spot_without_checkpoints_is_off_by_default_and_refused_above_an_hour() -> None:
    # TRAIN-1: DeepAR cannot checkpoint, so its jobs run on demand unless spot fits an hour.
    settings = parse_settings(DEEPAR_YAML)
    assert settings.training is not None
    deepar = settings.training.definitions["demand"]
    assert deepar.uses_spot is False and deepar.uses_checkpoints is False
    assert problems_of(DEEPAR_YAML + "      spot: true\n") == [
        "training.definitions.demand.spot (line 11): built-in algorithm forecasting-deepar "
        "cannot checkpoint, so SageMaker refuses managed spot training with a max_wait above "
        "60 minutes for it, and max_wait must cover max_runtime (got max_runtime 240 "
        "minutes): turn spot off (its default for this algorithm), or keep max_runtime and "
        "max_wait at most 60 minutes"
    ]
    assert problems_of(
        DEEPAR_YAML
        + "      spot: true\n      max_runtime_minutes: 45\n      max_wait_minutes: 90\n"
    ) == [
        "training.definitions.demand.max_wait_minutes (line 13): built-in algorithm "
        "forecasting-deepar cannot checkpoint, so SageMaker refuses managed spot training "
        "with a max_wait above 60 minutes for it, and max_wait must cover max_runtime (got "
        "max_wait 90 minutes): turn spot off (its default for this algorithm), or keep "
        "max_runtime and max_wait at most 60 minutes"
    ]
    short = parse_settings(DEEPAR_YAML + "      spot: true\n      max_runtime_minutes: 45\n")
    assert short.training is not None and short.training.definitions["demand"].uses_spot
    # XGBoost (1.7-1) checkpoints: spot by default, any wait up to 28 days.
    xgboost = parse_settings(builtin_yaml("xgboost", "      max_wait_minutes: 2880\n"))
    assert xgboost.training is not None
    assert xgboost.training.definitions["algo"].uses_spot is True
    assert xgboost.training.definitions["algo"].uses_checkpoints is True


def test_the_full_examples_deepar_runs_on_demand_for_training_and_tuning() -> None:
    settings = load_settings(ROOT / "config" / "examples" / "full.yaml")
    assert settings.training is not None
    deepar = settings.training.definitions["deepar-demand"]
    assert deepar.uses_spot is False and deepar.uses_checkpoints is False
    assert settings.training.tuning["deepar-demand-hpo"].training == "deepar-demand"


def test_builtin_objectives_are_the_metrics_aws_publishes_with_their_direction() -> None:
    tuning = (
        "  tuning:\n    hpo:\n      training: algo\n"
        "      objective: {metric: validation:auc}\n"
        "      ranges:\n        eta: {kind: continuous, min: 0.1, max: 0.5}\n"
    )
    # TRAIN-5/6: xgboost tunes now; the direction defaults to AWS's.
    settings = parse_settings(builtin_yaml("xgboost", tuning))
    assert settings.training is not None
    assert settings.training.tuning["hpo"].objective.type is None
    assert problems_of(
        builtin_yaml(
            "xgboost", tuning.replace("validation:auc}", "validation:auc, type: Minimize}")
        )
    ) == [
        "training.tuning.hpo.objective.type (line 13): built-in algorithm xgboost's metric "
        "'validation:auc' is to maximize (AWS's table of its metrics), not to minimize: set "
        "type Maximize or leave it out"
    ]
    assert problems_of(builtin_yaml("xgboost", tuning.replace("validation:auc", "test:auc"))) == [
        "training.tuning.hpo.objective.metric (line 13): objective metric 'test:auc' is not one "
        "built-in algorithm xgboost emits; choose one of validation:accuracy, validation:auc, "
        "validation:error, validation:f1, validation:logloss, validation:mae, validation:map, "
        "validation:merror, validation:mlogloss, validation:mse, validation:ndcg, "
        "validation:rmse"
    ]
    # TRAIN-7: validation metrics need the validation channel.
    assert problems_of(builtin_yaml("xgboost", tuning, channels="train")) == [
        "training.tuning.hpo.objective.metric (line 12): objective metric 'validation:auc' is "
        "computed on the 'validation' channel, which the job does not have (channels: "
        "['train'])"
    ]
    # TRAIN-5: a built-in without published metrics is refused with the reason.
    assert problems_of(builtin_yaml("pca", tuning.replace("validation:auc", "test:loss"))) == [
        "training.tuning.hpo.objective.metric (line 13): AWS publishes no objective metric for "
        "built-in algorithm pca (its documentation has no tuning page): it cannot be tuned"
    ]
    # Other metrics need their direction.
    assert problems_of(
        TEXT_CLASSIFIER_YAML + "  tuning:\n    hpo:\n      training: text-classifier\n"
        "      objective: {metric: validation:loss}\n"
        "      ranges:\n        epochs: {kind: integer, min: 1, max: 4}\n"
    ) == [
        "training.tuning.hpo.objective.type (line 22): objective type is required for "
        "'validation:loss' (Maximize or Minimize): the kit knows the direction of built-in "
        "algorithms' metrics only"
    ]


@pytest.mark.parametrize("algorithm", sorted(BUILTIN_IMAGES))
def test_every_builtin_the_kit_runs_can_be_tuned_or_says_why(algorithm: str) -> None:
    profile = builtin_profile(algorithm)
    if profile.not_tunable is not None:
        assert algorithm == "pca"
        return
    for metric, direction in profile.metric_directions.items():
        channel = metric.partition(":")[0]
        objective = f"{{metric: '{metric}'}}"
        text = builtin_yaml(
            algorithm,
            "  tuning:\n    hpo:\n      training: algo\n"
            f"      objective: {objective}\n"
            "      ranges:\n        num_cells: {kind: integer, min: 1, max: 4}\n",
            channels="train" if channel == "train" else f"train, {channel}",
        )
        if algorithm == "lda":
            text = text.replace("ml.g5.xlarge", "ml.c5.xlarge")
        if algorithm == "forecasting-deepar":
            text = text.replace(
                "      channels:",
                "      hyperparameters: {time_freq: D, prediction_length: 7, context_length: 7, "
                "epochs: 5}\n      channels:",
            )
        if algorithm == "randomcutforest":
            text = text.replace(
                "train: {s3_key: data/train/}",
                "train: {s3_key: data/train/, distribution: ShardedByS3Key}",
            )
        settings = parse_settings(text)
        assert settings.training is not None
        assert objective_direction(profile, metric) == direction


def test_tuning_limits_are_refused_at_their_fields() -> None:
    ranges = "".join(f"        h{i}: {{kind: integer, min: 1, max: 4}}\n" for i in range(31))
    text = TEXT_CLASSIFIER_YAML + (
        "  tuning:\n    hpo:\n      training: text-classifier\n"
        "      objective: {metric: validation:loss, type: Minimize}\n"
        "      max_jobs: 751\n      max_parallel_jobs: 101\n"
        f"      ranges:\n{ranges}"
    )
    problems = problems_of(text)
    assert problems[:1] == [
        "training.tuning.hpo.ranges (line 25): a tuning job searches at most 30 hyperparameters "
        "in all (got 31): fix the others as static hyperparameters of the training definition"
    ]
    assert (
        "training.tuning.hpo.max_jobs (line 23): a Bayesian tuning job runs at most 750 "
        "training jobs (got 751)"
    ) in problems
    assert (
        "training.tuning.hpo.max_parallel_jobs (line 24): a tuning job runs at most 100 "
        "training jobs at once (got 101; the default quota is 10)"
    ) in problems
    random = text.replace("max_jobs: 751", "max_jobs: 10001\n      strategy: Random")
    assert (
        "training.tuning.hpo.max_jobs (line 23): a Random tuning job runs at most 10000 "
        "training jobs (got 10001)"
    ) in problems_of(random)
    (runtime,) = problems_of(
        TEXT_CLASSIFIER_YAML + "  tuning:\n    hpo:\n      training: text-classifier\n"
        "      objective: {metric: validation:loss, type: Minimize}\n"
        "      max_runtime_minutes: 43201\n"
        "      ranges:\n        epochs: {kind: integer, min: 1, max: 4}\n"
    )
    assert runtime.startswith(
        "training.tuning.hpo.max_runtime_minutes (line 23): Input should be less than or equal "
        "to 43200"
    )
    metrics = "".join(f"        m{i}: 'm{i}=(\\S+)'\n" for i in range(16))
    (too_many,) = problems_of(
        TEXT_CLASSIFIER_YAML
        + f"      metric_definitions:\n{metrics}"
        + "  tuning:\n    hpo:\n      training: text-classifier\n"
        "      objective: {metric: m1, type: Minimize}\n"
        "      ranges:\n        epochs: {kind: integer, min: 1, max: 4}\n"
    )
    assert too_many == (
        "training.tuning.hpo (line 37): a tuning job takes at most 20 metric definitions; the "
        "training definition has 21 (its own and its algorithm's): remove some of its "
        "metric_definitions"
    )


HYPERBAND = (
    "  tuning:\n    hpo:\n      training: text-classifier\n"
    "      objective: {metric: validation:loss, type: Minimize}\n"
    "      strategy: Hyperband\n"
    "      ranges:\n        learning_rate: {kind: continuous, min: 0.001, max: 0.1}\n"
)


def test_hyperband_needs_a_max_resource_runs_cannot_change() -> None:
    # TRAIN-15: inferred from the static epochs (3), which the run may override here.
    assert problems_of(TEXT_CLASSIFIER_YAML + HYPERBAND) == [
        "training.tuning.hpo.hyperband.max_resource (line 20): Hyperband reads max_resource "
        "from hyperparameter epochs, which a run may override, so a run could set a value "
        "SageMaker refuses: set hyperband.max_resource, or take epochs off "
        "overridable.hyperparameters"
    ]
    fixed = TEXT_CLASSIFIER_YAML.replace("hyperparameters: [epochs]", "hyperparameters: []")
    assert parse_settings(fixed + HYPERBAND).training is not None
    no_epochs = fixed.replace("epochs: 3, ", "")
    assert problems_of(no_epochs + HYPERBAND) == [
        "training.tuning.hpo.hyperband.max_resource (line 20): Hyperband needs max_resource, "
        "or a static hyperparameter it reads it from (epochs, numepochs, n-epochs, n_epochs, "
        "num_epochs; tuned ones do not count): set hyperband.max_resource"
    ]
    assert problems_of(no_epochs + HYPERBAND + "      hyperband: {max_resource: 20001}\n") == [
        "training.tuning.hpo.hyperband.max_resource (line 26): hyperband max_resource is at "
        "most 20000 (got 20001)"
    ]
    assert parse_settings(
        TEXT_CLASSIFIER_YAML + HYPERBAND + "      hyperband: {max_resource: 20}\n"
    )


def test_builtins_instance_classes_cover_the_types_a_run_may_choose() -> None:
    # TRAIN-8: image-classification trains on GPUs only, also for a run's instance_type.
    text = builtin_yaml(
        "image-classification", "      overridable:\n        instance_types: [ml.c5.xlarge]\n"
    )
    assert problems_of(text) == [
        "training.definitions.algo.overridable.instance_types[0] (line 11): built-in algorithm "
        "image-classification trains only on NVIDIA GPU instances (got 'ml.c5.xlarge'; see "
        "https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html): use a GPU "
        "type such as ml.g5.xlarge"
    ]
    assert problems_of(builtin_yaml("lda", "      instance_count: 2\n", channels="train")) == [
        "training.definitions.algo.instance_type (line 6): built-in algorithm lda trains only "
        "on CPU instances (got 'ml.g5.xlarge'; see "
        "https://docs.aws.amazon.com/sagemaker/latest/dg/lda.html): use a CPU type such as "
        "ml.c5.xlarge",
        "training.definitions.algo.instance_count (line 9): built-in algorithm lda trains on "
        "one instance only (got instance_count 2; see "
        "https://docs.aws.amazon.com/sagemaker/latest/dg/lda.html): set instance_count to 1",
    ]


def test_random_cut_forest_reads_train_sharded_and_test_replicated() -> None:
    # TRAIN-9
    text = builtin_yaml("randomcutforest", "", channels="train, test").replace(
        "ml.g5.xlarge", "ml.c5.xlarge"
    )
    assert problems_of(text) == [
        "training.definitions.algo.channels.train.distribution (line 8): built-in algorithm "
        "randomcutforest "
        "reads channel 'train' only with distribution ShardedByS3Key (got FullyReplicated; "
        "see https://docs.aws.amazon.com/sagemaker/latest/dg/randomcutforest.html)"
    ]
    sharded = text.replace(
        "train: {s3_key: data/train/}", "train: {s3_key: data/train/, distribution: ShardedByS3Key}"
    )
    assert parse_settings(sharded).training is not None


def test_tuning_usages_give_the_job_count_and_the_tuning_limit() -> None:
    settings = parse_settings(
        TEXT_CLASSIFIER_YAML
        + """\
  tuning:
    grid:
      training: text-classifier
      objective: {metric: "validation:macro_f1", type: Maximize}
      strategy: Grid
      max_jobs: null
      max_runtime_minutes: 90
      ranges:
        learning_rate: {kind: categorical, values: [0.1, 0.01, 0.001]}
        batch_size: {kind: categorical, values: [32, 64]}
"""
    )
    assert settings.training is not None
    tuning = [u for u in settings.training.resource_usages() if u.kind == "tuning"]
    # A grid search runs every combination: 3 x 2 jobs.
    assert [(u.instance_type, u.max_jobs, u.max_tuning_seconds, u.overridable) for u in tuning] == [
        ("ml.g5.xlarge", 6, 90 * 60, False),
        ("ml.g5.2xlarge", 6, 90 * 60, True),
    ]
