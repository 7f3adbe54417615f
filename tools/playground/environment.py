"""How `smkit` finds the playground: the environment variables it prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CREDENTIALS = "playground"
"""Access key and secret the playground prints: moto takes any."""


@dataclass(frozen=True)
class Environment:
    """Where `smkit` finds the playground."""

    endpoint_url: str
    config: Path
    region: str
    region_in_config: bool

    def exports(self) -> list[str]:
        """Shell lines that point `smkit` at the playground: the endpoint URL and the
        config, then placeholder credentials (and the region, when the config has none)."""
        credentials = f"export AWS_ACCESS_KEY_ID={CREDENTIALS} AWS_SECRET_ACCESS_KEY={CREDENTIALS}"
        if not self.region_in_config:
            credentials += f" AWS_REGION={self.region}"
        return [
            f"export AWS_ENDPOINT_URL={self.endpoint_url} SMKIT_CONFIG={self.config}",
            credentials,
        ]
