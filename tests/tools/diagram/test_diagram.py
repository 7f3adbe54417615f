"""The pictures: the graph of the full config's stacks, main resources and connections,
the overview and the per-stack views drawn from it, their DOT text, rendering to SVG and
PNG with the npm tools, and the committed pictures in docs/diagrams/ kept fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles.synth import ROOT, Synthesis
from tests.tools.assemblies import resource, write_assembly
from tools.assembly import load_assembly
from tools.diagram.__main__ import (
    diagrams,
    file_name,
    main,
    mark_png,
    png_digest,
    render,
    source_digest,
    svg_digest,
)
from tools.diagram.graph import Graph, Node, build_graph, longest_chain, view_rankdir
from tools.diagram.overview import FLOWS, UNITS, deploy_waves, overview_dot, unit_of

DIAGRAMS = ROOT / "docs" / "diagrams"


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
    provider = next(k for k, n in graph.nodes.items() if n.kind == "OIDC provider")
    role = next(k for k, n in graph.nodes.items() if n.kind == "IAM role" and n.stack == deploy)
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


def test_render_writes_svg_and_png_marked_with_their_source(tmp_path: Path) -> None:
    prefix = tmp_path / "pic"
    dot = 'digraph { a [label="S3 bucket\\nData"]; a -> b [label="logs to"]; }'
    render(dot, prefix)
    svg = (prefix.with_suffix(".svg")).read_text()
    assert svg.lstrip().startswith("<?xml") and "S3 bucket" in svg and "logs to" in svg
    png = (prefix.with_suffix(".png")).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert svg_digest(svg) == png_digest(png) == source_digest(dot)
    assert source_digest(dot + " ") != source_digest(dot)
    render(dot, tmp_path / "again")
    assert (tmp_path / "again.png").read_bytes() == png  # deterministic on one machine


def test_png_mark_is_a_valid_chunk_before_the_image_data() -> None:
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + bytes(13) + bytes(4)
    image = b"\x00\x00\x00\x00IDAT" + bytes(4)
    marked = mark_png(header + image, "ab" * 32)
    assert png_digest(marked) == "ab" * 32
    assert marked.index(b"tEXt") < marked.index(b"IDAT")
    assert png_digest(header + image) is None


def test_render_reports_a_graph_it_cannot_lay_out(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Graphviz could not lay out the graph"):
        render("digraph { a -> }", tmp_path / "bad")


def test_cli_draws_the_overview_and_every_stack(
    full_synth: Synthesis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(full_synth.outdir), "--output-dir", str(tmp_path)]) == 0
    names = ["overview", *(file_name(u.rsplit("-", 1)[1]) for u in full_synth.stack_names)]
    assert capsys.readouterr().out.startswith(f"{len(names)} pictures: wrote overview, ")
    for name in names:
        assert (tmp_path / f"{name}.dot").read_text().startswith("digraph ")
        assert svg_digest((tmp_path / f"{name}.svg").read_text()) is not None


def test_cli_reports_a_folder_without_an_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 1
    assert "is not a synthesized cloud assembly" in capsys.readouterr().err


def test_committed_pictures_are_fresh(full_synth: Synthesis) -> None:
    """docs/diagrams/ holds exactly the pictures of the full config, each drawn from the
    DOT text generated now: run `make diagram` and commit the result when this fails."""
    expected = diagrams(load_assembly(full_synth.outdir))
    committed = sorted(p.name for p in DIAGRAMS.iterdir())
    assert committed == sorted(f"{n}{s}" for n in expected for s in (".dot", ".png", ".svg"))
    for name, dot in expected.items():
        assert (DIAGRAMS / f"{name}.dot").read_text() == dot, f"{name}.dot: run `make diagram`"
        digest = source_digest(dot)
        assert svg_digest((DIAGRAMS / f"{name}.svg").read_text()) == digest, f"{name}.svg"
        assert png_digest((DIAGRAMS / f"{name}.png").read_bytes()) == digest, f"{name}.png"


def test_file_names() -> None:
    assert file_name("ModelRegistry") == "model-registry"
    assert file_name("GitHubDeploy") == "github-deploy"
    assert file_name("Foundation") == "foundation"


# --- the overview --------------------------------------------------------------------------


def test_overview_numbers_stacks_in_deploy_order_and_draws_the_main_flow(
    full_synth: Synthesis,
) -> None:
    assembly = load_assembly(full_synth.outdir)
    dot = overview_dot(assembly, "t")
    for position, stack in enumerate(assembly, start=1):
        unit = stack.name.rsplit("-", 1)[1]
        assert f"<b>{position}  {unit}</b>" in dot
    waves = deploy_waves(assembly)
    prefix = full_synth.settings.name_prefix
    assert waves[f"{prefix}-Foundation"] == 0
    assert waves[f"{prefix}-Labeling"] == 2  # after the Workforce, which is after the Foundation
    assert waves[f"{prefix}-Training"] == 1
    flows = [line for line in dot.splitlines() if "penwidth=2.5" in line]
    assert [line.split('label="')[1].split('"')[0] for line in flows] == [f[2] for f in FLOWS]
    assert f'"{prefix}-Labeling" -> "{prefix}-Training" [label="labels: train"' in dot
    assert f'"{prefix}-Inference" -> "{prefix}-Labeling" [label="auto-label"' in dot
    # Dependencies are drawn dashed, each once.
    assert f'"{prefix}-Workforce" -> "{prefix}-Labeling" [style=dashed' in dot
    settings = full_synth.settings
    assert settings.inference is not None and settings.notebooks is not None
    assert f"{len(settings.inference.endpoints)} endpoints" in dot
    assert f"{len(settings.notebooks.instances)} instances" in dot


def test_overview_of_the_default_config_has_one_stack_and_no_flow(
    default_synth: Synthesis,
) -> None:
    dot = overview_dot(load_assembly(default_synth.outdir), "t")
    assert "<b>1  Foundation</b>" in dot
    assert "penwidth=2.5" not in dot and "style=dashed" not in dot


# --- per-stack views -----------------------------------------------------------------------


def _node(key: str, kind: str, label: str = "") -> Node:
    return Node(key, key.split("/")[0], label or key.split("/")[1], kind, "#ffffff")


def test_stack_view_folds_steps_and_lists_what_other_stacks_provide() -> None:
    graph = Graph(
        nodes={
            n.key: n
            for n in (
                _node("App/Machine", "state machine", "flow"),
                _node("App/Step", "Lambda function", "Wf/Prepare"),
                _node("App/Shared", "Lambda function", "Shared"),
                _node("App/Other", "state machine", "other"),
                _node("App/Logs", "log groups", "2"),
                _node("Base/Bucket", "S3 bucket", "Data"),
                _node("Base/Topic", "SNS topic", "Alerts"),
                _node("Base/Key", "KMS key", "Encryption"),
                _node("Base/Unused", "SNS topic", "Unused"),
                _node("Users/Reader", "Lambda function", "Reader"),
            )
        },
        edges={
            ("App/Machine", "App/Step"): "calls",
            ("App/Machine", "App/Shared"): "calls",
            ("App/Other", "App/Shared"): "calls",
            ("App/Step", "Base/Bucket"): "IAM",
            ("App/Machine", "Base/Topic"): "calls",
            ("App/Machine", "App/Logs"): "logs to",
            ("Users/Reader", "App/Machine"): "IAM",
        },
        encrypted={"Base/Key": {"App/Step", "Base/Bucket"}},
    )
    view = graph.stack_view("App")
    assert sorted(view.nodes) == [
        "App/Logs",
        "App/Machine",
        "App/Other",
        "App/Shared",
        "Base/(used)",
    ]
    # A function only one state machine calls is named in its box.
    assert view.nodes["App/Machine"].label == "flow\nsteps: Prepare"
    assert view.nodes["Base/(used)"].label == (
        "KMS key (encrypts 1 of the resources shown)\nS3 bucket: Data\nSNS topic: Alerts"
    )
    assert view.edges == {
        ("App/Machine", "App/Shared"): "calls",
        ("App/Other", "App/Shared"): "calls",
        ("App/Machine", "Base/(used)"): "IAM, calls",
    }
    dot = view.to_dot("App", focus="App", rankdir=view_rankdir(view))
    assert dot.index('label="App stack"') < dot.index('label="Base stack"')
    assert "rankdir=LR" in dot and "concentrate=true" in dot


def test_long_chains_are_drawn_top_to_bottom() -> None:
    chain = Graph(
        nodes={f"S/{i}": _node(f"S/{i}", "SNS topic") for i in range(4)},
        edges={(f"S/{i}", f"S/{i + 1}"): "notifies" for i in range(3)},
    )
    assert longest_chain(chain) == 4 and view_rankdir(chain) == "TB"
    chain.edges[("S/3", "S/0")] = "notifies"  # a cycle is walked once
    assert longest_chain(chain) == 4
    del chain.edges[("S/2", "S/3")], chain.edges[("S/3", "S/0")]
    assert view_rankdir(chain) == "LR"


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


def test_every_stack_of_the_full_config_says_what_it_is_for(full_synth: Synthesis) -> None:
    # A stack without an entry in UNITS is drawn as a bare name in the overview.
    units = {unit_of(stack) for stack in load_assembly(full_synth.outdir)}
    assert units - set(UNITS) == set()
