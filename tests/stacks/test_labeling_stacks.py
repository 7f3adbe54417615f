"""The Workforce (stateful) and Labeling (stateless) stacks of the full config, and what
labeling asks of the Foundation's data bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from stacks.platform import platform_tags
from stacks.workforce_stack import LOGICAL_IDS, team_logical_ids
from tests.oracles.stepfunctions import sagemaker_requests, state_machines
from tests.oracles.synth import Synthesis

TEAMS = ["text-reviewers", "image-reviewers"]
PINNED = {
    LOGICAL_IDS["user_pool"]: "AWS::Cognito::UserPool",
    LOGICAL_IDS["user_pool_domain"]: "AWS::Cognito::UserPoolDomain",
    LOGICAL_IDS["client"]: "AWS::Cognito::UserPoolClient",
    LOGICAL_IDS["workforce"]: "AWS::SageMaker::Workforce",
    LOGICAL_IDS["notification_key"]: "AWS::KMS::Key",
    **{team_logical_ids(t)["group"]: "AWS::Cognito::UserPoolGroup" for t in TEAMS},
    **{team_logical_ids(t)["workteam"]: "AWS::SageMaker::Workteam" for t in TEAMS},
    **{team_logical_ids(t)["topic"]: "AWS::SNS::Topic" for t in TEAMS},
}


def resources(synth: Synthesis, unit: str, resource_type: str) -> list[dict[str, Any]]:
    return list(synth.resources(unit, resource_type).values())


def statements_of(synth: Synthesis, unit: str, role_logical_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources(synth, unit, "AWS::IAM::Policy")
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def logical_id(synth: Synthesis, construct: Any) -> str:
    resource = construct.node.default_child
    return str(construct.stack.resolve(resource.logical_id))


def test_default_config_deploys_no_labeling(default_synth: Synthesis) -> None:
    assert default_synth.stack_names == ["smkit-Foundation"]
    assert default_synth.platform.workforce is None and default_synth.platform.labeling is None
    data = default_synth.template("Foundation")["Resources"]["DataBucket"]["Properties"]
    assert "CorsConfiguration" not in data and "NotificationConfiguration" not in data


def test_labeling_stacks_are_named_and_protected_by_lifecycle(full_synth: Synthesis) -> None:
    assert {"smkit-full-Workforce", "smkit-full-Labeling"} <= set(full_synth.stack_names)
    platform = full_synth.platform
    assert platform.workforce is not None and platform.labeling is not None
    assert platform.workforce.termination_protection is True  # stateful, environment prod
    assert platform.labeling.termination_protection is False


@pytest.mark.parametrize(("logical_id_", "resource_type"), sorted(PINNED.items()))
def test_stateful_resources_keep_their_logical_ids_and_are_retained(
    full_synth: Synthesis, logical_id_: str, resource_type: str
) -> None:
    resource = full_synth.template("Workforce")["Resources"][logical_id_]
    assert resource["Type"] == resource_type
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_data_bucket_serves_images_to_workers_and_tells_eventbridge(full_synth: Synthesis) -> None:
    data = full_synth.template("Foundation")["Resources"]["DataBucket"]["Properties"]
    assert data["CorsConfiguration"] == {
        "CorsRules": [
            {
                "AllowedMethods": ["GET"],
                "AllowedOrigins": ["*"],
                "ExposedHeaders": ["Access-Control-Allow-Origin"],
            }
        ]
    }
    assert data["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_user_pool_is_locked_down(full_synth: Synthesis) -> None:
    pool = full_synth.template("Workforce")["Resources"][LOGICAL_IDS["user_pool"]]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "RequireUppercase": True,
        "TemporaryPasswordValidityDays": 7,
    }
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["DeletionProtection"] == "ACTIVE"
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["LambdaConfig"]["CustomMessage"]["Fn::GetAtt"][1] == "Arn"
    domain = full_synth.template("Workforce")["Resources"][LOGICAL_IDS["user_pool_domain"]]
    assert domain["Properties"]["Domain"] == "smkit-full-labelers"


def test_client_urls_resource_sends_the_clients_whole_configuration(
    full_synth: Synthesis,
) -> None:
    template = full_synth.template("Workforce")["Resources"]
    client = template[LOGICAL_IDS["client"]]["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthScopes"] == ["email", "openid", "profile"]
    (urls,) = [r for r in template.values() if r["Type"] == "Custom::WorkforceClientUrls"]
    properties = urls["Properties"]
    assert properties["SubDomain"] == {"Fn::GetAtt": [LOGICAL_IDS["workforce"], "SubDomain"]}
    assert properties["ClientId"] == {"Ref": LOGICAL_IDS["client"]}
    # Everything the template sets on the client but the ids, the create-only secret and
    # the URLs the custom resource replaces: UpdateUserPoolClient must get it all.
    expected = {
        k: v
        for k, v in client.items()
        if k not in {"UserPoolId", "GenerateSecret", "CallbackURLs", "LogoutURLs"}
    }
    assert json.loads(properties["ClientConfig"]) == expected


def test_workforce_uses_the_pool_source_ranges_and_the_platform_vpc(full_synth: Synthesis) -> None:
    workforce = full_synth.template("Workforce")["Resources"][LOGICAL_IDS["workforce"]]
    properties = workforce["Properties"]
    assert properties["WorkforceName"] == "smkit-full"
    assert properties["CognitoConfig"] == {
        "ClientId": {"Ref": LOGICAL_IDS["client"]},
        "UserPool": {"Ref": LOGICAL_IDS["user_pool"]},
    }
    assert properties["SourceIpConfig"] == {"Cidrs": ["203.0.113.0/24"]}
    vpc = properties["WorkforceVpcConfig"]
    assert set(vpc) == {"VpcId", "Subnets", "SecurityGroupIds"}
    assert len(vpc["Subnets"]) == 2
    assert {team_logical_ids(t)["group"] for t in TEAMS} <= set(workforce["DependsOn"])


def test_workers_are_invited_into_their_teams_after_the_workforce_exists(
    full_synth: Synthesis,
) -> None:
    template = full_synth.template("Workforce")["Resources"]
    users = {
        r["Properties"]["Username"]: r
        for r in template.values()
        if r["Type"] == "AWS::Cognito::UserPoolUser"
    }
    assert set(users) == {"alice@example.com", "bob@example.com"}
    alice = users["alice@example.com"]
    assert alice["Properties"]["DesiredDeliveryMediums"] == ["EMAIL"]
    assert {"Name": "email_verified", "Value": "true"} in alice["Properties"]["UserAttributes"]
    assert alice["DependsOn"] == [LOGICAL_IDS["workforce"]]
    memberships = {
        r["Properties"]["Username"]: r["Properties"]["GroupName"]
        for r in template.values()
        if r["Type"] == "AWS::Cognito::UserPoolUserToGroupAttachment"
    }
    assert memberships == {
        "alice@example.com": {"Ref": team_logical_ids("text-reviewers")["group"]},
        "bob@example.com": {"Ref": team_logical_ids("image-reviewers")["group"]},
    }


def test_work_teams_are_notified_through_encrypted_topics(full_synth: Synthesis) -> None:
    template = full_synth.template("Workforce")["Resources"]
    ids = team_logical_ids("text-reviewers")
    team = template[ids["workteam"]]
    assert team["Properties"]["WorkteamName"] == "smkit-full-text-reviewers"
    assert team["Properties"]["WorkforceName"] == "smkit-full"
    assert team["Properties"]["MemberDefinitions"] == [
        {
            "CognitoMemberDefinition": {
                "CognitoClientId": {"Ref": LOGICAL_IDS["client"]},
                "CognitoUserGroup": {"Ref": ids["group"]},
                "CognitoUserPool": {"Ref": LOGICAL_IDS["user_pool"]},
            }
        }
    ]
    assert team["Properties"]["NotificationConfiguration"] == {
        "NotificationTopicArn": {"Ref": ids["topic"]}
    }
    assert LOGICAL_IDS["workforce"] in team["DependsOn"]
    topic = template[ids["topic"]]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [LOGICAL_IDS["notification_key"], "Arn"]}
    (policy,) = [
        r["Properties"]
        for r in template.values()
        if r["Type"] == "AWS::SNS::TopicPolicy"
        and r["Properties"]["Topics"] == [{"Ref": ids["topic"]}]
    ]
    publish = next(
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Sid") == "SageMakerPublishesTaskNotifications"
    )
    assert publish["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert publish["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/*"
    }
    key_policy = template[LOGICAL_IDS["notification_key"]]["Properties"]["KeyPolicy"]["Statement"]
    service = next(s for s in key_policy if s.get("Sid") == "SageMakerPublishesTaskNotifications")
    assert sorted(service["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert service["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    subscriptions = [
        r["Properties"] for r in template.values() if r["Type"] == "AWS::SNS::Subscription"
    ]
    assert {
        "Endpoint": "alice@example.com",
        "Protocol": "email",
        "TopicArn": {"Ref": ids["topic"]},
    } in subscriptions


def test_workforce_outputs_name_each_team_and_the_portal(full_synth: Synthesis) -> None:
    outputs = full_synth.template("Workforce")["Outputs"]
    portal = {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [LOGICAL_IDS["workforce"], "SubDomain"]}]]
    }
    assert outputs["LabelingPortalUrl"]["Value"] == portal
    for team in TEAMS:
        ids = team_logical_ids(team)
        assert outputs[f"{ids['workteam']}Arn"]["Value"] == {
            "Fn::GetAtt": [ids["workteam"], "WorkteamArn"]
        }
        assert outputs[f"{ids['workteam']}PortalUrl"]["Value"] == portal


def test_workforce_helpers_may_do_one_thing_each(full_synth: Synthesis) -> None:
    workforce = full_synth.platform.workforce
    assert workforce is not None
    created = workforce.workforce
    client_urls = statements_of(
        full_synth,
        "Workforce",
        logical_id(full_synth, created.client_urls_function.role),  # type: ignore[attr-defined]
    )
    cognito = [s for s in client_urls if str(s["Action"]).startswith("cognito")]
    assert cognito == [
        {
            "Action": "cognito-idp:UpdateUserPoolClient",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [LOGICAL_IDS["user_pool"], "Arn"]},
        }
    ]
    invite = statements_of(
        full_synth,
        "Workforce",
        logical_id(full_synth, created.invite_message.role),  # type: ignore[attr-defined]
    )
    sagemaker = [s for s in invite if str(s["Action"]).startswith("sagemaker")]
    assert sagemaker == [
        {
            "Action": "sagemaker:DescribeWorkforce",
            "Effect": "Allow",
            "Resource": "arn:aws:sagemaker:us-east-1:123456789012:workforce/smkit-full",
        }
    ]


def labeling_requests(full_synth: Synthesis) -> dict[str, dict[str, Any]]:
    found = {}
    for definition in state_machines(full_synth.template("Labeling")).values():
        for request in sagemaker_requests(definition):
            if request.operation == "CreateLabelingJob":
                found[request.parameters["OutputConfig"]["S3OutputPath"].split("/")[-3]] = (
                    request.parameters
                )
    return found


def test_labeling_jobs_carry_the_platform_tags_and_use_the_teams(full_synth: Synthesis) -> None:
    requests = labeling_requests(full_synth)
    assert set(requests) == {"sentiment", "product-photos"}
    tags = [{"Key": k, "Value": v} for k, v in sorted(platform_tags(full_synth.settings).items())]
    assert all(r["Tags"] == tags for r in requests.values())
    assert {"Key": "smkit:platform", "Value": "smkit-full"} in tags
    sentiment = requests["sentiment"]["HumanTaskConfig"]
    assert "Import:" in sentiment["WorkteamArn"] or "GetStackOutput" in sentiment["WorkteamArn"]
    assert "WorkTeamTextReviewersWorkteamArn" in sentiment["WorkteamArn"]
    photos = requests["product-photos"]
    assert photos["LabelingJobAlgorithmsConfig"]["LabelingJobAlgorithmSpecificationArn"].endswith(
        "labeling-job-algorithm-specification/image-classification"
    )
    assert set(photos["LabelingJobAlgorithmsConfig"]["LabelingJobResourceConfig"]) == {
        "VolumeKmsKeyId",
        "VpcConfig",
    }


def auto_labeling_definition(full_synth: Synthesis) -> dict[str, Any]:
    labeling = full_synth.platform.labeling
    assert labeling is not None
    made = labeling.auto_labeling["sentiment-auto"]
    return state_machines(full_synth.template("Labeling"))[
        logical_id(full_synth, made.state_machine)
    ]


def test_auto_labeling_pre_labels_in_parallel_batches_and_waits_for_people(
    full_synth: Synthesis,
) -> None:
    states = auto_labeling_definition(full_synth)["States"]
    pre_label = states["PreLabel"]
    assert pre_label["ItemProcessor"]["ProcessorConfig"] == {
        "Mode": "DISTRIBUTED",
        "ExecutionType": "STANDARD",
    }
    assert pre_label["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert pre_label["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert pre_label["ItemReader"]["Parameters"]["Key.$"] == "$.run.chunks_key"
    assert pre_label["MaxConcurrency"] == 10
    assert pre_label["ItemSelector"] == {"batch.$": "$$.Map.Item.Value", "run.$": "$.run"}
    assert "Parameters" not in pre_label["ItemProcessor"]["States"]["PredictBatch"]
    assert states["AskPeople"]["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert states["AskPeople"]["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert (
        states["LabelWithGroundTruth"]["Resource"]
        == "arn:aws:states:::states:startExecution.sync:2"
    )
    assert (
        states["LabelWithGroundTruth"]["Parameters"]["Input"]["manifest_uri.$"]
        == "$.route.to_label_uri"
    )
    assert states["HowPeopleLabel"]["Choices"][0]["StringEquals"] == "ground_truth"
    assert states["NeedPeople"]["Choices"] == [
        {"Variable": "$.route.human_count", "NumericEquals": 0, "Next": "NoPeopleNeeded"},
        {"Variable": "$.route.labels_ready", "BooleanEquals": True, "Next": "ReuseLabels"},
    ]
    caught = [name for name, state in states.items() if state.get("Catch")]
    assert set(caught) >= {
        "SplitManifest",
        "PreLabel",
        "RouteByThreshold",
        "AskPeople",
        "LabelWithGroundTruth",
        "MergeLabels",
    }
    assert states["Alert"]["Resource"] == "arn:aws:states:::sns:publish"


def test_auto_labeling_functions_are_least_privilege(full_synth: Synthesis) -> None:
    labeling = full_synth.platform.labeling
    assert labeling is not None
    made = labeling.auto_labeling["sentiment-auto"]
    predict = statements_of(full_synth, "Labeling", logical_id(full_synth, made.predict.role))
    invoke = [s for s in predict if s["Action"] == "sagemaker:InvokeEndpoint"]
    assert invoke == [
        {
            "Action": "sagemaker:InvokeEndpoint",
            "Effect": "Allow",
            "Resource": (
                "arn:aws:sagemaker:us-east-1:123456789012:endpoint/smkit-full-text-classifier"
            ),
        }
    ]
    route = statements_of(full_synth, "Labeling", logical_id(full_synth, made.route.role))
    writes = [s for s in route if "s3:PutObject" in s["Action"]]
    assert (
        len(writes) == 1
        and writes[0]["Resource"]["Fn::Join"][1][-1] == "/auto-labeling/sentiment-auto/*"
    )
    assert not any("Delete" in json.dumps(s["Action"]) for s in route)
    arrived = statements_of(
        full_synth, "Labeling", logical_id(full_synth, made.labels_arrived.role)
    )
    resume = next(s for s in arrived if "states:SendTaskSuccess" in s["Action"])
    assert resume["Resource"] == {"Ref": logical_id(full_synth, made.state_machine)}
    (rule,) = [
        r
        for r in resources(full_synth, "Labeling", "AWS::Events::Rule")
        if "auto-labeling/sentiment-auto/" in json.dumps(r["Properties"]["EventPattern"])
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"] == {
        "key": [{"wildcard": "auto-labeling/sentiment-auto/*/human/labels.manifest"}]
    }
    functions = resources(full_synth, "Labeling", "AWS::Lambda::Function")
    ours = [f for f in functions if f["Properties"].get("Handler", "").startswith("autolabel.")]
    # Seven per workflow, the Label Studio workflow's annotations function, and the
    # ground-truth function of the workflow whose labels the text classifier's model
    # quality monitoring reads.
    assert len(ours) == 7 + 8 + 1
    assert all(f["Properties"]["EphemeralStorage"] == {"Size": 4096} for f in ours)


def test_auto_labeling_prepare_may_remove_only_the_batches_of_a_failed_split(
    full_synth: Synthesis,
) -> None:
    labeling = full_synth.platform.labeling
    assert labeling is not None
    made = labeling.auto_labeling["sentiment-auto"]
    prepare = statements_of(full_synth, "Labeling", logical_id(full_synth, made.prepare.role))
    deletes = [s for s in prepare if "Delete" in json.dumps(s["Action"])]
    assert [d["Action"] for d in deletes] == ["s3:DeleteObject"]
    assert (
        deletes[0]["Resource"]["Fn::Join"][1][-1] == "/auto-labeling/sentiment-auto/*/work/chunks/*"
    )


def test_a_batch_the_endpoint_could_not_answer_is_retried_with_bounded_backoff_and_jitter(
    full_synth: Synthesis,
) -> None:
    states = auto_labeling_definition(full_synth)["States"]
    predict = states["PreLabel"]["ItemProcessor"]["States"]["PredictBatch"]
    retried = [r for r in predict["Retry"] if "EndpointUnavailableError" in r["ErrorEquals"]]
    assert retried == [
        {
            "ErrorEquals": ["EndpointUnavailableError"],
            "IntervalSeconds": 10,
            "MaxAttempts": 5,
            "BackoffRate": 2,
            "MaxDelaySeconds": 120,
            "JitterStrategy": "FULL",
        }
    ]
    waits = [min(10 * 2**n, 120) for n in range(retried[0]["MaxAttempts"])]
    assert sum(waits) == 270  # the longest a batch waits for the endpoint, in seconds
    # A refused request or an answer outside the contract fails the same way again.
    errors = {e for r in predict["Retry"] for e in r["ErrorEquals"]}
    assert not errors & {"EndpointError", "InvalidPredictionError", "States.ALL"}

    # The map reports a failed batch only as States.ExceedToleratedFailureThreshold: the
    # alert is sent with the batches that failed and why.
    assert [c["Next"] for c in states["PreLabel"]["Catch"]] == ["DescribeFailedBatches"]
    describe = states["DescribeFailedBatches"]
    assert describe["Parameters"] == {"run.$": "$.run", "error.$": "$.error"}
    assert (describe["ResultPath"], describe["Next"]) == ("$.error", "Alert")
    assert [(c["ResultPath"], c["Next"]) for c in describe["Catch"]] == [
        ("$.describe_error", "Alert")
    ]


def _resources_named(state: dict[str, Any]) -> Iterator[str]:
    yield str(state.get("Resource", ""))
    for branch in state.get("Branches", []):
        for inner in branch["States"].values():
            yield from _resources_named(inner)
    processor = state.get("ItemProcessor") or state.get("Iterator")
    if processor:
        for inner in processor["States"].values():
            yield from _resources_named(inner)


def test_every_state_machine_that_follows_a_job_may_use_step_functions_managed_rule(
    full_synth: Synthesis,
) -> None:
    """LABEL-1: a `.sync` task follows its job through Step Functions' managed EventBridge
    rule; the role needs events:PutTargets, PutRule and DescribeRule on it."""
    template = full_synth.template("Labeling")
    machines = state_machines(template)
    needs = {
        "sagemaker:createLabelingJob.sync": ":rule/StepFunctionsGetEventsForSageMaker*",
        "states:startExecution.sync": ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
    }
    checked = set()
    for machine_id, definition in machines.items():
        role_id = template["Resources"][machine_id]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        rules = [
            json.dumps(s["Resource"])
            for s in statements_of(full_synth, "Labeling", role_id)
            if "events:PutRule" in s["Action"]
            and sorted(s["Action"])
            == ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        ]
        for resource in (r for s in definition["States"].values() for r in _resources_named(s)):
            for integration, rule in needs.items():
                if integration in resource:
                    assert any(rule + '"' in r for r in rules), (machine_id, resource, rules)
                    checked.add(integration)
    assert checked == set(needs)  # both labeling and auto-labeling workflows are covered


def test_label_studio_host_role_may_only_read_tasks_write_annotations_and_use_the_key_via_s3(
    full_synth: Synthesis,
) -> None:
    labeling = full_synth.platform.labeling
    assert labeling is not None
    made = labeling.auto_labeling["sentiment-studio"]
    assert made.label_studio_role is not None and made.annotations_arrived is not None
    role_id = logical_id(full_synth, made.label_studio_role)
    role = full_synth.template("Labeling")["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/label-studio-task"},
        }
    ]
    assert role["MaxSessionDuration"] == 3600
    by_action = {
        "s3:ListBucket": "ListRuns",
        "s3:GetObject": "ReadTasks",
        "s3:PutObject": "WriteAnnotations",
    }
    statements = {
        by_action.get(json.dumps(s["Action"]).strip('"'), "UseKeyThroughS3"): s
        for s in statements_of(full_synth, "Labeling", role_id)
    }
    assert sorted(statements) == ["ListRuns", "ReadTasks", "UseKeyThroughS3", "WriteAnnotations"]

    def keys(statement: dict[str, Any]) -> list[str]:
        found = statement["Resource"]
        return [r["Fn::Join"][1][-1] for r in (found if isinstance(found, list) else [found])]

    assert statements["ListRuns"]["Action"] == "s3:ListBucket"
    assert statements["ListRuns"]["Condition"] == {
        "StringLike": {"s3:prefix": ["auto-labeling/sentiment-studio/*"]}
    }
    # A text workflow reads no images.
    assert statements["ReadTasks"]["Action"] == "s3:GetObject"
    assert keys(statements["ReadTasks"]) == [
        "/auto-labeling/sentiment-studio/*/label-studio/tasks/*"
    ]
    assert statements["WriteAnnotations"]["Action"] == "s3:PutObject"
    assert keys(statements["WriteAnnotations"]) == [
        "/auto-labeling/sentiment-studio/*/label-studio/annotations/*"
    ]
    key = statements["UseKeyThroughS3"]
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    condition = key["Condition"]["StringEquals"]
    assert condition["kms:ViaService"] == {
        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    assert "kms:EncryptionContext:aws:s3:arn" in condition
    assert not any(
        "Delete" in json.dumps(s["Action"]) or s["Action"] == "*" for s in statements.values()
    )

    (rule,) = [
        r
        for r in resources(full_synth, "Labeling", "AWS::Events::Rule")
        if "label-studio/annotations" in json.dumps(r["Properties"]["EventPattern"])
    ]
    assert rule["Properties"]["EventPattern"]["detail"]["object"] == {
        "key": [{"wildcard": "auto-labeling/sentiment-studio/*/label-studio/annotations/*"}]
    }
    functions = full_synth.resources("Labeling", "AWS::Lambda::Function")
    handler = functions[logical_id(full_synth, made.annotations_arrived.function)]["Properties"]
    assert handler["Handler"] == "autolabel.studio_review.annotations_handler"
    prepare = functions[logical_id(full_synth, made.prepare.function)]["Properties"]
    assert json.loads(prepare["Environment"]["Variables"]["HUMAN_MODES"]) == [
        "label_studio",
        "external",
    ]
    outputs = full_synth.template("Labeling")["Outputs"]
    assert outputs["AutoLabelingSentimentStudioLabelStudioRoleArn"]["Value"] == {
        "Fn::GetAtt": [role_id, "Arn"]
    }


def test_the_monitored_endpoints_workflow_writes_ground_truth_after_the_merge(
    full_synth: Synthesis,
) -> None:
    labeling = full_synth.platform.labeling
    assert labeling is not None
    made = labeling.auto_labeling["sentiment-auto"]
    assert made.publish_ground_truth is not None
    assert labeling.auto_labeling["sentiment-studio"].publish_ground_truth is None
    machine_id = logical_id(full_synth, made.state_machine)
    definition = state_machines(full_synth.template("Labeling"))[machine_id]
    states = definition["States"]
    assert states["MergeLabels"]["Next"] == "WriteGroundTruth"
    assert states["WriteGroundTruth"]["Next"] == "Done"
    # A finished run started again writes its ground truth again (same records, same key).
    (finished,) = [c for c in states["AlreadyFinished"]["Choices"]]
    assert finished["Next"] == "WriteGroundTruthOfFinishedRun"
    assert states["WriteGroundTruthOfFinishedRun"]["Next"] == "Finished"
    functions = {
        f["Properties"]["Handler"]: f["Properties"]["Environment"]["Variables"]
        for f in resources(full_synth, "Labeling", "AWS::Lambda::Function")
        if "sentiment-auto" in json.dumps(f["Properties"].get("Description", ""))
        or "sentiment-auto" in json.dumps(f["Properties"]["Environment"])
    }
    assert json.loads(functions["autolabel.monitor_labels.handler"]["GROUND_TRUTH_PREFIXES"]) == {
        "smkit-full-text-classifier": "monitoring/smkit-full-text-classifier/model-quality/"
        "ground-truth/"
    }
    # MONITOR-9: one object per request, with its InferenceId.
    assert functions["autolabel.predict.handler"]["INFERENCE_IDS"] == "true"
    writes = [
        s
        for s in statements_of(
            full_synth, "Labeling", logical_id(full_synth, made.publish_ground_truth.role)
        )
        if "s3:PutObject" in s["Action"]
    ]
    written = [
        part["Fn::Join"][1][-1]
        for s in writes
        for part in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert sorted(written) == [
        "/auto-labeling/sentiment-auto/*",
        "/monitoring/smkit-full-text-classifier/model-quality/ground-truth/*",
    ]
    assert not any("Delete" in json.dumps(s) for s in writes)
