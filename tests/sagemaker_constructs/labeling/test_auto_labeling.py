"""AutoLabelingWorkflow's props (the synthesized state machine and its roles are checked
on the full app in tests/stacks/test_labeling_stacks.py)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from sagemaker_constructs.labeling.auto_labeling import AutoLabelingWorkflow
from sagemaker_constructs.labeling.label_studio import LabelStudioHost, LabelStudioRole
from tests.oracles.nag import unacknowledged_findings
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


def test_ground_truth_for_model_quality_needs_a_known_endpoint_and_one_label() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        AutoLabelingWorkflow(
            stack,
            "Auto",
            name="reviews",
            data_type="text",
            labels=["positive", "negative"],
            multi_label=True,
            endpoint_names=["text-classifier"],
            data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "smkit-data"),
            encryption_key=kms.Key(stack, "Key"),
            alerts_topic=sns.Topic(stack, "Alerts"),
            ground_truth_prefixes={"other-endpoint": "monitoring/other/ground-truth"},
        )
    message = str(raised.value)
    for fragment in (
        "ground_truth_prefixes names endpoints that are not in endpoint_names (other-endpoint)",
        "ground_truth_prefixes must end with '/'",
        "multi_label workflows cannot write its ground truth",
    ):
        assert fragment in message, fragment


def test_label_studio_in_another_account_reads_only_the_images_prefix_and_passes_cdk_nag() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    made = AutoLabelingWorkflow(
        stack,
        "Auto",
        name="photos",
        data_type="image",
        labels=["shoe", "bag"],
        multi_label=True,
        endpoint_names=["image-tagger"],
        data_bucket=s3.Bucket.from_bucket_name(stack, "Data", "smkit-data"),
        encryption_key=key,
        alerts_topic=sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True),
        label_studio=LabelStudioRole(
            stack,
            "LabelStudio",
            host=LabelStudioHost.account("210987654321", "smkit-photos-2026"),
            data_bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "smkit-data"),
            encryption_key=key,
        ),
        label_studio_images_prefix="catalog/images/",
    )
    assert made.label_studio_role is not None
    template = Template.from_stack(stack)
    role_id = stack.resolve(made.label_studio_role.node.default_child.logical_id)  # type: ignore[union-attr]
    role = template.to_json()["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # LABEL-5: the other account must pass the external ID.
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "smkit-photos-2026"}}
    assert "210987654321" in json.dumps(trust["Principal"])
    reads = next(
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "s3:GetObject"
    )
    assert [r["Fn::Join"][1][-1] for r in reads["Resource"]] == [
        ":s3:::smkit-data/auto-labeling/photos/*/label-studio/tasks/*",
        ":s3:::smkit-data/catalog/images/*",
    ]
    environment = {
        name: function["Properties"]["Environment"]["Variables"]
        for name, function in template.find_resources("AWS::Lambda::Function").items()
        if name.startswith("AutoPrepare")
    }
    (prepare,) = environment.values()
    assert prepare["LABEL_STUDIO_IMAGES_PREFIX"] == "catalog/images/"
    assert prepare["MULTI_LABEL"] == "true"
    assert unacknowledged_findings(stack.node.root) == []  # type: ignore[arg-type]
