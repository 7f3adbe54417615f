"""Settings of Model Monitor on an endpoint (`inference.endpoints.<key>.monitoring`): a
data-quality baseline run by a workflow, a monitoring schedule over the captured data,
and an alarm on violations; model quality of a classifier against the labels people give
in an auto-labeling workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sagemaker_constructs.common.instance_types import PROCESSING_INSTANCE_TYPES, describe_allowed
from sagemaker_constructs.inference.monitoring_rules import (
    MAX_OFFSET_HOURS,
    schedule_problems,
    window_problems,
)

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, _matches

if TYPE_CHECKING:
    from .inference import InferenceSettings
    from .labeling import LabelingSettings

S3Key = Annotated[
    str,
    _matches(
        r"(?!/)[A-Za-z0-9_.\-/=+@,:]+",
        "must be an S3 key or key prefix of letters, digits and _ . - / = + @ , : "
        "(no leading '/', no wildcards)",
    ),
]


def _processing_type(value: str) -> str:
    if value not in PROCESSING_INSTANCE_TYPES:
        family = value.rsplit(".", 1)[0] + "."
        hint = [t for t in PROCESSING_INSTANCE_TYPES if t.startswith(family)]
        raise ValueError(
            "must be an instance type SageMaker processing jobs accept, e.g. "
            + describe_allowed(hint or PROCESSING_INSTANCE_TYPES, limit=8)
        )
    return value


class BaselineSettings(StrictModel):
    """The dataset Model Monitor derives its statistics and constraints from, and the
    processing job that does it (`smkit monitor baseline <endpoint>` starts one)."""

    dataset: S3Key
    """Key or key prefix in the data bucket of the baseline data: the records the schedule
    will compare captured data with, in the same shape (with a record preprocessor: the
    flat records it makes, see docs/monitoring.md), e.g. monitoring/demand/baseline.jsonl."""

    format: Literal["jsonlines", "csv"] = "jsonlines"
    """`jsonlines` (one flat JSON object per line) or `csv`. Default: jsonlines."""

    csv_header: bool = True
    """For csv: the first line names the columns. Default: true."""

    instance_type: str = "ml.m5.xlarge"
    """Instance type of the baseline job. Default: ml.m5.xlarge."""

    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Storage of the baseline job. Default: 20."""

    max_runtime_minutes: Annotated[int, Field(ge=1, le=10080)] = 60
    """Longest the baseline job may run. Default: 60. Valid range: 1-10080 (7 days)."""

    @field_validator("instance_type")
    @classmethod
    def _known(cls, value: str) -> str:
        return _processing_type(value)


class DataQualitySettings(StrictModel):
    """Data quality monitoring of the captured requests: statistics of each run compared
    with the baseline's constraints; violations become a CloudWatch metric with an alarm
    to the alerts topic."""

    baseline: BaselineSettings
    """The baseline dataset and its job."""

    schedule: str = "cron(0 * ? * * *)"
    """When monitoring runs (UTC): cron(0 * ? * * *) hourly, cron(0 H ? * * *) daily at
    hour H, or cron(0 H/N ? * * *) every N hours. Default: hourly."""

    record_preprocessor: Literal["deepar", "classifier"] | None = None
    """A kit script that turns each captured request and response into flat records Model
    Monitor can analyse: `deepar` (statistics of each series and its forecast) or
    `classifier` (length of each text, its label and confidence). Default: none (the
    captured data must already be flat JSON or CSV)."""

    instance_type: str = "ml.m5.xlarge"
    """Instance type of each monitoring job. Default: ml.m5.xlarge."""

    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of each monitoring job. Default: 1."""

    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Storage of each monitoring job. Default: 20."""

    max_runtime_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    """Longest one monitoring job may run: at most the time between two runs (an hour on
    an hourly schedule). Default: 60."""

    publish_feature_metrics: bool = False
    """Also have Model Monitor publish per-feature statistics as CloudWatch metrics
    (billed per metric; the kit's violation metric does not need them). Default: false."""

    @field_validator("instance_type")
    @classmethod
    def _known(cls, value: str) -> str:
        return _processing_type(value)

    @model_validator(mode="after")
    def _schedule_fits(self) -> DataQualitySettings:
        problems: list[tuple[Location, str]] = []
        for problem in schedule_problems(
            self.schedule,
            max_runtime_s=self.max_runtime_minutes * 60,
            monitoring_type="DataQuality",
        ):
            where = ("max_runtime_minutes",) if problem.startswith("max_runtime") else ("schedule",)
            problems.append((where, problem))
        if problems:
            raise InvalidFieldsError(problems)
        return self


class ModelQualitySettings(StrictModel):
    """Model quality of a classifier: Model Monitor merges the captured predictions with
    the labels people gave the same objects in an auto-labeling workflow (its ground
    truth) and computes accuracy and the other multiclass metrics; a run that breaks the
    constraints you give raises the violations alarm. The workflow then sends each object
    in a request of its own with an InferenceId (docs/monitoring.md)."""

    ground_truth_from: str
    """Name of the auto-labeling workflow (`labeling.auto_labeling`) whose human labels
    are the ground truth. It must pre-label with this endpoint and be single-label."""

    problem_type: Literal["MulticlassClassification"] = "MulticlassClassification"
    """Model Monitor's problem type: the classifier contract answers one class name per
    object (BinaryClassification needs 0/1 labels with a probability of the positive
    class, Regression numbers). Default: MulticlassClassification."""

    inference_attribute: Annotated[str, Field(min_length=1, max_length=256)] = (
        "predictions[0].label"
    )
    """Where the predicted class is in the captured response (JSONPath into the
    classifier contract's answer to one object). Default: predictions[0].label."""

    probability_attribute: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """Where the prediction's probability is in the captured response, e.g.
    predictions[0].confidence. Default: none (multiclass metrics need only the class)."""

    constraints: S3Key | None = None
    """Key in the data bucket of a model-quality constraints.json (e.g. written by a
    model-quality baseline job, or by hand: a minimum accuracy) the runs are checked
    against. Default: none (the runs report their metrics; nothing can be violated)."""

    window_start_hours: Annotated[int, Field(ge=1, le=MAX_OFFSET_HOURS)] = 168
    """Each run analyses the predictions captured from this many hours before it...
    Default: 168 (a week)."""

    window_end_hours: Annotated[int, Field(ge=0, le=MAX_OFFSET_HOURS)] = 24
    """...up to this many hours before it: people label the objects the model was not sure
    of some time after the prediction. Default: 24."""

    schedule: str = "cron(0 0 ? * * *)"
    """When monitoring runs (UTC), as for data quality. Default: daily at midnight."""

    instance_type: str = "ml.m5.xlarge"
    """Instance type of each monitoring job. Default: ml.m5.xlarge."""

    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of each monitoring job. Default: 1."""

    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    """Storage of each monitoring job. Default: 20."""

    max_runtime_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    """Longest one run (ground-truth merge and analysis) may take: at most the time
    between two runs, and 30 minutes on an hourly schedule. Default: 60."""

    @field_validator("instance_type")
    @classmethod
    def _known(cls, value: str) -> str:
        return _processing_type(value)

    @model_validator(mode="after")
    def _schedule_fits(self) -> ModelQualitySettings:
        problems: list[tuple[Location, str]] = []
        for problem in schedule_problems(
            self.schedule,
            max_runtime_s=self.max_runtime_minutes * 60,
            monitoring_type="ModelQuality",
        ):
            where = ("max_runtime_minutes",) if problem.startswith("max_runtime") else ("schedule",)
            problems.append((where, problem))
        for problem in window_problems(self.window_start_hours, self.window_end_hours):
            problems.append((("window_end_hours",), problem))
        if problems:
            raise InvalidFieldsError(problems)
        return self


class MonitoringSettings(StrictModel):
    """Model Monitor on this endpoint (the endpoint needs data_capture): data quality,
    model quality, or both."""

    data_quality: DataQualitySettings | None = None
    """Data quality monitoring with its baseline. Default: none."""

    model_quality: ModelQualitySettings | None = None
    """Model quality of a classifier against auto-labeling's human labels. Default: none."""

    @model_validator(mode="after")
    def _something(self) -> MonitoringSettings:
        if self.data_quality is None and self.model_quality is None:
            raise InvalidFieldsError([((), "monitoring needs data_quality, model_quality or both")])
        return self

    def resource_usages(self, path: str) -> list[ResourceUsage]:
        """The baseline job and the scheduled monitoring jobs, for the cost limits."""
        usages = []
        quality = self.data_quality
        if quality is not None:
            usages += [
                ResourceUsage(
                    kind="processing",
                    path=f"{path}.monitoring.data_quality.baseline",
                    instance_type=quality.baseline.instance_type,
                    max_runtime_seconds=quality.baseline.max_runtime_minutes * 60,
                ),
                ResourceUsage(
                    kind="monitoring",
                    path=f"{path}.monitoring.data_quality",
                    instance_type=quality.instance_type,
                    instance_count=quality.instance_count,
                    max_runtime_seconds=quality.max_runtime_minutes * 60,
                ),
            ]
        model = self.model_quality
        if model is not None:
            usages.append(
                ResourceUsage(
                    kind="monitoring",
                    path=f"{path}.monitoring.model_quality",
                    instance_type=model.instance_type,
                    instance_count=model.instance_count,
                    max_runtime_seconds=model.max_runtime_minutes * 60,
                )
            )
        return usages


def model_quality_problems(
    inference: InferenceSettings | None, labeling: LabelingSettings | None, name_prefix: str
) -> list[tuple[Location, str]]:
    """Each endpoint's model quality takes its ground truth from an auto-labeling workflow
    of this config that pre-labels with that endpoint, one class per object."""
    if inference is None:
        return []
    workflows = {a.name: a for a in labeling.auto_labeling} if labeling else {}
    problems: list[tuple[Location, str]] = []
    for key, endpoint in inference.endpoints.items():
        quality = endpoint.monitoring.model_quality if endpoint.monitoring else None
        if quality is None:
            continue
        where: Location = (
            "inference",
            "endpoints",
            key,
            "monitoring",
            "model_quality",
            "ground_truth_from",
        )
        auto = workflows.get(quality.ground_truth_from)
        name = f"{name_prefix}-{key}"
        if auto is None:
            problems.append(
                (
                    where,
                    f"{quality.ground_truth_from!r} is not an auto-labeling workflow of this "
                    f"config (labeling.auto_labeling: {', '.join(workflows) or 'none'}); the "
                    "ground truth is the labels people give in one",
                )
            )
            continue
        if name.lower() not in [e.lower() for e in auto.endpoint_names]:
            problems.append(
                (
                    where,
                    f"auto-labeling workflow {auto.name!r} does not pre-label with this "
                    f"endpoint: add {name} to its endpoint_names (now "
                    f"{', '.join(auto.endpoint_names)}); Model Monitor matches its labels with "
                    "the requests this endpoint captured",
                )
            )
        if auto.multi_label:
            problems.append(
                (
                    where,
                    f"auto-labeling workflow {auto.name!r} is multi-label; model quality of a "
                    "MulticlassClassification compares one class per object",
                )
            )
    return problems
