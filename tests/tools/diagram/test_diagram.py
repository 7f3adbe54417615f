"""The architecture picture: the graph of the full config's stacks, main resources
and connections, its DOT text, and rendering to SVG and PNG with the npm tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles.synth import ROOT, Synthesis
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.diagram.__main__ import main, render
from tools.diagram.graph import build_graph


def test_full_config_graph_shows_stacks_main_resources_and_links(full_synth: Synthesis) -> None:
    graph = build_graph(load_assembly(full_synth.outdir))
    foundation, deploy = (full_synth.settings.stack_name(u) for u in ("Foundation", "GitHubDeploy"))
    kinds = {(n.stack, n.kind) for n in graph.nodes.values()}
    for kind in ("KMS key", "S3 bucket", "SNS topic", "VPC", "VPC endpoints", "subnets"):
        assert (foundation, kind) in kinds
    assert {(deploy, "IAM role"), (deploy, "OIDC provider")} <= kinds
    edges = graph.edges
    assert edges[(f"{foundation}/DataBucket", f"{foundation}/AccessLogsBucket")] == "logs to"
    # Encryption with the platform key is counted on the key, not drawn.
    assert (f"{foundation}/DataBucket", f"{foundation}/PlatformKey") not in edges
    assert f"{foundation}/DataBucket" in graph.encrypted[f"{foundation}/PlatformKey"]
    assert edges[(f"{foundation}/AWS::EC2::VPCEndpoint", f"{foundation}/AWS::EC2::Subnet")] == "in"
    role = next(k for k, n in graph.nodes.items() if n.kind == "IAM role")
    provider = next(k for k, n in graph.nodes.items() if n.kind == "OIDC provider")
    assert edges[(role, provider)] == "trusts"
    endpoints = graph.nodes[f"{foundation}/AWS::EC2::VPCEndpoint"]
    assert "sagemaker.api" in endpoints.label and "sts" in endpoints.label


def test_plumbing_is_folded_into_edges(tmp_path: Path) -> None:
    """A function's role policy becomes an IAM edge; a subscription connects its topic
    and function; roles that services assume and custom resource handlers are hidden;
    an imported output links stacks, and so does a stack output reference; a resource
    that is not drawn (an endpoint's configuration) passes its links on."""
    outdir = write_assembly(
        tmp_path / "out",
        {
            "Base": {
                "Resources": {"Table": resource("AWS::SQS::Queue")},
                "Outputs": {
                    "QueueArn": {
                        "Value": {"Fn::GetAtt": ["Table", "Arn"]},
                        "Export": {"Name": "Base:QueueArn"},
                    }
                },
            },
            "App": {
                "Resources": {
                    "Role": resource(
                        "AWS::IAM::Role",
                        AssumeRolePolicyDocument={
                            "Statement": [{"Principal": {"Service": "lambda.amazonaws.com"}}]
                        },
                    ),
                    "Policy": resource(
                        "AWS::IAM::Policy",
                        Roles=[{"Ref": "Role"}],
                        PolicyDocument={
                            "Statement": [{"Resource": {"Fn::ImportValue": "Base:QueueArn"}}]
                        },
                    ),
                    "Fn": resource("AWS::Lambda::Function", Role={"Fn::GetAtt": ["Role", "Arn"]}),
                    "Topic": resource("AWS::SNS::Topic"),
                    "Sub": resource(
                        "AWS::SNS::Subscription",
                        TopicArn={"Ref": "Topic"},
                        Endpoint={"Fn::GetAtt": ["Fn", "Arn"]},
                    ),
                    "Handler": resource("AWS::Lambda::Function"),
                    "Custom": resource(
                        "Custom::Thing", ServiceToken={"Fn::GetAtt": ["Handler", "Arn"]}
                    ),
                    "Model": resource(
                        "AWS::SageMaker::Model",
                        PrimaryContainer={
                            "ModelDataUrl": {
                                "Fn::GetStackOutput": {
                                    "StackName": "Base",
                                    "Region": "us-east-1",
                                    "OutputName": "QueueArn",
                                }
                            }
                        },
                    ),
                    "Config": resource(
                        "AWS::SageMaker::EndpointConfig",
                        ProductionVariants=[{"ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}}],
                    ),
                    "Endpoint": resource(
                        "AWS::SageMaker::Endpoint",
                        EndpointConfigName={"Fn::GetAtt": ["Config", "EndpointConfigName"]},
                    ),
                }
            },
        },
    )
    graph = build_graph(load_assembly(outdir))
    assert sorted(graph.nodes) == ["App/Endpoint", "App/Fn", "App/Model", "App/Topic", "Base/Table"]
    assert graph.edges == {
        ("App/Fn", "Base/Table"): "IAM",
        ("App/Topic", "App/Fn"): "notifies",
        ("App/Model", "Base/Table"): "primary container",
        ("App/Endpoint", "App/Model"): "serves",
    }
    dot = graph.to_dot("demo")
    assert '"App/Fn" -> "Base/Table" [label="IAM", style=dotted' in dot
    assert 'subgraph cluster_0 {\n    label="Base";' in dot or 'label="Base";' in dot


def test_render_writes_svg_and_png(tmp_path: Path) -> None:
    prefix = tmp_path / "pic"
    render('digraph { a [label="S3 bucket\\nData"]; a -> b [label="logs to"]; }', prefix)
    svg = (prefix.with_suffix(".svg")).read_text()
    assert svg.lstrip().startswith("<?xml") and "S3 bucket" in svg and "logs to" in svg
    png = (prefix.with_suffix(".png")).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_render_reports_a_graph_it_cannot_lay_out(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Graphviz could not lay out the graph"):
        render("digraph { a -> }", tmp_path / "bad")


def test_cli_draws_an_assembly(
    full_synth: Synthesis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = tmp_path / "architecture"
    assert main([str(full_synth.outdir), "--output", str(prefix)]) == 0
    assert capsys.readouterr().out.startswith(
        f"{len(build_graph(load_assembly(full_synth.outdir)).nodes)} nodes"
    )
    assert prefix.with_suffix(".dot").read_text().startswith("digraph architecture {")


def test_the_committed_picture_exists() -> None:
    for suffix in (".svg", ".png"):
        assert (ROOT / "docs" / f"architecture{suffix}").stat().st_size > 1000


def test_the_full_configs_studio_domain_with_its_users_spaces_and_reach(
    full_synth: Synthesis,
) -> None:
    """What the lead's per-stack pictures draw of Studio (the generic graph)."""
    graph = build_graph(load_assembly(full_synth.outdir))
    studio, foundation = (full_synth.settings.stack_name(u) for u in ("Studio", "Foundation"))
    domain = f"{studio}/StudioDomain"
    users = f"{studio}/AWS::SageMaker::UserProfile"
    spaces = f"{studio}/AWS::SageMaker::Space"
    lifecycle = f"{studio}/AWS::SageMaker::StudioLifecycleConfig"
    assert graph.nodes[domain].kind == "Studio domain"
    assert (graph.nodes[users].kind, graph.nodes[users].label) == ("Studio users", "2")
    assert (graph.nodes[spaces].kind, graph.nodes[spaces].label) == ("Studio spaces", "1")
    assert graph.nodes[lifecycle].kind == "JupyterLab lifecycle configs"
    edges = graph.edges
    assert edges[(users, domain)] == "in" and edges[(spaces, domain)] == "in"
    assert edges[(domain, lifecycle)] == "apps start with"
    assert edges[(domain, f"{foundation}/AWS::EC2::Subnet")] == "in"
    # The users' role reaches the platform's data (dotted IAM edge); the key is counted.
    assert edges[(domain, f"{foundation}/DataBucket")] == "IAM"
    assert domain in graph.encrypted[f"{foundation}/PlatformKey"]
    # The budget guard reads the domain's id to stop its apps.
    cost = full_synth.settings.stack_name("Cost")
    guard = next(
        k for k, n in graph.nodes.items() if n.stack == cost and n.kind == "Lambda function"
    )
    assert (guard, domain) in edges
