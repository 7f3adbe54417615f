"""GPU training and hyperparameter tuning: the training job definition (role and full
CreateTrainingJob request), the training and tuning workflows (Step Functions), and
the model registry they register models in."""

from .algorithms import (
    BUILTIN_PROFILES,
    DEEPAR,
    TEXT_CLASSIFIER,
    AlgorithmProfile,
    builtin_profile,
    metric_regex,
)
from .job import JsonPath, TrainingChannel, TrainingJob
from .overrides import InputCheck, OverridePolicy
from .steps import ModelPackageSpec, NewDataTrigger
from .tuning import CategoricalRange, ContinuousRange, IntegerRange, Range, TuningWorkflow
from .workflow import TrainingWorkflow

__all__ = [
    "BUILTIN_PROFILES",
    "DEEPAR",
    "TEXT_CLASSIFIER",
    "AlgorithmProfile",
    "CategoricalRange",
    "ContinuousRange",
    "InputCheck",
    "IntegerRange",
    "JsonPath",
    "ModelPackageSpec",
    "NewDataTrigger",
    "OverridePolicy",
    "Range",
    "TrainingChannel",
    "TrainingJob",
    "TrainingWorkflow",
    "TuningWorkflow",
    "builtin_profile",
    "metric_regex",
]
