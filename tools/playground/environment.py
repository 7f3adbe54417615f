"""Where the playground listens, and the environment variables that point `smkit` at it."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
"""The playground listens on loopback only."""

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


def listen(port: int) -> socket.socket:
    """A socket listening on HOST:`port` (0: a free one). Raises OSError when the port is
    taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener
