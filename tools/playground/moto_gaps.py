"""What moto's CloudFormation leaves out, filled in through moto's own APIs inside the
playground's server process, so that `smkit` finds a platform that works:

- resources moto's CloudFormation skips but whose API moto mocks (`fill_in_skipped`):
  the budgets (`smkit status` reads them) and the model package groups (the training
  workflows register their models there);
- state machines that execute (`make_executable`): moto interprets definitions only when
  its `execute_state_machine` option is on, and then keeps state machines in another
  backend than the one its CloudFormation wrote to; each deployed state machine is
  created again there, under the same name and ARN, with its `.sync` SageMaker tasks made
  runnable (tools/sfn_moto.py); a tuning job trains its best
  training job (moto's names a "FakeTrainingJobName" that does not exist, so the tuning
  workflow could not register its model);
- Lambda functions (lambdas.py): the kit's run in this process, from the kit's source;
- Ground Truth labeling jobs (labeling_jobs.py): answered by stand-in workers at once;
- the files of CDK's BucketDeployment custom resources (`deploy_bucket_files`): moto
  creates no custom resource; the labeling workflows' worker files (label categories,
  task template) are copied from their assets to the data bucket as the deployment's
  handler copies them;
- Step Functions' interpreter (interpreter.py): what moto 5.2.5's does otherwise than
  Step Functions in the deployed workflows;
- notebook URLs (`answer_notebook_urls`): moto 5.2.5 has no
  CreatePresignedNotebookInstanceUrl; the playground answers a placeholder URL (there is
  no JupyterLab behind it), so `smkit notebook open` runs to its end;
- Studio (`_add_user_profile`, `_add_space`): moto 5.2.5 has no user profiles, spaces or
  apps; the playground lists the template's profiles and spaces as in service (and no
  running app), so `smkit status` shows the Studio section as a deployment would;
- names (`honour_names`): moto's CloudFormation gives SageMaker endpoints, endpoint
  configs, models and notebook instances generated names, ignoring the name the template
  sets, so `smkit` (which reads the name from the config or a stack output) would not
  find them.

Everything here reaches into moto 5.2.5's in-process models; tests/tools/test_playground.py
runs `smkit` against the result, so a moto upgrade that changes them fails there.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.cloudformation.parsing import get_model_map
from moto.core.config import default_user_config
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from tools.assembly import Stack
from tools.rehearsal import MissingOutputError, resolve_stack_outputs
from tools.sfn_moto import runnable, unrunnable

from . import interpreter
from .labeling_jobs import answer_labeling_jobs
from .lambdas import Functions


@dataclass
class Gaps:
    """What was filled in, and what still cannot run, for the start-up summary."""

    filled_in: list[tuple[str, str]] = field(default_factory=list)
    """(type, name) of each skipped resource created through moto's API."""
    executable: list[str] = field(default_factory=list)
    """Names of the state machines moto executes from start to end."""
    partly_executable: dict[str, dict[str, str]] = field(default_factory=dict)
    """State machine name -> its states moto cannot execute, and why."""
    endpoints: list[str] = field(default_factory=list)
    """Endpoints that answer with canned replies (endpoints.py)."""
    functions: Functions = field(default_factory=Functions)
    """The Lambda functions, by whether they run in this process (lambdas.py)."""
    bucket_files: list[str] = field(default_factory=list)
    """`s3://` prefixes BucketDeployment files were copied to."""


NAME_PROPERTIES = {
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::NotebookInstance": "NotebookInstanceName",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": "NotebookInstanceLifecycleConfigName",
}
"""Types whose name property moto 5.2.5's CloudFormation ignores -> that property."""


def honour_names() -> None:
    """Make moto's CloudFormation name resources of `NAME_PROPERTIES` types as the
    template says (a generated name when it says nothing, as CloudFormation does)."""
    models = get_model_map()
    for resource_type, name_property in NAME_PROPERTIES.items():
        model = models[resource_type]
        if not model.cloudformation_name_type():
            model.cloudformation_name_type = _returning(name_property)  # type: ignore[method-assign]


def _returning(value: str) -> Callable[[], str]:
    return lambda: value


def _create_budget(session: boto3.Session, properties: dict[str, Any]) -> str:
    budget = properties["Budget"]
    account = session.client("sts").get_caller_identity()["Account"]
    # Name, limit and period: what `smkit status` shows. Notifications are left out
    # (their subscribers refer to other resources; moto sends no mail anyway).
    session.client("budgets").create_budget(
        AccountId=account,
        Budget={
            "BudgetName": budget["BudgetName"],
            "BudgetLimit": {
                "Amount": str(budget["BudgetLimit"]["Amount"]),
                "Unit": budget["BudgetLimit"]["Unit"],
            },
            "TimeUnit": budget["TimeUnit"],
            "BudgetType": budget["BudgetType"],
        },
    )
    return str(budget["BudgetName"])


def _create_model_package_group(session: boto3.Session, properties: dict[str, Any]) -> str:
    name = properties["ModelPackageGroupName"]
    session.client("sagemaker").create_model_package_group(
        ModelPackageGroupName=name,
        ModelPackageGroupDescription=properties.get("ModelPackageGroupDescription", ""),
        Tags=properties.get("Tags", []),
    )
    return str(name)


STUDIO: dict[str, list[dict[str, Any]]] = {"UserProfiles": [], "Spaces": [], "Apps": []}
"""What the playground's ListUserProfiles, ListSpaces and ListApps answer."""


def _add_user_profile(session: boto3.Session, properties: dict[str, Any]) -> str:
    _answer_studio_listings()
    name = str(properties["UserProfileName"])
    STUDIO["UserProfiles"].append({"UserProfileName": name, "Status": "InService"})
    return name


def _add_space(session: boto3.Session, properties: dict[str, Any]) -> str:
    _answer_studio_listings()
    name = str(properties["SpaceName"])
    owner = properties.get("OwnershipSettings", {}).get("OwnerUserProfileName")
    sharing = properties.get("SpaceSharingSettings", {}).get("SharingType", "Private")
    STUDIO["Spaces"].append(
        {
            "SpaceName": name,
            "Status": "InService",
            "OwnershipSettingsSummary": {"OwnerUserProfileName": owner},
            "SpaceSharingSettingsSummary": {"SharingType": sharing},
        }
    )
    return name


def _answer_studio_listings() -> None:
    for action, key in (
        ("list_user_profiles", "UserProfiles"),
        ("list_spaces", "Spaces"),
        ("list_apps", "Apps"),
    ):
        if not hasattr(SageMakerResponse, action):

            def answer(self: SageMakerResponse, key: str = key) -> str:
                return json.dumps({key: STUDIO[key]})

            setattr(SageMakerResponse, action, answer)


PLACEHOLDER_TOKEN = "playground-placeholder"  # noqa: S105 - not a secret: nothing serves it
"""The authToken of the playground's notebook URLs: nothing serves them."""


def answer_notebook_urls() -> None:
    """Answer CreatePresignedNotebookInstanceUrl for the notebook instances moto holds."""
    if hasattr(SageMakerResponse, "create_presigned_notebook_instance_url"):
        return

    def answer(self: SageMakerResponse) -> Any:
        name = str(json.loads(self.body)["NotebookInstanceName"])
        if name not in self.sagemaker_backend.notebook_instances:
            message = f"RecordNotFound: notebook instance {name} does not exist"
            return 400, {}, json.dumps({"__type": "ValidationException", "message": message})
        url = f"https://{name}.notebook.{self.region}.sagemaker.aws?authToken={PLACEHOLDER_TOKEN}"
        return json.dumps({"AuthorizedUrl": url})

    SageMakerResponse.create_presigned_notebook_instance_url = answer  # type: ignore[attr-defined]


FILL_INS: dict[str, Callable[[boto3.Session, dict[str, Any]], str]] = {
    "AWS::Budgets::Budget": _create_budget,
    "AWS::SageMaker::ModelPackageGroup": _create_model_package_group,
    "AWS::SageMaker::UserProfile": _add_user_profile,
    "AWS::SageMaker::Space": _add_space,
}
"""Types moto's CloudFormation skips -> how to create one through moto's API."""


def fill_in_skipped(
    created: list[tuple[Stack, str, boto3.Session]], skipped: dict[str, dict[str, str]], gaps: Gaps
) -> None:
    """Create the skipped resources of `FILL_INS` types of each created stack.
    `skipped`: stack name -> logical ID -> type (the rehearsal's report)."""
    for stack, _, session in created:
        for logical_id, resource_type in skipped.get(stack.name, {}).items():
            create = FILL_INS.get(resource_type)
            if create is None:
                continue
            properties = stack.resources[logical_id].get("Properties", {})
            gaps.filled_in.append((resource_type, create(session, properties)))


def make_executable(session: boto3.Session, gaps: Gaps) -> None:
    """Turn on moto's interpreter and create every state machine again where it runs
    them, with `.sync` SageMaker tasks (labeling jobs too) made runnable. The Lambda
    functions that run are `gaps.functions.in_process`."""
    client = session.client("stepfunctions")
    machines = [
        client.describe_state_machine(stateMachineArn=listed["stateMachineArn"])
        for page in client.get_paginator("list_state_machines").paginate()
        for listed in page["stateMachines"]
    ]
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    interpreter.patch()
    _train_the_best_job_of_tuning_jobs()
    answer_labeling_jobs()
    answer_notebook_urls()
    for machine in machines:
        definition = json.loads(machine["definition"])
        client.create_state_machine(
            name=machine["name"],
            definition=json.dumps(runnable(definition, labeling_jobs=True)),
            roleArn=machine["roleArn"],
        )
        blocked = unrunnable(definition, labeling_jobs=True, functions=gaps.functions.in_process)
        if blocked:
            gaps.partly_executable[machine["name"]] = blocked
        else:
            gaps.executable.append(machine["name"])


def _train_the_best_job_of_tuning_jobs() -> None:
    backend = SageMakerModelBackend
    if getattr(backend.create_hyper_parameter_tuning_job, "trains_best_job", False):
        return
    create = backend.create_hyper_parameter_tuning_job

    def create_hyper_parameter_tuning_job(
        self: SageMakerModelBackend, hyper_parameter_tuning_job_name: str, **kwargs: Any
    ) -> str:
        name = hyper_parameter_tuning_job_name
        arn = create(self, hyper_parameter_tuning_job_name=name, **kwargs)
        definitions = [kwargs.get("training_job_definition") or {}]
        definitions += kwargs.get("training_job_definitions") or []
        definition: dict[str, Any] = next((d for d in definitions if d), {})
        # As SageMaker names a tuning job's training jobs: <tuning job>-<NNN>-<8 hex>.
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:8]
        best = self.create_training_job(
            training_job_name=f"{name}-001-{suffix}",
            hyper_parameters=definition.get("StaticHyperParameters", {}),
            algorithm_specification=definition.get("AlgorithmSpecification", {}),
            role_arn=definition.get("RoleArn", ""),
            input_data_config=definition.get("InputDataConfig", []),
            output_data_config=definition.get("OutputDataConfig", {}),
            resource_config=definition.get("ResourceConfig", {}),
            vpc_config=definition.get("VpcConfig", {}),
            stopping_condition=definition.get("StoppingCondition", {}),
            tags=[],
            enable_network_isolation=bool(definition.get("EnableNetworkIsolation")),
            enable_inter_container_traffic_encryption=bool(
                definition.get("EnableInterContainerTrafficEncryption")
            ),
            enable_managed_spot_training=bool(definition.get("EnableManagedSpotTraining")),
            checkpoint_config=definition.get("CheckpointConfig", {}),
            debug_hook_config={},
            debug_rule_configurations=[],
            tensor_board_output_config={},
            experiment_config={},
        )
        job = self.hyper_parameter_tuning_jobs[name]
        for summary in (job.best_training_job, job.OverallBestTrainingJob):
            summary.update(
                TrainingJobName=best.training_job_name, TrainingJobArn=best.arn, TuningJobName=name
            )
        return arn

    create_hyper_parameter_tuning_job.trains_best_job = True  # type: ignore[attr-defined]
    backend.create_hyper_parameter_tuning_job = create_hyper_parameter_tuning_job  # type: ignore[method-assign,assignment]


def deploy_bucket_files(created: list[tuple[Stack, str, boto3.Session]], gaps: Gaps) -> None:
    """What each `Custom::CDKBucketDeployment` of the stacks copies: the files of its
    source assets (zips in the bootstrap bucket) under its destination prefix. Sources
    with deploy-time markers, or a destination moto cannot name, are left out."""
    outputs: dict[tuple[str, str], dict[str, str]] = {}
    for stack, stack_id, session in created:
        described = session.client("cloudformation").describe_stacks(StackName=stack_id)
        outputs[(stack.name, session.region_name)] = {
            o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])
        }
    for stack, _, session in created:
        s3 = session.client("s3")
        for resource in stack.of_type("Custom::CDKBucketDeployment").values():
            properties = resource.get("Properties", {})
            try:
                bucket, _ = resolve_stack_outputs(
                    properties.get("DestinationBucketName"), outputs, session.region_name
                )
            except MissingOutputError:
                continue
            sources = list(
                zip(
                    properties.get("SourceBucketNames", []),
                    properties.get("SourceObjectKeys", []),
                    strict=False,
                )
            )
            markers = properties.get("SourceMarkers", [])
            prefix = str(properties.get("DestinationBucketKeyPrefix", ""))
            if not isinstance(bucket, str) or any(markers) or not sources:
                continue
            if not all(isinstance(part, str) for source in sources for part in source):
                continue
            for source_bucket, source_key in sources:
                body = s3.get_object(Bucket=source_bucket, Key=source_key)["Body"].read()
                with zipfile.ZipFile(io.BytesIO(body)) as archive:
                    for member in archive.namelist():
                        s3.put_object(Bucket=bucket, Key=prefix + member, Body=archive.read(member))
            gaps.bucket_files.append(f"s3://{bucket}/{prefix}")
