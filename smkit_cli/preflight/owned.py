"""Whether a resource that already exists is one of the platform's own stacks' (a second
preflight after a deploy finds the platform's resources, which is fine) or was made
outside them (which CloudFormation cannot create again)."""

from __future__ import annotations

from ..deployment import Deployment
from .findings import call, collect


class StackResources:
    """The physical resources of the config's stacks, read once per stack."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._read: dict[str, list[tuple[str, str]]] = {}

    def _resources(self, unit: str) -> list[tuple[str, str]]:
        if unit not in self._read:
            client = self.deployment.aws.client("cloudformation")
            name = self.deployment.settings.stack_name(unit)
            exists = call(client, "DescribeStacks", absent=("ValidationError",), StackName=name)
            summaries = (
                collect(client, "ListStackResources", "StackResourceSummaries", StackName=name)
                if exists
                else []
            )
            self._read[unit] = [
                (str(s["ResourceType"]), str(s.get("PhysicalResourceId", ""))) for s in summaries
            ]
        return self._read[unit]

    def owns(self, unit: str, resource_type: str, name: str) -> bool:
        """Whether stack `<prefix>-<unit>` holds a `resource_type` called `name` (its
        physical id is the name, or an ARN ending in `/<name>`; SageMaker names are
        case-insensitive)."""
        wanted = name.casefold()
        return any(
            kind == resource_type
            and (physical.casefold() == wanted or physical.casefold().endswith(f"/{wanted}"))
            for kind, physical in self._resources(unit)
        )
