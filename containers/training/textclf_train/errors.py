"""Errors the training job reports to SageMaker."""

from __future__ import annotations


class TrainingError(Exception):
    """A problem the user can fix (hyperparameters, data, configuration). Its message is
    written to /opt/ml/output/failure, which SageMaker shows as the job's FailureReason."""


class TrainingStoppedError(Exception):
    """SIGTERM arrived (StopTrainingJob, spot interruption): training stopped at a batch
    boundary; the latest checkpoint resumes it."""
