"""The cost estimate, rule by rule, on hand-made templates; and the price table."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest

from stacks.settings.regions import SAGEMAKER_REGIONS
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.review.cost import FREE_TYPES, RULES, Estimate, PriceTable, UsageItem, estimate

TABLE = PriceTable.load()


def _estimate(
    tmp_path: Path, resources: dict[str, dict[str, object]], **kwargs: object
) -> Estimate:
    outdir = write_assembly(tmp_path / "out", {"Demo": {"Resources": resources}})
    return estimate(load_assembly(outdir), **kwargs)  # type: ignore[arg-type]


def _line(result: Estimate, logical_id: str) -> tuple[float, float]:
    (line,) = [x for x in result.lines if x.resource == logical_id]
    return round(line.idle, 4), round(line.usage, 4)


def test_price_table_is_dated_and_names_its_sources() -> None:
    assert TABLE.as_of == "2026-11-29"
    assert TABLE.currency == "USD"
    assert "https://aws.amazon.com/sagemaker/pricing/" in TABLE.sources
    assert all(source.startswith("https://aws.amazon.com/") for source in TABLE.sources)


def test_price_table_covers_every_sagemaker_region() -> None:
    assert sorted(TABLE.regions) == sorted(SAGEMAKER_REGIONS)
    for region, entry in TABLE.regions.items():
        assert ("factor" in entry) != ("excluded" in entry), region


def test_every_usage_assumption_has_a_note() -> None:
    assert all(len(a.note) > 20 for a in TABLE.usage.values())


def test_free_and_priced_types_do_not_overlap() -> None:
    assert not FREE_TYPES & set(RULES)


def test_kms_key_costs_a_dollar_idle(tmp_path: Path) -> None:
    result = _estimate(tmp_path, {"Key": resource("AWS::KMS::Key")})
    assert _line(result, "Key") == (1.0, 1.0 + 100_000 / 10_000 * 0.03)
    assert "kms_requests_per_key" in result.assumptions_used


def test_interface_endpoints_bill_per_az_gateway_endpoints_are_free(tmp_path: Path) -> None:
    result = _estimate(
        tmp_path,
        {
            "Sts": resource(
                "AWS::EC2::VPCEndpoint",
                VpcEndpointType="Interface",
                ServiceName="com.amazonaws.us-east-1.sts",
                SubnetIds=["a", "b", "c"],
            ),
            "S3": resource("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"),
        },
    )
    assert _line(result, "Sts") == (0.01 * 3 * 730, 0.01 * 3 * 730 + 5 * 0.01)
    assert _line(result, "S3") == (0.0, 0.0)
    assert "interface endpoint `sts` x 3 AZ" in [x.item for x in result.lines]


def test_nat_gateway_is_billed_every_hour(tmp_path: Path) -> None:
    result = _estimate(tmp_path, {"Nat": resource("AWS::EC2::NatGateway")})
    assert _line(result, "Nat") == (0.045 * 730, 0.045 * 730 + 50 * 0.045)


def test_metric_filter_costs_its_custom_metric_only_when_it_matches(tmp_path: Path) -> None:
    filter_ = resource(
        "AWS::Logs::MetricFilter",
        MetricTransformations=[{"MetricName": "IgnoredMessages", "MetricValue": "1"}],
    )
    result = _estimate(tmp_path, {"Filter": filter_})
    assert _line(result, "Filter") == (0.0, 0.30)
    assert result.unpriced == []


def _notebook_with(script: str) -> dict[str, dict[str, object]]:
    return {
        "Notebook": resource(
            "AWS::SageMaker::NotebookInstance",
            InstanceType="ml.g4dn.xlarge",
            VolumeSizeInGB=50,
            LifecycleConfigName={
                "Fn::GetAtt": ["Lifecycle", "NotebookInstanceLifecycleConfigName"]
            },
        ),
        "Lifecycle": resource(
            "AWS::SageMaker::NotebookInstanceLifecycleConfig",
            OnStart=[{"Content": base64.b64encode(script.encode()).decode()}],
        ),
    }


def test_notebook_with_idle_auto_stop_bills_only_its_volume_when_idle(tmp_path: Path) -> None:
    script = (
        "import boto3\nboto3.client('sagemaker').stop_notebook_instance(NotebookInstanceName=n)\n"
    )
    result = _estimate(tmp_path, _notebook_with(script))
    volume = 50 * 0.14
    assert _line(result, "Notebook") == (round(volume, 4), round(176 * 0.7364 + volume, 4))
    assert "notebook_hours_per_month" in result.assumptions_used


def test_notebook_auto_stop_found_in_a_compressed_embedded_script(tmp_path: Path) -> None:
    code = (
        b"import boto3\nboto3.client('sagemaker').stop_notebook_instance(NotebookInstanceName=n)\n"
    )
    blob = base64.b64encode(gzip.compress(code)).decode()
    script = f"#!/bin/bash\necho {blob} | base64 -d | gunzip > /opt/idle.py\n"
    result = _estimate(tmp_path, _notebook_with(script))
    assert _line(result, "Notebook")[0] == round(50 * 0.14, 4)


def test_notebook_finds_a_lifecycle_config_by_its_name(tmp_path: Path) -> None:
    resources = _notebook_with("aws sagemaker stop-notebook-instance --notebook-instance-name n")
    resources["Notebook"]["Properties"]["LifecycleConfigName"] = "team-a"  # type: ignore[index]
    resources["Lifecycle"]["Properties"]["NotebookInstanceLifecycleConfigName"] = "team-a"  # type: ignore[index]
    result = _estimate(tmp_path, resources)
    assert _line(result, "Notebook")[0] == round(50 * 0.14, 4)


def test_notebook_without_auto_stop_runs_all_month(tmp_path: Path) -> None:
    result = _estimate(tmp_path, _notebook_with("pip install pandas\n"))
    cost = round(730 * 0.7364 + 50 * 0.14, 4)
    assert _line(result, "Notebook") == (cost, cost)
    (line,) = result.lines
    assert "no idle auto-stop found" in line.basis


def _endpoint(
    config: dict[str, object], *extra: tuple[str, dict[str, object]]
) -> dict[str, dict[str, object]]:
    resources = {
        "Config": resource("AWS::SageMaker::EndpointConfig", **config),
        "Endpoint": resource(
            "AWS::SageMaker::Endpoint",
            EndpointConfigName={"Fn::GetAtt": ["Config", "EndpointConfigName"]},
        ),
    }
    resources.update(dict(extra))
    return resources


def test_instance_endpoint_idles_at_its_autoscaling_minimum(tmp_path: Path) -> None:
    target = resource(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        ResourceId={
            "Fn::Join": [
                "",
                ["endpoint/", {"Fn::GetAtt": ["Endpoint", "EndpointName"]}, "/variant/main"],
            ]
        },
        MinCapacity=1,
        MaxCapacity=4,
    )
    result = _estimate(
        tmp_path,
        _endpoint(
            {
                "ProductionVariants": [
                    {
                        "VariantName": "main",
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 2,
                    }
                ]
            },
            ("Scaling", target),
        ),
    )
    assert _line(result, "Endpoint") == (round(0.115 * 730, 4), round(2 * 0.115 * 730, 4))


def test_async_endpoint_that_scales_to_zero_costs_nothing_idle(tmp_path: Path) -> None:
    target = resource(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        ResourceId={"Fn::Join": ["", ["endpoint/", {"Ref": "Endpoint"}, "/variant/AllTraffic"]]},
        MinCapacity=0,
        MaxCapacity=2,
    )
    result = _estimate(
        tmp_path,
        _endpoint(
            {
                "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o"}},
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "InstanceType": "ml.c5.xlarge",
                        "InitialInstanceCount": 1,
                    }
                ],
            },
            ("Scaling", target),
        ),
    )
    assert _line(result, "Endpoint") == (0.0, round(100 * 0.204, 4))
    assert "async_busy_hours_per_month" in result.assumptions_used


def test_serverless_endpoint_costs_per_request_and_for_provisioned_concurrency(
    tmp_path: Path,
) -> None:
    result = _estimate(
        tmp_path,
        _endpoint(
            {
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ServerlessConfig": {
                            "MemorySizeInMB": 2048,
                            "MaxConcurrency": 5,
                            "ProvisionedConcurrency": 1,
                        },
                    }
                ]
            }
        ),
    )
    warm = 1 * 2 * 730 * 3600 * 0.0000048
    requests = 100_000 * 0.2 * 2 * 0.00002 + 100_000 * 10 / 1e6 * 0.016
    assert _line(result, "Endpoint") == (round(warm, 4), round(warm + requests, 4))
    assert result.approximate  # provisioned concurrency's price is marked approximate


def test_unknown_instance_type_is_listed_not_guessed(tmp_path: Path) -> None:
    result = _estimate(
        tmp_path,
        {"Notebook": resource("AWS::SageMaker::NotebookInstance", InstanceType="ml.x99.huge")},
    )
    assert result.lines == []
    assert [(u.resource, u.reason) for u in result.unpriced] == [
        ("Notebook", "ml.x99.huge is not in the price table")
    ]


def test_type_without_rule_is_listed_as_unpriced(tmp_path: Path) -> None:
    result = _estimate(tmp_path, {"Db": resource("AWS::RDS::DBInstance")})
    assert [(u.resource_type, u.reason) for u in result.unpriced] == [
        ("AWS::RDS::DBInstance", "no price rule for this type")
    ]


def test_training_and_tuning_usage_come_from_the_config(tmp_path: Path) -> None:
    usages = [
        UsageItem("training", "training.definitions.text", "ml.g5.xlarge", 2, 3600),
        UsageItem("tuning", "tuning.definitions.deepar", "ml.c5.2xlarge", 1, 7200, 3, 10),
        UsageItem("notebook", "notebooks[0]", "ml.t3.medium"),
    ]
    result = _estimate(tmp_path, {}, usages=usages)
    training = next(x for x in result.lines if x.resource == "training.definitions.text")
    tuning = next(x for x in result.lines if x.resource == "tuning.definitions.deepar")
    # Expected: 8 runs of jobs that run half their max runtime; ceiling: to the end.
    assert (training.idle, round(training.usage, 4)) == (0.0, round(8 * 2 * 1 * 1.408 / 2, 4))
    assert round(training.run_ceiling or 0, 4) == round(2 * 1 * 1.408, 4)
    assert round(tuning.usage, 4) == round(2 * 10 * 2 * 0.408 / 2, 4)
    assert len(result.lines) == 2  # notebooks are priced from their template resources
    assert "job_runtime_share" in result.assumptions_used


def test_tuning_cost_is_every_job_to_its_max_runtime_not_one_wave(tmp_path: Path) -> None:
    # text-classifier-hpo of the full config on ml.g5.2xlarge: 12 jobs, 3 at a time, 3 h.
    usages = [
        UsageItem(
            "tuning", "training.tuning.hpo", "ml.g5.2xlarge", 1, 3 * 3600,
            max_parallel_jobs=3, max_jobs=12,
        )
    ]  # fmt: skip
    (line,) = _estimate(tmp_path, {}, usages=usages).lines
    assert round(line.run_ceiling or 0, 2) == 54.54  # not 13.63, one wave of 3
    assert round(line.usage, 2) == round(2 * 54.54 / 2, 2)
    assert round(line.ceiling or 0, 2) == round(2 * 54.54, 2)
    assert line.item == "tuning ml.g5.2xlarge x 1, 12 jobs (3 at a time)"
    assert line.basis == (
        "2 runs x $27.27 expected (50% of the ceiling); ceiling $54.54 a run "
        "(12 jobs x 3 h max runtime x $1.5150)"
    )


def test_a_tuning_runtime_limit_lowers_the_ceiling(tmp_path: Path) -> None:
    usages = [
        UsageItem(
            "tuning", "training.tuning.hpo", "ml.c5.2xlarge", 1, 3600,
            max_parallel_jobs=2, max_jobs=20, max_tuning_seconds=3 * 3600,
        )
    ]  # fmt: skip
    (line,) = _estimate(tmp_path, {}, usages=usages).lines
    # 20 jobs of an hour would be 20 h; the tuning job stops after 3 h of 2 parallel jobs.
    assert round(line.run_ceiling or 0, 4) == round(2 * 3 * 0.408, 4)
    assert "2 parallel jobs x 3 h tuning limit x $0.4080" in line.basis


def test_overridable_instance_types_are_one_line_with_the_range(tmp_path: Path) -> None:
    path = "training.definitions.text"
    usages = [
        UsageItem("training", path, "ml.g5.xlarge", 1, 3 * 3600),
        UsageItem("training", path, "ml.g5.2xlarge", 1, 3 * 3600, overridable=True),
        UsageItem("training", path, "ml.g6.xlarge", 1, 3 * 3600, overridable=True),
    ]
    (line,) = _estimate(tmp_path, {}, usages=usages).lines
    assert line.item == "training ml.g5.xlarge x 1; a run may pick ml.g5.2xlarge, ml.g6.xlarge"
    assert round(line.usage, 2) == round(8 * 3 * 1.408 / 2, 2)  # the definition's type
    assert line.run_range is not None
    assert [round(v, 2) for v in line.run_range] == [round(3 * 1.0048, 2), round(3 * 1.515, 2)]
    assert line.basis.endswith("; $3.01-$4.54 a run over the types it may pick")


def test_other_regions_scale_and_say_they_are_approximate(tmp_path: Path) -> None:
    result = _estimate(tmp_path, {"Nat": resource("AWS::EC2::NatGateway")}, region="eu-central-1")
    assert _line(result, "Nat")[0] == round(0.045 * 1.19 * 730, 4)
    assert result.approximate
    flat = _estimate(tmp_path / "flat", {"Key": resource("AWS::KMS::Key")}, region="eu-central-1")
    assert _line(flat, "Key")[0] == 1.0


def test_china_regions_are_not_priced(tmp_path: Path) -> None:
    result = _estimate(tmp_path, {"Key": resource("AWS::KMS::Key")}, region="cn-north-1")
    assert result.lines == []
    assert result.notes == [
        "cn-north-1 is not priced: billed in CNY by the AWS China partition, whose prices "
        "this table does not hold"
    ]


def test_docker_image_assets_are_priced_as_ecr_storage(tmp_path: Path) -> None:
    outdir = write_assembly(tmp_path / "out", {"Demo": {"Resources": {}}}, docker_images=2)
    result = estimate(load_assembly(outdir))
    (line,) = result.lines
    assert (line.idle, line.item) == (
        2 * 5 * 0.10,
        "2 image(s) in the CDK bootstrap ECR repository",
    )


@pytest.mark.parametrize(
    ("resource_type", "props", "idle", "usage"),
    [
        ("AWS::CloudWatch::Alarm", {"Period": 60}, 0.10, 0.10),
        ("AWS::CloudWatch::Alarm", {"Period": 10}, 0.30, 0.30),
        ("AWS::SecretsManager::Secret", {}, 0.40, 0.40),
        ("AWS::StepFunctions::StateMachine", {}, 0.0, 50 * 25 / 1000 * 0.025),
        (
            "AWS::Lambda::Function",
            {"MemorySize": 1024},
            0.0,
            10_000 / 1e6 * 0.2 + 10_000 * 1 * 1 * 0.0000166667,
        ),
        ("AWS::S3::Bucket", {}, 0.0, 50 * 0.023),
        ("AWS::Cognito::UserPool", {}, 0.0, 10 * 0.015),
        ("AWS::Budgets::Budget", {}, 0.0, 0.0),
        ("AWS::SageMaker::Workteam", {}, 0.0, 5000 * 0.08),
    ],
)
def test_usage_priced_types(
    tmp_path: Path, resource_type: str, props: dict[str, object], idle: float, usage: float
) -> None:
    result = _estimate(tmp_path, {"Thing": resource(resource_type, **props)})
    assert _line(result, "Thing") == (round(idle, 4), round(usage, 4))


def _studio(idle_shutdown: str = "ENABLED") -> dict[str, dict[str, object]]:
    """A domain with two users; alice has a kit space of 20 GB, bob none."""
    settings = {
        "JupyterLabAppSettings": {
            "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"},
            "AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": idle_shutdown}},
        },
        "SpaceStorageSettings": {
            "DefaultEbsStorageSettings": {
                "DefaultEbsVolumeSizeInGb": 10,
                "MaximumEbsVolumeSizeInGb": 100,
            }
        },
    }
    domain_id = {"Fn::GetAtt": ["Domain", "DomainId"]}
    return {
        "Domain": resource("AWS::SageMaker::Domain", DefaultUserSettings=settings),
        "Alice": resource(
            "AWS::SageMaker::UserProfile", DomainId=domain_id, UserProfileName="alice"
        ),
        "Bob": resource("AWS::SageMaker::UserProfile", DomainId=domain_id, UserProfileName="bob"),
        "Space": resource(
            "AWS::SageMaker::Space",
            DomainId=domain_id,
            SpaceName="alice-main",
            OwnershipSettings={"OwnerUserProfileName": "alice"},
            SpaceSettings={
                "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": 20}}
            },
        ),
        "Defaulted": resource(
            "AWS::SageMaker::Space",
            DomainId=domain_id,
            SpaceName="alice-extra",
            OwnershipSettings={"OwnerUserProfileName": "alice"},
        ),
    }


def test_studio_idles_at_its_home_efs_and_space_volumes_and_runs_apps_at_usage(
    tmp_path: Path,
) -> None:
    result = _estimate(tmp_path, _studio())
    by_item = {(x.resource, x.item): (round(x.idle, 4), round(x.usage, 4)) for x in result.lines}
    assert by_item == {
        ("Domain", "Studio home EFS"): (0.6, 0.6),  # 2 users x 1 GB x $0.30
        ("Domain", "Studio JupyterLab apps ml.t3.medium"): (0.0, 17.6),  # 2 x 176 h x $0.05
        # bob has no kit space: at usage he makes one of the domain's default 10 GB
        ("Domain", "Studio spaces the users create"): (0.0, 1.4),
        ("Space", "Studio space volume alice-main"): (2.8, 2.8),  # 20 GB x $0.14
        ("Defaulted", "Studio space volume alice-extra"): (1.4, 1.4),  # the default 10 GB
    }
    assert {"studio_app_hours_per_month", "studio_efs_gb_per_user"} <= set(result.assumptions_used)
    assert result.unpriced == []


def test_studio_apps_without_idle_shutdown_run_all_month(tmp_path: Path) -> None:
    result = _estimate(tmp_path, _studio(idle_shutdown="DISABLED"))
    (apps,) = [x for x in result.lines if x.item.startswith("Studio JupyterLab apps")]
    assert round(apps.usage, 4) == 2 * 730 * 0.05
    assert "no idle shutdown" in apps.basis


def test_transform_and_baseline_usage_come_from_the_config(tmp_path: Path) -> None:
    usages = [
        UsageItem("transform", "transform.definitions.demand-batch", "ml.m5.xlarge", 2, 7200),
        UsageItem("processing", "inference.endpoints.demand.monitoring", "ml.m5.xlarge", 1, 3600),
        UsageItem("monitoring", "inference.endpoints.demand.monitoring", "ml.m5.xlarge", 1, 3600),
    ]
    result = _estimate(tmp_path, {}, usages=usages)
    transform = next(x for x in result.lines if x.resource == "transform.definitions.demand-batch")
    assert (transform.idle, round(transform.usage, 4)) == (0.0, round(4 * 2 * 2 * 0.23, 4))
    (baseline,) = [x for x in result.lines if x.item.startswith("processing")]
    assert round(baseline.usage, 4) == round(2 * 1 * 1 * 0.23, 4)
    # Scheduled monitoring jobs are priced from the schedule in the template, not twice.
    assert len(result.lines) == 2
    assert {"transform_runs_per_month", "baseline_runs_per_month"} <= set(result.assumptions_used)


def _schedule(
    expression: str, runtime: int = 3600, kind: str = "DataQuality"
) -> dict[str, dict[str, object]]:
    return {
        "Definition": resource(
            f"AWS::SageMaker::{kind}JobDefinition",
            JobResources={"ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1,
                                            "VolumeSizeInGB": 20}},
            StoppingCondition={"MaxRuntimeInSeconds": runtime},
        ),
        "Schedule": resource(
            "AWS::SageMaker::MonitoringSchedule",
            MonitoringScheduleConfig={
                "MonitoringJobDefinitionName": {
                    "Fn::GetAtt": ["Definition", "JobDefinitionName"]
                },
                "MonitoringType": kind,
                "ScheduleConfig": {"ScheduleExpression": expression},
            },
        ),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("expression", "runs_per_day", "minutes"),
    [
        ("cron(0 * ? * * *)", 24, 15),
        ("cron(0 0/6 ? * * *)", 4, 15),
        ("cron(0 17/12 ? * * *)", 1, 15),
        ("cron(0 3 ? * * *)", 1, 15),
    ],
)
def test_a_monitoring_schedule_costs_nothing_idle_and_its_runs_at_usage(
    tmp_path: Path, expression: str, runs_per_day: int, minutes: int
) -> None:
    result = _estimate(tmp_path, _schedule(expression))
    assert _line(result, "Schedule") == (0.0, round(runs_per_day * 30.4 * minutes / 60 * 0.23, 4))
    assert "monitoring_minutes_per_run" in result.assumptions_used
    assert not result.unpriced  # the job definition itself is free


def test_a_model_quality_schedule_is_priced_like_data_quality(tmp_path: Path) -> None:
    # Idle: no captured data, no run; at usage: its daily runs on its instance type.
    result = _estimate(tmp_path, _schedule("cron(0 0 ? * * *)", kind="ModelQuality"))
    assert _line(result, "Schedule") == (0.0, round(30.4 * 15 / 60 * 0.23, 4))
    assert not result.unpriced


def test_a_monitoring_run_is_priced_at_most_at_its_time_limit(tmp_path: Path) -> None:
    result = _estimate(tmp_path, _schedule("cron(0 * ? * * *)", runtime=600))
    assert _line(result, "Schedule")[1] == round(24 * 30.4 * 10 / 60 * 0.23, 4)


def test_a_schedule_model_monitor_refuses_is_listed_not_guessed(tmp_path: Path) -> None:
    result = _estimate(tmp_path, _schedule("rate(5 minutes)"))
    assert [(u.resource, u.reason) for u in result.unpriced] == [
        ("Schedule", "schedule 'rate(5 minutes)' is not one Model Monitor accepts")
    ]
