"""The typed, validated settings model behind `config/*.yaml`.

Only `app.py` and `stacks/` read settings; constructs take plain keyword arguments.
"""

from .loader import ConfigError, load_settings, parse_settings
from .platform import PlatformSettings

__all__ = ["ConfigError", "PlatformSettings", "load_settings", "parse_settings"]
