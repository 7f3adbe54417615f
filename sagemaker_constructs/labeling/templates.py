"""Worker task templates (Liquid + Crowd HTML Elements) shipped with the kit, and the
label category file, rendered per labeling workflow.

The templates in `templates/` use the variables Ground Truth's built-in pre-annotation
Lambdas give them (`task.input.taskObject`, `task.input.labels`); the workflow's title,
description and instructions are written into them here, HTML-escaped and with curly
braces neutralized so that no configured text is ever evaluated as Liquid.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from .task_types import TaskType

TEMPLATE_DIR = Path(__file__).parent / "templates"
LABEL_CONFIG_VERSION = "2018-11-28"


def template_path(task: TaskType) -> Path | None:
    """The kit's template of `task`; None where AWS hosts the worker UI."""
    if task.element is None:
        return None
    return TEMPLATE_DIR / f"{task.name}.liquid.html"


def _text(value: str) -> str:
    """Configured text as inert HTML: escaped, and no `{{`/`{%` for Liquid to evaluate."""
    return html.escape(value, quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _paragraphs(text: str) -> str:
    parts = [" ".join(p.split()) for p in text.split("\n\n")]
    return "".join(f"<p>{_text(p)}</p>" for p in parts if p)


def render_template(task: TaskType, *, title: str, description: str, instructions: str) -> str:
    """The worker task template of `task` with the workflow's texts in it."""
    path = template_path(task)
    if path is None:
        raise ValueError(f"{task.name} uses an AWS-hosted worker UI, not a template")
    return (
        path.read_text()
        .replace("@@HEADER@@", _text(title))
        .replace("@@SHORT_INSTRUCTIONS@@", _paragraphs(description))
        .replace("@@FULL_INSTRUCTIONS@@", _paragraphs(instructions))
    )


def label_category_config(labels: list[str]) -> str:
    """The label category configuration file Ground Truth reads (LabelCategoryConfigS3Uri)."""
    return json.dumps(
        {
            "document-version": LABEL_CONFIG_VERSION,
            "labels": [{"label": label} for label in labels],
        },
        indent=2,
    )
