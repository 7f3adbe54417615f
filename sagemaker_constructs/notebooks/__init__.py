"""Notebooks: secure SageMaker notebook instances with kernels, idle stop and SDK defaults.

Names are imported on first use (so no module may share the name of what it exports):
the settings model reads the platform rules (`platforms`) and must not pay for loading
aws-cdk-lib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_MODULES = {
    "CONDA_FORGE": "kernels",
    "HOOK_CONTENT_LIMIT": "scripts",
    "PLATFORM_IDENTIFIERS": "platforms",
    "GitRepository": "repository",
    "Kernel": "kernels",
    "NotebookInstance": "notebook",
    "NotebookJobRole": "job_role",
    "OnStartScript": "scripts",
    "PackageSources": "kernels",
    "sdk_defaults": "sdk_config",
}

__all__ = sorted(_MODULES)

__getattr__ = lazy_exports(__name__, _MODULES)


if TYPE_CHECKING:
    from .job_role import NotebookJobRole as NotebookJobRole
    from .kernels import CONDA_FORGE as CONDA_FORGE
    from .kernels import Kernel as Kernel
    from .kernels import PackageSources as PackageSources
    from .notebook import NotebookInstance as NotebookInstance
    from .platforms import PLATFORM_IDENTIFIERS as PLATFORM_IDENTIFIERS
    from .repository import GitRepository as GitRepository
    from .scripts import HOOK_CONTENT_LIMIT as HOOK_CONTENT_LIMIT
    from .scripts import OnStartScript as OnStartScript
    from .sdk_config import sdk_defaults as sdk_defaults
