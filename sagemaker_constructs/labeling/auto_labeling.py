"""Human-in-the-loop auto-labeling with a confidence threshold the user sets.

A state machine pre-labels every object of a manifest with a classifier behind an
existing SageMaker endpoint, keeps the labels whose confidence is at or above the
threshold, has people label the rest, and merges both into one Ground Truth style
augmented manifest plus a summary.

Classifier contract (docs/classifier-contract.md). The endpoint takes and returns JSON
(`Content-Type` and `Accept`: `application/json`):

    request   {"instances": [{"source": "<text>"}, ...]}
              images: {"instances": [{"source-ref": "s3://bucket/key.jpg"}, ...]}
    response  {"predictions": [{"label": "<class>", "confidence": 0.97,
                                "probabilities": {"<class>": 0.97, ...}}, ...]}

One prediction per instance, in order; `label` is one of the workflow's classes;
`confidence` is a number from 0 to 1 (`probabilities` is optional). For images the
endpoint reads the S3 object itself, so its role needs read access to the data bucket.

The run, step by step (runtime/autolabel/):

1. `prepare`: check the input, derive the run id (a digest of the input: same input,
   same output keys) or bind the chosen one to this input (another input is refused),
   split the manifest into batches, failing on malformed lines with their line numbers,
   or on a manifest without objects, before anything is published.
2. `PreLabel`: a Distributed Map over the batches (`max_concurrency` at a time); each
   iteration calls the endpoint `instances_per_request` objects at a time and keeps
   the predictions (a batch already pre-labeled is not sent again). A batch the
   endpoint could not answer (throttled, 5xx, not ready) is retried with bounded
   exponential backoff and full jitter; when it still fails, or the endpoint refused it,
   the run fails and its alert names the endpoint, the batches and their manifest lines.
3. `route`: confidence >= threshold keeps the model's label; the rest is written to
   `human/to-label.manifest`.
4. People label the rest: a Ground Truth labeling workflow, `external` (Ground Truth
   is closed to new customers): the run publishes where the objects are, waits with a
   task token, and resumes when complete, valid labels land at
   `<run>/human/labels.manifest`; or `label_studio`: the run writes Label Studio tasks,
   converts the annotations Label Studio writes back into that labels file and resumes
   the same way (docs/label-studio.md).
5. `merge`: one augmented manifest (`output/output.manifest`) and `output/summary.json`.

A failure anywhere is published to the alerts topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..common import (
    LoggedStateMachine,
    Problems,
    PythonFunction,
    acknowledge_policy_wildcards,
    acknowledge_wildcards,
)
from .access import grant_objects
from .label_studio import LabelStudioRole
from .labeling_workflow import alert_and_fail
from .runtime.autolabel.studio import ANNOTATIONS_DIR

RUNTIME = Path(__file__).parent / "runtime"
OUTPUT_TYPES = {
    "text": "groundtruth/text-classification",
    "image": "groundtruth/image-classification",
}
MULTI_LABEL_OUTPUT_TYPES = {
    "text": "groundtruth/text-classification-multilabel",
    "image": "groundtruth/image-classification-multilabel",
}
RUN_PREFIX = "auto-labeling/"


class AutoLabelingWorkflow(Construct):
    """A state machine that auto-labels a manifest above a confidence threshold and has
    people label the rest (the steps are in the module docstring).

    Classifier contract (docs/classifier-contract.md): the endpoints take
    `{"instances": [{"source": "<text>"}, ...]}` (images: `{"source-ref": "s3://..."}`,
    read by the endpoint itself) as `application/json` and answer
    `{"predictions": [{"label": "<class>", "confidence": <0..1>, "probabilities": {...}},
    ...]}`: one prediction per instance, in order, `label` one of `labels`, `confidence`
    a number from 0 to 1, `probabilities` optional. Anything else fails the run, naming
    the endpoint and the manifest line.

    Execution input: `{"manifest_uri": "s3://<data bucket>/..."}`, optionally `threshold`
    (0-1), `endpoint_name` (one of `endpoint_names`), `human_mode` (`label_studio` when a
    Label Studio host is given, `ground_truth` when a labeling workflow is given, or
    `external`) and `run_id`. The output is the run's
    summary: counts auto vs human, the threshold, the fraction auto-labeled and the
    estimated human-labeling cost saved.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        data_type: str,
        labels: Sequence[str],
        endpoint_names: Sequence[str],
        data_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        alerts_topic: sns.ITopic,
        labeling_state_machine: sfn.IStateMachine | None = None,
        label_studio: LabelStudioRole | None = None,
        label_studio_images_prefix: str = "",
        multi_label: bool = False,
        default_threshold: float = 0.9,
        label_attribute: str = "label",
        instances_per_request: int = 32,
        objects_per_batch: int = 500,
        max_concurrency: int = 10,
        human_cost_per_object_usd: Decimal = Decimal("0.08"),
        review_emails: Sequence[str] = (),
        ground_truth_prefixes: Mapping[str, str] | None = None,
        timeout: Duration = Duration.days(30),
        log_retention_days: int = 365,
    ) -> None:
        """
        :param name: Workflow name: runs live under `auto-labeling/<name>/` in the data
            bucket. 1-20 lower-case letters, digits and hyphens.
        :param data_type: `text` (lines `{"source": ...}`) or `image` (`{"source-ref": ...}`).
        :param labels: Classes in order (index = class id in the output). 2-30.
        :param endpoint_names: Endpoints serving the classifier contract; the first is the
            default. 1-10. The functions may invoke only these.
        :param data_bucket: Holds manifests and runs.
        :param encryption_key: Key of the data bucket, the topic and the logs.
        :param alerts_topic: Told when a run fails.
        :param labeling_state_machine: A `LabelingWorkflow`'s state machine (classification
            of the same data type, labels and multi-label choice) for human mode
            `ground_truth`. Default: none.
        :param label_studio: The role of the Label Studio host, for human mode
            `label_studio` (the default mode when given): the workflow lets it read its runs'
            tasks (and images) and write their annotations. Default: none.
        :param label_studio_images_prefix: Image workflows with Label Studio: where the
            images are in the data bucket. Default: anywhere (`""`).
        :param multi_label: Whether an object may get several classes (the endpoint answers
            `labels`; the output is Ground Truth's multi-label format). Default: false.
        :param default_threshold: Default: 0.9. Valid range: 0-1.
        :param label_attribute: Output attribute of the label; not ending in -metadata or
            -ref. Default: `label`.
        :param instances_per_request: Objects per endpoint call. Default: 32. Valid range:
            1-1000.
        :param objects_per_batch: Objects per parallel pre-labeling task. Default: 500.
            Valid range: 10-10000.
        :param max_concurrency: Batches at a time. Default: 10. Valid range: 1-1000.
        :param human_cost_per_object_usd: For the summary's savings estimate. Default: 0.08.
        :param review_emails: Subscribed to review requests (external and Label Studio
            modes). Default: none.
        :param ground_truth_prefixes: Model-quality monitoring: by endpoint name (one of
            `endpoint_names`), the data bucket's key prefix (ending in `/`) of that
            endpoint's ground truth. Pre-labeling then sends each object alone with an
            InferenceId, and after the merge a step writes people's labels there as Model
            Monitor ground-truth records. Single-label workflows only. Default: none.
        :param timeout: Longest run, including waiting for people. Default: 30 days.
        :param log_retention_days: Default: 365.
        """
        super().__init__(scope, id_)
        problems = Problems("AutoLabelingWorkflow")
        problems.check(
            1 <= len(name) <= 20
            and name[:1].isalpha()
            and all(c.islower() or c.isdigit() or c == "-" for c in name),
            f"name must be 1-20 lower-case letters, digits and hyphens (got {name!r})",
        )
        problems.check(
            data_type in OUTPUT_TYPES, f"data_type must be text or image (got {data_type!r})"
        )
        problems.check(
            2 <= len(labels) <= 30 and len(set(labels)) == len(labels),
            f"labels must be 2-30 unique classes (got {list(labels)})",
        )
        problems.check(
            1 <= len(endpoint_names) <= 10,
            f"endpoint_names needs 1-10 endpoints (got {len(endpoint_names)})",
        )
        problems.check(
            0 <= default_threshold <= 1,
            f"default_threshold must be 0-1 (got {default_threshold})",
        )
        # LABEL-4 (API_CreateLabelingJob): the ground_truth review passes it on as the
        # labeling job's LabelAttributeName.
        problems.check(
            bool(label_attribute) and not label_attribute.endswith(("-metadata", "-ref")),
            f"label_attribute must not be empty or end with -metadata or -ref "
            f"(got {label_attribute!r})",
        )
        for key, value, low, high in (
            ("instances_per_request", instances_per_request, 1, 1000),
            ("objects_per_batch", objects_per_batch, 10, 10_000),
            ("max_concurrency", max_concurrency, 1, 1000),
        ):
            problems.check(low <= value <= high, f"{key} must be {low}-{high} (got {value})")
        monitored = dict(ground_truth_prefixes or {})
        known = {e.lower() for e in endpoint_names}
        problems.check(
            all(e.lower() in known for e in monitored),
            f"ground_truth_prefixes names endpoints that are not in endpoint_names "
            f"({', '.join(sorted(set(monitored) - set(endpoint_names)))})",
        )
        problems.check(
            all(p.endswith("/") for p in monitored.values()),
            f"ground_truth_prefixes must end with '/' (got {list(monitored.values())})",
        )
        problems.check(
            not (monitored and multi_label),
            "ground_truth_prefixes: model-quality monitoring takes one class per object; "
            "multi_label workflows cannot write its ground truth",
        )
        problems.check(
            human_cost_per_object_usd >= 0,
            f"human_cost_per_object_usd must be 0 or more (got {human_cost_per_object_usd})",
        )
        problems.raise_if_any()

        stack = Stack.of(self)
        prefix = f"{RUN_PREFIX}{name}/"
        self.run_prefix = prefix
        """Key prefix of this workflow's runs in the data bucket."""
        human_modes = (["label_studio"] if label_studio else []) + (
            ["ground_truth"] if labeling_state_machine else []
        )
        human_modes.append("external")
        common_env = {
            "DATA_BUCKET": data_bucket.bucket_name,
            "WORKFLOW": name,
            "LABELS": json.dumps(list(labels)),
            "DATA_TYPE": data_type,
            "MULTI_LABEL": "true" if multi_label else "false",
        }
        studio_images = (
            {"LABEL_STUDIO_IMAGES_PREFIX": label_studio_images_prefix}
            if label_studio and data_type == "image"
            else {}
        )

        self.review_topic = sns.Topic(
            self,
            "ReviewRequests",
            display_name=f"Labels needed: {name}",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        """Where runs say which objects need people and where their labels go."""
        for email in review_emails:
            self.review_topic.add_subscription(subscriptions.EmailSubscription(email))

        def function(
            id_: str, handler: str, description: str, env: dict[str, str], minutes: int = 15
        ) -> PythonFunction:
            made = PythonFunction(
                self,
                id_,
                code_dir=RUNTIME,
                handler=handler,
                description=description,
                encryption_key=encryption_key,
                timeout=Duration.minutes(minutes),
                memory_size=1024,
                environment={**common_env, **env},
                log_retention_days=log_retention_days,
            )
            # Streaming keeps memory bounded; joins and uploads spool to /tmp.
            cfn = made.function.node.default_child
            assert isinstance(cfn, lambda_.CfnFunction)
            cfn.ephemeral_storage = lambda_.CfnFunction.EphemeralStorageProperty(size=4096)
            grant_objects(made.role, data_bucket, encryption_key, f"{prefix}*", write=True)
            return made

        self.prepare = function(
            "Prepare",
            "autolabel.prepare.handler",
            f"Checks the input of a {name} auto-labeling run and splits its manifest",
            {
                "RUN_PREFIX": prefix,
                "ENDPOINTS": json.dumps(list(endpoint_names)),
                "DEFAULT_THRESHOLD": str(default_threshold),
                "LABEL_ATTRIBUTE": label_attribute,
                "HUMAN_MODES": json.dumps(human_modes),
                "OBJECTS_PER_BATCH": str(objects_per_batch),
                **studio_images,
            },
        )
        """Checks the input and splits the manifest into batches."""
        self.predict = function(
            "Predict",
            "autolabel.predict.handler",
            f"Pre-labels one batch of a {name} run with the endpoint",
            {
                "INSTANCES_PER_REQUEST": str(instances_per_request),
                **({"INFERENCE_IDS": "true"} if monitored else {}),
            },
        )
        """Pre-labels one batch."""
        self.describe_failure = function(
            "DescribeFailure",
            "autolabel.predict.failure_handler",
            f"Says which batches of a failed {name} run could not be pre-labeled and why",
            {},
            minutes=5,
        )
        """Restates a failed pre-labeling with the batches that failed and why."""
        self.route = function(
            "Route",
            "autolabel.route.handler",
            f"Routes a {name} run's predictions by the threshold",
            {},
        )
        """Routes by the threshold."""
        self.merge = function(
            "Merge",
            "autolabel.merge.handler",
            f"Merges a {name} run's model and human labels into one manifest",
            {
                "OUTPUT_TYPE": (MULTI_LABEL_OUTPUT_TYPES if multi_label else OUTPUT_TYPES)[
                    data_type
                ],
                "HUMAN_COST_PER_OBJECT": str(human_cost_per_object_usd),
            },
        )
        """Merges the labels and writes the summary."""
        self.publish_ground_truth: PythonFunction | None = None
        """Model-quality monitoring: writes people's labels as ground-truth records."""
        if monitored:
            self.publish_ground_truth = function(
                "PublishGroundTruth",
                "autolabel.monitor_labels.handler",
                f"Writes the labels people gave in a {name} run as Model Monitor ground truth",
                {"GROUND_TRUTH_PREFIXES": json.dumps(monitored)},
                minutes=5,
            )
            for ground_truth in monitored.values():
                grant_objects(
                    self.publish_ground_truth.role,
                    data_bucket,
                    encryption_key,
                    f"{ground_truth}*",
                    write=True,
                )
        self.request_review = function(
            "RequestReview",
            "autolabel.review.request_handler",
            f"Asks people to label a {name} run's low-confidence objects",
            {"REVIEW_TOPIC_ARN": self.review_topic.topic_arn},
            # Label Studio mode writes the objects as tasks first.
            minutes=5,
        )
        """Publishes a review request (writing Label Studio's tasks in that mode) and
        records its task token."""
        self.labels_arrived = function(
            "LabelsArrived",
            "autolabel.review.labels_arrived_handler",
            f"Resumes a {name} run when people's labels arrive",
            {"REVIEW_TOPIC_ARN": self.review_topic.topic_arn},
        )
        """Checks labels put back and resumes the waiting run."""
        self.annotations_arrived: PythonFunction | None = None
        """Label Studio mode: converts and checks the annotations Label Studio writes."""
        self.label_studio_role: iam.IRole | None = None
        """Label Studio mode: the role Label Studio's host assumes."""
        publishers = [self.request_review, self.labels_arrived]
        if label_studio is not None:
            self.annotations_arrived = function(
                "AnnotationsArrived",
                "autolabel.studio_review.annotations_handler",
                f"Converts and checks Label Studio's annotations of a {name} run",
                {"REVIEW_TOPIC_ARN": self.review_topic.topic_arn, "RUN_PREFIX": prefix},
            )
            publishers.append(self.annotations_arrived)
            label_studio.allow_runs(
                prefix,
                images_prefix=label_studio_images_prefix if data_type == "image" else None,
            )
            self.label_studio_role = label_studio.role
        # Manifests may be anywhere in the data bucket; Ground Truth's output too.
        grant_objects(self.prepare.role, data_bucket, encryption_key, "*")
        # A split that fails removes the batches it wrote, and nothing else.
        chunks = data_bucket.arn_for_objects(f"{prefix}*/work/chunks/*")
        self.prepare.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:DeleteObject"], resources=[chunks])
        )
        grant_objects(self.merge.role, data_bucket, encryption_key, "*")
        for publisher in publishers:
            self.review_topic.grant_publish(publisher.role)
        endpoint_arns = [
            stack.format_arn(service="sagemaker", resource="endpoint", resource_name=e.lower())
            for e in endpoint_names
        ]
        self.predict.role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=endpoint_arns)
        )
        for made in (
            self.prepare,
            self.predict,
            self.describe_failure,
            self.route,
            self.merge,
            *publishers,
            *([self.publish_ground_truth] if self.publish_ground_truth else []),
        ):
            acknowledge_wildcards(
                made.role,
                # Publishing to the KMS-encrypted review topic needs its data keys.
                actions=["kms:GenerateDataKey*"] if made in publishers else [],
                resources=[
                    data_bucket.arn_for_objects(f"{prefix}*"),
                    data_bucket.arn_for_objects("*"),
                    chunks,
                    *(
                        data_bucket.arn_for_objects(f"{p}*")
                        for p in monitored.values()
                        if made is self.publish_ground_truth
                    ),
                ],
                reason=f"Runs keep their files under {prefix} in the data bucket (read and create "
                "there); prepare and merge also read manifests and Ground Truth output anywhere "
                "in it; prepare removes the batches of a split that failed."
                + (
                    " The ground-truth step writes records in hourly folders under the "
                    "monitored endpoints' ground-truth prefixes."
                    if made is self.publish_ground_truth
                    else ""
                ),
            )

        definition = self._definition(
            name=name,
            data_bucket=data_bucket,
            alerts_topic=alerts_topic,
            labeling_state_machine=labeling_state_machine,
            max_concurrency=max_concurrency,
            review_timeout=timeout,
        )
        self.machine = LoggedStateMachine(
            self,
            # Names the log group: unique per stack.
            f"auto-labeling-{name}",
            definition=definition,
            encryption_key=encryption_key,
            timeout=timeout,
            comment=f"Auto-labels {data_type} above a confidence threshold; people label the rest",
            log_retention_days=log_retention_days,
        )
        self.state_machine = self.machine.state_machine
        """The state machine."""
        alerts_topic.grant_publish(self.state_machine)
        # The Distributed Map reads the batch index, an SSE-KMS object, itself.
        encryption_key.grant_decrypt(self.state_machine)
        self.state_machine.grant_task_response(self.labels_arrived.role)
        self._acknowledge_machine(stack, data_bucket, labeling_state_machine)

        self.labels_rule = events.Rule(
            self,
            "LabelsPutBack",
            description=f"Labels put back for a waiting {name} run",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [data_bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(f"{prefix}*/human/labels.manifest")},
                },
            ),
            targets=[targets.LambdaFunction(self.labels_arrived.function, retry_attempts=4)],
        )
        """Sends the data bucket's `labels.manifest` arrivals to `labels_arrived`."""
        if self.annotations_arrived is not None:
            events.Rule(
                self,
                "LabelStudioAnnotations",
                description=f"Label Studio annotations of a waiting {name} run",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [data_bucket.bucket_name]},
                        "object": {"key": events.Match.wildcard(f"{prefix}*/{ANNOTATIONS_DIR}*")},
                    },
                ),
                # A lost event is caught up by the next one (each call reads every file).
                targets=[
                    targets.LambdaFunction(self.annotations_arrived.function, retry_attempts=4)
                ],
            )

    def _acknowledge_machine(
        self,
        stack: Stack,
        data_bucket: s3.IBucket,
        labeling_state_machine: sfn.IStateMachine | None,
    ) -> None:
        functions = (
            self.prepare,
            self.predict,
            self.describe_failure,
            self.route,
            self.merge,
            self.request_review,
            *([self.publish_ground_truth] if self.publish_ground_truth else []),
        )
        resources = [f"{made.function.function_arn}:*" for made in functions]
        # The Distributed Map's item reader: the batch index in the data bucket.
        resources.append(f"arn:{Aws.PARTITION}:s3:::{data_bucket.bucket_name}/*")
        if labeling_state_machine is not None:
            name = stack.split_arn(
                labeling_state_machine.state_machine_arn, ArnFormat.COLON_RESOURCE_NAME
            ).resource_name
            resources.append(
                stack.format_arn(
                    service="states",
                    resource="execution",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    resource_name=f"{name}*",
                )
            )
        acknowledge_wildcards(
            self.state_machine.role,
            actions=["kms:GenerateDataKey*"],
            resources=resources,
            reason="Invokes only this workflow's functions (any version), reads the batch "
            "index the Distributed Map iterates over, follows the executions of its own "
            "labeling workflow, and publishes to KMS-encrypted topics.",
        )
        child_policy = self.state_machine.node.try_find_child("DistributedMapPolicy")
        assert child_policy is not None
        acknowledge_policy_wildcards(
            child_policy,
            reason="CDK's Distributed Map policy: the state machine starts, describes, stops "
            "and redrives the child executions of its own Distributed Map only.",
        )

    def _definition(
        self,
        *,
        name: str,
        data_bucket: s3.IBucket,
        alerts_topic: sns.ITopic,
        labeling_state_machine: sfn.IStateMachine | None,
        max_concurrency: int,
        review_timeout: Duration,
    ) -> sfn.IChainable:
        failed = alert_and_fail(self, alerts_topic, f"Auto-labeling workflow {name} failed")

        def invoke(
            id_: str, made: PythonFunction, payload: dict[str, object], result_path: str
        ) -> tasks.LambdaInvoke:
            step = tasks.LambdaInvoke(
                self,
                id_,
                lambda_function=made.function,
                payload=sfn.TaskInput.from_object(payload),
                payload_response_only=True,
                result_path=result_path,
            )
            step.add_retry(
                errors=["Lambda.TooManyRequestsException"],
                interval=Duration.seconds(5),
                max_attempts=6,
                backoff_rate=2,
            )
            step.add_catch(failed, result_path="$.error")
            return step

        prepare = invoke(
            "SplitManifest",
            self.prepare,
            {
                "input": sfn.JsonPath.entire_payload,
                "execution_name": sfn.JsonPath.string_at("$$.Execution.Name"),
            },
            "$.run",
        )
        predict = tasks.LambdaInvoke(
            self,
            "PredictBatch",
            lambda_function=self.predict.function,
            payload_response_only=True,
        )
        predict.add_retry(
            errors=["Lambda.TooManyRequestsException"],
            interval=Duration.seconds(5),
            max_attempts=6,
            backoff_rate=2,
        )
        # A batch the endpoint could not answer (after the SDK's own retries) is tried again
        # after at most 10, 20, 40, 80 and 120 s, full jitter spreading the batches'
        # retries: 270 s of waiting at most, then the run fails naming the batch.
        predict.add_retry(
            errors=["EndpointUnavailableError"],
            interval=Duration.seconds(10),
            max_attempts=5,
            backoff_rate=2,
            max_delay=Duration.minutes(2),
            jitter_strategy=sfn.JitterType.FULL,
        )
        pre_label = sfn.DistributedMap(
            self,
            "PreLabel",
            item_reader=sfn.S3JsonItemReader(
                bucket=data_bucket, key=sfn.JsonPath.string_at("$.run.chunks_key")
            ),
            item_selector={
                "batch": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                "run": sfn.JsonPath.object_at("$.run"),
            },
            max_concurrency=max_concurrency,
            result_path=sfn.JsonPath.DISCARD,
            comment="Pre-labels the batches in parallel",
        )
        pre_label.item_processor(predict)
        # A Distributed Map reports a failed batch only as
        # States.ExceedToleratedFailureThreshold: say which batches failed and why.
        describe = tasks.LambdaInvoke(
            self,
            "DescribeFailedBatches",
            lambda_function=self.describe_failure.function,
            payload=sfn.TaskInput.from_object(
                {"run": sfn.JsonPath.object_at("$.run"), "error": sfn.JsonPath.object_at("$.error")}
            ),
            payload_response_only=True,
            result_path="$.error",
        )
        describe.add_catch(failed, result_path="$.describe_error")
        describe.next(failed)
        pre_label.add_catch(describe, result_path="$.error")
        route = invoke(
            "RouteByThreshold", self.route, {"run": sfn.JsonPath.object_at("$.run")}, "$.route"
        )
        merge = invoke(
            "MergeLabels",
            self.merge,
            {
                "run": sfn.JsonPath.object_at("$.run"),
                "route": sfn.JsonPath.object_at("$.route"),
                "human": sfn.JsonPath.object_at("$.human"),
            },
            "$.summary",
        )
        done = sfn.Succeed(self, "Done", output_path="$.summary")
        if self.publish_ground_truth is not None:
            # After the merge: people's labels become the monitored endpoint's ground truth.
            publish = invoke(
                "WriteGroundTruth",
                self.publish_ground_truth,
                {"run": sfn.JsonPath.object_at("$.run")},
                "$.ground_truth",
            )
            merge.next(publish).next(done)
        else:
            merge.next(done)

        no_people = sfn.Pass(
            self, "NoPeopleNeeded", result=sfn.Result.from_object({}), result_path="$.human"
        ).next(merge)
        reuse = sfn.Pass(
            self,
            "ReuseLabels",
            parameters={"labels_uri": sfn.JsonPath.string_at("$.route.labels_uri")},
            result_path="$.human",
        ).next(merge)
        external = tasks.LambdaInvoke(
            self,
            "AskPeople",
            lambda_function=self.request_review.function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {
                    "token": sfn.JsonPath.task_token,
                    "run": sfn.JsonPath.object_at("$.run"),
                    "route": sfn.JsonPath.object_at("$.route"),
                }
            ),
            result_path="$.human",
            task_timeout=sfn.Timeout.duration(review_timeout),
            comment="Waits until people's labels arrive at <run>/human/labels.manifest",
        )
        external.add_catch(failed, result_path="$.error")
        external.next(merge)

        people = sfn.Choice(self, "HowPeopleLabel")
        if labeling_state_machine is not None:
            ground_truth = tasks.StepFunctionsStartExecution(
                self,
                "LabelWithGroundTruth",
                state_machine=labeling_state_machine,
                integration_pattern=sfn.IntegrationPattern.RUN_JOB,
                associate_with_parent=True,
                input=sfn.TaskInput.from_object(
                    {
                        "manifest_uri": sfn.JsonPath.string_at("$.route.to_label_uri"),
                        "label_attribute": sfn.JsonPath.string_at("$.run.label_attribute"),
                    }
                ),
                result_selector={
                    "labels_uri": sfn.JsonPath.string_at("$.Output.output_manifest_uri")
                },
                result_path="$.human",
            )
            ground_truth.add_catch(failed, result_path="$.error")
            ground_truth.next(merge)
            people.when(
                sfn.Condition.string_equals("$.run.human_mode", "ground_truth"), ground_truth
            )
        people.otherwise(external)

        routed = sfn.Choice(self, "NeedPeople")
        routed.when(sfn.Condition.number_equals("$.route.human_count", 0), no_people)
        routed.when(sfn.Condition.boolean_equals("$.route.labels_ready", True), reuse)
        routed.otherwise(people)

        finished = sfn.Choice(self, "AlreadyFinished")
        finished_run: sfn.IChainable = sfn.Succeed(self, "Finished", output_path="$.run.summary")
        if self.publish_ground_truth is not None:
            # A run that failed writing its ground truth is finished (merged) when started
            # again: the step runs again, writing the same records to the same key.
            again = invoke(
                "WriteGroundTruthOfFinishedRun",
                self.publish_ground_truth,
                {"run": sfn.JsonPath.object_at("$.run")},
                "$.ground_truth",
            )
            again.next(finished_run)
            finished_run = again
        finished.when(sfn.Condition.boolean_equals("$.run.completed", True), finished_run)
        finished.otherwise(pre_label.next(route).next(routed))
        return prepare.next(finished)
