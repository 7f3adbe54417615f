"""The offline oracles over both shipped configs: cdk-nag, cfn-lint, CDK's built-in
template check, pinned
logical IDs of stateful resources, and the SageMaker requests of every state machine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.foundation_stack import LOGICAL_IDS
from tests.oracles.cfn_lint import lint
from tests.oracles.nag import acknowledgements, scope_wide_acknowledgements, unacknowledged_findings
from tests.oracles.stepfunctions import state_machines, validate_definition
from tests.oracles.synth import Synthesis, cdk_json_context, validation_findings

# Reasons that explain nothing. An acknowledgement must say why the finding does not
# apply here, in words a reviewer can check.
LAZY_REASON = re.compile(
    r"^(n/?a|none|todo|tbd|suppress(ed)?|not needed|ok|fine|false positive)\W*$", re.I
)


def test_cdk_nag_has_no_unacknowledged_findings(any_synth: Synthesis) -> None:
    findings = unacknowledged_findings(any_synth.app)
    assert findings == [], "cdk-nag AwsSolutions findings:\n" + "\n".join(findings)


def test_every_acknowledgement_names_a_finding_and_a_resource_with_a_reason(
    any_synth: Synthesis,
) -> None:
    assert scope_wide_acknowledgements(any_synth.app) == []
    # Only the kit's own: aws-cdk-lib acknowledges some CloudFormation-Validate rules itself.
    acks = [
        a
        for a in acknowledgements(any_synth.template_paths())
        if a.rule_id.startswith("AwsSolutions")
    ]
    assert acks, "the templates carry cdk-nag acknowledgements in their metadata"
    bad = [
        ack
        for ack in acks
        if not re.fullmatch(r"AwsSolutions-[A-Z]+\d+(\[.+\])?", ack.rule_id)
        or len(ack.reason) < 40
        or LAZY_REASON.match(ack.reason)
    ]
    assert bad == []


def test_cfn_lint_finds_no_errors(any_synth: Synthesis) -> None:
    regions = [any_synth.settings.region] if any_synth.settings.region else None
    errors: list[str] = []
    for path in any_synth.template_paths():
        template_errors, _warnings = lint(path, regions=regions)
        errors.extend(template_errors)
    assert errors == [], "\n".join(errors)


def test_cdks_builtin_template_check_finds_nothing(any_synth: Synthesis) -> None:
    findings = any_synth.validation_findings()
    assert findings == [], "\n".join(findings)


def test_the_builtin_template_check_reports_what_it_finds(tmp_path: Path) -> None:
    # The oracle above reads the report the same way: a finding there is a finding here.
    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context())
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    stack = cdk.Stack(app, "Bad")
    cdk.CfnResource(
        stack,
        "Bucket",
        type="AWS::S3::Bucket",
        properties={"VersioningConfiguration": {"Status": "Sometimes"}},
    )
    app.synth()
    findings = validation_findings(tmp_path)
    assert len(findings) == 1
    assert "Bad/Bucket" in findings[0]
    assert "'Sometimes' is not one of" in findings[0]


@pytest.mark.parametrize("name", sorted(LOGICAL_IDS))
def test_stateful_resources_keep_their_logical_ids(any_synth: Synthesis, name: str) -> None:
    expected_type = {
        "key": "AWS::KMS::Key",
        "data_bucket": "AWS::S3::Bucket",
        "artifacts_bucket": "AWS::S3::Bucket",
        "access_logs_bucket": "AWS::S3::Bucket",
        "alerts_topic": "AWS::SNS::Topic",
    }[name]
    resources = any_synth.template("Foundation")["Resources"]
    assert (
        LOGICAL_IDS[name]
        == {
            "key": "PlatformKey",
            "data_bucket": "DataBucket",
            "artifacts_bucket": "ArtifactsBucket",
            "access_logs_bucket": "AccessLogsBucket",
            "alerts_topic": "AlertsTopic",
        }[name]
    )
    assert resources[LOGICAL_IDS[name]]["Type"] == expected_type
    assert resources[LOGICAL_IDS[name]].get("DeletionPolicy") == "Retain"


def test_every_sagemaker_request_in_a_state_machine_matches_botocore(any_synth: Synthesis) -> None:
    problems = []
    for path in any_synth.template_paths():
        template = json.loads(path.read_text())
        for logical_id, definition in state_machines(template).items():
            problems.extend(
                f"{path.name} {logical_id} {p}" for p in validate_definition(definition)
            )
    assert problems == []


# What checkov's CKV_AWS_111 (write) and CKV_AWS_109 (permissions management) flag among the
# actions SageMaker execution roles need, plus the image pulls: never on "*" without a condition.
SCOPED_ACTIONS = re.compile(
    r"^ec2:(Create|Delete)NetworkInterface(Permission)?$"
    r"|^ecr:(BatchCheckLayerAvailability|BatchGetImage|GetDownloadUrlForLayer)$"
)


def _iam_statements(template: dict) -> list[tuple[str, dict]]:
    found = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in (
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::Role",
        ):
            continue
        properties = resource.get("Properties", {})
        documents = [properties["PolicyDocument"]] if "PolicyDocument" in properties else []
        documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
        found += [(logical_id, s) for d in documents for s in d["Statement"]]
    return found


def test_no_role_changes_network_interfaces_or_pulls_images_on_everything(
    any_synth: Synthesis,
) -> None:
    unscoped = []
    for path in any_synth.template_paths():
        for logical_id, statement in _iam_statements(json.loads(path.read_text())):
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement["Resource"]
            resources = [resources] if isinstance(resources, str | dict) else resources
            if "*" in resources and "Condition" not in statement:
                unscoped += [
                    f"{path.name} {logical_id} {a}" for a in actions if SCOPED_ACTIONS.match(a)
                ]
    assert unscoped == []


def test_every_role_in_a_vpc_creates_interfaces_only_in_the_platforms_subnets(
    full_synth: Synthesis,
) -> None:
    creating = {}
    for path in full_synth.template_paths():
        for logical_id, statement in _iam_statements(json.loads(path.read_text())):
            if statement["Action"] == "ec2:CreateNetworkInterface":
                # The resource type of each ARN: `...:<type>/<id>`.
                kinds = sorted(
                    {re.findall(r":([a-z-]+)/", json.dumps(r))[-1] for r in statement["Resource"]}
                )
                creating[f"{path.stem} {logical_id}"] = kinds
    # Training, endpoints, automated labeling, jobs from notebooks and Studio, and batch
    # transforms: all the same shape.
    assert {name.split("-")[2].split(".")[0] for name in creating} == {
        "Inference",
        "Labeling",
        "Notebooks",
        "Studio",
        "Training",
        "Transform",
    }
    assert set(map(tuple, creating.values())) == {("network-interface", "security-group", "subnet")}
