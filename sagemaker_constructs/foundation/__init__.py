"""Foundation constructs: encryption key, buckets, network, alerts."""

from .alerts import AlertsTopic
from .encryption import PlatformKey
from .network import INTERFACE_ENDPOINTS, STUDIO_UI_ENDPOINT, IsolatedNetwork, NetworkPlacement
from .storage import PlatformStorage

__all__ = [
    "INTERFACE_ENDPOINTS",
    "STUDIO_UI_ENDPOINT",
    "AlertsTopic",
    "IsolatedNetwork",
    "NetworkPlacement",
    "PlatformKey",
    "PlatformStorage",
]
