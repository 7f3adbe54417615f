"""Foundation constructs: encryption key, buckets, network, alerts."""

from .alerts import AlertsTopic
from .encryption import PlatformKey
from .network import IsolatedNetwork, NetworkPlacement
from .storage import PlatformStorage

__all__ = ["AlertsTopic", "IsolatedNetwork", "NetworkPlacement", "PlatformKey", "PlatformStorage"]
