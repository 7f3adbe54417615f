"""Studio: a SageMaker Studio domain with user profiles, private JupyterLab spaces, the
users' execution role, a JupyterLab lifecycle configuration (kernels and SDK defaults,
built by the notebooks' code) and an optional image of the team's own.

Names are imported on first use, like the other areas' packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_MODULES = {
    "IdleShutdown": "domain",
    "JupyterLabLifecycleConfig": "lifecycle",
    "STUDIO_LOG_GROUP": "role",
    "StudioDomain": "domain",
    "StudioExecutionRole": "role",
    "StudioImage": "image",
}

__all__ = sorted(_MODULES)

__getattr__ = lazy_exports(__name__, _MODULES)


if TYPE_CHECKING:
    from .domain import IdleShutdown as IdleShutdown
    from .domain import StudioDomain as StudioDomain
    from .image import StudioImage as StudioImage
    from .lifecycle import JupyterLabLifecycleConfig as JupyterLabLifecycleConfig
    from .role import STUDIO_LOG_GROUP as STUDIO_LOG_GROUP
    from .role import StudioExecutionRole as StudioExecutionRole
