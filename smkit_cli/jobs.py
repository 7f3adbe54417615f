"""Live views of the SageMaker job a training or tuning workflow runs.

Each poll finds the run's latest job (from the execution history), describes it, prints
what changed as a line (status and secondary status transitions, tuning progress) and
returns a panel for the live display: elapsed and remaining time against the stopping
condition, the latest metric values, or for tuning the jobs done / running and the best
objective so far."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from .aws import error_code
from .context import Operator
from .executions import Execution, latest_job
from .waiting import duration, since

TRAINING_RESOURCE = "createTrainingJob.sync"
TUNING_RESOURCE = "createHyperParameterTuningJob.sync"
# Where SageMaker publishes the metrics its metric definitions match in the job's log.
METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"


def _grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def _against(elapsed: float, limit: float | None) -> str:
    if not limit:
        return duration(elapsed)
    return f"{duration(elapsed)} of {duration(limit)} ({duration(limit - elapsed)} left)"


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M:%S}"


def describe_if_created(describe: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """The job's description, or None while it does not exist: a run's history names its
    job when Step Functions schedules the task, a moment before the task creates the job
    (and a job SageMaker refused to create never exists). SageMaker answers a job it
    does not know with ResourceNotFound, or with ValidationException for training jobs."""
    try:
        return describe()
    except ClientError as err:
        if error_code(err) in ("ResourceNotFound", "ValidationException"):
            return None
        raise


def not_created(kind: str, name: str, execution: Execution) -> tuple[str, str]:
    if execution.status == "RUNNING":
        return (kind, f"{name}: being created")
    return (kind, f"{name}: never created (the run's error says why)")


class TrainingView:
    """Follows the training job of a training workflow run."""

    def __init__(self, operator: Operator, *, emit: Callable[[str], None]) -> None:
        self.operator = operator
        self.emit = emit
        """Prints one line of what changed (above the live panel)."""
        self.job_name: str | None = None
        self.described: dict[str, Any] | None = None
        self.metrics: dict[str, float] = {}
        self._transitions_seen = 0
        self._status: tuple[str, str] | None = None

    def __call__(self, execution: Execution) -> RenderableType:
        sagemaker = self.operator.aws.client("sagemaker")
        name = latest_job(self.operator, execution.arn, TRAINING_RESOURCE, "TrainingJobName")
        now = execution.stopped or self.operator.now()
        rows = [
            (
                "run",
                f"{execution.name}: {execution.status}, {duration(since(execution.started, now))}",
            )
        ]
        if name is None:
            return _grid([*rows, ("job", "not started yet (checking the input)")])
        if name != self.job_name:
            self.job_name, self._transitions_seen, self._status = name, 0, None
            self.emit(f"Training job {name}")
        job = describe_if_created(lambda: sagemaker.describe_training_job(TrainingJobName=name))
        if job is None:
            return _grid([*rows, not_created("job", name, execution)])
        self.described = job
        self._report_changes(job)
        self.metrics = self._latest_metrics(job, now)
        stopping = job.get("StoppingCondition", {})
        resources = job.get("ResourceConfig", {})
        rows += [
            ("job", f"{name}: {job['TrainingJobStatus']} / {job['SecondaryStatus']}"),
            (
                "instances",
                f"{resources.get('InstanceCount', 1)} x {resources.get('InstanceType', '?')}"
                + (" (spot)" if job.get("EnableManagedSpotTraining") else ""),
            ),
            (
                "training",
                _against(
                    since(job.get("TrainingStartTime"), job.get("TrainingEndTime") or now),
                    stopping.get("MaxRuntimeInSeconds"),
                ),
            ),
        ]
        if job.get("EnableManagedSpotTraining"):
            rows.append(
                (
                    "spot wait",
                    _against(
                        since(job["CreationTime"], job.get("TrainingEndTime") or now),
                        stopping.get("MaxWaitTimeInSeconds"),
                    ),
                )
            )
        if self.metrics:
            rows.append(("metrics", ", ".join(f"{k} {v:g}" for k, v in self.metrics.items())))
        if job.get("FailureReason"):
            rows.append(("failure", str(job["FailureReason"])))
        return _grid(rows)

    def _report_changes(self, job: dict[str, Any]) -> None:
        transitions = job.get("SecondaryStatusTransitions", [])
        for transition in transitions[self._transitions_seen :]:
            message = transition.get("StatusMessage", "")
            self.emit(f"{_clock(transition['StartTime'])}  {transition['Status']:<12} {message}")
        self._transitions_seen = len(transitions)
        status = (str(job["TrainingJobStatus"]), str(job["SecondaryStatus"]))
        if self._status is not None and status != self._status and not transitions:
            self.emit(f"{status[0]} / {status[1]}")
        self._status = status

    def _latest_metrics(self, job: dict[str, Any], now: datetime) -> dict[str, float]:
        """The latest value of each metric: CloudWatch while training, and the job's final
        metrics where SageMaker has them."""
        latest: dict[str, tuple[datetime, float]] = {
            m["MetricName"]: (m["Timestamp"], float(m["Value"]))
            for m in job.get("FinalMetricDataList", [])
        }
        names = [
            d["Name"] for d in job.get("AlgorithmSpecification", {}).get("MetricDefinitions", [])
        ]
        start = job.get("TrainingStartTime") or job["CreationTime"]
        # CloudWatch takes whole seconds: a start less than a second ago would be sent equal
        # to the end, which GetMetricData refuses ("StartTime must not equal EndTime").
        if names and start.replace(microsecond=0) < now.replace(microsecond=0):
            queries = [
                {
                    "Id": f"m{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": METRICS_NAMESPACE,
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": "Host", "Value": f"{job['TrainingJobName']}/algo-1"}
                            ],
                        },
                        "Period": 60,
                        "Stat": "Average",
                    },
                }
                for index, metric in enumerate(names)
            ]
            found = self.operator.aws.client("cloudwatch").get_metric_data(
                MetricDataQueries=queries,
                StartTime=start,
                EndTime=now,
                ScanBy="TimestampDescending",
            )
            for result in found["MetricDataResults"]:
                metric = names[int(result["Id"][1:])]
                if result["Values"]:
                    stamp, value = result["Timestamps"][0], float(result["Values"][0])
                    if metric not in latest or stamp > latest[metric][0]:
                        latest[metric] = (stamp, value)
        return {name: value for name, (_, value) in sorted(latest.items())}


class TuningView:
    """Follows the tuning job of a tuning workflow run."""

    def __init__(self, operator: Operator, *, emit: Callable[[str], None]) -> None:
        self.operator = operator
        self.emit = emit
        self.job_name: str | None = None
        self.described: dict[str, Any] | None = None
        self._progress: tuple[Any, ...] | None = None

    def __call__(self, execution: Execution) -> RenderableType:
        name = latest_job(
            self.operator, execution.arn, TUNING_RESOURCE, "HyperParameterTuningJobName"
        )
        now = execution.stopped or self.operator.now()
        rows = [
            (
                "run",
                f"{execution.name}: {execution.status}, {duration(since(execution.started, now))}",
            )
        ]
        if name is None:
            return _grid([*rows, ("tuning job", "not started yet (checking the input)")])
        if name != self.job_name:
            self.job_name, self._progress = name, None
            self.emit(f"Tuning job {name}")
        sagemaker = self.operator.aws.client("sagemaker")
        job = describe_if_created(
            lambda: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        )
        if job is None:
            return _grid([*rows, not_created("tuning job", name, execution)])
        self.described = job
        config = job.get("HyperParameterTuningJobConfig", {})
        limits = config.get("ResourceLimits", {})
        counters = job.get("TrainingJobStatusCounters", {})
        done = int(counters.get("Completed", 0))
        running = int(counters.get("InProgress", 0))
        failed = int(counters.get("RetryableError", 0)) + int(counters.get("NonRetryableError", 0))
        stopped = int(counters.get("Stopped", 0))
        best = self.best()
        progress = (job["HyperParameterTuningJobStatus"], done, running, failed, stopped, best)
        if progress != self._progress:
            self.emit(
                f"{_clock(now)}  {progress[0]}: {done} done, {running} running, {failed} failed, "
                f"{stopped} stopped; best {best or 'none yet'}"
            )
            self._progress = progress
        most = limits.get("MaxNumberOfTrainingJobs")
        rows += [
            ("tuning job", f"{name}: {job['HyperParameterTuningJobStatus']}"),
            (
                "training jobs",
                f"{done} done, {running} running, {failed} failed, {stopped} stopped"
                + (f" of {most}" if most else "")
                + f" ({limits.get('MaxParallelTrainingJobs', '?')} at a time)",
            ),
            (
                "elapsed",
                _against(
                    since(job["CreationTime"], job.get("HyperParameterTuningEndTime") or now),
                    limits.get("MaxRuntimeInSeconds"),
                ),
            ),
            ("best so far", best or "none yet"),
        ]
        if job.get("FailureReason"):
            rows.append(("failure", str(job["FailureReason"])))
        return _grid(rows)

    def best(self) -> str | None:
        """`metric = value (training job)` of the best training job so far."""
        best = (self.described or {}).get("BestTrainingJob")
        if not best:
            return None
        metric = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
        return f"{metric.get('MetricName')} = {metric.get('Value'):g} ({best['TrainingJobName']})"


def outcome_table(output: Any) -> RenderableType:
    """A finished run's output, key by key."""
    if not isinstance(output, dict):
        return Text(str(output))
    return _grid([(str(k), v if isinstance(v, str) else repr(v)) for k, v in output.items()])
