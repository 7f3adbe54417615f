"""Deploy rehearsal: every stack of an assembly created in moto's CloudFormation,
in-process, the way `cdk deploy` would, then deleted (`rehearse`, a test oracle). The
playground (`make playground`, tools/playground) creates the stacks the same way
(`create_stacks`) in a moto server and keeps them.

What is rehearsed and how:

- `cdk bootstrap` is mimicked: the assets bucket, the container-assets repository
  and the bootstrap version parameter exist in the mock account.
- File assets (Lambda code, templates) are uploaded to the assets bucket at the keys
  the asset manifest names, zipped where the manifest says so.
- Docker image assets are not built (no Docker): a placeholder image is pushed to the
  mock ECR repository under each asset's tag, so the image URIs the templates hold
  resolve, unchanged.
- Stacks are created in deployment order from the uploaded template (TemplateURL),
  with cross-stack exports resolved by moto, then deleted in reverse order.

What is not rehearsed, and why (each listed in the report):

- Gaps of moto itself (`MOTO_CREATE_GAPS`, `MOTO_DELETE_GAPS`): a property moto
  mishandles is left out of the rehearsed copy; a resource moto cannot delete is
  reported with the reason, and only such resources may remain after deletion.
- `Fn::GetStackOutput` (how CDK refers to another stack's resources): moto 5.2.5 does
  not know this intrinsic function, so the rehearsal resolves each one as
  CloudFormation does, to the output value of the stack it already created, and
  reports how many it resolved; an output that does not exist fails the stack.

- Resource types moto's CloudFormation does not model: moto skips them with a
  warning; they are listed as skipped.
- Conditional resources: every parameter is passed at creation with its default (moto
  5.2.5 keeps only the parameters it is given, and UpdateStack's UsePreviousValue fails
  on the others), so resources under a condition that is false then (an endpoint that
  waits for its first approved model version) are not created: they are listed as
  waiting, not missing.
- The model approval workflow, where a stack has one: a version of each followed group
  is registered and approved in moto's model registry (promoted where an endpoint is
  promoted from another), and the workflow's own step (`promotion/handler.py`) runs
  until it is done. Its UpdateStack on the previous template creates the waiting
  endpoints; each must then exist. moto's updates complete at once, so the blue/green
  deployment and its alarms are not rehearsed.

- moto parses every template it is given with PyYAML's pure-Python loader before trying
  JSON (about 15 ms per template, and moto parses each one several times); CDK writes
  JSON, so `create_stacks` makes moto read JSON first (`_json_templates_first`).

- Custom resources (`Custom::*`, `AWS::CloudFormation::CustomResource`): moto invokes
  the backing Lambda function and waits for the handler to answer on a callback URL,
  which needs the handler to run in Docker. Without Docker the stack would wait
  forever, so they (and whatever refers to them) are taken out of the rehearsed copy
  of the template and listed as not rehearsable. Their Lambda functions and roles are
  still created.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from moto import mock_aws
from moto.cloudformation.models import Stack as MotoStack
from moto.cloudformation.parsing import get_model_map
from moto.core.models import DEFAULT_ACCOUNT_ID

from sagemaker_constructs.inference.runtime.promotion.handler import Clients, Step
from sagemaker_constructs.inference.runtime.promotion.versions import PROMOTED_PREFIX
from tools.assembly import Assembly, Stack, references
from tools.conditions import condition_values
from tools.deploy_parameters import followers as approval_followers

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.literals import CapabilityType

PLACEHOLDER_IMAGE_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        },
        "layers": [],
    }
)
# Properties moto mishandles on create: left out of the rehearsed copy (templates stay
# as they are), each reported where it applies.
MOTO_CREATE_GAPS = {
    ("AWS::KMS::Key", "Tags"): (
        "Tags not rehearsed: moto 5.2.5 hands CloudFormation's Key/Value tags to KMS's "
        "tagger, which expects TagKey/TagValue (KeyError 'TagKey'); "
        "real CloudFormation takes Key/Value"
    ),
}
# Types moto creates but cannot delete through CloudFormation (no delete handler).
MOTO_DELETE_GAPS = {
    "AWS::EC2::RouteTable": "moto 5.2.5's CloudFormation has no delete handler for route tables",
    "AWS::EC2::SubnetRouteTableAssociation": (
        "moto 5.2.5's CloudFormation has no delete handler for route table associations"
    ),
}

# Names CloudFormation generates for these types are shortened to the service's limit;
# moto's are not (so a long stack name fails there, and only there).
GENERATED_NAME_LIMITS: dict[str, tuple[str, int]] = {
    "AWS::StepFunctions::StateMachine": ("StateMachineName", 80),
}


def _moto_accepts_notebook_type(value: str) -> bool:
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeSagemakerNotebookInstance

    try:
        FakeSagemakerNotebookInstance.validate_instance_type(None, value)  # type: ignore[arg-type]
    except ValidationError:
        return False
    return True


def _botocore_enum(operation: str, member: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    input_shape = model.operation_model(operation).input_shape
    assert input_shape is not None, operation
    return frozenset(getattr(input_shape.members[member], "enum", []))


# Values AWS accepts (botocore's service model says so) that moto's own, older lists
# refuse: a resource holding one is not rehearsable, and the report says why.
MOTO_VALUE_GAPS: dict[
    tuple[str, str], tuple[Callable[[str], bool], Callable[[], frozenset[str]]]
] = {
    ("AWS::SageMaker::NotebookInstance", "InstanceType"): (
        _moto_accepts_notebook_type,
        lambda: _botocore_enum("CreateNotebookInstance", "InstanceType"),
    ),
}
CAPABILITIES: list[CapabilityType] = [
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
]
CUSTOM_RESOURCE = "AWS::CloudFormation::CustomResource"
REPORT_PROPERTY = "rehearsal_report"
"""User property of a rehearsal test that carries its report to the session summary."""


@dataclass
class StackRehearsal:
    """What happened to one stack."""

    stack: str
    create_status: str = "NOT_STARTED"
    create_error: str = ""
    created: dict[str, str] = field(default_factory=dict)
    """Logical ID -> type of every resource moto created."""
    missing: dict[str, str] = field(default_factory=dict)
    """Resources of types moto models that it did not create (a failure)."""
    waiting: dict[str, str] = field(default_factory=dict)
    """Logical ID -> why it was not created (its condition is false at creation)."""
    approval: str = ""
    """What the rehearsed model approval did, where the stack has a workflow."""
    approval_error: str = ""
    skipped: dict[str, str] = field(default_factory=dict)
    """Logical ID -> type moto does not model."""
    not_rehearsable: dict[str, str] = field(default_factory=dict)
    """Logical ID -> why it was taken out of the rehearsed template."""
    adapted: dict[str, str] = field(default_factory=dict)
    """Logical ID -> the property left out of the rehearsed copy, and why."""
    left_by_moto: dict[str, str] = field(default_factory=dict)
    """Logical ID -> why moto could not delete it (a known moto gap)."""
    delete_status: str = "NOT_STARTED"
    delete_error: str = ""
    retained: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.create_status == "CREATE_COMPLETE"
            and not self.missing
            and not self.approval_error
            and self.delete_status in ("DELETE_COMPLETE", "DELETE_COMPLETE_EXCEPT_MOTO_GAPS")
        )


@dataclass
class Rehearsal:
    """The rehearsal of one assembly."""

    label: str
    stacks: list[StackRehearsal] = field(default_factory=list)
    uploaded_files: list[str] = field(default_factory=list)
    placeholder_images: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.stacks) and all(s.ok for s in self.stacks)

    @property
    def skipped_types(self) -> list[str]:
        return sorted({t for s in self.stacks for t in s.skipped.values()})

    def report(self) -> str:
        lines = [f"deploy rehearsal of {self.label} in moto:"]
        lines.append(
            f"  assets: {len(self.uploaded_files)} file(s) uploaded, "
            f"{len(self.placeholder_images)} Docker image(s) replaced by a placeholder image"
        )
        for s in self.stacks:
            created = f"{s.create_status} ({s.create_error})" if s.create_error else s.create_status
            deleted = f"{s.delete_status} ({s.delete_error})" if s.delete_error else s.delete_status
            lines.append(
                f"  {s.stack}: {created} -> {deleted}; "
                f"{len(s.created)} created, {len(s.skipped)} skipped, "
                f"{len(s.not_rehearsable)} not rehearsable, {len(s.retained)} retained on delete"
            )
            for logical_id, resource_type in sorted(s.missing.items()):
                lines.append(f"    NOT CREATED: {logical_id} ({resource_type})")
            for logical_id, reason in sorted(s.waiting.items()):
                lines.append(f"    waiting: {logical_id}: {reason}")
            if s.approval:
                lines.append(f"    approval rehearsed: {s.approval}")
            if s.approval_error:
                lines.append(f"    APPROVAL FAILED: {s.approval_error}")
            for logical_id, reason in sorted(s.not_rehearsable.items()):
                lines.append(f"    not rehearsable: {logical_id}: {reason}")
            for logical_id, reason in sorted(s.adapted.items()):
                lines.append(f"    adapted for moto: {logical_id}: {reason}")
            for logical_id, reason in sorted(s.left_by_moto.items()):
                lines.append(f"    left by moto on delete: {logical_id}: {reason}")
        if self.skipped_types:
            lines.append("  types moto's CloudFormation does not model (skipped):")
            lines += [f"    {t}" for t in self.skipped_types]
        return "\n".join(lines)


def rehearse(assembly: Assembly, label: str) -> Rehearsal:
    """Create every stack of `assembly` in moto, check each resource, delete them all."""
    result = Rehearsal(label=label)
    with mock_aws(), warnings.catch_warnings():
        # moto warns for each type it skips; the report lists them instead.
        warnings.simplefilter("ignore")
        created = create_stacks(assembly, result)
        for stack, stack_id, session in reversed(created):
            outcome = next(s for s in result.stacks if s.stack == stack.name)
            _delete(stack, stack_id, session, outcome)
    return result


def create_stacks(assembly: Assembly, result: Rehearsal) -> list[tuple[Stack, str, boto3.Session]]:
    """Mimic `cdk bootstrap`, publish the assets and create every stack of `assembly` in
    deployment order, in the moto that boto3 reaches (in-process under `mock_aws`, or a
    moto server named by AWS_ENDPOINT_URL, as `make playground` does); each stack's
    outcome is added to `result`. Returns the stacks created: (stack, ID, session)."""
    _json_templates_first()
    supported = set(get_model_map())
    sessions: dict[tuple[str, str], boto3.Session] = {}
    created: list[tuple[Stack, str, boto3.Session]] = []
    outputs: dict[tuple[str, str], dict[str, str]] = {}
    for stack in assembly:
        session = _session(stack, sessions)
        _bootstrap(stack, session, result)
        outcome = StackRehearsal(stack=stack.name)
        result.stacks.append(outcome)
        stack_id = _create(stack, session, outcome, supported, outputs)
        if stack_id:
            created.append((stack, stack_id, session))
            if approval_followers(stack):
                _rehearse_approval(stack, stack_id, session, outcome)
            described = session.client("cloudformation").describe_stacks(StackName=stack_id)
            outputs[(stack.name, session.region_name)] = {
                o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])
            }
    return created


_YAML_FIRST = MotoStack.parse_template


def _json_templates_first() -> None:
    """Make moto 5.2.5's stacks parse a JSON template as JSON (its own parser tries
    YAML first, which takes most of a rehearsal's time); anything else as before."""
    MotoStack.parse_template = staticmethod(_parse_json_first)  # type: ignore[method-assign]


def _parse_json_first(template: str) -> dict[str, Any]:
    try:
        parsed = json.loads(template)
    except ValueError:
        return _YAML_FIRST(template)
    return parsed if isinstance(parsed, dict) else _YAML_FIRST(template)


def _session(stack: Stack, sessions: dict[tuple[str, str], boto3.Session]) -> boto3.Session:
    """A session in the stack's account and region (another account through moto's
    cross-account role assumption)."""
    region = stack.region or "us-east-1"
    account = stack.account or DEFAULT_ACCOUNT_ID
    key = (account, region)
    if key not in sessions:
        if account == DEFAULT_ACCOUNT_ID:
            sessions[key] = boto3.Session(region_name=region)
        else:
            credentials = boto3.client("sts", region_name=region).assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/rehearsal", RoleSessionName="rehearsal"
            )["Credentials"]
            sessions[key] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                region_name=region,
            )
    return sessions[key]


def _substitute(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def _bootstrap(stack: Stack, session: boto3.Session, result: Rehearsal) -> None:
    """What `cdk bootstrap` would have made, then the stack's assets published."""
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    s3 = session.client("s3")
    ecr = session.client("ecr")
    ssm = session.client("ssm")
    parameter = stack.template.get("Parameters", {}).get("BootstrapVersion", {}).get("Default")
    if parameter:
        ssm.put_parameter(Name=parameter, Value="30", Type="String", Overwrite=True)
    manifest = stack.assets()
    for asset_id, asset in manifest.get("files", {}).items():
        body = _file_asset(stack.template_path.parent / asset["source"]["path"], asset["source"])
        for destination in asset["destinations"].values():
            bucket = _substitute(destination["bucketName"], account, region)
            _ensure_bucket(s3, bucket, region)
            key = _substitute(destination["objectKey"], account, region)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            result.uploaded_files.append(f"{asset_id[:12]} -> s3://{bucket}/{key}")
    for asset_id, asset in manifest.get("dockerImages", {}).items():
        for destination in asset["destinations"].values():
            repository = _substitute(destination["repositoryName"], account, region)
            with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
                ecr.create_repository(repositoryName=repository)
            # Stacks that build the same image share one asset (and tag): pushed once.
            with contextlib.suppress(ecr.exceptions.ImageAlreadyExistsException):
                ecr.put_image(
                    repositoryName=repository,
                    imageManifest=PLACEHOLDER_IMAGE_MANIFEST,
                    imageTag=destination["imageTag"],
                )
            result.placeholder_images.append(
                f"{asset_id[:12]} -> {repository}:{destination['imageTag']}"
            )


def _file_asset(path: Path, source: dict[str, Any]) -> bytes:
    if source.get("packaging") == "zip" or path.is_dir():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                archive.write(file, file.relative_to(path).as_posix())
        return buffer.getvalue()
    return path.read_bytes()


def _ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
            )


def rehearsable_template(
    template: dict[str, Any], supported: set[str]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """A copy of `template` without custom resources and what depends on them, without
    the properties moto mishandles, and with placeholders for attributes of resources
    moto does not model; the reason each removed resource or output is not
    rehearsable; what was adapted, and why."""
    resources = template.get("Resources", {})
    reasons: dict[str, str] = {}
    for logical_id, resource in resources.items():
        resource_type = resource.get("Type", "")
        if resource_type.startswith("Custom::") or resource_type == CUSTOM_RESOURCE:
            token = references(resource.get("Properties", {}).get("ServiceToken"))
            backed_by_lambda = any(
                resources.get(name, {}).get("Type") == "AWS::Lambda::Function" for name in token
            )
            reasons[logical_id] = (
                f"{resource_type}: a Lambda-backed custom resource; moto runs its handler "
                "only in Docker (not available) and waits for the handler's answer"
                if backed_by_lambda
                else f"{resource_type}: a custom resource whose provider moto cannot run"
            )
    for logical_id, resource in resources.items():
        for (resource_type, prop), (moto_accepts, aws_values) in MOTO_VALUE_GAPS.items():
            value = resource.get("Properties", {}).get(prop)
            if (
                resource.get("Type") == resource_type
                and isinstance(value, str)
                and not moto_accepts(value)
                and value in aws_values()
            ):
                reasons[logical_id] = (
                    f"{prop} {value}: moto 5.2.5's list of allowed values lacks it, "
                    "though AWS (botocore's SageMaker model) accepts it"
                )
    changed = True
    while changed:
        changed = False
        for logical_id, resource in resources.items():
            if logical_id in reasons:
                continue
            depends = resource.get("DependsOn", [])
            depends = [depends] if isinstance(depends, str) else depends
            blocked = (references(resource) | set(depends)) & set(reasons)
            if blocked:
                reasons[logical_id] = f"refers to {', '.join(sorted(blocked))}, not rehearsable"
                changed = True
    rehearsed = copy.deepcopy(template)
    for logical_id in reasons:
        rehearsed["Resources"].pop(logical_id, None)
    for name, output in list(rehearsed.get("Outputs", {}).items()):
        blocked = references(output) & set(reasons)
        if blocked:
            del rehearsed["Outputs"][name]
            reasons[f"output {name}"] = f"refers to {', '.join(sorted(blocked))}, not rehearsable"
    adapted: dict[str, str] = {}
    for logical_id, resource in rehearsed["Resources"].items():
        for (resource_type, prop), reason in MOTO_CREATE_GAPS.items():
            if resource["Type"] == resource_type and prop in resource.get("Properties", {}):
                del resource["Properties"][prop]
                adapted[logical_id] = reason
    for logical_id, resource in rehearsed["Resources"].items():
        for resource_type, (name_property, limit) in GENERATED_NAME_LIMITS.items():
            properties = resource.setdefault("Properties", {})
            if resource["Type"] == resource_type and name_property not in properties:
                digest = hashlib.sha256(logical_id.encode()).hexdigest()[:8]
                properties[name_property] = f"{logical_id[: limit - 9]}-{digest}"
                adapted[logical_id] = (
                    f"{name_property} set: moto 5.2.5 names the resource "
                    "<stack>-<logical id>-<suffix> without shortening it to the service's "
                    f"{limit}-character limit, as CloudFormation does"
                )
    # moto fails a whole stack on Fn::GetAtt of a resource it skipped: such attributes
    # stand in as placeholders (the skipped resource itself is not rehearsed either).
    unmodelled = {
        name: r["Type"] for name, r in rehearsed["Resources"].items() if r["Type"] not in supported
    }
    for section in ("Resources", "Outputs"):
        for name, item in rehearsed.get(section, {}).items():
            replaced: list[str] = []
            rehearsed[section][name] = _placeholders(item, unmodelled, replaced)
            if replaced:
                label = name if section == "Resources" else f"output {name}"
                note = (
                    f"{', '.join(sorted(set(replaced)))} stand in as placeholders: "
                    "moto does not model these resources, so it cannot give their attributes"
                )
                adapted[label] = f"{adapted[label]}; {note}" if label in adapted else note
    return rehearsed, reasons, adapted


def _placeholder(name: str, attribute: str) -> str:
    """A stand-in for an attribute moto cannot give; ARN-shaped where an ARN is expected
    (IAM refuses a policy whose resource is not an ARN)."""
    if attribute.endswith("Arn"):
        return f"arn:aws:rehearsal:us-east-1:123456789012:placeholder/{name}"
    return f"rehearsal-placeholder-{name}-{attribute}"


def _placeholder_of_match(name: str, match: re.Match[str]) -> str:
    return _placeholder(name, match.group(1))


def _placeholders(value: Any, unmodelled: dict[str, str], replaced: list[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name, attribute = target.split(".", 1) if isinstance(target, str) else target
            if name in unmodelled:
                replaced.append(f"Fn::GetAtt {name}.{attribute} ({unmodelled[name]})")
                return _placeholder(name, attribute)
        if set(value) == {"Fn::Sub"}:
            arg = value["Fn::Sub"]
            text = arg[0] if isinstance(arg, list) else arg
            for name in unmodelled:
                if f"${{{name}." in text:
                    replaced.append(f"Fn::Sub ${{{name}.*}} ({unmodelled[name]})")
                    text = re.sub(
                        r"\$\{" + re.escape(name) + r"\.([^}]+)\}",
                        partial(_placeholder_of_match, name),
                        text,
                    )
            rest = (
                [_placeholders(v, unmodelled, replaced) for v in arg[1:]]
                if isinstance(arg, list)
                else []
            )
            return {"Fn::Sub": [text, *rest] if isinstance(arg, list) else text}
        return {k: _placeholders(v, unmodelled, replaced) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, unmodelled, replaced) for v in value]
    return value


class MissingOutputError(Exception):
    """An `Fn::GetStackOutput` names an output that no rehearsed stack has."""


def resolve_stack_outputs(
    value: Any, outputs: dict[tuple[str, str], dict[str, str]], region: str
) -> tuple[Any, int]:
    """`value` with each `Fn::GetStackOutput` replaced by that output's value, and how
    many were replaced. Raises MissingOutputError naming an output no stack has."""
    if isinstance(value, dict):
        if set(value) == {"Fn::GetStackOutput"}:
            spec = value["Fn::GetStackOutput"]
            # Environment-agnostic stacks name the consumer's own region with a Ref.
            named = spec.get("Region", region)
            key = (
                str(spec["StackName"]),
                region if named == {"Ref": "AWS::Region"} else str(named),
            )
            found = outputs.get(key, {}).get(str(spec["OutputName"]))
            if found is None:
                raise MissingOutputError(
                    f"Fn::GetStackOutput {key[0]}.{spec['OutputName']} ({key[1]}): "
                    "no such output among the stacks rehearsed before it"
                )
            return found, 1
        resolved, count = {}, 0
        for k, v in value.items():
            resolved[k], n = resolve_stack_outputs(v, outputs, region)
            count += n
        return resolved, count
    if isinstance(value, list):
        items, count = [], 0
        for v in value:
            item, n = resolve_stack_outputs(v, outputs, region)
            items.append(item)
            count += n
        return items, count
    return value, 0


def _create(
    stack: Stack,
    session: boto3.Session,
    outcome: StackRehearsal,
    supported: set[str],
    outputs: dict[tuple[str, str], dict[str, str]],
) -> str | None:
    template, outcome.not_rehearsable, outcome.adapted = rehearsable_template(
        stack.template, supported
    )
    try:
        template, resolved = resolve_stack_outputs(template, outputs, session.region_name)
    except MissingOutputError as err:
        outcome.create_status, outcome.create_error = "CREATE_FAILED", str(err)
        return None
    if resolved:
        outcome.adapted["(template)"] = (
            f"{resolved} Fn::GetStackOutput reference(s) resolved by the rehearsal to the "
            "outputs of the stacks it created: moto 5.2.5 does not know this function"
        )
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in supported:
            outcome.skipped[logical_id] = resource["Type"]
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    s3 = session.client("s3")
    bucket = f"rehearsal-templates-{account}-{region}"
    _ensure_bucket(s3, bucket, region)
    key = f"{stack.name}.template.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(template).encode())
    cloudformation = session.client("cloudformation")
    try:
        stack_id: str = cloudformation.create_stack(
            StackName=stack.name,
            TemplateURL=f"https://{bucket}.s3.{region}.amazonaws.com/{key}",
            Parameters=[
                {"ParameterKey": name, "ParameterValue": str(value)}
                for name, value in _defaults(template).items()
            ],
            Capabilities=CAPABILITIES,
        )["StackId"]
    except Exception as err:
        outcome.create_status = "CREATE_FAILED"
        outcome.create_error = f"{type(err).__name__}: {err}"
        return None
    outcome.create_status = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0][
        "StackStatus"
    ]
    listed = {
        r["LogicalResourceId"]: r
        for r in cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    }
    conditions = condition_values(template, _defaults(template))
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in supported:
            continue
        # Listed: moto built a model for it (some models, such as security group
        # rules, have no physical ID of their own).
        condition = resource.get("Condition", "")
        if logical_id in listed:
            outcome.created[logical_id] = resource["Type"]
        elif conditions.get(condition) is False:
            outcome.waiting[logical_id] = f"{resource['Type']} (condition {condition} is false)"
        else:
            outcome.missing[logical_id] = resource["Type"]
    outcome.retained = sorted(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
        and logical_id in outcome.created
    )
    return stack_id


def _defaults(template: dict[str, Any]) -> dict[str, str]:
    return {
        name: str(spec["Default"])
        for name, spec in (template.get("Parameters") or {}).items()
        if "Default" in spec
    }


REHEARSAL_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/rehearsal:1"


def _rehearse_approval(
    stack: Stack, stack_id: str, session: boto3.Session, outcome: StackRehearsal
) -> None:
    """Approve a version of each followed group (promote it where an endpoint is promoted
    from another) and run the approval workflow's step until it is done; the endpoints
    that waited for a version must then exist."""
    followers = approval_followers(stack)
    sagemaker = session.client("sagemaker")
    versions: dict[str, str] = {}
    for group in sorted({f.group for f in followers}):
        with contextlib.suppress(sagemaker.exceptions.ClientError):
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        versions[group] = sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": REHEARSAL_IMAGE}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus="Approved",
        )["ModelPackageArn"]
    for group, arn in versions.items():
        marks = {
            f"{PROMOTED_PREFIX}{f.endpoint}": "rehearsal"
            for f in followers
            if f.group == group and f.promoted_from
        }
        if marks:
            sagemaker.update_model_package(
                ModelPackageArn=arn,
                ModelApprovalStatus="Approved",
                ApprovalDescription="rehearsal",
                CustomerMetadataProperties=marks,
            )
    topic = session.client("sns").create_topic(Name="rehearsal-alerts")["TopicArn"]
    step = Step(
        Clients(
            cloudformation=session.client("cloudformation"),
            sagemaker=sagemaker,
            stepfunctions=session.client("stepfunctions"),
            sns=session.client("sns"),
        ),
        stack_name=stack.name,
        followers=followers,
        alerts_topic_arn=topic,
    )
    state: dict[str, Any] = {}
    try:
        for _ in range(4 * len(followers) + 2):
            state = step.run({"state": state})
            if state["next"] != "wait":
                break
        listed = {
            r["LogicalResourceId"]
            for r in session.client("cloudformation").list_stack_resources(StackName=stack_id)[
                "StackResourceSummaries"
            ]
        }
    except Exception as err:  # moto reports a failed update on the next call
        outcome.approval_error = f"{type(err).__name__}: {err}"
        return
    if state["next"] != "done":
        outcome.approval_error = f"the workflow ended {state['next']}: {state['message']}"
        return
    appeared = sorted(set(outcome.waiting) & listed)
    for logical_id in appeared:
        outcome.created[logical_id] = outcome.waiting.pop(logical_id).split(" (", 1)[0]
    for logical_id in list(outcome.waiting):
        outcome.missing[logical_id] = outcome.waiting.pop(logical_id).split(" (", 1)[0]
    outcome.approval = (
        f"{state['message']}; {len(appeared)} waiting resource(s) created by UpdateStack on "
        "the previous template"
    )


def _delete(stack: Stack, stack_id: str, session: boto3.Session, outcome: StackRehearsal) -> None:
    from moto.cloudformation.models import cloudformation_backends

    cloudformation = session.client("cloudformation")
    account = session.client("sts").get_caller_identity()["Account"]
    # moto forgets a stack whose deletion fails: keep its model to see what is left.
    model = cloudformation_backends[account][session.region_name].stacks[stack_id]
    try:
        cloudformation.delete_stack(StackName=stack_id)
        outcome.delete_status = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0][
            "StackStatus"
        ]
        return
    except Exception as err:
        outcome.delete_status = "DELETE_FAILED"
        outcome.delete_error = f"{type(err).__name__}: {err}"
    remaining = _remaining(stack, model.resource_map._parsed_resources)
    explained = _explain_leftovers(stack, remaining, session)
    if remaining and set(explained) == set(remaining):
        outcome.left_by_moto = explained
        outcome.delete_status = "DELETE_COMPLETE_EXCEPT_MOTO_GAPS"
        outcome.delete_error = ""


def _remaining(stack: Stack, parsed: dict[str, Any]) -> dict[str, Any]:
    """Resources of the stack moto still holds after a failed delete (retained ones
    excepted): logical ID -> moto's model."""
    return {
        logical_id: parsed[logical_id]
        for logical_id, resource in stack.resources.items()
        if logical_id in parsed and resource.get("DeletionPolicy") != "Retain"
    }


def _explain_leftovers(
    stack: Stack, remaining: dict[str, Any], session: boto3.Session
) -> dict[str, str]:
    """The leftovers a known moto gap explains: VPCs whose only remaining dependencies
    are route tables of this stack, which moto cannot delete."""
    explained = {}
    undeletable = {
        logical_id: reason
        for logical_id, resource in stack.resources.items()
        for resource_type, reason in MOTO_DELETE_GAPS.items()
        if resource.get("Type") == resource_type
    }
    ec2 = session.client("ec2")
    for logical_id, model in remaining.items():
        if stack.resources[logical_id].get("Type") != "AWS::EC2::VPC":
            continue
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [model.physical_resource_id]}]
        )["RouteTables"]
        tagged = {
            tag["Value"]
            for table in tables
            if not any(a.get("Main") for a in table.get("Associations", []))
            for tag in table.get("Tags", [])
            if tag["Key"] == "aws:cloudformation:logical-id"
        }
        if tagged and tagged <= set(undeletable):
            explained[logical_id] = (
                "its route tables "
                + ", ".join(sorted(tagged))
                + " remain: "
                + undeletable[sorted(tagged)[0]]
                + " (CloudFormation deletes them first), so the VPC is in use"
            )
    return explained
