"""Shared setup of the labeling runtime tests: moto for S3, SNS, SQS, Step Functions and
SageMaker runtime; the functions' environment as the constructs set it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from moto.moto_api._internal import moto_api_backend
from moto.sns.models import sns_backends

from sagemaker_constructs.labeling.runtime.autolabel import common, predict, prepare

BUCKET = "smkit-data-bucket"
ACCOUNT = "123456789012"
REGION = "us-east-1"
LABELS = ["positive", "negative", "neutral"]
SERVICES = ("s3", "sns", "sagemaker-runtime", "stepfunctions")


@dataclass
class Aws:
    """Clients of the mocked account, and helpers to drive it."""

    s3: Any
    topic_arn: str
    _seen: int = 0

    def put(self, key: str, body: str | bytes) -> str:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        return f"s3://{BUCKET}/{key}"

    def text(self, key: str) -> str:
        return str(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())

    def lines(self, key: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text(key).splitlines() if line.strip()]

    def keys(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def messages(self) -> list[dict[str, str]]:
        """Messages published to the review topic since the last call."""
        sent = sns_backends[ACCOUNT][REGION].topics[self.topic_arn].sent_notifications
        new = sent[self._seen :]
        self._seen = len(sent)
        return [{"Subject": str(subject), "Message": message} for _id, message, subject, *_ in new]


def serve_predictions(responses: list[list[dict[str, Any]]]) -> None:
    """Queue the endpoint's answers, one list of predictions per request, in order."""
    for predictions in responses:
        moto_api_backend.set_sagemaker_result(
            json.dumps({"predictions": predictions}),
            "application/json",
            "AllTraffic",
            "",
            ACCOUNT,
            REGION,
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Aws]:
    """A mocked account with the data bucket and a review topic, and the auto-labeling
    functions' environment (batches of 3 objects, 2 per endpoint request)."""
    with mock_aws():
        # The functions' own cached clients: making a client costs more than most calls.
        s3 = common.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        topic_arn = common.client("sns").create_topic(Name="review")["TopicArn"]
        env = {
            "DATA_BUCKET": BUCKET,
            "RUN_PREFIX": "auto-labeling/reviews/",
            "WORKFLOW": "reviews",
            "DATA_TYPE": "text",
            "LABELS": json.dumps(LABELS),
            "ENDPOINTS": json.dumps(["text-classifier", "text-classifier-v2"]),
            "DEFAULT_THRESHOLD": "0.9",
            "LABEL_ATTRIBUTE": "label",
            "HUMAN_MODES": json.dumps(["ground_truth", "external"]),
            "OBJECTS_PER_BATCH": "3",
            "INSTANCES_PER_REQUEST": "2",
            "OUTPUT_TYPE": "groundtruth/text-classification",
            "HUMAN_COST_PER_OBJECT": "0.08",
            "REVIEW_TOPIC_ARN": topic_arn,
            "SMKIT_TMP_DIR": str(tmp_path),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield Aws(s3=s3, topic_arn=topic_arn)


@pytest.fixture
def capture_calls() -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """Record the parameters of API calls the functions make (moto answers them), through
    the functions' own clients."""
    seen: dict[str, list[dict[str, Any]]] = {}

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.setdefault(model.name, []).append(params)

    events = [common.client(service).meta.events for service in SERVICES]
    for emitter in events:
        emitter.register("provide-client-params.*.*", record, unique_id="capture-calls")
    yield lambda operation: seen.get(operation, [])
    for emitter in events:
        emitter.unregister("provide-client-params.*.*", unique_id="capture-calls")


# A run of seven reviews: what the endpoint says of each, and where it goes.
TEXTS = [
    "Great phone, battery lasts days",  # positive 0.97 -> auto
    "Broke after a week",  # negative 0.95 -> auto
    "It is a phone",  # neutral 0.55 -> people
    "Love it",  # positive 0.99 -> auto
    "Not sure what to think",  # neutral 0.40 -> people
    "Terrible support",  # negative 0.91 -> auto
    "Arrived on Tuesday",  # neutral 0.62 -> people
]
SCORES = {
    TEXTS[0]: ("positive", 0.97),
    TEXTS[1]: ("negative", 0.95),
    TEXTS[2]: ("neutral", 0.55),
    TEXTS[3]: ("positive", 0.99),
    TEXTS[4]: ("neutral", 0.40),
    TEXTS[5]: ("negative", 0.91),
    TEXTS[6]: ("neutral", 0.62),
}
RUNS = "auto-labeling/reviews/"


def write_manifest(aws: Aws, texts: list[str], key: str = "datasets/reviews.manifest") -> str:
    return aws.put(
        key, "".join(json.dumps({"source": t, "id": i}) + "\n" for i, t in enumerate(texts))
    )


def answers(texts: list[str], scores: dict[str, tuple[str, float]]) -> list[list[dict[str, Any]]]:
    """The endpoint's answers in request order, batched as the functions' environment
    says (OBJECTS_PER_BATCH objects a batch, INSTANCES_PER_REQUEST a request)."""
    per_batch = int(os.environ["OBJECTS_PER_BATCH"])
    per_request = int(os.environ["INSTANCES_PER_REQUEST"])
    out = []
    for start in range(0, len(texts), per_batch):
        batch = texts[start : start + per_batch]
        for first in range(0, len(batch), per_request):
            out.append(
                [
                    {
                        "label": scores[t][0],
                        "confidence": scores[t][1],
                        "probabilities": {scores[t][0]: scores[t][1]},
                    }
                    for t in batch[first : first + per_request]
                ]
            )
    return out


def pre_label(
    aws: Aws,
    execution_input: dict[str, Any],
    texts: list[str] = TEXTS,
    scores: dict[str, tuple[str, float]] = SCORES,
) -> dict[str, Any]:
    """Prepare and pre-label a run, as the state machine's first two steps do."""
    run = prepare.handler({"input": execution_input, "execution_name": "exec-1"})
    if not run["completed"]:
        serve_predictions(answers(texts, scores))
        for batch in json.loads(aws.text(run["chunks_key"])):
            predict.handler({"run": run, "batch": batch})
    return run
