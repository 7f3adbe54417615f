"""GPU training and hyperparameter tuning: the training job definition (role and full
CreateTrainingJob request), the training and tuning workflows (Step Functions), and
the model registry they register models in.

Names are imported on first use: the settings model checks configs with the rules in
`algorithms`, `job_rules` and `tuning_rules`, which must not load aws-cdk-lib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_MODULES = {
    "BUILTIN_PROFILES": "algorithms",
    "DEEPAR": "algorithms",
    "TEXT_CLASSIFIER": "algorithms",
    "AlgorithmProfile": "algorithms",
    "builtin_profile": "algorithms",
    "metric_regex": "algorithms",
    "JsonPath": "job_rules",
    "TrainingChannel": "job_rules",
    "TrainingJob": "job",
    "InputCheck": "overrides",
    "OverridePolicy": "overrides",
    "ModelPackageSpec": "steps",
    "NewDataTrigger": "steps",
    "CategoricalRange": "tuning_rules",
    "ContinuousRange": "tuning_rules",
    "IntegerRange": "tuning_rules",
    "Range": "tuning_rules",
    "TuningWorkflow": "tuning",
    "TrainingWorkflow": "workflow",
}

__all__ = sorted(_MODULES)

__getattr__ = lazy_exports(__name__, _MODULES)


if TYPE_CHECKING:
    from .algorithms import BUILTIN_PROFILES as BUILTIN_PROFILES
    from .algorithms import DEEPAR as DEEPAR
    from .algorithms import TEXT_CLASSIFIER as TEXT_CLASSIFIER
    from .algorithms import AlgorithmProfile as AlgorithmProfile
    from .algorithms import builtin_profile as builtin_profile
    from .algorithms import metric_regex as metric_regex
    from .job import TrainingJob as TrainingJob
    from .job_rules import JsonPath as JsonPath
    from .job_rules import TrainingChannel as TrainingChannel
    from .overrides import InputCheck as InputCheck
    from .overrides import OverridePolicy as OverridePolicy
    from .steps import ModelPackageSpec as ModelPackageSpec
    from .steps import NewDataTrigger as NewDataTrigger
    from .tuning import TuningWorkflow as TuningWorkflow
    from .tuning_rules import CategoricalRange as CategoricalRange
    from .tuning_rules import ContinuousRange as ContinuousRange
    from .tuning_rules import IntegerRange as IntegerRange
    from .tuning_rules import Range as Range
    from .workflow import TrainingWorkflow as TrainingWorkflow
