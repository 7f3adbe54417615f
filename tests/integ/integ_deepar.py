"""Integration case: DeepAR trains on a tiny series set and forecasts on a CPU endpoint.

Deploys Foundation, ModelRegistry and Training (SageMaker's built-in DeepAR on
ml.m5.large, managed spot: DeepAR cannot checkpoint, so SageMaker lets its spot jobs wait
at most an hour, TRAIN-1 in docs/aws-rules.md, and the case waits at most 30 minutes),
then, in the assertion stack:

1. uploads four daily series of 60 days to the data bucket;
2. runs the training workflow and waits until the execution SUCCEEDED (polled every
   30 s for up to 30 minutes), which also registered the model;
3. deploys a real-time endpoint of that package on one ml.m5.large with the kit's
   `Endpoint` construct (DeepAR serves on CPUs only; an instance endpoint is the form
   DeepAR documents, and it exists only once the model does);
4. asks for a forecast in DeepAR's request format and checks the answer has DeepAR's
   format: `predictions`, one per series, each with `mean` and the `0.1`, `0.5` and
   `0.9` quantiles as lists.

Worst case: 60 minutes and $0.40: one ml.m5.large spot training job of at most 30
minutes (under $0.05), one ml.m5.large endpoint instance for at most 40 minutes (about
$0.08 at $0.115 an hour in us-east-1), Lambda, Step Functions, S3 and one KMS key for an
hour. Typically 30 minutes and $0.10. No image is built (DeepAR's image is AWS's).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk.integ_tests_alpha import ExpectedResult, Match

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference import Endpoint, InstanceVariant, ModelSource
from tests.integ.support import (
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

PREFIX = "smkit-it-dar"
ENDPOINT = f"{PREFIX}-forecast"
PREDICTION_LENGTH = 7
QUANTILES = ["0.1", "0.5", "0.9"]
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
        demand:
          image:
            source: builtin
            algorithm: forecasting-deepar
          instance_type: ml.m5.large
          hyperparameters:
            time_freq: D
            prediction_length: {PREDICTION_LENGTH}
            context_length: 14
            epochs: 5
            num_cells: 10
            num_layers: 1
            mini_batch_size: 4
          channels:
            train:
              s3_key: integ/deepar/train/
              content_type: application/jsonlines
          max_runtime_minutes: 20
          spot: true
          max_wait_minutes: 30
          capacity_retries: 0
          model_package:
            approval: Approved
            content_types: [application/json]
            response_types: [application/json]
"""


def _series(index: int, days: int = 60) -> list[float]:
    """A weekly pattern on a level that differs per series: something DeepAR learns fast."""
    return [
        round(10 + 5 * index + 3 * math.sin(2 * math.pi * day / 7) + (day % 3) * 0.5, 2)
        for day in range(days)
    ]


TRAIN = "".join(
    json.dumps({"start": "2026-01-01 00:00:00", "target": _series(i)}) + "\n" for i in range(4)
)
REQUEST = {
    "instances": [
        {"start": "2026-01-01 00:00:00", "target": _series(0)[:40]},
        {"start": "2026-01-01 00:00:00", "target": _series(3)[:40]},
    ],
    "configuration": {
        "num_samples": 50,
        "output_types": ["mean", "quantiles"],
        "quantiles": QUANTILES,
    },
}
FORECAST = {
    "mean": Match.array_with([]),
    "quantiles": Match.object_like({q: Match.array_with([]) for q in QUANTILES}),
}
"""One prediction in DeepAR's response format (each value a list of numbers)."""


def build(outdir: str | None = None) -> IntegCase:
    app = new_app(outdir)
    settings = case_settings(CONFIG, source="tests/integ/integ_deepar.py")
    platform, stacks = build_case(app, settings)
    # The assertions deploy after the test stacks; the endpoint needs the trained model.
    assertions = cdk.Stack(app, f"{PREFIX}-Assertions")
    make_disposable(assertions)
    test = integ_test(app, "DeepAr", stacks, assertion_stack=assertions)
    checks = test.assertions
    foundation = platform.foundation
    assert platform.training is not None
    data = foundation.data_bucket.bucket_name
    training = platform.training.training_workflows["demand"].state_machine

    upload = checks.aws_api_call(
        "S3", "putObject", {"Bucket": data, "Key": "integ/deepar/train/series.jsonl", "Body": TRAIN}
    )
    start = checks.aws_api_call(
        "StepFunctions",
        "startExecution",
        {"stateMachineArn": training.state_machine_arn, "input": "{}"},
    )
    trained = checks.aws_api_call(
        "StepFunctions", "describeExecution", {"executionArn": start.get_att_string("executionArn")}
    )
    trained.expect(ExpectedResult.object_like({"status": "SUCCEEDED"}))
    trained.wait_for_assertions(interval=Duration.seconds(30), total_timeout=Duration.minutes(30))
    upload.next(start).next(trained)
    allow(upload, ["kms:GenerateDataKey", "kms:Decrypt"], [foundation.key.key_arn])
    allow(trained, ["kms:Decrypt"], [foundation.key.key_arn])

    endpoint = Endpoint(
        assertions,
        "Forecast",
        endpoint_name=ENDPOINT,
        model=ModelSource.from_model_package(
            trained.get_att_string("output.model_package"),
            image=ContainerImage.from_builtin("forecasting-deepar"),
            model_data_bucket=foundation.artifacts_bucket,
        ),
        variant=InstanceVariant(instance_type="ml.m5.large", initial_instance_count=1),
        encryption_key=foundation.key,
        log_removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    endpoint.node.add_dependency(trained)

    forecast = checks.aws_api_call(
        "SageMakerRuntime",
        "invokeEndpoint",
        {
            "EndpointName": ENDPOINT,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": json.dumps(REQUEST),
        },
    )
    forecast.expect(
        ExpectedResult.object_like(
            {
                "Body": Match.object_like(
                    {"predictions": [Match.object_like(FORECAST), Match.object_like(FORECAST)]}
                )
            }
        )
    )
    forecast.node.add_dependency(endpoint)
    allow(forecast, ["sagemaker:InvokeEndpoint"], ["*"])

    # Named explicitly: the IAM prefix of Step Functions is `states`.
    allow(start, ["states:StartExecution", "states:DescribeExecution"], ["*"])
    allow(trained, ["states:StartExecution", "states:DescribeExecution"], ["*"])

    finish(app)
    return IntegCase(app=app, platform=platform, test=test)


if __name__ == "__main__":
    synth_main(build)
