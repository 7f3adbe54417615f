"""LabelingWorkflow: one CreateLabelingJob request per task type, checked against
botocore; the job role and the state machine role; worker files; region handling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.labeling.ground_truth import GROUND_TRUTH_LAMBDA_ACCOUNTS
from sagemaker_constructs.labeling.labeling_workflow import (
    LabelingWorkflow,
    LabelingWorkforce,
    labeling_job_request,
)
from sagemaker_constructs.labeling.task_types import TASK_TYPES
from sagemaker_constructs.labeling.templates import render_template
from tests.oracles.nag import unacknowledged_findings
from tests.oracles.stepfunctions import sagemaker_requests, state_machines, validate_request
from tests.oracles.synth import new_stack

PRIVATE_TEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/smkit-reviewers"
VENDOR_TEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/vendor-crowd/acme"
TAGS = {"Project": "sagemaker-platform-kit", "smkit:platform": "smkit"}
NETWORK = NetworkPlacement.from_ids(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=["subnet-0123456789abcdef0"],
    security_group_ids=["sg-0123456789abcdef0"],
)
# Task type -> (workforce, automated labeling)
CASES: dict[str, tuple[LabelingWorkforce, bool]] = {
    "image_classification": (LabelingWorkforce.private_team(PRIVATE_TEAM), True),
    "image_classification_multi_label": (LabelingWorkforce.vendor(VENDOR_TEAM), False),
    "text_classification": (LabelingWorkforce.public_crowd("0.036"), True),
    "text_classification_multi_label": (LabelingWorkforce.private_team(PRIVATE_TEAM), False),
    "bounding_box": (LabelingWorkforce.public_crowd("1.2"), True),
    "named_entity_recognition": (LabelingWorkforce.private_team(PRIVATE_TEAM), False),
}


@dataclass
class Built:
    stack: cdk.Stack
    template: dict[str, Any]
    workflows: dict[str, LabelingWorkflow]

    def logical_id(self, construct: Any) -> str:
        resource = (
            construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
        )
        return str(self.stack.resolve(resource.logical_id))

    def statements(self, role: Any) -> list[dict[str, Any]]:
        """Every policy statement attached to `role`."""
        ref = {"Ref": self.logical_id(role)}
        return [
            statement
            for resource in self.template["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and ref in resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        ]


@pytest.fixture(scope="module")
def requests() -> dict[str, dict[str, Any]]:
    """Each task type's CreateLabelingJob request, rendered from a synthesized state machine
    of job tasks only (cheap: no functions or assets)."""
    stack = new_stack()
    states: list[sfn.IChainable] = []
    for task_type, (workforce, automated) in CASES.items():
        request = labeling_job_request(
            stack,
            task=TASK_TYPES[task_type],
            role_arn="arn:aws:iam::123456789012:role/labeling",
            data_bucket_name="data-bucket",
            artifacts_bucket_name="artifacts-bucket",
            files_prefix=f"labeling/{task_type}/",
            workforce=workforce,
            key_arn="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            tags=TAGS,
            max_concurrent_tasks=500,
            automated_labeling=automated,
            content_classifiers=["FreeOfPersonallyIdentifiableInformation"],
            network=NETWORK,
        )
        task = sfn.CustomState(
            stack,
            task_type,
            state_json={
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createLabelingJob.sync",
                "Parameters": request,
            },
        )
        states.append(task)
    chain = sfn.Chain.start(states[0])
    for state in states[1:]:
        chain = chain.next(state)
    sfn.StateMachine(stack, "Machine", definition_body=sfn.DefinitionBody.from_chainable(chain))
    template = cdk.assertions.Template.from_stack(stack).to_json()
    (definition,) = state_machines(template).values()
    rendered = {r.state: r.parameters for r in sagemaker_requests(definition)}
    rendered["template"] = template  # the mapping and region rule, for one test
    return rendered


def workflow(stack: cdk.Stack, task_type: str, name: str, **overrides: Any) -> LabelingWorkflow:
    key = stack.node.try_find_child("Key") or kms.Key(stack, "Key", enable_key_rotation=True)
    data = stack.node.try_find_child("Data") or s3.Bucket(stack, "Data")
    artifacts = stack.node.try_find_child("Artifacts") or s3.Bucket(stack, "Artifacts")
    alerts = stack.node.try_find_child("Alerts") or sns.Topic(stack, "Alerts")
    workforce, automated = CASES.get(
        task_type, (LabelingWorkforce.private_team(PRIVATE_TEAM), False)
    )
    options: dict[str, Any] = {
        "name": name,
        "task_type": task_type,
        "labels": ["cat", "dog", "bird"],
        "title": "Which animal is it?",
        "description": "Pick the animal.",
        "instructions": "Look closely.\n\nIf unsure, pick the most likely one.",
        "workforce": workforce,
        "data_bucket": data,
        "artifacts_bucket": artifacts,
        "encryption_key": key,
        "alerts_topic": alerts,
        "job_name_prefix": f"smkit-{name}-",
        "tags": TAGS,
        "automated_labeling": automated,
        "task_availability": cdk.Duration.hours(12),
        "network": NETWORK,
        **overrides,
    }
    return LabelingWorkflow(stack, f"Workflow-{name}", **options)


@pytest.fixture(scope="module")
def built() -> Built:
    """Two whole workflows: public crowd with automated labeling in a VPC, and a private
    team's multi-label task."""
    stack = new_stack()
    workflows = {
        "text": workflow(stack, "text_classification", "text"),
        "multi": workflow(stack, "text_classification_multi_label", "multi"),
    }
    return Built(stack, cdk.assertions.Template.from_stack(stack).to_json(), workflows)


def definition_of(built: Built, key: str) -> dict[str, Any]:
    return state_machines(built.template)[built.logical_id(built.workflows[key].state_machine)]


def request_of(built: Built, key: str) -> dict[str, Any]:
    (request,) = [
        r
        for r in sagemaker_requests(definition_of(built, key))
        if r.operation == "CreateLabelingJob"
    ]
    return request.parameters


@pytest.mark.parametrize("task_type", sorted(CASES))
def test_each_task_types_request_matches_botocore(requests: dict[str, Any], task_type: str) -> None:
    request = requests[task_type]
    assert validate_request("CreateLabelingJob", request) == []
    task = TASK_TYPES[task_type]
    human = request["HumanTaskConfig"]
    assert human["PreHumanTaskLambdaArn"] == (
        "arn:aws:lambda:us-east-1:${FindInMap:GroundTruthLambdaAccounts|resolved-at-deploy}"
        f":function:PRE-{task.lambda_suffix}"
    )
    assert human["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] == (
        "arn:aws:lambda:us-east-1:${FindInMap:GroundTruthLambdaAccounts|resolved-at-deploy}"
        f":function:ACS-{task.lambda_suffix}"
    )
    if task.element is None:
        assert human["UiConfig"] == {
            "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:394669845002:human-task-ui/"
            "NamedEntityRecognition"
        }
    else:
        assert human["UiConfig"] == {
            "UiTemplateS3Uri": f"s3://artifacts-bucket/labeling/{task_type}/worker-task.liquid.html"
        }
    workforce, automated = CASES[task_type]
    if workforce.kind == "public":
        assert human["WorkteamArn"] == (
            "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default"
        )
        assert "PublicWorkforceTaskPrice" in human
    else:
        assert human["WorkteamArn"] == workforce.workteam_arn
        assert "PublicWorkforceTaskPrice" not in human
    assert ("LabelingJobAlgorithmsConfig" in request) is automated
    assert request["Tags"] == [{"Key": k, "Value": v} for k, v in sorted(TAGS.items())]
    assert request["LabelingJobName.$"] == "$.job.job_name"
    assert request["LabelCategoryConfigS3Uri"] == (
        f"s3://artifacts-bucket/labeling/{task_type}/label-categories.json"
    )
    assert (
        request["OutputConfig"]["S3OutputPath"] == f"s3://data-bucket/labeling/{task_type}/output/"
    )


def test_prices_and_automated_labeling_are_spelled_out(requests: dict[str, Any]) -> None:
    assert requests["text_classification"]["HumanTaskConfig"]["PublicWorkforceTaskPrice"] == {
        "AmountInUsd": {"Dollars": 0, "Cents": 3, "TenthFractionsOfACent": 6}
    }
    assert requests["bounding_box"]["HumanTaskConfig"]["PublicWorkforceTaskPrice"] == {
        "AmountInUsd": {"Dollars": 1, "Cents": 20, "TenthFractionsOfACent": 0}
    }
    algorithms = requests["image_classification"]["LabelingJobAlgorithmsConfig"]
    assert algorithms == {
        "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:027400017018:"
        "labeling-job-algorithm-specification/image-classification",
        "LabelingJobResourceConfig": {
            "VolumeKmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/"
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "VpcConfig": {
                "SecurityGroupIds": ["sg-0123456789abcdef0"],
                "Subnets": ["subnet-0123456789abcdef0"],
            },
        },
    }


def test_lambda_accounts_resolve_per_region_and_other_regions_are_refused(
    requests: dict[str, Any],
) -> None:
    template = requests["template"]
    mapping = template["Mappings"]["GroundTruthLambdaAccounts"]
    assert {
        region: row["Account"] for region, row in mapping.items()
    } == GROUND_TRUTH_LAMBDA_ACCOUNTS
    rule = template["Rules"]["GroundTruthRegion"]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Contains": [sorted(GROUND_TRUTH_LAMBDA_ACCOUNTS), {"Ref": "AWS::Region"}]
    }
    assert assertion["AssertDescription"].startswith(
        "Ground Truth's built-in task types (their AWS-owned pre-annotation and consolidation "
        "Lambdas) exist only in ap-northeast-1, "
    )
    stack = cdk.Stack(
        cdk.App(), "SaoPaulo", env=cdk.Environment(account="123456789012", region="sa-east-1")
    )
    with pytest.raises(ValueError) as raised:
        workflow(stack, "text_classification", "text")
    assert str(raised.value) == (
        "Ground Truth's built-in task types are not available in region sa-east-1; "
        "available in: " + ", ".join(sorted(GROUND_TRUTH_LAMBDA_ACCOUNTS))
    )


def test_workflow_request_matches_botocore_and_reads_the_run_from_the_input_check(
    built: Built,
) -> None:
    request = request_of(built, "text")
    assert validate_request("CreateLabelingJob", request) == []
    states = definition_of(built, "text")["States"]
    assert states["CheckInput"]["Next"] == "Label"
    assert states["CheckInput"]["ResultPath"] == "$.job"
    assert states["Label"]["Resource"] == "arn:aws:states:::sagemaker:createLabelingJob.sync"
    assert states["Label"]["ResultSelector"]["output_manifest_uri.$"] == (
        "$.LabelingJobOutput.OutputDatasetS3Uri"
    )
    assert states["Done"] == {"Type": "Succeed", "OutputPath": "$.result"}


def test_state_machine_role_may_only_run_this_workflows_jobs_and_follow_them(built: Built) -> None:
    made = built.workflows["text"]
    statements = built.statements(made.state_machine.role)
    jobs = next(s for s in statements if "sagemaker:CreateLabelingJob" in s["Action"])
    assert sorted(jobs["Action"]) == [
        "sagemaker:AddTags",
        "sagemaker:CreateLabelingJob",
        "sagemaker:DescribeLabelingJob",
        "sagemaker:ListTags",
        "sagemaker:StopLabelingJob",
    ]
    assert jobs["Resource"]["Fn::Join"][1][-1] == ":labeling-job/smkit-text-*"
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert pass_role["Resource"] == {"Fn::GetAtt": [built.logical_id(made.role), "Arn"]}
    # LABEL-1: `.sync` follows the job through Step Functions' managed EventBridge rule;
    # without this grant CreateStateMachine or the first run fails ("not authorized to
    # create managed-rule").
    (rule,) = [s for s in statements if "events:PutRule" in s["Action"]]
    assert sorted(rule["Action"]) == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
    assert rule["Resource"]["Fn::Join"][1][-1] == ":rule/StepFunctionsGetEventsForSageMaker*"
    grant = next(s for s in statements if s["Action"] == "kms:CreateGrant")
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert len(invoke["Resource"]) == 2  # its own input check (and its versions) only


def test_job_role_reads_the_data_writes_its_output_and_nothing_else(built: Built) -> None:
    statements = built.statements(built.workflows["multi"].role)
    s3_statements: dict[str, set[str]] = {}
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if all(action.startswith("s3:") for action in actions):
            for resource in resources:
                s3_statements.setdefault(json.dumps(resource, sort_keys=True), set()).update(
                    actions
                )

    def objects(bucket: str, pattern: str) -> str:
        return json.dumps(
            {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, pattern]]}, sort_keys=True
        )

    data, artifacts = (
        built.logical_id(built.stack.node.find_child("Data")),
        built.logical_id(built.stack.node.find_child("Artifacts")),
    )
    assert s3_statements[objects(data, "/*")] == {"s3:GetObject"}
    assert s3_statements[objects(data, "/labeling/multi/output/*")] == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
    }
    assert s3_statements[objects(artifacts, "/labeling/multi/*")] == {"s3:GetObject"}
    assert len(s3_statements) == 5  # and the two buckets: ListBucket, GetBucketLocation
    assert not any("Delete" in str(actions) for actions in s3_statements.values())
    key = next(s for s in statements if "kms:GenerateDataKey" in s["Action"])
    assert sorted(key["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    logs = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert logs["Resource"]["Fn::Join"][1][-1] == ":log-group:/aws/sagemaker/LabelingJobs*"
    metrics = next(s for s in statements if s["Action"] == "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}
    assert not any("ec2:CreateNetworkInterface" in s["Action"] for s in statements)
    # Automated labeling in a VPC: its training and inference need network interfaces.
    assert any(
        "ec2:CreateNetworkInterface" in s["Action"]
        for s in built.statements(built.workflows["text"].role)
    )


def test_failures_alert_and_worker_files_are_deployed(built: Built) -> None:
    states = definition_of(built, "text")["States"]
    assert states["Label"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Alert"}
    ]
    assert states["Alert"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["Failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
    deployments = [
        r
        for r in built.template["Resources"].values()
        if r["Type"] == "Custom::CDKBucketDeployment"
    ]
    assert {d["Properties"]["DestinationBucketKeyPrefix"] for d in deployments} == {
        "labeling/text/",
        "labeling/multi/",
    }
    assert all(d["Properties"]["Prune"] is False for d in deployments)


def test_nothing_is_left_for_cdk_nag(built: Built) -> None:
    findings = unacknowledged_findings(built.stack.node.scope)  # type: ignore[arg-type]
    # The test's own buckets and topic are bare; the workflows and CDK's handler are not.
    ours = [f for f in findings if "/Workflow-" in f or "CDKBucketDeployment" in f]
    assert ours == []
    assert findings, "the bare test buckets do have findings: the check ran"


def test_configured_text_never_becomes_liquid_or_markup() -> None:
    rendered = render_template(
        TASK_TYPES["text_classification"],
        title='Is it a <b>"cat"</b>? {{ task.input.taskObject }}',
        description="Pick one.",
        instructions="First {% raw %}.\n\nSecond.",
    )
    assert (
        'header="Is it a &lt;b&gt;&quot;cat&quot;&lt;/b&gt;? '
        '&#123;&#123; task.input.taskObject &#125;&#125;"' in rendered
    )
    assert "<p>First &#123;% raw %&#125;.</p><p>Second.</p>" in rendered
    assert '<crowd-classifier\n    name="crowd-classifier"' in rendered
    assert "{{ task.input.labels | to_json | escape }}" in rendered
    with pytest.raises(ValueError, match="uses an AWS-hosted worker UI"):
        render_template(
            TASK_TYPES["named_entity_recognition"], title="t", description="d", instructions="i"
        )


def test_invalid_props_are_named_together() -> None:
    stack = new_stack()
    with pytest.raises(ValueError) as raised:
        workflow(
            stack,
            "named_entity_recognition",
            "NER",
            labels=["a", "a"],
            title="",
            job_name_prefix="Smkit-",
            workers_per_object=10,
            automated_labeling=True,
            workforce=LabelingWorkforce.public_crowd("0.05"),
            task_time_limit=cdk.Duration.hours(2),
            label_attribute="tag-ref",
        )
    assert str(raised.value) == (
        "Invalid LabelingWorkflow props: name must be 1-20 lower-case letters, digits and "
        "hyphens (got 'NER'); automated_labeling is not available for named_entity_recognition; "
        "labels must be unique (got ['a', 'a']); title must be 1-128 characters (got 0); "
        "job_name_prefix must be 1-40 lower-case characters (got 'Smkit-'); workers_per_object "
        "must be 1-9 (got 10); task_time_limit must be 30-3600 seconds (got 7200); "
        "price_per_task_usd must be one of 0.012, 0.024, 0.036, 0.048, 0.060, 0.072, 0.120, "
        "0.240, 0.360, 0.480, 0.600, 0.720, 0.840, 0.960, 1.080, 1.200 (got 0.05); "
        "label_attribute must not be empty or end with -metadata or -ref (got 'tag-ref')"
    )
    with pytest.raises(
        ValueError, match=r"task_type must be one of image_classification, .* \(got 'video'\)"
    ):
        workflow(new_stack(), "video", "video")
