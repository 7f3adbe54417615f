"""The preflight checks against moto, and against answers for what moto does not mock
(Service Quotas for SageMaker, ListWorkforces, Cost Explorer's cost allocation tags),
each answer checked against the operation's output shape as botocore's Stubber does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from botocore.validate import validate_parameters

from smkit_cli.aws import Aws
from smkit_cli.deployment import Deployment
from smkit_cli.preflight.quotas import (
    ENDPOINT_INSTANCES,
    NOTEBOOK_INSTANCES,
    SERVERLESS_CONCURRENCY,
    SERVERLESS_ENDPOINTS,
    SPOT_TRAINING_INSTANCES,
)
from stacks.settings import load_settings

from ..conftest import BOTOCORE, OPS_CONFIG, REGION, Platform, boto3_session


def denied(action: str) -> dict[str, Any]:
    """What AWS answers a caller without `action`."""
    return {
        "Error": {
            "Code": "AccessDeniedException",
            "Message": f"User: arn:aws:iam::123456789012:user/ana is not authorized to perform: "
            f"{action}",
        }
    }


@contextmanager
def answers(
    platform: Platform, *answered: tuple[str, str, dict[str, Any]], status: int = 200
) -> Iterator[dict[str, list[Any]]]:
    """Answer each (service, operation, response) for the CLI's clients; a 200 response
    must match the operation's output shape. Yields the requests received, by operation.
    A client keeps the hooks it was created with: create it inside the block."""
    received: dict[str, list[Any]] = {}
    with ExitStack() as stack:
        for service, operation, response in answered:
            model = BOTOCORE.get_service_model(service)
            if status == 200:
                validate_parameters(response, model.operation_model(operation).output_shape)
            received[operation] = stack.enter_context(
                platform.answering(
                    operation, response, service=model.service_id.hyphenize(), status=status
                )
            )
        yield received


OPS_QUOTAS = [
    "ml.t3.medium for notebook instance usage",
    "ml.c5.xlarge for endpoint usage",
    "ml.m5.xlarge for processing job usage",
    "ml.g5.xlarge for spot training job usage",
    "ml.g5.2xlarge for spot training job usage",
    "ml.m5.xlarge for transform job usage",
    "ml.m5.2xlarge for transform job usage",
    "ml.c5.xlarge for transform job usage",
    NOTEBOOK_INSTANCES,
    ENDPOINT_INSTANCES,
    SERVERLESS_ENDPOINTS,
    SERVERLESS_CONCURRENCY,
    SPOT_TRAINING_INSTANCES,
]


def plenty(*except_: str) -> list[dict[str, object]]:
    """Every quota ops.yaml needs, applied at 100, except those named."""
    return [quota(name, 100) for name in OPS_QUOTAS if name not in except_]


def requests(received: list[Any]) -> list[Any]:
    """The request bodies an answer received, as data (JSON protocols send bytes)."""
    return [json.loads(body) if isinstance(body, bytes) else body for body in received]


def quota(name: str, value: float | None, code: str = "L-0000TEST", **extra: Any) -> dict[str, Any]:
    """A SageMaker quota as Service Quotas lists it."""
    item: dict[str, Any] = {
        "ServiceCode": "sagemaker",
        "ServiceName": "Amazon SageMaker",
        "QuotaCode": code,
        "QuotaName": name,
        "Adjustable": True,
        "GlobalQuota": False,
        **extra,
    }
    if value is not None:
        item["Value"] = value
    return item


def quotas(*items: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The applied quotas ListServiceQuotas answers."""
    return ("service-quotas", "ListServiceQuotas", {"Quotas": list(items)})


def default_quotas(*items: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The AWS defaults ListAWSDefaultServiceQuotas answers."""
    return ("service-quotas", "ListAWSDefaultServiceQuotas", {"Quotas": list(items)})


def workforces(*items: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The workforces ListWorkforces answers."""
    return ("sagemaker", "ListWorkforces", {"Workforces": list(items)})


def workforce(
    name: str, *, user_pool: str | None = "us-east-1_Pool", **extra: Any
) -> dict[str, Any]:
    """A private workforce as ListWorkforces describes it."""
    item: dict[str, Any] = {
        "WorkforceName": name,
        "WorkforceArn": f"arn:aws:sagemaker:{REGION}:123456789012:workforce/{name}",
        "SubDomain": "abc123.labeling.us-east-1.sagemaker.aws",
        **extra,
    }
    if user_pool:
        item["CognitoConfig"] = {"UserPool": user_pool, "ClientId": "client123"}
    return item


def cost_tags(statuses: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """Cost allocation tags as ListCostAllocationTags answers them (key: status)."""
    return (
        "ce",
        "ListCostAllocationTags",
        {
            "CostAllocationTags": [
                {"TagKey": key, "Type": "UserDefined", "Status": status}
                for key, status in statuses.items()
            ]
        },
    )


def make_deployment(config: Any = OPS_CONFIG) -> Deployment:
    """The deployment of `config` with the CLI's AWS access, inside moto."""
    return Deployment(load_settings(config), str(config), Aws(boto3_session(REGION)))


@pytest.fixture
def deployment(platform: Platform) -> Deployment:
    """ops.yaml's deployment (moto is on: `platform` started it)."""
    return make_deployment()
