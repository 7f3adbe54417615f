"""Notebooks: secure SageMaker notebook instances with kernels, idle stop and SDK defaults."""

from .job_role import NotebookJobRole
from .kernels import CONDA_FORGE, Kernel, PackageSources
from .notebook import PLATFORM_IDENTIFIERS, NotebookInstance
from .repository import GitRepository
from .scripts import HOOK_CONTENT_LIMIT, OnStartScript
from .sdk_defaults import sdk_defaults

__all__ = [
    "CONDA_FORGE",
    "HOOK_CONTENT_LIMIT",
    "PLATFORM_IDENTIFIERS",
    "GitRepository",
    "Kernel",
    "NotebookInstance",
    "NotebookJobRole",
    "OnStartScript",
    "PackageSources",
    "sdk_defaults",
]
