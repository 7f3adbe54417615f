"""Synthesize a config the way `make synth` does, once, and read the result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import WriteNagSuppressionsToCloudFormationAspect

from stacks.platform import Platform, build_platform
from stacks.settings import PlatformSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "config" / "default.yaml"
FULL_CONFIG = ROOT / "config" / "examples" / "full.yaml"
PATH_METADATA = "aws:cdk:enable-path-metadata"
VALIDATION_REPORT = "validation-report.json"


def cdk_json_context() -> dict[str, Any]:
    """The context cdk.json gives the CLI (feature flags), minus the config choice."""
    context = dict(json.loads((ROOT / "cdk.json").read_text())["context"])
    context.pop("config", None)
    return context


def validation_findings(outdir: Path) -> list[str]:
    """The findings in the validation report of the assembly in `outdir`, one line each:
    plugin, rule, construct path and what is wrong."""
    report = json.loads((outdir / VALIDATION_REPORT).read_text())
    return [
        f"{plugin['pluginName']} {violation['ruleName']} "
        f"{construct.get('constructPath')}: {violation['description']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def new_stack(stack_id: str = "Test") -> cdk.Stack:
    """A fresh stack in a fresh app with cdk.json's feature flags, for one scenario."""
    return cdk.Stack(cdk.App(context=cdk_json_context()), stack_id)


@dataclass
class Synthesis:
    """One synthesized app: its settings, construct tree and cloud assembly."""

    settings: PlatformSettings
    app: cdk.App
    platform: Platform
    outdir: Path
    _templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @cached_property
    def stack_names(self) -> list[str]:
        """Stack names in the assembly."""
        return [s.stack_name for s in self.assembly.stacks]

    @cached_property
    def assembly(self) -> cdk.cx_api.CloudAssembly:
        return self.app.synth()

    def validation_findings(self) -> list[str]:
        """The findings of the assembly's validation report, one line each."""
        self.assembly  # noqa: B018 - the report is written by the synthesis
        return validation_findings(Path(self.outdir))

    def template_path(self, unit: str) -> Path:
        """Path of the template of `<prefix>-<unit>`."""
        stack = self.assembly.get_stack_by_name(self.settings.stack_name(unit))
        return Path(self.outdir) / stack.template_file

    def template_paths(self) -> list[Path]:
        """Every template of the assembly."""
        return [Path(self.outdir) / s.template_file for s in self.assembly.stacks]

    def template(self, unit: str) -> dict[str, Any]:
        """The template of `<prefix>-<unit>` as a dict (cached)."""
        if unit not in self._templates:
            self._templates[unit] = json.loads(self.template_path(unit).read_text())
        return self._templates[unit]

    def assertions(self, unit: str) -> Template:
        """`aws_cdk.assertions.Template` of one stack, for fine-grained assertions."""
        return Template.from_json(self.template(unit))

    def resources(self, unit: str, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one type in one stack, by logical ID."""
        return {
            logical_id: resource
            for logical_id, resource in self.template(unit)["Resources"].items()
            if resource["Type"] == resource_type
        }


def synthesize(config: Path | str, outdir: Path) -> Synthesis:
    """Build and synthesize the app of `config` into `outdir`, as app.py does under the
    CDK CLI.

    cdk-nag is not registered as a validation plugin here (it would abort the
    synthesis and with it every test); the nag test runs the same pack over the
    same tree instead. Acknowledgements are still written into the templates.
    """
    settings = load_settings(config)
    # The CDK CLI turns path metadata on; the diagrams name resources by their paths.
    context = {**cdk_json_context(), PATH_METADATA: True}
    app = cdk.App(outdir=str(outdir), context=context)
    # CDK's built-in template check (app.py leaves it out of `make synth`), here once per
    # shipped config: its findings land in the assembly's validation report.
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    platform = build_platform(app, settings)
    cdk.Aspects.of(app).add(WriteNagSuppressionsToCloudFormationAspect())
    synthesis = Synthesis(settings=settings, app=app, platform=platform, outdir=outdir)
    synthesis.assembly  # noqa: B018 - synthesize now, once
    return synthesis
