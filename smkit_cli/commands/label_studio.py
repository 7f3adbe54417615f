"""`smkit label studio-setup`: what Label Studio needs for a run of a `label_studio`
auto-labeling workflow, printed or applied through Label Studio's API
(docs/label-studio.md)."""

from __future__ import annotations

import json
import os
from typing import Any

import click
from rich.markup import escape

from sagemaker_constructs.labeling.runtime.autolabel import studio
from stacks.settings.labeling import LabelStudioReview

from ..context import Operator, json_option, pass_operator
from ..deployment import Deployment, pascal
from ..errors import CliError, ExitCode
from ..label_studio_api import TOKEN_ENV, LabelStudioApi, StudioSetup, apply
from ..options import examples

REQUEST_FILE = "human/request.json"


@click.command(
    "studio-setup",
    short_help="Set up (or print) the Label Studio project of a run.",
    epilog=examples(
        "smkit label studio-setup sentiment-studio",
        "smkit label studio-setup sentiment-studio --run 3f2a9c0d1e2f3a4b "
        "--url https://label-studio.example.com",
    ),
)
@click.argument("workflow")
@click.option(
    "--run",
    "run_id",
    help="The run whose project to set up. Default: the one run of WORKFLOW waiting for "
    "Label Studio.",
)
@click.option(
    "--url",
    help=f"Label Studio's address: create or update the project and its storages there and "
    f"import the tasks, with the token in ${TOKEN_ENV}. Default: print the settings.",
)
@json_option
@pass_operator
def studio_setup(
    operator: Operator, workflow: str, run_id: str | None, url: str | None, as_json: bool
) -> None:
    """Print (or with --url, apply) the Label Studio project of a run of WORKFLOW: its
    labeling config, its S3 source storage (the run's tasks) and target storage (where
    annotations go), and the AWS profile Label Studio's host needs. With --url the token
    comes from $LABEL_STUDIO_API_KEY."""
    setup = plan(operator.deployment, workflow, run_id)
    if url is None:
        if as_json:
            operator.emit_json(setup.to_json())
        else:
            _print(operator, setup)
        return
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise CliError(
            f"--url needs Label Studio's token in ${TOKEN_ENV}",
            ExitCode.USAGE,
            hint=f"Copy it from Label Studio (Account & Settings), then `export {TOKEN_ENV}=...`.",
        )
    applied = apply(setup, LabelStudioApi(url, token))
    if as_json:
        operator.emit_json(
            {
                **setup.to_json(),
                "project_id": applied.project_id,
                "project_url": applied.project_url,
                "created": applied.created,
                "updated": applied.updated,
                "imported_tasks": applied.imported,
            }
        )
        return
    made = ", ".join(applied.created) or "nothing"
    changed = ", ".join(applied.updated) or "nothing"
    operator.console.print(
        f"Project {escape(setup.title)}: {applied.project_url}\n"
        f"Created: {made}; updated: {changed}; tasks imported now: "
        f"{applied.imported if applied.imported is not None else 'see Label Studio'}",
        soft_wrap=True,
    )


def plan(deployment: Deployment, workflow: str, run_id: str | None) -> StudioSetup:
    """The Label Studio settings of a run of `workflow` (the one waiting when `run_id` is
    None)."""
    labeling = deployment.section("labeling", "labeling workflows")
    configured = {a.name: a for a in labeling.auto_labeling}
    name = deployment.pick("auto-labeling workflow", workflow, configured)
    settings = configured[name]
    review = settings.human_review
    if not isinstance(review, LabelStudioReview):
        raise CliError(
            f"{name}'s human review is {review.mode!r}, not 'label_studio': its runs write no "
            "Label Studio tasks",
            ExitCode.USAGE,
        )
    bucket = deployment.output("Foundation", "DataBucketName")
    role_arn = deployment.output("Labeling", f"AutoLabeling{pascal(name)}LabelStudioRoleArn")
    kms_key_arn = deployment.output("Foundation", "KmsKeyArn")
    runs = f"auto-labeling/{name}/"
    request = _request(deployment, bucket, runs, name, run_id)
    prefix = f"{runs}{request['run_id']}/"
    host = review.host
    kind = "account"
    if host.ecs_task_role_arn:
        kind = "ecs_task_role"
    elif host.ec2_instance_role_arn:
        kind = "ec2_instance_role"
    storages = studio.storage_settings(
        bucket=bucket,
        run_prefix=prefix,
        run_name=request["run_name"],
        region=deployment.aws.region,
        kms_key_arn=kms_key_arn,
        s3_endpoint=review.s3_endpoint,
    )
    return StudioSetup(
        workflow=name,
        run_id=request["run_id"],
        run_name=request["run_name"],
        title=studio.project_title(request["run_name"]),
        description=(
            f"smkit auto-labeling run {request['run_name']} ({request['objects']} objects): "
            f"tasks s3://{bucket}/{prefix}{studio.TASKS_DIR}, annotations "
            f"s3://{bucket}/{prefix}{studio.ANNOTATIONS_DIR}"
        ),
        label_config=studio.labeling_config(
            settings.data_type, labeling.labels_of(settings), multi_label=settings.multi_label
        ),
        source=storages["source"],
        target=storages["target"],
        role_arn=role_arn,
        host_kind=kind,
        region=deployment.aws.region,
        external_id=host.external_id,
    )


def _request(
    deployment: Deployment, bucket: str, runs: str, workflow: str, run_id: str | None
) -> dict[str, Any]:
    """The review request of the run (`human/request.json`), which must be Label Studio's."""
    s3 = deployment.aws.client("s3")
    if run_id is not None:
        request = _read(s3, bucket, f"{runs}{run_id}/{REQUEST_FILE}")
        if request is None or request.get("mode") != "label_studio":
            raise CliError(
                f"run {run_id!r} of {workflow} has not asked Label Studio for labels "
                f"(no Label Studio request at s3://{bucket}/{runs}{run_id}/{REQUEST_FILE})",
                ExitCode.NOT_DEPLOYED,
                hint=f"Runs waiting: {', '.join(_waiting(s3, bucket, runs)) or 'none'}.",
            )
        return request
    waiting = _waiting(s3, bucket, runs)
    if len(waiting) != 1:
        raise CliError(
            f"{len(waiting) or 'no'} runs of {workflow} wait for Label Studio"
            + (f" ({', '.join(waiting)}): choose one with --run" if waiting else ""),
            ExitCode.USAGE if waiting else ExitCode.NOT_DEPLOYED,
            hint=None
            if waiting
            else f"Start one with `smkit label auto {workflow} --manifest <key>`; it asks "
            "Label Studio once the model has pre-labeled the manifest.",
        )
    request = _read(s3, bucket, f"{runs}{waiting[0]}/{REQUEST_FILE}")
    assert request is not None
    return request


def _waiting(s3: Any, bucket: str, runs: str) -> list[str]:
    """Run ids of the workflow whose Label Studio request has not resumed yet."""
    found = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=runs, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            run_id = common["Prefix"][len(runs) :].rstrip("/")
            request = _read(s3, bucket, f"{runs}{run_id}/{REQUEST_FILE}")
            if request and request.get("mode") == "label_studio" and not request.get("resumed_at"):
                found.append(run_id)
    return found


def _read(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        value = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None
    return value if isinstance(value, dict) else None


def _print(operator: Operator, setup: StudioSetup) -> None:
    console = operator.console

    def section(title: str, body: str) -> None:
        console.print(f"\n[bold]{escape(title)}[/bold]")
        console.print(escape(body), soft_wrap=True, highlight=False)

    console.print(
        f"Label Studio project for run {escape(setup.run_id)} of {escape(setup.workflow)}: "
        f"{escape(setup.title)}",
        soft_wrap=True,
    )
    section("Labeling config (Settings > Labeling Interface > Code)", setup.label_config)
    section(
        "Source storage (Settings > Cloud Storage > Add Source Storage: Amazon S3; "
        "POST /api/storages/s3)",
        json.dumps(setup.source, indent=2),
    )
    section(
        "Target storage (Add Target Storage: Amazon S3; POST /api/storages/export/s3)",
        json.dumps(setup.target, indent=2),
    )
    section(
        "AWS profile of Label Studio's host (~/.aws/config; start Label Studio with "
        "AWS_PROFILE=smkit-label-studio and leave the storages' keys empty)",
        setup.aws_profile(),
    )
    console.print(
        "Sync the source storage to import the tasks; the run resumes when every task has "
        "an accepted annotation. Or apply all of it: --url <Label Studio URL> with "
        f"${TOKEN_ENV} set.",
        soft_wrap=True,
    )
