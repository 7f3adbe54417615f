"""Settings of Model Monitor on an endpoint (`inference.endpoints.<key>.monitoring`): a
data-quality baseline run by a workflow, a monitoring schedule over the captured data,
and an alarm on violations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sagemaker_constructs.common.instance_types import PROCESSING_INSTANCE_TYPES, describe_allowed
from sagemaker_constructs.inference.monitoring_rules import schedule_problems

from .base import InvalidFieldsError, Location, ResourceUsage, StrictModel, _matches

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


class MonitoringSettings(StrictModel):
    """Model Monitor on this endpoint (the endpoint needs data_capture)."""

    data_quality: DataQualitySettings
    """Data quality monitoring with its baseline."""

    def resource_usages(self, path: str) -> list[ResourceUsage]:
        """The baseline job and the scheduled monitoring jobs, for the cost limits."""
        quality = self.data_quality
        return [
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
