"""Read a synthesized cloud assembly (`cdk.out/`): its stacks, templates and assets.

Used by the review report, the architecture diagram and the deploy rehearsal. Only
the files `cdk synth` writes are read; nothing here needs aws-cdk-lib.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST = "cdk:asset-manifest"
CDK_PATH = "aws:cdk:path"


class AssemblyError(Exception):
    """The folder is not a readable cloud assembly."""


@dataclass(frozen=True)
class Stack:
    """One stack of the assembly."""

    artifact_id: str
    name: str
    template_path: Path
    template: dict[str, Any]
    environment: str
    """`aws://ACCOUNT/REGION`; `unknown-account` / `unknown-region` when agnostic."""
    dependencies: tuple[str, ...]
    """Artifact ids of the stacks this one must be deployed after."""
    assets_path: Path | None
    termination_protection: bool = False

    @property
    def account(self) -> str | None:
        account = self.environment.removeprefix("aws://").split("/")[0]
        return None if account.startswith("unknown") else account

    @property
    def region(self) -> str | None:
        parts = self.environment.removeprefix("aws://").split("/")
        region = parts[1] if len(parts) > 1 else "unknown-region"
        return None if region.startswith("unknown") else region

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources", {})
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one type, by logical ID."""
        return {k: r for k, r in self.resources.items() if r.get("Type") == resource_type}

    def assets(self) -> dict[str, Any]:
        """The stack's asset manifest (`files` and `dockerImages`), empty if none."""
        if self.assets_path is None or not self.assets_path.is_file():
            return {"files": {}, "dockerImages": {}}
        manifest: dict[str, Any] = json.loads(self.assets_path.read_text())
        return manifest


@dataclass(frozen=True)
class Assembly:
    """The stacks of one `cdk.out` folder, in deployment order."""

    outdir: Path
    stacks: tuple[Stack, ...] = field(default_factory=tuple)

    def stack(self, name: str) -> Stack:
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise KeyError(name)

    def __iter__(self) -> Iterator[Stack]:
        return iter(self.stacks)

    def outputs(self) -> dict[tuple[str, str], Any]:
        """(stack name, output name) -> the output's value, for resolving
        `Fn::GetStackOutput`; export name -> value too, for `Fn::ImportValue`."""
        found: dict[Any, Any] = {}
        for stack in self.stacks:
            for name, output in stack.template.get("Outputs", {}).items():
                value = _qualify(output.get("Value"), stack.name)
                found[(stack.name, name)] = value
                export = output.get("Export", {}).get("Name")
                if isinstance(export, str):
                    found[export] = value
        return found


def _qualify(value: Any, stack: str) -> Any:
    """`value` with its Ref / GetAtt targets prefixed by their stack (`Stack/Name`)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and not str(value["Ref"]).startswith("AWS::"):
            return {"Ref": f"{stack}/{value['Ref']}"}
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name, attribute = target.split(".", 1) if isinstance(target, str) else target
            return {"Fn::GetAtt": [f"{stack}/{name}", attribute]}
        return {k: _qualify(v, stack) for k, v in value.items()}
    if isinstance(value, list):
        return [_qualify(v, stack) for v in value]
    return value


def resolve_outputs(value: Any, outputs: dict[Any, Any]) -> Any:
    """`value` with `Fn::GetStackOutput` and `Fn::ImportValue` replaced by the value of
    the output they name (its references qualified by stack, `Stack/Name`), where known."""
    if isinstance(value, dict):
        if set(value) == {"Fn::GetStackOutput"}:
            spec = value["Fn::GetStackOutput"]
            key = (spec.get("StackName"), spec.get("OutputName"))
            return outputs.get(key, value)
        if set(value) == {"Fn::ImportValue"} and isinstance(value["Fn::ImportValue"], str):
            return outputs.get(value["Fn::ImportValue"], value)
        return {k: resolve_outputs(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_outputs(v, outputs) for v in value]
    return value


def load_assembly(outdir: Path | str) -> Assembly:
    """Read `outdir/manifest.json` and every stack template it names."""
    outdir = Path(outdir)
    manifest_path = outdir / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{outdir} is not a synthesized cloud assembly (no manifest.json); "
            "run `make synth` first"
        )
    artifacts: dict[str, Any] = json.loads(manifest_path.read_text()).get("artifacts", {})
    stacks: dict[str, Stack] = {}
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != STACK_ARTIFACT:
            continue
        properties = artifact.get("properties", {})
        template_path = outdir / properties["templateFile"]
        assets = [
            outdir / artifacts[dep]["properties"]["file"]
            for dep in artifact.get("dependencies", [])
            if artifacts.get(dep, {}).get("type") == ASSET_MANIFEST
        ]
        stacks[artifact_id] = Stack(
            artifact_id=artifact_id,
            name=properties.get("stackName", artifact.get("displayName", artifact_id)),
            template_path=template_path,
            template=json.loads(template_path.read_text()),
            environment=artifact.get("environment", "aws://unknown-account/unknown-region"),
            dependencies=tuple(
                dep
                for dep in artifact.get("dependencies", [])
                if artifacts.get(dep, {}).get("type") == STACK_ARTIFACT
            ),
            assets_path=assets[0] if assets else None,
            termination_protection=bool(properties.get("terminationProtection", False)),
        )
    return Assembly(outdir=outdir, stacks=tuple(_deployment_order(stacks)))


def _deployment_order(stacks: dict[str, Stack]) -> list[Stack]:
    ordered: list[Stack] = []
    done: set[str] = set()

    def visit(artifact_id: str) -> None:
        if artifact_id in done:
            return
        done.add(artifact_id)
        for dependency in stacks[artifact_id].dependencies:
            if dependency in stacks:
                visit(dependency)
        ordered.append(stacks[artifact_id])

    for artifact_id in stacks:
        visit(artifact_id)
    return ordered


def render(value: Any) -> str:
    """A CloudFormation value as a reviewer reads it: `Ref`/`Fn::GetAtt` become
    `${Name}` / `${Name.Attr}`, joins are flattened, imports read `import(Name)`."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return "${" + str(arg) + "}"
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            return "${" + ".".join(render(p) for p in parts) + "}"
        if key == "Fn::Join":
            delimiter, items = arg
            if isinstance(items, list):
                return str(delimiter).join(render(item) for item in items)
        if key == "Fn::Sub":
            return render(arg[0] if isinstance(arg, list) else arg)
        if key == "Fn::ImportValue":
            return f"import({render(arg)})"
        if key == "Fn::Select":
            return f"select({render(arg[0])}, {render(arg[1])})"
        if key == "Fn::GetAZs":
            return "${AZs}"
        if key == "Fn::GetStackOutput" and isinstance(arg, dict):
            return f"output({arg.get('StackName')}.{arg.get('OutputName')})"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def references(value: Any) -> set[str]:
    """Logical IDs (and pseudo parameters) a value refers to through `Ref`,
    `Fn::GetAtt` and `${...}` in `Fn::Sub`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found.update(_sub_names(str(text)))
                if isinstance(arg, list) and len(arg) > 1:
                    found.update(references(arg[1]))
            else:
                found.update(references(arg))
    elif isinstance(value, list):
        for item in value:
            found.update(references(item))
    return found


def _sub_names(text: str) -> set[str]:
    names = set()
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            break
        name = text[start + 2 : end]
        if not name.startswith("!"):
            names.add(name.split(".", 1)[0])
        start = text.find("${", end)
    return names


def short_type(resource_type: str) -> str:
    """`AWS::S3::Bucket` -> `S3::Bucket`."""
    return resource_type.removeprefix("AWS::")


def construct_path(resource: dict[str, Any]) -> str | None:
    """The construct path CDK records in the resource's metadata."""
    path = resource.get("Metadata", {}).get(CDK_PATH)
    return str(path) if path else None
