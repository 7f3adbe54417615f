"""cdk-nag as a test oracle: unacknowledged findings and the acknowledgements made."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledged finding on one resource, as written into a template."""

    template: str
    logical_id: str
    rule_id: str
    reason: str


def unacknowledged_findings(app: cdk.App) -> list[str]:
    """Every AwsSolutions finding no acknowledgement covers, one line each."""
    report = AwsSolutionsChecks().validate_scope(app)
    return [
        f"{violation.rule_name} at {resource.construct_path}: {violation.description}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]


def acknowledgements(template_paths: list[Path]) -> list[Acknowledgement]:
    """Acknowledgements copied into the templates' resource metadata (`cdk_nag`)."""
    found = []
    for path in template_paths:
        template = json.loads(path.read_text())
        for logical_id, resource in template.get("Resources", {}).items():
            rules = resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
            found.extend(
                Acknowledgement(path.name, logical_id, rule["id"], rule["reason"]) for rule in rules
            )
    return found


def scope_wide_acknowledgements(app: cdk.App) -> list[str]:
    """Acknowledgements made on the app or on a whole stack (they hide findings on
    resources nobody looked at): one line each."""
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = []
    for scope in [app, *(c for c in app.node.children if isinstance(c, cdk.Stack))]:
        for entry in scope.node.metadata:
            if entry.type == key and entry.data:
                found.extend(f"{scope.node.path or '<app>'}: {rule}" for rule in entry.data)
    return found
