"""Integration case: the labeling flywheel on CPUs, without Ground Truth.

Deploys Foundation, ModelRegistry, Training (the kit's text classifier on ml.m5.large,
managed spot with checkpoints) and Labeling (auto-labeling with external human review),
then, in the assertion stack:

1. uploads a tiny labeled text set and a tiny unlabeled manifest to the data bucket;
2. runs the training workflow and waits until the execution SUCCEEDED (polled every
   30 s for up to 30 minutes), which also registered the model;
3. asserts the model package: Approved, Completed, the classifier's content types;
4. deploys a serverless endpoint of that package with the kit's `Endpoint` construct
   (it can only exist once the model does, so it lives in the assertion stack);
5. classifies a clearly positive text through the endpoint: the answer's label is
   `positive`;
6. runs auto-labeling in `external` mode at threshold 1 (every object goes to people,
   so what the run asks and writes is known in advance), waits for its review request,
   writes the people's labels to `<run>/human/labels.manifest` and waits until the run
   SUCCEEDED with 4 objects labeled by people;
7. reads the merged manifest and checks it line by line: each input line, in order,
   with its class id and Ground Truth metadata (class name, confidence 1.0, human
   annotated).

The training job, model package, endpoint and runs are the workflow's; `cdk destroy`
removes the stacks after the runner emptied the buckets and deleted the model packages.

Worst case: 70 minutes and $1.00: the image builds and pushes (about 10 minutes for the
PyTorch base image; ECR storage of the two images until `cdk gc`, about $0.40 a month);
one ml.m5.large spot training job of at most 20 minutes (under $0.05); a serverless
endpoint at 2 GB for a few invocations (under $0.01); Lambda, Step Functions, S3 and one
KMS key for an hour (under $0.05). Typically 35 minutes and $0.15.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import Endpoint, ModelSource, ServerlessVariant
from tests.integ.support import (
    KIT,
    IntegCase,
    allow,
    build_case,
    case_settings,
    finish,
    integ_test,
    make_disposable,
    new_app,
    synth_main,
)

PREFIX = "smkit-it-fw"
ENDPOINT = f"{PREFIX}-classifier"
WORKFLOW = "sentiment"
RUN_ID = "integ-run"
LABELS = ["negative", "positive"]
CONFIG = f"""
    name_prefix: {PREFIX}
    environment: dev
    termination_protection: false
    tags:
      project: sagemaker-platform-kit-integ
    network:
      mode: none
    training:
      definitions:
        text-classifier:
          image:
            source: asset
            directory: containers/training
          instance_type: ml.m5.large
          hyperparameters:
            epochs: 40
            learning_rate: 0.05
            batch_size: 4
            embedding_dim: 16
            validation_fraction: 0
            text_attribute: source
            label_attribute: label
          channels:
            train:
              s3_key: integ/flywheel/train/
              content_type: application/jsonlines
          max_runtime_minutes: 20
          spot: true
          checkpoints: true
          capacity_retries: 0
          model_package:
            approval: Approved
            image:
              source: asset
              directory: containers/inference
            content_types: [application/json]
            response_types: [application/json]
    labeling:
      auto_labeling:
        - name: {WORKFLOW}
          data_type: text
          labels: {json.dumps(LABELS)}
          endpoint_names: [{ENDPOINT}]
          default_threshold: 0.9
          human_review:
            mode: external
"""

POSITIVE = ["great product love it", "excellent quality very happy", "wonderful works great"]
POSITIVE += ["love it excellent", "happy with this great buy", "very good wonderful"]
NEGATIVE = ["terrible product hate it", "awful quality very sad", "broken does not work"]
NEGATIVE += ["hate it terrible", "sad with this awful buy", "very bad broken"]
TRAIN = "".join(
    json.dumps({"source": text, "label": label}) + "\n"
    for pair in zip(POSITIVE, NEGATIVE, strict=True)
    for text, label in zip(pair, ("positive", "negative"), strict=True)
)
UNLABELED = [
    ("excellent great love", "positive"),
    ("terrible awful hate", "negative"),
    ("wonderful happy good", "positive"),
    ("broken bad sad", "negative"),
]
"""The manifest to auto-label, with what people label each line."""


def _merged_line(text: str, truth: str) -> str:
    """The expected merged-manifest line of a text people labeled, as a regexp."""
    return (
        r"\{" + f'"source":"{text}","label":{LABELS.index(truth)},"label-metadata":'
        r"\{"
        f'"class-name":"{truth}","confidence":1\\.0,"type":"groundtruth/text-classification",'
        f'"job-name":"labeling-job/{WORKFLOW}-{RUN_ID}","human-annotated":"yes",'
        r'"creation-date":"[0-9T:.+-]+"\}\}'
    )


MERGED = "^" + "".join(_merged_line(text, truth) + r"\n" for text, truth in UNLABELED) + "$"


def build(outdir: str | None = None) -> IntegCase:
    app = new_app(outdir)
    settings = case_settings(CONFIG, source="tests/integ/integ_flywheel.py")
    platform, stacks = build_case(app, settings)
    # The assertions deploy after the test stacks; the endpoint needs the trained model.
    assertions = cdk.Stack(app, f"{PREFIX}-Assertions")
    make_disposable(assertions)
    test = integ_test(app, "Flywheel", stacks, assertion_stack=assertions)
    checks = test.assertions
    foundation = platform.foundation
    assert platform.training is not None and platform.labeling is not None
    data = foundation.data_bucket.bucket_name
    key_arn = foundation.key.key_arn
    training = platform.training.training_workflows["text-classifier"].state_machine
    labeling = platform.labeling.auto_labeling[WORKFLOW].state_machine
    run_prefix = f"auto-labeling/{WORKFLOW}/{RUN_ID}/"

    put_train = checks.aws_api_call(
        "S3",
        "putObject",
        {"Bucket": data, "Key": "integ/flywheel/train/train.jsonl", "Body": TRAIN},
    )
    manifest_key = "integ/flywheel/unlabeled.manifest"
    put_manifest = checks.aws_api_call(
        "S3",
        "putObject",
        {
            "Bucket": data,
            "Key": manifest_key,
            "Body": "".join(json.dumps({"source": t}) + "\n" for t, _ in UNLABELED),
        },
    )
    start_training = checks.aws_api_call(
        "StepFunctions",
        "startExecution",
        {"stateMachineArn": training.state_machine_arn, "input": "{}"},
    )
    trained = checks.aws_api_call(
        "StepFunctions",
        "describeExecution",
        {"executionArn": start_training.get_att_string("executionArn")},
    )
    trained.expect(ExpectedResult.object_like({"status": "SUCCEEDED"}))
    trained.wait_for_assertions(interval=Duration.seconds(30), total_timeout=Duration.minutes(30))
    package_arn = trained.get_att_string("output.model_package")

    registered = checks.aws_api_call(
        "SageMaker", "describeModelPackage", {"ModelPackageName": package_arn}
    )
    registered.expect(
        ExpectedResult.object_like(
            {
                "ModelApprovalStatus": "Approved",
                "ModelPackageStatus": "Completed",
                "InferenceSpecification": Match.object_like(
                    {"SupportedContentTypes": ["application/json"]}
                ),
            }
        )
    )

    endpoint = Endpoint(
        assertions,
        "Classifier",
        endpoint_name=ENDPOINT,
        model=ModelSource.from_model_package(
            package_arn,
            image=ContainerImage.from_asset(KIT / "containers" / "inference"),
            model_data_bucket=foundation.artifacts_bucket,
        ),
        variant=ServerlessVariant(memory_size_mb=2048, max_concurrency=2),
        encryption_key=foundation.key,
        log_removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    endpoint.node.add_dependency(registered)

    classify = checks.aws_api_call(
        "SageMakerRuntime",
        "invokeEndpoint",
        {
            "EndpointName": ENDPOINT,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": json.dumps({"instances": [{"source": "great excellent love it"}]}),
        },
    )
    classify.expect(
        ExpectedResult.object_like(
            {
                "Body": Match.object_like(
                    {"predictions": Match.array_with([Match.object_like({"label": "positive"})])}
                )
            }
        )
    )
    classify.node.add_dependency(endpoint)

    start_labeling = checks.aws_api_call(
        "StepFunctions",
        "startExecution",
        {
            "stateMachineArn": labeling.state_machine_arn,
            "input": cdk.Fn.to_json_string(
                {
                    "manifest_uri": f"s3://{data}/{manifest_key}",
                    "threshold": 1,
                    "human_mode": "external",
                    "run_id": RUN_ID,
                }
            ),
        },
    )
    start_labeling.node.add_dependency(endpoint)
    asked = checks.aws_api_call(
        "S3", "listObjectsV2", {"Bucket": data, "Prefix": f"{run_prefix}human/request.json"}
    )
    asked.expect(ExpectedResult.object_like({"KeyCount": 1}))
    asked.wait_for_assertions(interval=Duration.seconds(15), total_timeout=Duration.minutes(10))
    # What people put back: one label per object handed to them, by `smkit-line`.
    put_labels = checks.aws_api_call(
        "S3",
        "putObject",
        {
            "Bucket": data,
            "Key": f"{run_prefix}human/labels.manifest",
            "Body": "".join(
                json.dumps({"smkit-line": line, "label": truth}) + "\n"
                for line, (_text, truth) in enumerate(UNLABELED, start=1)
            ),
        },
    )
    labeled = checks.aws_api_call(
        "StepFunctions",
        "describeExecution",
        {"executionArn": start_labeling.get_att_string("executionArn")},
    )
    labeled.expect(
        ExpectedResult.object_like(
            {
                "status": "SUCCEEDED",
                "output": Match.object_like(
                    {"total": 4, "human_labeled": 4, "auto_labeled": 0, "human_mode": "external"}
                ),
            }
        )
    )
    labeled.wait_for_assertions(interval=Duration.seconds(15), total_timeout=Duration.minutes(10))
    merged = checks.aws_api_call(
        "S3", "getObject", {"Bucket": data, "Key": f"{run_prefix}output/output.manifest"}
    )
    merged.expect(ExpectedResult.object_like({"Body": Match.string_like_regexp(MERGED)}))

    put_train.next(put_manifest).next(start_training).next(trained).next(registered)
    classify.next(start_labeling).next(asked).next(put_labels).next(labeled).next(merged)
    for call in (put_train, put_manifest, put_labels, merged, trained, labeled):
        allow(call, ["kms:GenerateDataKey", "kms:Decrypt"], [key_arn])
    allow(classify, ["sagemaker:InvokeEndpoint"], ["*"])
    # ListObjectsV2 is authorized as s3:ListBucket.
    allow(asked, ["s3:ListBucket"], ["*"])

    # Named explicitly: the IAM prefix of Step Functions is `states`.
    allow(start_training, ["states:StartExecution", "states:DescribeExecution"], ["*"])
    allow(trained, ["states:StartExecution", "states:DescribeExecution"], ["*"])
    allow(start_labeling, ["states:StartExecution", "states:DescribeExecution"], ["*"])
    allow(labeled, ["states:StartExecution", "states:DescribeExecution"], ["*"])

    finish(app)
    return IntegCase(app=app, platform=platform, test=test)


if __name__ == "__main__":
    synth_main(build)
