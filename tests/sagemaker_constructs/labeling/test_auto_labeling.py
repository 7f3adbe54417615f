"""AutoLabelingWorkflow's props (the synthesized state machine and its roles are checked
on the full app in tests/stacks/test_labeling_stacks.py)."""

from __future__ import annotations

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from sagemaker_constructs.labeling.auto_labeling import AutoLabelingWorkflow
from tests.oracles.synth import new_stack


def test_invalid_props_are_named_together() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        AutoLabelingWorkflow(
            stack,
            "Auto",
            name="Reviews",
            data_type="text",
            labels=["positive", "negative"],
            endpoint_names=["text-classifier"],
            data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "smkit-data"),
            encryption_key=kms.Key(stack, "Key"),
            alerts_topic=sns.Topic(stack, "Alerts"),
            default_threshold=1.5,
            # LABEL-4: a ground_truth review would hand this to CreateLabelingJob.
            label_attribute="label-metadata",
            objects_per_batch=5,
        )
    assert str(raised.value) == (
        "Invalid AutoLabelingWorkflow props: name must be 1-20 lower-case letters, digits and "
        "hyphens (got 'Reviews'); default_threshold must be 0-1 (got 1.5); label_attribute "
        "must not be empty or end with -metadata or -ref (got 'label-metadata'); "
        "objects_per_batch must be 10-10000 (got 5)"
    )
