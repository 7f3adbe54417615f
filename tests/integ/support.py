"""What every integration case shares: an app with the kit's feature flags, settings
parsed from YAML the way `cdk deploy` reads a config, stacks that leave nothing behind,
the kit's cdk-nag checks, and acknowledgements for the assertion stack that
aws-cdk.integ-tests-alpha writes.

A case is a module `integ_<name>.py` in this folder (integ-runner's discovery layout for
Python) with a `build() -> IntegCase` function; run as a script it synthesizes its app
(`python tests/integ/integ_<name>.py`), which is what `tools.integ` and integ-runner do.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import integ_tests_alpha as integ

from stacks.platform import Platform, add_checks, build_platform
from stacks.settings import PlatformSettings, parse_settings

KIT = Path(__file__).resolve().parents[2]
NOTEBOOK_LOG_GROUP = "/aws/sagemaker/NotebookInstances"
"""Where SageMaker writes each notebook's lifecycle script output
(`<notebook>/LifecycleConfigOnStart`)."""


@dataclass(frozen=True)
class IntegCase:
    """One built case: its app, the kit's stacks, and the IntegTest."""

    app: cdk.App
    platform: Platform
    test: integ.IntegTest


def new_app(outdir: str | None = None) -> cdk.App:
    """An app with cdk.json's feature flags, so the kit's stacks synthesize here exactly
    as `make deploy` synthesizes them (integ-runner passes its own recommended flags as
    CLI context; these win over them)."""
    context = dict(json.loads((KIT / "cdk.json").read_text())["context"])
    context.pop("config", None)
    return cdk.App(outdir=outdir, post_cli_context=context)


def case_settings(yaml_text: str, *, source: str) -> PlatformSettings:
    """Settings from a config written in the case, checked like any config file."""
    return parse_settings(textwrap.dedent(yaml_text), source=source)


def build_case(app: cdk.App, settings: PlatformSettings) -> tuple[Platform, list[cdk.Stack]]:
    """The kit's stacks for `settings`, built by the same code as app.py and made
    disposable: the stacks the IntegTest deploys. Call it before adding other stacks."""
    platform = build_platform(app, settings)
    stacks = [s for s in app.node.children if isinstance(s, cdk.Stack)]
    for stack in stacks:
        make_disposable(stack)
    return platform, stacks


def make_disposable(stack: cdk.Stack) -> None:
    """Delete everything on `cdk destroy`: the kit retains its stateful resources (keys,
    buckets, notebook volumes, log groups) and protects stateful stacks, which a test
    must not. Buckets are emptied by the runner before the stacks are destroyed."""
    cdk.RemovalPolicies.of(stack).destroy()
    stack.termination_protection = False


def integ_test(
    app: cdk.App, test_id: str, stacks: Sequence[cdk.Stack], **kwargs: Any
) -> integ.IntegTest:
    """An IntegTest over `stacks`. The update workflow (deploy the committed snapshot,
    then the change) is off: snapshots keep templates, not asset sources, so the old
    version cannot be deployed again."""
    test = integ.IntegTest(
        app, test_id, test_cases=list(stacks), stack_update_workflow=False, **kwargs
    )
    return test


def allow(call: integ.IApiCall, actions: Sequence[str], resources: Sequence[str]) -> None:
    """Let the Lambda functions that make `call` (and poll it, when it waits) also do
    `actions` on `resources`: AwsApiCall grants only the API it calls, and the kit's
    buckets, topics and state machines are encrypted with the platform key."""
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    call.provider.add_to_role_policy(statement)
    waiter = call.waiter_provider
    if waiter is not None:
        waiter.add_to_role_policy(statement)


def finish(app: cdk.App) -> None:
    """The kit's app-wide checks (cdk-nag's AwsSolutions pack), as app.py applies them."""
    add_checks(app)


def synth_main(build: Any) -> None:
    """The body of `if __name__ == "__main__"`: build the case and synthesize it."""
    case = build()
    case.app.synth()
