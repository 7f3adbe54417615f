"""The architecture graph of an assembly: stacks as boxes, the main resources in
them, and how they connect.

Main resources are those a reader recognizes (buckets, keys, endpoints, state
machines...); plumbing (policies, subnets' route tables, permissions) is folded into
the edges it implies: A -> B when A refers to B directly, through the policies of a
role A uses ("IAM"), through a connector such as an SNS subscription, or across
stacks through an exported output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.assembly import (
    Assembly,
    Stack,
    construct_path,
    references,
    render,
    resolve_outputs,
)

# Main resource types: label and fill colour (by service family).
MAIN_TYPES: dict[str, tuple[str, str]] = {
    "AWS::KMS::Key": ("KMS key", "#f8d7da"),
    "AWS::S3::Bucket": ("S3 bucket", "#d4edda"),
    "AWS::SNS::Topic": ("SNS topic", "#fde2c8"),
    "AWS::SQS::Queue": ("SQS queue", "#fde2c8"),
    "AWS::EC2::VPC": ("VPC", "#e2d9f3"),
    "AWS::EC2::NatGateway": ("NAT gateway", "#e2d9f3"),
    "AWS::Lambda::Function": ("Lambda function", "#fff3cd"),
    "AWS::StepFunctions::StateMachine": ("state machine", "#fce4f1"),
    "AWS::Events::Rule": ("EventBridge rule", "#fce4f1"),
    "AWS::SageMaker::NotebookInstance": ("notebook instance", "#d1ecf1"),
    "AWS::SageMaker::Endpoint": ("SageMaker endpoint", "#d1ecf1"),
    "AWS::SageMaker::Model": ("SageMaker model", "#d1ecf1"),
    "AWS::SageMaker::ModelPackageGroup": ("model registry group", "#d1ecf1"),
    "AWS::SageMaker::Workforce": ("labeling workforce", "#d1ecf1"),
    "AWS::SageMaker::Workteam": ("work team", "#d1ecf1"),
    "AWS::SageMaker::CodeRepository": ("Git repository", "#d1ecf1"),
    "AWS::SageMaker::Pipeline": ("SageMaker pipeline", "#d1ecf1"),
    "AWS::SageMaker::Domain": ("Studio domain", "#d1ecf1"),
    "AWS::SageMaker::Image": ("Studio image", "#d1ecf1"),
    "AWS::Cognito::UserPool": ("Cognito user pool", "#f8d7da"),
    "AWS::Budgets::Budget": ("budget", "#fff3cd"),
    "AWS::IAM::OIDCProvider": ("OIDC provider", "#f8d7da"),
    "AWS::IAM::Role": ("IAM role", "#f8d7da"),
    "AWS::ECR::Repository": ("ECR repository", "#fde2c8"),
    "AWS::SecretsManager::Secret": ("secret", "#f8d7da"),
}
# Types shown as one node per stack, with a count.
GROUPED_TYPES: dict[str, tuple[str, str]] = {
    "AWS::EC2::VPCEndpoint": ("VPC endpoints", "#e2d9f3"),
    "AWS::EC2::Subnet": ("subnets", "#e2d9f3"),
    "AWS::CloudWatch::Alarm": ("CloudWatch alarms", "#fff3cd"),
    "AWS::Logs::LogGroup": ("log groups", "#fff3cd"),
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": ("lifecycle configs", "#d1ecf1"),
    "AWS::SageMaker::UserProfile": ("Studio users", "#d1ecf1"),
    "AWS::SageMaker::Space": ("Studio spaces", "#d1ecf1"),
    "AWS::SageMaker::StudioLifecycleConfig": ("JupyterLab lifecycle configs", "#d1ecf1"),
}
# Resources that connect two others: the source's property, the target's properties
# and the edge label.
CONNECTORS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "AWS::SNS::Subscription": ("TopicArn", ("Endpoint",), "notifies"),
    "AWS::EC2::FlowLog": ("ResourceId", ("LogGroupName", "LogDestination"), "flow logs to"),
    "AWS::Lambda::EventSourceMapping": ("EventSourceArn", ("FunctionName",), "invokes"),
}
# Edge labels for the property a reference sits in; other properties label themselves.
PROPERTY_LABELS = {
    "AssumeRolePolicyDocument": "trusts",
    "LoggingConfiguration": "logs to",
    "LogDestination": "logs to",
    "LoggingConfig": "logs to",
    "Role": "runs as",
    "RoleArn": "runs as",
    "ExecutionRoleArn": "runs as",
    "VpcId": "in",
    "SubnetIds": "in",
    "SubnetId": "in",
    "VpcConfig": "in",
    "EndpointConfigName": "serves",
    "LifecycleConfigName": "lifecycle",
    "DefaultCodeRepository": "clones",
    "DefinitionString": "calls",
    "Definition": "calls",
    "Environment": "configured with",
    "Targets": "triggers",
    "NotificationsWithSubscribers": "notifies",
    "DomainId": "in",
    "DefaultUserSettings": "apps start with",
    "StudioLifecycleConfigContent": "SDK defaults name",
}

KEY_TYPES = frozenset({"AWS::KMS::Key"})
# The font the PNG is drawn with (tools/diagram/render.mjs), named so that Graphviz sizes
# the boxes with its metrics.
FONT = "DejaVu Sans"
# Construct ids the kit gives a construct's main child: dropped from the names shown.
GENERIC_CHILDREN = frozenset(
    {"Function", "StateMachine", "Topic", "Endpoint", "Model", "Workteam", "Key", "Budget"}
)
OTHER_FILL = "#eeeeee"


@dataclass(frozen=True)
class Node:
    key: str
    stack: str
    label: str
    kind: str
    fill: str


@dataclass
class Graph:
    """Nodes per stack and labelled edges between node keys."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)
    encrypted: dict[str, set[str]] = field(default_factory=dict)
    """Key node -> the nodes that encrypt with it (shown as a count on the key)."""

    def to_dot(self, title: str, focus: str | None = None, rankdir: str = "LR") -> str:
        """DOT text: one cluster per stack. With `focus` (a stack name), the nodes of other
        stacks are drawn grey: they are what the focused stack uses."""
        # A view's parallel edges to the same few shared resources are merged.
        layout = (
            "nodesep=0.3, ranksep=0.9, newrank=true"
            if focus is None
            else "nodesep=0.2, ranksep=0.5, concentrate=true"
        )
        lines = [
            "digraph architecture {",
            f'  graph [rankdir={rankdir}, fontname="{FONT}", fontsize=16, labelloc=t, '
            f'label="{_esc(title)}", pad=0.3, {layout}];',
            f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=11, '
            'margin="0.3,0.12"];',
            f'  edge [fontname="{FONT}", fontsize=9, color="#555555"];',
        ]
        stacks: dict[str, list[Node]] = {}
        for node in self.nodes.values():
            stacks.setdefault(node.stack, []).append(node)
        # The focused stack first, then the others in their order of appearance.
        order = sorted(stacks, key=lambda name: name != focus)
        for index, stack in enumerate(order):
            other = focus is not None and stack != focus
            # A view names stacks by their unit: the pictures show any config's stacks.
            name = stack if focus is None else f"{stack.rsplit('-', 1)[-1]} stack"
            lines += [
                f"  subgraph cluster_{index} {{",
                f'    label="{_esc(name)}"; style="rounded,dashed"; '
                f'color="{"#bbbbbb" if other else "#888888"}";'
                + (' fontcolor="#888888";' if other else ""),
            ]
            for node in sorted(stacks[stack], key=lambda n: n.key):
                label = f"{node.kind}\n{node.label}"
                if node.key in self.encrypted:
                    label += f"\nencrypts {len(self.encrypted[node.key])} of the resources shown"
                fill, extra = (OTHER_FILL, ', fontcolor="#666666"') if other else (node.fill, "")
                lines.append(
                    f'    "{_esc(node.key)}" [label="{_esc(label)}", fillcolor="{fill}"{extra}];'
                )
            lines.append("  }")
        for (source, target), label in sorted(self.edges.items()):
            style = ""
            if label == "IAM":
                style = ', style=dotted, color="#7a5195"'
            lines.append(f'  "{_esc(source)}" -> "{_esc(target)}" [label="{_esc(label)}"{style}];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def stack_view(self, stack: str) -> Graph:
        """One stack's part of the graph: its nodes and the edges among them, and one box
        per other stack listing what its nodes use there (one edge from each user). Who
        uses the stack is in the users' views."""
        own = {key for key, node in self.nodes.items() if node.stack == stack}
        edges = {
            pair: label
            for pair, label in self.edges.items()
            if pair[0] in own and not _to_logs(self, pair)
        }
        view = _fold_steps(
            Graph(
                nodes={
                    key: node
                    for key, node in self.nodes.items()
                    if key in own or any(t == key for _, t in edges)
                },
                edges=edges,
                encrypted={k: v & own for k, v in self.encrypted.items() if v & own},
            )
        )
        return _merge_other_stacks(view, stack)


def _merge_other_stacks(view: Graph, stack: str) -> Graph:
    """The nodes of other stacks in `view` as one box per stack, listing them."""
    merged: dict[str, str] = {}
    listed: dict[str, list[str]] = {}
    for key, node in view.nodes.items():
        if node.stack != stack:
            merged[key] = f"{node.stack}/(used)"
            listed.setdefault(node.stack, []).append(f"{node.kind}: {_one_line(node.label)}")
    for key, sources in view.encrypted.items():
        if key not in view.nodes:
            listed.setdefault(key.rsplit("/", 1)[0], []).append(
                f"KMS key (encrypts {len(sources)} of the resources shown)"
            )
    nodes = {key: node for key, node in view.nodes.items() if key not in merged}
    for other, items in listed.items():
        nodes[f"{other}/(used)"] = Node(
            f"{other}/(used)", other, "\n".join(sorted(items)), "used here", OTHER_FILL
        )
    labels: dict[tuple[str, str], set[str]] = {}
    for (source, target), label in view.edges.items():
        labels.setdefault((source, merged.get(target, target)), set()).add(label)
    return Graph(
        nodes=nodes,
        edges={pair: ", ".join(sorted(found)) for pair, found in sorted(labels.items())},
        encrypted={k: v for k, v in view.encrypted.items() if k in nodes},
    )


def _one_line(label: str) -> str:
    return label.replace("\n", " ")


def longest_chain(graph: Graph) -> int:
    """Boxes on the longest path of edges (a cycle is walked once)."""
    after: dict[str, set[str]] = {}
    for source, target in graph.edges:
        after.setdefault(source, set()).add(target)

    def walk(key: str, seen: frozenset[str]) -> int:
        nexts = [walk(n, seen | {n}) for n in after.get(key, ()) if n not in seen]
        return 1 + max(nexts, default=0)

    return max((walk(key, frozenset({key})) for key in graph.nodes), default=0)


def view_rankdir(graph: Graph) -> str:
    """Top to bottom for a view whose longest chain has four boxes or more: left to right,
    each box of the chain is a column and the picture grows wider than the page."""
    return "TB" if longest_chain(graph) >= 4 else "LR"


def _to_logs(graph: Graph, pair: tuple[str, str]) -> bool:
    # Every function and state machine logs: the log groups are counted, not linked.
    return graph.nodes[pair[1]].kind == GROUPED_TYPES["AWS::Logs::LogGroup"][0]


def _fold_steps(graph: Graph) -> Graph:
    """Lambda functions that only one state machine calls, folded into that state
    machine's box (named there); their own links become the state machine's."""
    machine_kind = MAIN_TYPES["AWS::StepFunctions::StateMachine"][0]
    function_kind = MAIN_TYPES["AWS::Lambda::Function"][0]
    callers: dict[str, set[str]] = {}
    for (source, target), _label in graph.edges.items():
        callers.setdefault(target, set()).add(source)
    folded: dict[str, str] = {}
    for key, node in graph.nodes.items():
        sources = callers.get(key, set())
        if node.kind == function_kind and len(sources) == 1:
            (caller,) = sources
            if graph.nodes[caller].kind == machine_kind and graph.edges[(caller, key)] == "calls":
                folded[key] = caller
    steps: dict[str, list[str]] = {}
    for function, machine in folded.items():
        steps.setdefault(machine, []).append(graph.nodes[function].label.rsplit("/", 1)[-1])
    nodes = {}
    for key, node in graph.nodes.items():
        if key in folded:
            continue
        if key in steps:
            node = Node(
                node.key,
                node.stack,
                f"{node.label}\nsteps: {_wrap(sorted(steps[key]), 4)}",
                node.kind,
                node.fill,
            )
        nodes[key] = node
    edges: dict[tuple[str, str], str] = {}
    for (source, target), label in sorted(graph.edges.items()):
        if target in folded and folded[target] == source:
            continue
        pair = (folded.get(source, source), folded.get(target, target))
        if pair[0] != pair[1]:
            edges.setdefault(pair, label)
    encrypted = {
        key: {folded.get(source, source) for source in sources}
        for key, sources in graph.encrypted.items()
    }
    return Graph(nodes=nodes, edges=edges, encrypted=encrypted)


def build_graph(assembly: Assembly) -> Graph:
    graph = Graph()
    members: dict[tuple[str, str], str] = {}
    for stack in assembly:
        for logical_id, resource in stack.resources.items():
            node = _node(stack, logical_id, resource)
            if node is not None:
                graph.nodes.setdefault(node.key, node)
                members[(stack.name, logical_id)] = node.key
        _label_groups(graph, stack)
    outputs = assembly.outputs()
    for stack in assembly:
        _edges(graph, stack, members, outputs)
    return graph


def _node(stack: Stack, logical_id: str, resource: dict[str, Any]) -> Node | None:
    resource_type = resource.get("Type", "")
    if resource_type in GROUPED_TYPES:
        kind, fill = GROUPED_TYPES[resource_type]
        return Node(f"{stack.name}/{resource_type}", stack.name, "", kind, fill)
    if resource_type not in MAIN_TYPES:
        return None
    if resource_type == "AWS::IAM::Role" and _service_role(resource):
        return None  # roles services assume are plumbing: shown as the IAM edges they grant
    if resource_type == "AWS::Lambda::Function" and _custom_resource_handler(stack, logical_id):
        return None  # deploy-time plumbing of a custom resource
    kind, fill = MAIN_TYPES[resource_type]
    return Node(f"{stack.name}/{logical_id}", stack.name, _name(logical_id, resource), kind, fill)


def _service_role(resource: dict[str, Any]) -> bool:
    trust = resource.get("Properties", {}).get("AssumeRolePolicyDocument", {})
    statements = trust.get("Statement", [])
    return bool(statements) and all(
        isinstance(s.get("Principal"), dict) and set(s["Principal"]) == {"Service"}
        for s in statements
    )


def _custom_resource_handler(stack: Stack, logical_id: str) -> bool:
    return any(
        logical_id in references(r.get("Properties", {}).get("ServiceToken"))
        for r in stack.resources.values()
        if str(r.get("Type", "")).startswith("Custom::")
    )


def _name(logical_id: str, resource: dict[str, Any]) -> str:
    path = construct_path(resource)
    if not path:
        return logical_id
    parts = [p for p in path.split("/")[1:] if p not in ("Resource", "Default")]
    # Under the kind's name, `Guard/Function/Function` says no more than `Guard`, and
    # `DemandTuning/DemandTuningWorkflow` no more than its last part.
    while len(parts) > 1 and parts[-1] in GENERIC_CHILDREN:
        parts.pop()
    if not parts:
        return logical_id
    if len(parts) > 1 and _squashed(parts[-2]) not in _squashed(parts[-1]):
        return f"{parts[-2]}/{parts[-1]}"
    return parts[-1]


def _squashed(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _label_groups(graph: Graph, stack: Stack) -> None:
    for resource_type in GROUPED_TYPES:
        key = f"{stack.name}/{resource_type}"
        if key not in graph.nodes:
            continue
        members = stack.of_type(resource_type)
        label = f"{len(members)}"
        if resource_type == "AWS::EC2::VPCEndpoint":
            services = sorted(
                re.sub(r"^com\.amazonaws\.[^.]+\.", "", render(r["Properties"]["ServiceName"]))
                for r in members.values()
            )
            label = _wrap(services, 2)
        node = graph.nodes[key]
        graph.nodes[key] = Node(node.key, node.stack, label, node.kind, node.fill)


def _wrap(words: list[str], per_line: int) -> str:
    return "\n".join(", ".join(words[i : i + per_line]) for i in range(0, len(words), per_line))


def _edges(graph: Graph, stack: Stack, members: dict[tuple[str, str], str], outputs: Any) -> None:
    role_targets = _role_targets(stack, members, outputs)

    def targets(value: Any) -> set[str]:
        return _keys(stack, resolve_outputs(value, outputs), members)

    for logical_id, resource in stack.resources.items():
        props = resource.get("Properties", {}) or {}
        source = members.get((stack.name, logical_id))
        resource_type = resource.get("Type", "")
        if source is not None:
            for name, value in props.items():
                label = PROPERTY_LABELS.get(name, _words(name))
                for target in targets(value):
                    _add(graph, source, target, label)
                # Through a resource that is not drawn (an endpoint's configuration):
                for between in references(value) & set(stack.resources):
                    if (stack.name, between) in members or between in role_targets:
                        continue
                    inner = stack.resources[between].get("Properties", {}) or {}
                    for target in targets(inner):
                        _add(graph, source, target, label)
            for role in references(props):
                for target in role_targets.get(role, set()):
                    # Every role writes its logs and uses the key: not worth an arrow.
                    if graph.nodes[target].kind in ("log groups", MAIN_TYPES["AWS::KMS::Key"][0]):
                        continue
                    if target != source and (source, target) not in graph.edges:
                        graph.edges[(source, target)] = "IAM"
        elif resource_type in CONNECTORS:
            from_key, to_keys, label = CONNECTORS[resource_type]
            for a in targets(props.get(from_key)):
                for b in targets([props.get(k) for k in to_keys]):
                    _add(graph, a, b, label)


def _keys(stack: Stack, value: Any, members: dict[tuple[str, str], str]) -> set[str]:
    """Nodes `value` refers to: names of this stack, or `Stack/Name` of another."""
    found = set()
    for name in references(value):
        other, _, logical_id = name.rpartition("/")
        key = (other or stack.name, logical_id)
        if key in members:
            found.add(members[key])
    return found


def _role_targets(
    stack: Stack, members: dict[tuple[str, str], str], outputs: Any
) -> dict[str, set[str]]:
    """Role logical ID -> main nodes its policies grant access to."""
    found: dict[str, set[str]] = {}

    def nodes(document: Any) -> set[str]:
        return _keys(stack, resolve_outputs(document, outputs), members)

    for logical_id, resource in stack.resources.items():
        props = resource.get("Properties", {}) or {}
        if resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in references(props.get("Roles", [])):
                found.setdefault(role, set()).update(nodes(props.get("PolicyDocument")))
        elif resource.get("Type") == "AWS::IAM::Role":
            for policy in props.get("Policies", []) or []:
                found.setdefault(logical_id, set()).update(nodes(policy.get("PolicyDocument")))
    return found


def _add(graph: Graph, source: str, target: str, label: str) -> None:
    if source == target:
        return
    if _is_key(graph, target):
        # Nearly everything uses the platform key: counted on the key, not drawn.
        graph.encrypted.setdefault(target, set()).add(source)
        return
    graph.edges.setdefault((source, target), label)


def _words(name: str) -> str:
    """`TopicArn` -> `topic arn`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def _is_key(graph: Graph, key: str) -> bool:
    return graph.nodes[key].kind == MAIN_TYPES["AWS::KMS::Key"][0]


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
