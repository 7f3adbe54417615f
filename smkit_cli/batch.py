"""Batch transform runs from the CLI: check a run's input against what the workflow
allows, start it, and, for `forecast --batch` / `classify --batch`, upload a file, wait
for the run and read its results back, one line per input line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stacks.settings.transform import TransformDefinition

from . import executions
from .context import Operator
from .deployment import pascal
from .errors import CliError, ExitCode

CLI_FOLDER = "smkit-cli"
"""Folder under a definition's input prefix where the CLI uploads the files it sends."""


@dataclass(frozen=True)
class Transform:
    """One configured transform definition of the deployment."""

    name: str
    definition: TransformDefinition
    bucket: str
    """The data bucket."""

    @property
    def input_uri(self) -> str:
        """Where a run may read: `s3://<data bucket>/<input prefix>`."""
        return f"s3://{self.bucket}/{self.definition.input_prefix}"


def pick(operator: Operator, given: str) -> Transform:
    """The transform definition `given` names (its name or `<prefix>-<name>`)."""
    deployment = operator.deployment
    transform = deployment.section("transform", "batch transforms")
    name = deployment.pick("transform definition", given, transform.definitions)
    return Transform(
        name=name,
        definition=transform.definitions[name],
        bucket=deployment.output("Foundation", "DataBucketName"),
    )


def run_input(
    operator: Operator, transform: Transform, *, input_uri: str | None, instance_type: str | None
) -> dict[str, Any]:
    """The execution input, checked as the state machine checks it (and against the cost
    limits), so that nothing starts that the workflow would refuse."""
    problems = []
    payload: dict[str, Any] = {}
    if input_uri is not None:
        if not input_uri.startswith(transform.input_uri):
            problems.append(
                f"--input must be an S3 URI under {transform.input_uri} (the job may read "
                f"nothing else; got {input_uri})"
            )
        payload["input"] = input_uri
    if instance_type is not None:
        definition = transform.definition
        limits = operator.deployment.settings.allowed_instance_types("transform")
        allowed = [
            t
            for t in dict.fromkeys(
                [definition.instance_type, *definition.overridable.instance_types]
            )
            if t in limits
        ]
        if instance_type not in allowed:
            problems.append(
                f"instance type {instance_type} is not allowed for {transform.name}; allowed: "
                f"{', '.join(allowed)} (the definition's instance_type and "
                "overridable.instance_types, within cost.limits)"
            )
        payload["instance_type"] = instance_type
    if problems:
        raise CliError("; ".join(problems), ExitCode.USAGE)
    return payload


def start(
    operator: Operator, transform: Transform, payload: dict[str, Any], run_name: str | None
) -> str:
    """Start a run of `transform`; returns its execution ARN."""
    arn = operator.deployment.output(
        "Transform", f"{pascal(transform.name)}TransformStateMachineArn"
    )
    name = run_name or f"cli-{operator.now():%Y%m%d-%H%M%S}"
    return executions.start(operator, arn, payload, name)


def transform_lines(
    operator: Operator,
    transform: Transform,
    lines: list[str],
    *,
    filename: str,
    interval: float,
    quiet: bool,
) -> list[str]:
    """Upload `lines` as one JSON-lines object under the definition's input prefix, run
    the transform over that object only, wait for it and return its result lines (one per
    input line, in order). Nothing is deleted: the upload stays beside the results."""
    stamp = f"{operator.now():%Y%m%d-%H%M%S}"
    key = f"{transform.definition.input_prefix}{CLI_FOLDER}/{stamp}/{filename}"
    s3 = operator.aws.client("s3")
    s3.put_object(
        Bucket=transform.bucket,
        Key=key,
        Body=("\n".join(lines) + "\n").encode(),
        ContentType=transform.definition.content_type,
    )
    execution_arn = start(
        operator, transform, {"input": f"s3://{transform.bucket}/{key}"}, f"cli-{stamp}"
    )
    if not quiet:
        operator.console.print(
            f"Started transform {transform.name} over s3://{transform.bucket}/{key}: "
            f"{execution_arn}",
            soft_wrap=True,
        )
    execution = executions.follow(operator, execution_arn, interval=interval, quiet=quiet)
    if execution.status != "SUCCEEDED":
        raise executions.failure(execution)
    output = str((execution.output or {}).get("output", ""))
    bucket, _, folder = output.removeprefix("s3://").partition("/")
    result_key = f"{folder}{filename}.out"
    try:
        body = s3.get_object(Bucket=bucket, Key=result_key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        raise CliError(
            f"run {execution.name} succeeded but wrote no s3://{bucket}/{result_key}",
            ExitCode.FAILED,
        ) from None
    results = [line for line in body.split("\n") if line.strip()]
    if len(results) != len(lines):
        raise CliError(
            f"s3://{bucket}/{result_key} holds {len(results)} results for {len(lines)} input "
            "lines: the transform must assemble results by line (assemble_with: Line)",
            ExitCode.FAILED,
        )
    return results


def json_lines(results: list[str], where: str) -> list[Any]:
    """Each result line as JSON, or a FAILED error naming the line."""
    parsed = []
    for number, line in enumerate(results, start=1):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise CliError(f"{where}: result line {number} is not JSON", ExitCode.FAILED) from None
    return parsed
