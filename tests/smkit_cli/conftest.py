"""The CLI against moto: stacks with the outputs the kit's stacks declare, created in
moto's CloudFormation; a clock and sleep that tests control, so following a run never
waits; and `smkit` invoked in process with click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner, Result
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal import moto_api_backend

from smkit_cli.context import Runtime
from smkit_cli.main import cli

HERE = Path(__file__).parent
OPS_CONFIG = HERE / "ops.yaml"
REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
# One botocore session for every invocation: service models load once per test session.
BOTOCORE = botocore.session.get_session()
# One boto3 session per region: each registers its handlers on its botocore session, and a
# second set makes creating an S3 client fail ("Cannot inject class attribute upload_file");
# and the botocore session holds the region. So the tests' region uses the shared botocore
# session (where `answering` hooks live), any other region a botocore session of its own.
BOTO3_SESSIONS: dict[str, boto3.Session] = {}


def boto3_session(region: str | None) -> boto3.Session:
    """The boto3 session of `region`: over the shared botocore session for REGION."""
    name = region or REGION
    if name not in BOTO3_SESSIONS:
        botocore_session = BOTOCORE if name == REGION else botocore.session.get_session()
        BOTO3_SESSIONS[name] = boto3.Session(botocore_session=botocore_session, region_name=name)
    return BOTO3_SESSIONS[name]


@dataclass
class Clock:
    """Time that moves only when the CLI sleeps; `on_sleep` hooks change AWS meanwhile."""

    now: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    slept: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[], None]] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.on_sleep:
            self.on_sleep.pop(0)()


@dataclass
class Platform:
    """A deployment in moto, and the CLI pointed at it."""

    config: Path
    clock: Clock
    deploy_outputs: dict[str, str] = field(default_factory=dict)
    """Every output deployed so far."""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def deploy(self, unit: str, outputs: dict[str, str], *, prefix: str = "ops") -> None:
        """Stack `<prefix>-<unit>` with these outputs (one SNS topic as its resource)."""
        self.deploy_outputs.update(outputs)
        template = {
            "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
        self.client("cloudformation").create_stack(
            StackName=f"{prefix}-{unit}", TemplateBody=json.dumps(template)
        )

    def state_machine(self, name: str) -> str:
        """A state machine in moto (its definition does not matter: runs are set by tests)."""
        return str(
            self.client("stepfunctions").create_state_machine(
                name=name,
                definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/workflow",
            )["stateMachineArn"]
        )

    def deploy_ops(self) -> None:
        """Every stack of ops.yaml, with its real output names."""
        self.deploy("Foundation", {"DataBucketName": "ops-data", "AlertsTopicArn": "arn"})
        self.deploy(
            "Workforce",
            {
                "WorkforceName": "ops-workforce",
                "LabelingPortalUrl": "https://abc123.labeling.us-east-1.sagemaker.aws",
                "WorkTeamTextReviewersArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/"
                "private-crowd/ops-text-reviewers",
                "UserPoolId": "us-east-1_abc",
            },
        )
        self.deploy(
            "Labeling",
            {
                "LabelingWorkflowSentimentArn": self.state_machine("ops-sentiment"),
                "AutoLabelingSentimentAutoArn": self.state_machine("ops-sentiment-auto"),
                "AutoLabelingSentimentAutoReviewTopicArn": "arn:aws:sns:review",
            },
        )
        self.deploy("ModelRegistry", {})
        self.deploy(
            "Training",
            {
                "TextClassifierTrainingStateMachineArn": self.state_machine(
                    "ops-text-classifier-training"
                ),
                "TextClassifierHpoTuningStateMachineArn": self.state_machine(
                    "ops-text-classifier-hpo-tuning"
                ),
            },
        )
        self.deploy("Cost", {"BudgetName": "ops-sagemaker-monthly"})
        self.deploy("Notebooks", {})
        self.deploy(
            "Inference",
            {
                "DemandForecastEndpointName": "ops-demand-forecast",
                "TextClassifierEndpointName": "ops-text-classifier",
                # Of `with_async_endpoint`'s config.
                "BatchScoringEndpointName": "ops-batch-scoring",
                "DemandForecastBaselineStateMachineArn": self.state_machine(
                    "ops-demand-forecast-baseline"
                ),
            },
        )
        self.deploy(
            "Transform",
            {
                "DemandBatchTransformStateMachineArn": self.state_machine("ops-demand-batch"),
                "SentimentBatchTransformStateMachineArn": self.state_machine("ops-sentiment-batch"),
            },
        )

    def answer(self, body: Any) -> None:
        """Queue sagemaker-runtime's next InvokeEndpoint answer."""
        moto_api_backend.set_sagemaker_result(
            body=json.dumps(body),
            content_type="application/json",
            prod_variant="AllTraffic",
            custom_attrs="",
            account_id=ACCOUNT,
            region=REGION,
        )

    @contextmanager
    def answering(
        self,
        operation: str,
        response: dict[str, Any],
        *,
        service: str = "sagemaker",
        status: int = 200,
    ) -> Iterator[list[Any]]:
        """Answer `operation` for the CLI's clients at botocore's before-call hook (for what
        moto does not mock, and for errors AWS gives that moto cannot); yields the request
        bodies received (botocore has validated them against the service model)."""
        received: list[Any] = []

        def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            received.append(params["body"])
            return AWSResponse(f"https://{service}", status, {}, None), response

        event = f"before-call.{service}.{operation}"
        BOTOCORE.register(event, answer)
        try:
            yield received
        finally:
            BOTOCORE.unregister(event, answer)

    def notebook(self, name: str, status: str) -> None:
        """Notebook instance `name` in moto, in `status`."""
        self.client("sagemaker").create_notebook_instance(
            NotebookInstanceName=name,
            InstanceType="ml.t3.medium",
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/notebook",
        )
        sagemaker_backend().notebook_instances[name].status = status

    def endpoint(
        self, name: str, status: str = "InService", *, variant: dict[str, Any] | None = None
    ) -> None:
        """Endpoint `name` (with its model and configuration) in moto, in `status`;
        `variant`: its production variant's settings (default: 2 x ml.c5.xlarge)."""
        sagemaker = self.client("sagemaker")
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/endpoint",
            PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/model:1"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    **(variant or {"InitialInstanceCount": 2, "InstanceType": "ml.c5.xlarge"}),
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        sagemaker_backend().endpoints[name].endpoint_status = status

    def training_job(
        self,
        name: str,
        status: str = "InProgress",
        *,
        tags: dict[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        """Training job `name` in moto; returns moto's job to set more state on."""
        request: dict[str, Any] = {
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            **extra,
        }
        self.client("sagemaker").create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/job",
            OutputDataConfig={"S3OutputPath": "s3://ops-artifacts/training/"},
            ResourceConfig={
                "InstanceType": "ml.g5.xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {"smkit:platform": "ops"}).items()],
            **request,
        )
        job = sagemaker_backend().training_jobs[name]
        job.training_job_status = job.secondary_status = status
        return job

    def run(
        self,
        *args: str,
        config: Path | None = None,
        input: str | None = None,
        session_factory: Callable[[str | None, str | None], boto3.Session] | None = None,
        terminal: bool = False,
        width: int | None = 160,
    ) -> Result:
        """`smkit --config <config> ARGS`, in process (`width` None: the console's own,
        as a real invocation)."""
        runtime = Runtime(
            session_factory=session_factory or (lambda profile, region: boto3_session(region)),
            clock=self.clock,
            sleep=self.clock.sleep,
            width=width,
            console_kwargs={"force_terminal": True} if terminal else {},
        )
        return CliRunner().invoke(
            cli,
            ["--config", str(config or self.config), *args],
            obj=runtime,
            input=input,
            catch_exceptions=False,
        )


@pytest.fixture
def platform() -> Iterator[Platform]:
    with mock_aws():
        yield Platform(config=OPS_CONFIG, clock=Clock())


def executions(state_machine_name: str) -> list[Any]:
    """moto's executions of one state machine, oldest first."""
    from moto.stepfunctions.models import stepfunctions_backends

    backend = stepfunctions_backends[ACCOUNT][REGION]
    machine = next(m for m in backend.state_machines if m.name == state_machine_name)
    return list(machine.executions)


def finish(
    execution: Any,
    status: str,
    *,
    output: Any = None,
    error: str | None = None,
    cause: str | None = None,
    at: datetime | None = None,
) -> None:
    """End a run in moto as Step Functions would (`at`, default 42 minutes after it began)."""
    execution.status = status
    execution.stop_date = at or execution.start_date + timedelta(minutes=42)
    execution.output = json.dumps(output) if output is not None else None
    execution.error, execution.cause = error, cause


def sagemaker_backend() -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


def with_async_endpoint(tmp_path: Path) -> Path:
    """ops.yaml plus `batch-scoring`, an async endpoint of the kit's classifier image that
    scales to zero (its stack output: BatchScoringEndpointName)."""
    data = yaml.safe_load(OPS_CONFIG.read_text())
    data["inference"]["endpoints"]["batch-scoring"] = {
        "model": {
            "source": "artifact",
            "image": {"type": "asset", "directory": "containers/inference"},
            "model_data": "training/text-classifier/output/model.tar.gz",
        },
        "variant": {
            "kind": "async",
            "instance_type": "ml.c5.xlarge",
            "autoscaling": {"min_capacity": 0, "max_capacity": 2},
        },
    }
    config = tmp_path / "ops-async.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config
