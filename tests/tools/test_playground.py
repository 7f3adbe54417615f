"""`make playground` (tools/playground): the full example's stacks in a moto server, and
`smkit` run against it as an operator runs it (an operator install, outside the kit's
folder, pointed at the server by the printed environment), then stopped with Ctrl-C.

The end-to-end test reuses the session's synthesis of the full example and starts one
server; the canned replies and the WSGI layer are tested in process."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result
from moto import mock_aws
from werkzeug.test import Client
from werkzeug.wrappers import Response

from sagemaker_constructs.inference.client import classifier, deepar
from sagemaker_constructs.labeling.runtime.autolabel.labels import LabelFormat, parse_label
from sagemaker_constructs.labeling.templates import label_category_config
from smkit_cli.context import Runtime
from smkit_cli.main import cli
from stacks.settings import load_settings, parse_settings
from tests.conftest import ROOT
from tests.oracles.sfn_runner import STEPFUNCTIONS_CONFIG, Runner
from tests.oracles.synth import FULL_CONFIG, Synthesis
from tests.smkit_cli.operator_install import installed_copy, refused_imports, smkit_command
from tests.test_docs import README, _smkit_lines
from tools.assembly import load_assembly
from tools.playground import interpreter, labeling_jobs, lambdas, samples
from tools.playground.endpoints import EndpointAnswers
from tools.playground.environment import Environment, listen
from tools.playground.labeling_jobs import CONFIDENCE
from tools.playground.main import main
from tools.playground.replies import (
    CLASSIFIER,
    DEEPAR,
    BadRequestError,
    classifier_reply,
    deepar_reply,
    endpoint_kinds,
    endpoint_replies,
)

READY = "Ctrl-C stops it; nothing is kept."
SENTIMENT = ("positive", "negative", "neutral")

# --- canned replies ---------------------------------------------------------------------


def test_the_classifier_answers_as_the_contract_says() -> None:
    texts = ["Great phone", "Broke after a week", "Great phone"]
    answer = classifier_reply(classifier.build_request(texts), SENTIMENT)
    # The kit's own client reads it (one prediction per text, label, confidence 0-1).
    predictions = classifier.parse_response(json.dumps(answer), expected=3)
    for prediction in predictions:
        assert prediction.label in SENTIMENT
        assert 0.55 <= prediction.confidence <= 0.99
        assert set(prediction.probabilities) == set(SENTIMENT)
        assert sum(prediction.probabilities.values()) == pytest.approx(1, abs=0.01)
        assert prediction.probabilities[prediction.label] == prediction.confidence
    assert predictions[0] == predictions[2]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"instances": []}, 'the request must be {"instances": [{"source": "<text>"}, ...]}'),
        ({"instances": [{"text": "hi"}]}, 'instance 0 needs "source" (text) or "source-ref"'),
        ("not an object", 'the request must be {"instances"'),
    ],
)
def test_the_classifier_refuses_requests_outside_the_contract(
    request_body: Any, message: str
) -> None:
    with pytest.raises(BadRequestError, match=re.escape(message)):
        classifier_reply(request_body, SENTIMENT)


def test_deepar_answers_in_deepars_format() -> None:
    target: list[float | None] = [float(day % 7) for day in range(28)]
    target[3] = None
    request = deepar.build_request(
        [deepar.DeepArSeries("2026-01-05", target), deepar.DeepArSeries("2026-01-05", [5.0])],
        output_types=["mean", "quantiles", "samples"],
        quantiles=["0.1", "0.5", "0.9"],
        num_samples=4,
    )
    answer = deepar_reply(request, prediction_length=10)
    first, second = deepar.parse_response(json.dumps(answer), expected=2)
    # Seasonal naive: the last week of the series, repeated over the horizon.
    assert first.mean == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 1.0, 2.0]
    assert sorted(first.quantiles) == ["0.1", "0.5", "0.9"]
    for low, middle, high in zip(*(first.quantile(q) for q in ("0.1", "0.5", "0.9")), strict=True):
        assert low < middle < high
    assert len(first.samples) == 4
    assert all(len(path) == 10 for path in first.samples)
    assert second.mean == [5.0] * 10


def test_deepar_sends_only_the_output_types_asked_for() -> None:
    request = {
        "instances": [{"start": "2026-01-05", "target": [1, 2]}],
        "configuration": {"output_types": ["quantiles"], "quantiles": ["0.5"]},
    }
    assert list(deepar_reply(request, 3)["predictions"][0]) == ["quantiles"]


@pytest.mark.parametrize(
    ("configuration", "instance", "message"),
    [
        ({"output_types": ["median"]}, {"start": "2026-01-05", "target": [1]}, "output_types"),
        ({"quantiles": ["1.5"]}, {"start": "2026-01-05", "target": [1]}, "strictly between"),
        ({}, {"target": [1]}, 'instance 0 needs "start" and "target"'),
    ],
)
def test_deepar_refuses_requests_it_cannot_answer(
    configuration: dict[str, Any], instance: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        deepar_reply({"instances": [instance], "configuration": configuration}, 3)


def test_each_endpoint_of_the_full_example_gets_the_reply_of_what_it_serves() -> None:
    settings = load_settings(FULL_CONFIG)
    # batch-forecast is asynchronous: InvokeEndpointAsync, which moto answers itself.
    assert endpoint_kinds(settings) == {
        "demand-forecast": DEEPAR,
        "text-classifier": CLASSIFIER,
        "text-classifier-staging": CLASSIFIER,
    }
    replies = endpoint_replies(settings)
    labels = replies["smkit-full-text-classifier"]({"instances": [{"source": "x"}] * 5})
    # The classes of sentiment-auto's Ground Truth workflow (sentiment).
    assert {p["label"] for p in labels["predictions"]} <= set(SENTIMENT)
    forecast = replies["smkit-full-demand-forecast"](
        {"instances": [{"start": "2026-01-05", "target": [1, 2, 3]}]}
    )
    # deepar-demand's prediction_length.
    assert len(forecast["predictions"][0]["mean"]) == 14


def test_a_model_package_of_a_deepar_training_serves_deepar() -> None:
    data = yaml.safe_load(FULL_CONFIG.read_text())
    batch = data["inference"]["endpoints"]["batch-forecast"]
    batch["variant"] = {"kind": "serverless", "memory_size_mb": 2048, "max_concurrency": 5}
    del batch["data_capture"]
    settings = parse_settings(yaml.safe_dump(data))
    assert endpoint_kinds(settings)["batch-forecast"] == DEEPAR


# --- InvokeEndpoint in front of moto ----------------------------------------------------


def _moto_stand_in(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"moto"]


@pytest.fixture
def answers() -> Client:
    layer = EndpointAnswers(_moto_stand_in, account="123456789012")
    layer.replies["smkit-full-text-classifier"] = lambda r: classifier_reply(r, SENTIMENT)
    return Client(layer, Response)


def test_invoke_endpoint_is_answered_with_the_reply(answers: Client) -> None:
    response = answers.post(
        "/endpoints/smkit-full-text-classifier/invocations",
        data=json.dumps({"instances": [{"source": "ok"}]}),
    )
    assert response.status_code == 200
    assert response.headers["x-Amzn-Invoked-Production-Variant"] == "AllTraffic"
    assert len(json.loads(response.data)["predictions"]) == 1


def test_an_endpoint_that_does_not_exist_is_refused_as_sagemaker_does(answers: Client) -> None:
    response = answers.post("/endpoints/nope/invocations", data="{}")
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationError"
    assert json.loads(response.data)["message"] == (
        "Endpoint nope of account 123456789012 not found."
    )


def test_a_request_the_model_refuses_is_a_model_error(answers: Client) -> None:
    response = answers.post("/endpoints/smkit-full-text-classifier/invocations", data="[1]")
    assert response.status_code == 424
    assert response.headers["x-amzn-ErrorType"] == "ModelError"
    assert 'the request must be {"instances"' in json.loads(response.data)["message"]


def test_every_other_request_goes_to_moto(answers: Client) -> None:
    assert answers.post("/endpoints/x/async-invocations").data == b"moto"
    assert answers.get("/endpoints/smkit-full-text-classifier/invocations").data == b"moto"
    assert answers.post("/").data == b"moto"


# --- labeling jobs and moto's interpreter ----------------------------------------------


def _labeling_request(task: str, bucket: str = "data") -> dict[str, Any]:
    return {
        "LabelingJobName": "smkit-full-sentiment-try",
        "LabelAttributeName": "sentiment",
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/in"}}},
        "OutputConfig": {"S3OutputPath": f"s3://{bucket}/labeling/sentiment/output/"},
        "LabelCategoryConfigS3Uri": f"s3://{bucket}/labeling/sentiment/label-categories.json",
        "HumanTaskConfig": {
            "PreHumanTaskLambdaArn": f"arn:aws:lambda:us-east-1:432418664414:function:PRE-{task}"
        },
    }


@pytest.mark.parametrize(
    ("task", "multi_label"), [("TextMultiClass", False), ("TextMultiClassMultiLabel", True)]
)
def test_the_stand_in_workers_write_what_the_kits_merge_reads(task: str, multi_label: bool) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        s3.put_object(
            Bucket="data",
            Key="labeling/sentiment/label-categories.json",
            Body=label_category_config(list(SENTIMENT)).encode(),
        )
        lines = [{"source": text, "smkit-line": n} for n, text in enumerate(samples.REVIEWS)]
        s3.put_object(Bucket="data", Key="in", Body="\n".join(map(json.dumps, lines)).encode())
        outcome = labeling_jobs._label(_labeling_request(task), datetime.datetime.now(datetime.UTC))
        assert outcome["LabelingJobStatus"] == "Completed"
        uri = outcome["LabelingJobOutput"]["OutputDatasetS3Uri"]
        assert uri == (
            "s3://data/labeling/sentiment/output/smkit-full-sentiment-try/manifests/output/"
            "output.manifest"
        )
        body = s3.get_object(Bucket="data", Key=uri.split("/", 3)[3])["Body"].read()
    form = LabelFormat("sentiment", list(SENTIMENT), "default", "2026-01-01", multi_label)
    # The kit's own reader of Ground Truth's output accepts every line.
    parsed = [parse_label(raw, form) for raw in body.splitlines()]
    assert [line for line, _ in parsed] == list(range(len(samples.REVIEWS)))
    assert {label["job_name"] for _, label in parsed} == {"labeling-job/smkit-full-sentiment-try"}
    assert outcome["LabelCounters"]["HumanLabeled"] == len(samples.REVIEWS)


def test_the_stand_in_workers_answer_classification_tasks_only() -> None:
    outcome = labeling_jobs._label(
        _labeling_request("BoundingBox"), datetime.datetime.now(datetime.UTC)
    )
    assert outcome["LabelingJobStatus"] == "Failed"
    assert outcome["FailureReason"] == (
        "the playground stand-in workers answer classification tasks only, not BoundingBox"
    )


def test_each_function_runs_the_kits_folder_its_asset_copies(full_synth: Synthesis) -> None:
    stack = load_assembly(full_synth.outdir).stack("smkit-full-Labeling")
    found = {
        logical_id: lambdas._kit_function(stack, logical_id, resource)
        for logical_id, resource in stack.of_type("AWS::Lambda::Function").items()
    }
    kit = {k: f for k, f in found.items() if isinstance(f, lambdas.KitFunction)}
    others = {k: f for k, f in found.items() if not isinstance(f, lambdas.KitFunction)}
    assert {f.source for f in kit.values()} == {
        ROOT / "sagemaker_constructs" / "labeling" / "runtime"
    }
    merge = next(f for k, f in kit.items() if k.startswith("AutoLabelingsentimentautoMerge"))
    assert (merge.handler, merge.timeout_s) == ("autolabel.merge.handler", 900)
    # CDK's BucketDeployment handler is Python too, but not the kit's code.
    assert list(others.values()) == [
        "not the kit's code (index.handler); moto runs it only in Docker"
    ]


def test_a_fail_state_passes_a_states_error_on() -> None:
    # The workflows' Failed state re-raises what their catcher caught (a nested run's
    # States.TaskFailed); moto 5.2.5 refuses that name unless the playground lets it.
    interpreter._fail_with_any_error_name()
    definition = {
        "StartAt": "Failed",
        "States": {"Failed": {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.cause"}},
    }
    with mock_aws(config=STEPFUNCTIONS_CONFIG):
        execution = Runner(definition).execute({"error": "States.TaskFailed", "cause": "nested"})
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "States.TaskFailed",
        "nested",
    )


# --- start-up -----------------------------------------------------------------------------


def test_the_printed_environment_points_smkit_at_the_server() -> None:
    config = Path("/kit/config/examples/full.yaml")
    named = Environment("http://127.0.0.1:5055", config, "us-east-1", region_in_config=True)
    assert named.exports() == [
        f"export AWS_ENDPOINT_URL=http://127.0.0.1:5055 SMKIT_CONFIG={config}",
        "export AWS_ACCESS_KEY_ID=playground AWS_SECRET_ACCESS_KEY=playground",
    ]
    unnamed = Environment("http://127.0.0.1:5055", config, "us-east-1", region_in_config=False)
    assert unnamed.exports()[1].endswith(" AWS_REGION=us-east-1")


def test_an_assembly_of_another_config_is_refused(
    default_synth: Synthesis, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--assembly", str(default_synth.outdir), "--config", str(FULL_CONFIG)])
    assert code == 3
    assert f"holds smkit-Foundation, not the stacks of {FULL_CONFIG} (smkit-full-*)" in (
        capsys.readouterr().err
    )


def test_a_bad_config_is_refused(
    default_synth: Synthesis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("name_prefix: Bad Prefix\n")
    code = main(["--assembly", str(default_synth.outdir), "--config", str(config)])
    assert code == 3
    assert "name_prefix" in capsys.readouterr().err


def test_a_port_in_use_is_refused(
    full_synth: Synthesis, capsys: pytest.CaptureFixture[str]
) -> None:
    with listen(0) as taken:
        port = taken.getsockname()[1]
        args = ["--assembly", str(full_synth.outdir), "--config", str(FULL_CONFIG)]
        code = main([*args, "--port", str(port)])
    assert code == 2
    assert (
        f"playground: cannot listen on 127.0.0.1:{port} (Address already in use): stop what "
        "uses it, or choose another port (make playground PLAYGROUND_PORT=<port>)"
    ) in capsys.readouterr().err


# --- end to end ---------------------------------------------------------------------------


@dataclass
class Running:
    """The playground's process and what it printed until it was ready."""

    process: subprocess.Popen[str]
    summary: str

    @property
    def environment(self) -> dict[str, str]:
        """A clean environment (no AWS settings of this machine) with the exports."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        for line in self.summary.splitlines():
            if line.strip().startswith("export "):
                for pair in line.split()[1:]:
                    name, _, value = pair.partition("=")
                    env[name] = value
        return env

    def client(self, service: str) -> Any:
        """A boto3 client of the playground's server."""
        env = self.environment
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def command(self, name: str) -> list[str]:
        """The arguments of the `smkit <name>` command the summary suggests."""
        line = next(
            line.strip() for line in self.summary.splitlines() if line.strip().startswith(name)
        )
        return shlex.split(line)[1:]


@pytest.fixture(scope="module")
def playground(full_synth: Synthesis) -> Iterator[Running]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.playground",
            "--assembly",
            str(full_synth.outdir),
            "--config",
            str(FULL_CONFIG),
            "--port",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(180, process.kill)
    watchdog.start()
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.strip() == READY:
            break
    running = Running(process, "".join(lines))
    try:
        assert lines and lines[-1].strip() == READY, running.summary
        yield running
    finally:
        watchdog.cancel()
        # Stopped already by the last test, unless it did not run: SIGTERM lets it clean up.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _smkit_here(running: Running, *args: str) -> Result:
    """`smkit ARGS` in this process, with the printed environment."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AWS_")}
    env.update(running.environment)
    # Polls every 50 ms instead of `--interval` (at least a second): the runs end in moto
    # within a second, and the wait would only add to the suite's time.
    return CliRunner().invoke(cli, list(args), env=env, obj=Runtime(sleep=_short_sleep))


def _short_sleep(seconds: float) -> None:
    time.sleep(min(seconds, 0.05))


def _smkit(running: Running, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # As an operator runs it: only the operator install importable, the kit's packages
    # apart from the checkout, outside the kit's folder.
    env = running.environment
    env["PYTHONPATH"] = str(installed_copy(tmp_path / "site-packages"))
    result = subprocess.run(
        smkit_command(*args),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert [m for m in refused_imports(result.stderr) if m.startswith(("aws_cdk", "moto"))] == []
    return result


def test_smkit_status_reads_the_playground(
    playground: Running, tmp_path: Path, full_synth: Synthesis
) -> None:
    assert "Playground ready in" in playground.summary
    result = _smkit(playground, tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["config"] == str(FULL_CONFIG)
    # The Inference stack was updated once: approving the first version of the group its
    # text-classifier endpoints follow (tools/rehearsal.py) created those endpoints.
    assert {s["stack"]: s["status"] for s in status["stacks"]} == {
        s["stack"]: "UPDATE_COMPLETE" if s["stack"].endswith("-Inference") else "CREATE_COMPLETE"
        for s in status["stacks"]
    }
    # Every stack smkit reads (GitHubDeploy holds nothing it reads).
    assert sorted(s["stack"] for s in status["stacks"]) == sorted(
        name for name in full_synth.stack_names if not name.endswith("-GitHubDeploy")
    )
    endpoints = {e["name"]: e["status"] for e in status["endpoints"]}
    assert endpoints == {s: "InService" for s in endpoints}
    assert status["budget"]["name"] == "smkit-full-sagemaker-monthly"
    assert status["budget"]["limit_usd"] == 2000


def test_smkit_classify_and_forecast_get_canned_answers(playground: Running) -> None:
    classify = _smkit_here(playground, *playground.command("smkit classify"), "--json")
    assert classify.exit_code == 0, classify.output
    predictions = json.loads(classify.stdout)["predictions"]
    assert [p["text"] for p in predictions] == ["The battery lasts for days", "Broke after a week"]
    assert {p["label"] for p in predictions} <= set(SENTIMENT)
    forecast = _smkit_here(playground, *playground.command("smkit forecast"), "--json")
    assert forecast.exit_code == 0, forecast.output
    series = json.loads(forecast.stdout)["series"]
    assert [s["id"] for s in series] == ["store-1", "store-2"]
    assert all(len(s["mean"]) == 14 for s in series)


def test_a_training_workflow_runs_to_its_end(playground: Running) -> None:
    result = _smkit_here(playground, *playground.command("smkit train start"), "--json")
    assert result.exit_code == 0, result.output
    arn = json.loads(result.stdout)["execution_arn"]
    stepfunctions = playground.client("stepfunctions")
    deadline = time.monotonic() + 60
    while (status := stepfunctions.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the training run did not end"
        time.sleep(0.2)
    assert status == "SUCCEEDED"
    events = stepfunctions.get_execution_history(executionArn=arn)["events"]
    scheduled = [e["taskScheduledEventDetails"] for e in events if e["type"] == "TaskScheduled"]
    # The history names the job's task as Step Functions does for the synthesized
    # definition, which `smkit train watch` looks for.
    train = next(d for d in scheduled if d["resource"].startswith("createTrainingJob"))
    assert (train["resourceType"], train["resource"]) == ("sagemaker", "createTrainingJob.sync")
    job = json.loads(train["parameters"])["TrainingJobName"]
    described = playground.client("sagemaker").describe_training_job(TrainingJobName=job)
    assert described["TrainingJobStatus"] == "Completed"
    packages = playground.client("sagemaker").list_model_packages(
        ModelPackageGroupName="smkit-full-text-classifier"
    )["ModelPackageSummaryList"]
    # The run registers its model (the group also holds the version the playground's
    # endpoints that follow the group serve).
    assert len([p for p in packages if job in p.get("ModelPackageDescription", "")]) == 1


def test_a_tuning_workflow_registers_its_best_model(playground: Running) -> None:
    args = playground.command("smkit tune start")
    result = _smkit_here(playground, *args[:3], "--wait", "--interval", "1", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["status"] == "SUCCEEDED"
    # The tuning job's best training job exists (moto's names one that does not).
    assert run["output"]["best_training_job"].startswith(f"{run['tuning_job']}-001-")
    assert run["output"]["model_package"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/smkit-full-text-classifier/"
    )


def _read_manifest(running: Running, uri: str) -> list[dict[str, Any]]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = running.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


def _lines_of(line: str) -> list[str]:
    """The arguments of README's smkit line that starts with `line`."""
    found = next(x for x in _smkit_lines(README) if x.startswith(line))
    return shlex.split(found, comments=True)[1:]


def test_the_summary_says_which_lambda_functions_run(playground: Running) -> None:
    summary = " ".join(playground.summary.split())
    # Found from the assembly: the kit's folders, not a list kept by hand.
    assert re.search(r"Lambda functions run in this process from the kit's source \(\d+\)", summary)
    assert (
        "from the kit's source (23): "
        "sagemaker_constructs/cost/runtime (handler.handler); "
        "sagemaker_constructs/inference/runtime (promotion.handler.handler); "
        "sagemaker_constructs/inference/runtime/monitor_metrics (handler.handler); "
        "sagemaker_constructs/labeling/runtime (autolabel.merge.handler, "
    ) in summary
    # CDK's own providers are listed as not run.
    assert "Lambda functions that do not run (not the kit's code; " in summary
    assert "CustomCDKBucketDeployment" in summary
    assert "Ground Truth labeling jobs complete at once: playground stand-in workers" in summary


def test_a_labeling_run_is_labelled_by_the_stand_in_workers(playground: Running) -> None:
    args = playground.command("smkit label run")
    job = args.index("--job-name") + 1
    args[job] = "stand-in-1"
    result = _smkit_here(playground, *args, "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["status"] == "SUCCEEDED"
    output = run["output"]
    assert output["job_name"] == "smkit-full-sentiment-stand-in-1"
    assert output["label_counters"]["HumanLabeled"] == 8
    # Where Ground Truth writes it, in its augmented form.
    assert output["output_manifest_uri"].endswith(
        "/labeling/sentiment/output/smkit-full-sentiment-stand-in-1/manifests/output/"
        "output.manifest"
    )
    lines = _read_manifest(playground, output["output_manifest_uri"])
    assert [line["source"] for line in lines][:2] == [
        "The battery lasts for days",
        "Broke after a week",
    ]
    for line in lines:
        metadata = line["sentiment-metadata"]
        assert SENTIMENT[line["sentiment"]] == metadata["class-name"]
        assert metadata["type"] == "groundtruth/text-classification"
        assert metadata["job-name"] == "labeling-job/smkit-full-sentiment-stand-in-1"
        assert metadata["human-annotated"] == "yes"
        assert metadata["confidence"] == CONFIDENCE


def test_auto_labeling_merges_the_models_and_the_stand_in_workers_labels(
    playground: Running,
) -> None:
    result = _smkit_here(playground, *_lines_of("smkit label auto"), "--interval", "1", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["status"] == "SUCCEEDED", run
    summary = run["summary"]
    lines = _read_manifest(playground, summary["output_manifest_uri"])
    assert len(lines) == summary["total"] == 8
    by_model = [line for line in lines if line["sentiment-metadata"]["human-annotated"] == "no"]
    by_people = [line for line in lines if line["sentiment-metadata"]["human-annotated"] == "yes"]
    assert (len(by_model), len(by_people)) == (summary["auto_labeled"], summary["human_labeled"])
    assert by_model and by_people
    assert all(line["sentiment-metadata"]["confidence"] >= 0.9 for line in by_model)
    assert all(
        line["sentiment-metadata"]["job-name"].startswith("labeling-job/smkit-full-sentiment-")
        for line in by_people
    )
    per_class = summary["per_class"]
    assert sum(c["auto"] for c in per_class.values()) == summary["auto_labeled"]
    assert sum(c["human"] for c in per_class.values()) == summary["human_labeled"]


def test_a_failing_handler_fails_the_run_with_its_message(playground: Running) -> None:
    # The labeling workflow's first step (the kit's handler, in process) refuses a
    # manifest that does not exist: the run fails with its error, it does not hang.
    args = ["label", "run", "sentiment", "--manifest", "datasets/missing.manifest"]
    result = _smkit_here(playground, *args, "--wait", "--interval", "1", "--json")
    run = json.loads(result.stdout)
    assert (run["status"], run["error"]) == ("FAILED", "InvalidInputError")
    assert "datasets/missing.manifest cannot be read (404)" in run["cause"]
    assert result.exit_code != 0


def test_every_readme_one_liner_runs_in_the_playground(
    playground: Running, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = playground.command("smkit forecast")
    series = Path(args[args.index("--series") + 1])
    (tmp_path / "series.jsonl").write_text(series.read_text())
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in _smkit_lines(README):
        words = shlex.split(line, comments=True)[1:]
        # Polling every second instead of every 10: the runs end at once here.
        polling = ["--interval", "1"] if "--wait" in words else []
        result = _smkit_here(playground, *words, *polling)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        ran.append(" ".join(words[:2]))
    assert (tmp_path / "forecast.csv").is_file()
    assert sorted(set(ran)) == [
        "classify --endpoint",
        "forecast --endpoint",
        "label auto",
        "label run",
        "notebook open",
        "notebook stop",
        "status",
        "train start",
        "tune start",
    ]


def test_an_endpoint_that_does_not_exist_is_a_validation_error(playground: Running) -> None:
    runtime = playground.client("sagemaker-runtime")
    with pytest.raises(ClientError, match="Endpoint nope of account 123456789012 not found"):
        runtime.invoke_endpoint(EndpointName="nope", Body=b"{}")


# Last in the module: stops the shared server.
def test_ctrl_c_stops_it_cleanly(playground: Running) -> None:
    args = playground.command("smkit forecast")
    series = Path(args[args.index("--series") + 1])
    assert series.is_file()
    playground.process.send_signal(signal.SIGINT)
    output, _ = playground.process.communicate(timeout=60)
    assert playground.process.returncode == 0, output
    assert output.endswith(
        "playground: SIGINT received, stopping\nplayground: stopped; nothing was kept\n"
    )
    assert not series.parent.exists()
