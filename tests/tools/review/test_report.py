"""The review page of both shipped configs: resources by type, IAM statements with
wildcards flagged, cdk-nag acknowledgements and the cost estimate; the IAM reading
of every kind of policy; the command line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.oracles.synth import ROOT, Synthesis
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.review.__main__ import config_usages, main
from tools.review.cost import estimate
from tools.review.iam import statements
from tools.review.report import SUMMARY_LINES, Review

FULL = ROOT / "config" / "examples" / "full.yaml"


def _review(synth: Synthesis) -> Review:
    assembly = load_assembly(synth.outdir)
    return Review(title="test", assembly=assembly, estimate=estimate(assembly))


def test_page_lists_resources_by_type_per_stack(any_synth: Synthesis) -> None:
    page = _review(any_synth).markdown()
    prefix = any_synth.settings.name_prefix
    assert f"## Stack `{prefix}-Foundation`" in page
    assert (
        "| S3::Bucket (stateful) | 3 | `AccessLogsBucket`, `ArtifactsBucket`, `DataBucket` |"
        in page
    )
    assert "| KMS::Key (stateful) | 1 | `PlatformKey` |" in page


def test_page_lists_iam_statements_and_flags_wildcards(any_synth: Synthesis) -> None:
    review = _review(any_synth)
    page = review.markdown()
    assert "### IAM permissions" in page
    # The key policy's administrator statement: every KMS action on the key.
    assert re.search(r"\| resource \| `PlatformKey` \|.*\| kms:\* \| \* \|.*\*\*all actions", page)
    # The TLS-only deny statements narrow access: listed, never flagged.
    deny = [s for s in review.flagged if s.effect == "Deny"]
    assert deny == []
    assert "| Deny | AWS:* | s3:* |" in page
    assert "| Bool aws:SecureTransport=false |" in page


def test_page_lists_nag_acknowledgements_with_reasons(any_synth: Synthesis) -> None:
    page = _review(any_synth).markdown()
    assert "| `AccessLogsBucket` | AwsSolutions-S1 | This is the access-log bucket itself" in page


def test_page_has_the_cost_estimate_with_its_assumptions(any_synth: Synthesis) -> None:
    review = _review(any_synth)
    page = review.markdown()
    assert "## Estimated monthly cost" in page
    assert "| `PlatformKey` | KMS customer managed key | $1.00 | $1.30 |" in page
    assert "- `s3_gb_per_bucket` = 50: GB stored in each bucket" in page
    assert "Prices: `tools/review/prices.yaml` as of 2026-11-29" in page
    assert (
        "- One hourly rate per ML instance type for notebook instances, training and hosting."
        in page
    )
    assert "Price sources: https://aws.amazon.com/sagemaker/pricing/, " in page


def test_default_config_idles_at_the_price_of_its_key(default_synth: Synthesis) -> None:
    review = _review(default_synth)
    assert review.estimate.region == "us-east-1"
    assert "environment-agnostic" in review.estimate.region_note
    assert round(review.estimate.idle, 2) == 1.00
    assert review.estimate.unpriced == []


def test_readme_states_the_default_idle_estimate(default_synth: Synthesis) -> None:
    idle = _review(default_synth).estimate.idle
    readme = (ROOT / "README.md").read_text()
    assert f"idles at about **${idle:,.2f} a month**" in readme


def test_full_config_prices_interface_endpoints_per_az(full_synth: Synthesis) -> None:
    review = _review(full_synth)
    idle_by_item = {line.item: line.idle for line in review.estimate.lines}
    for service in ("sagemaker.api", "sagemaker.runtime", "sts", "logs", "ecr.api", "ecr.dkr"):
        assert round(idle_by_item[f"interface endpoint `{service}` x 2 AZ"], 2) == 2 * 730 * 0.01
    endpoints = sum(v for k, v in idle_by_item.items() if k.startswith("interface endpoint"))
    assert review.estimate.idle >= endpoints + 1.0  # and the platform key, and more
    assert review.estimate.unpriced == []


def test_config_usages_read_every_section_that_runs_compute() -> None:
    # The shipped configs start no training or tuning yet: nothing beyond templates.
    assert config_usages(ROOT / "config" / "default.yaml") == []


def test_iam_reads_every_kind_of_policy(tmp_path: Path) -> None:
    outdir = write_assembly(
        tmp_path / "out",
        {
            "S": {
                "Resources": {
                    "Role": resource(
                        "AWS::IAM::Role",
                        AssumeRolePolicyDocument={
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "lambda.amazonaws.com"},
                                    "Action": "sts:AssumeRole",
                                }
                            ]
                        },
                        Policies=[
                            {
                                "PolicyName": "inline",
                                "PolicyDocument": {
                                    "Statement": [
                                        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
                                    ]
                                },
                            }
                        ],
                        ManagedPolicyArns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                    ),
                    "Policy": resource(
                        "AWS::IAM::Policy",
                        Roles=[{"Ref": "Role"}],
                        PolicyDocument={
                            "Statement": {
                                "Effect": "Allow",
                                "Action": ["sqs:SendMessage"],
                                "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                            }
                        },
                    ),
                    "Open": resource(
                        "AWS::SNS::TopicPolicy",
                        Topics=[{"Ref": "Topic"}],
                        PolicyDocument={
                            "Statement": [
                                {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}
                            ]
                        },
                    ),
                    "Invoke": resource(
                        "AWS::Lambda::Permission",
                        FunctionName={"Ref": "Fn"},
                        Principal="events.amazonaws.com",
                        Action="lambda:InvokeFunction",
                        SourceArn={"Fn::GetAtt": ["Rule", "Arn"]},
                    ),
                }
            }
        },
    )
    (stack,) = load_assembly(outdir).stacks
    found = {(s.kind, s.source): s for s in statements(stack)}
    inline = found[("identity", "Role (inline)")]
    assert (inline.actions, inline.resources, inline.wildcards) == (
        ("s3:Get*",),
        ("*",),
        ("action wildcard", "all resources"),
    )
    attached = found[("identity", "Policy")]
    assert (attached.attached_to, attached.resources, attached.wildcards) == (
        "${Role}",
        ("${Queue.Arn}",),
        (),
    )
    assert found[("managed", "Role")].actions == (
        "managed policy arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    assert found[("trust", "Role")].principals == ("Service:lambda.amazonaws.com",)
    assert found[("resource", "Open")].wildcards == ("any principal, no condition",)
    assert found[("resource", "Open")].condition_text == ""
    permission = found[("resource", "Invoke")]
    assert (permission.principals, permission.conditions) == (("events.amazonaws.com",), True)


def test_iam_names_other_stacks_resources_behind_output_references(tmp_path: Path) -> None:
    outdir = write_assembly(
        tmp_path / "out",
        {
            "Base": {
                "Resources": {"Bucket": resource("AWS::S3::Bucket")},
                "Outputs": {"BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}}},
            },
            "App": {
                "Resources": {
                    "Policy": resource(
                        "AWS::IAM::Policy",
                        Roles=["r"],
                        PolicyDocument={
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "s3:GetObject",
                                    "Resource": {
                                        "Fn::Join": [
                                            "",
                                            [
                                                {
                                                    "Fn::GetStackOutput": {
                                                        "StackName": "Base",
                                                        "Region": "us-east-1",
                                                        "OutputName": "BucketArn",
                                                    }
                                                },
                                                "/data/*",
                                            ],
                                        ]
                                    },
                                }
                            ]
                        },
                    )
                }
            },
        },
    )
    assembly = load_assembly(outdir)
    (statement,) = statements(assembly.stack("App"), assembly.outputs())
    assert statement.resources == ("${Base/Bucket.Arn}/data/*",)
    (unresolved,) = statements(assembly.stack("App"))
    assert unresolved.resources == ("output(Base.BucketArn)/data/*",)


def test_cli_reviews_a_synthesized_config(
    full_synth: Synthesis, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "review.md"
    code = main(
        [
            str(full_synth.outdir),
            "--config",
            str(ROOT / "config" / "examples" / "full.yaml"),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{len(full_synth.stack_names)} stack(s), ")
    assert re.match(
        r"estimated monthly cost \(us-east-1, prices of 2026-11-29\): idle ~?\$[0-9,.]+, "
        r"at usage ~?\$[0-9,.]+$",
        printed[3],
    )
    assert output.read_text().startswith("# Synth review: ")


def test_cli_explains_a_folder_that_is_not_an_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"{tmp_path} is not a synthesized cloud assembly (no manifest.json); run `make synth` first"
    )


def test_cli_rejects_a_region_without_prices(
    default_synth: Synthesis, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(default_synth.outdir), "--region", "mars-east-1"]) == 1
    assert capsys.readouterr().err.strip() == "--region mars-east-1: not in the price table"


def _summary_of(page: str) -> list[str]:
    """The page's lines before its first collapsed section."""
    return page.partition("<details>")[0].rstrip().splitlines()


def _copy_assembly(source: Path, target: Path) -> Path:
    """The templates and manifests of an assembly (not its asset folders)."""
    target.mkdir()
    for path in source.glob("*.json"):
        shutil.copy(path, target / path.name)
    return target


def _edit(outdir: Path, stack: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = next(outdir.glob(f"*-{stack}.template.json"))
    template = json.loads(path.read_text())
    edit(template["Resources"])
    path.write_text(json.dumps(template))


def test_full_config_page_opens_with_a_short_summary_and_collapses_the_rest(
    full_synth: Synthesis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "review.md"
    assert main([str(full_synth.outdir), "--config", str(FULL), "--output", str(output)]) == 0
    page = output.read_text()
    summary = _summary_of(page)
    assert len(summary) <= SUMMARY_LINES
    assert summary[2] == "## Summary"
    assert "### Cost by stack (a month)" in summary
    assert "### Training and tuning (a month)" in summary
    # Every stack's resources, IAM statements and acknowledgements are collapsed.
    for name in full_synth.stack_names:
        assert f"<summary><b>Stack {name}</b>: " in page
        assert page.index(f"## Stack `{name}`") > page.index("<details>")
    assert page.count("<details>") == page.count("</details>") == len(full_synth.stack_names) + 1
    printed = capsys.readouterr().out
    assert "training and tuning (in the cost at usage): " in printed
    assert "ceiling" in printed


def test_full_config_prices_each_tuning_run_to_its_ceiling_once(full_synth: Synthesis) -> None:
    assembly = load_assembly(full_synth.outdir)
    review = Review(
        title="full", assembly=assembly, estimate=estimate(assembly, config_usages(FULL))
    )
    jobs = {line.resource: line for line in review.estimate.jobs}
    # One line per definition and tuning workflow, whatever its overridable types.
    assert sorted(jobs) == [
        "training.definitions.deepar-demand",
        "training.definitions.text-classifier",
        "training.tuning.deepar-demand-hpo",
        "training.tuning.text-classifier-hpo",
    ]
    hpo = jobs["training.tuning.text-classifier-hpo"]
    # 12 jobs x 3 h on ml.g5.xlarge ($1.408); up to $54.54 on ml.g5.2xlarge.
    assert round(hpo.run_ceiling or 0, 2) == 50.69
    assert hpo.run_range is not None and round(hpo.run_range[1], 2) == 54.54
    page = review.markdown()
    assert (
        "| `tuning.text-classifier-hpo` | ml.g5.xlarge x 1, 12 jobs (3 at a time); a run may "
        "pick ml.g5.2xlarge, ml.g6.xlarge | $50.69 | $50.69 ($36.17-$54.54) | $101.38 |" in page
    )


def test_against_a_base_the_summary_has_the_cost_change_and_what_fails_on_deploy(
    full_synth: Synthesis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _copy_assembly(full_synth.outdir, tmp_path / "base")
    new = _copy_assembly(full_synth.outdir, tmp_path / "new")

    def bigger_forecast_instances(resources: dict[str, Any]) -> None:
        for item in resources.values():
            if item["Type"] == "AWS::SageMaker::EndpointConfig":
                for variant in item["Properties"]["ProductionVariants"]:
                    if variant.get("InstanceType") == "ml.c5.xlarge":
                        variant["InstanceType"] = "ml.c5.2xlarge"

    def new_group_description(resources: dict[str, Any]) -> None:
        resources["TextClassifierModelPackageGroup"]["Properties"][
            "ModelPackageGroupDescription"
        ] = "Text classifier, retrained weekly"

    def another_user_pool(resources: dict[str, Any]) -> None:
        config = resources["PrivateWorkforce"]["Properties"]["CognitoConfig"]
        config["UserPool"] = "us-east-1_other"

    _edit(new, "Inference", bigger_forecast_instances)
    _edit(new, "ModelRegistry", new_group_description)
    _edit(new, "Workforce", another_user_pool)

    output = tmp_path / "review.md"
    args = [str(new), "--config", str(FULL), "--base", str(base), "--output", str(output)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    # The endpoint runs twice as large an instance: $297.84 more at idle and at usage.
    cost = next(line for line in printed.splitlines() if line.startswith("cost against"))
    match = re.match(
        # "~" marks a total with an approximate price in it (none in the full example).
        rf"cost against {base}: idle ~?\$([0-9,.]+) -> ~?\$([0-9,.]+) \(\+\$297\.84\), at usage "
        r"~?\$([0-9,.]+) -> ~?\$([0-9,.]+) \(\+\$297\.84\) \(the base's training and tuning as "
        r"this config runs them; BASE_CONFIG= prices the base's own\)$",
        cost,
    )
    assert match, cost
    before, after, used_before, used_after = (float(g.replace(",", "")) for g in match.groups())
    assert round(after - before, 2) == round(used_after - used_before, 2) == 297.84
    fails = [line for line in printed.splitlines() if line.startswith("FAILS ON DEPLOY: ")]
    assert len(fails) == 3
    assert "endpoint smkit-full-demand-forecast, variant AllTraffic" in fails[0]
    assert any("`TextClassifierModelPackageGroup`" in f and "same custom name" in f for f in fails)
    assert any("`PrivateWorkforce`" in f and "one workforce per region" in f for f in fails)
    summary = _summary_of(output.read_text())
    assert len(summary) <= SUMMARY_LINES
    assert "> **Updates AWS refuses.** As is, the stack update would fail and roll back " in (
        "\n".join(summary)
    )
    assert "| Stack | Idle before -> after | At usage before -> after |" in summary
    assert any(
        re.match(
            r"\| smkit-full-Inference \| ~?\$[0-9,.]+ -> ~?\$[0-9,.]+ \(\+\$297\.84\) \| ", line
        )
        for line in summary
    ), summary


def test_make_review_refuses_a_missing_base_before_synthesizing(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(ROOT), "review",
         f"BASE={tmp_path}/missing", f"OUT={tmp_path}/out"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""  # nothing would run, not even synthesis
    assert (
        f"BASE={tmp_path}/missing: {tmp_path}/missing is not a synthesized cloud assembly "
        "(no manifest.json); synthesize the base first" in result.stderr
    )
