"""Small hand-made cloud assemblies for the review and diagram tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_assembly(
    outdir: Path,
    stacks: dict[str, dict[str, Any]],
    *,
    environment: str = "aws://unknown-account/unknown-region",
    docker_images: int = 0,
) -> Path:
    """A `cdk.out` folder with one template per stack, as `cdk synth` lays it out."""
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, template in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(template))
        assets = {
            "version": "55.0.0",
            "files": {},
            "dockerImages": {
                f"image{i}": {
                    "source": {"directory": f"asset.image{i}"},
                    "destinations": {
                        "current": {
                            "repositoryName": "cdk-hnb659fds-container-assets-"
                            "${AWS::AccountId}-${AWS::Region}",
                            "imageTag": f"image{i}",
                        }
                    },
                }
                for i in range(docker_images)
            },
        }
        (outdir / f"{name}.assets.json").write_text(json.dumps(assets))
        artifacts[f"{name}.assets"] = {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{name}.assets.json"},
        }
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json"},
            "dependencies": [f"{name}.assets"],
            "displayName": name,
        }
    (outdir / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return outdir


def resource(resource_type: str, path: str | None = None, **properties: Any) -> dict[str, Any]:
    """One template resource, with a construct path in its metadata if given."""
    found: dict[str, Any] = {"Type": resource_type, "Properties": properties}
    if path:
        found["Metadata"] = {"aws:cdk:path": path}
    return found
