"""The integration cases offline: each synthesizes, matches its committed snapshot (a
changed template fails here until the snapshot is updated), passes cdk-nag and cfn-lint,
asserts what its docstring promises, and states a cost and time ceiling.

Each case is synthesized once per session, in-process, into a temporary folder.
Regenerate the snapshots after an intended change: `make integ-snapshots`.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integ.support import IntegCase
from tests.oracles.cfn_lint import lint
from tests.oracles.nag import unacknowledged_findings
from tools import integ as runner

CASES = [path.stem for path in runner.discover()]


@dataclass
class Synthesized:
    module: ModuleType
    case: IntegCase
    outdir: Path

    def template(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.outdir / f"{stack}.template.json").read_text())
        return data

    @property
    def assertion_stack(self) -> str:
        (spec,) = runner.test_cases(self.outdir)
        assert spec.assertion_stack
        return spec.assertion_stack

    def api_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """The assertion stack's AWS API calls: (Service.api, properties)."""
        template = self.template(self.assertion_stack)
        return [
            (f"{r['Properties']['service']}.{r['Properties']['api']}", r["Properties"])
            for r in template["Resources"].values()
            if r["Type"].startswith("Custom::DeployAssert@SdkCall")
        ]


@pytest.fixture(scope="module", params=CASES)
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Synthesized:
    module = importlib.import_module(f"tests.integ.{request.param}")
    outdir = tmp_path_factory.mktemp(request.param)
    case: IntegCase = module.build(str(outdir))
    case.app.synth()
    return Synthesized(module=module, case=case, outdir=outdir)


def test_the_four_cases_are_discovered_in_integ_runners_layout() -> None:
    assert CASES == ["integ_cost_guard", "integ_deepar", "integ_flywheel", "integ_notebook"]
    for name in CASES:
        assert runner.snapshot_dir(Path(f"tests/integ/{name}.py")).name == f"{name}.py.snapshot"


def test_each_case_matches_its_committed_snapshot(synthesized: Synthesized) -> None:
    case_file = Path(synthesized.module.__file__ or "")
    problems = runner.compare(runner.snapshot_dir(case_file), synthesized.outdir)
    assert problems == [], (
        f"{case_file.name}: the synthesized templates differ from the committed snapshot. "
        "If the change is intended, run `make integ-snapshots` and commit the result.\n"
        + "\n".join(problems)
    )


def test_each_case_passes_cdk_nag(synthesized: Synthesized) -> None:
    findings = unacknowledged_findings(synthesized.case.app)
    assert findings == [], "\n".join(findings)


def test_each_case_passes_cfn_lint(synthesized: Synthesized) -> None:
    errors: list[str] = []
    for path in sorted(synthesized.outdir.glob("*.template.json")):
        errors.extend(lint(path)[0])
    assert errors == [], "\n".join(errors)


def test_each_case_deploys_the_kits_stacks_and_destroys_everything(
    synthesized: Synthesized,
) -> None:
    (spec,) = runner.test_cases(synthesized.outdir)
    assert spec.stacks[0] == f"{synthesized.module.PREFIX}-Foundation"
    for stack in spec.stacks:
        template = synthesized.template(stack)
        kept = [
            logical_id
            for logical_id, resource in template["Resources"].items()
            if resource.get("DeletionPolicy", "Delete") != "Delete"
            or resource.get("UpdateReplacePolicy", "Delete") != "Delete"
        ]
        assert kept == [], f"{stack} would leave {kept} behind"


def test_each_case_states_a_cost_and_time_ceiling_within_the_budget(
    synthesized: Synthesized,
) -> None:
    doc = synthesized.module.__doc__ or ""
    found = re.search(r"Worst case: (\d+) minutes(?:,| and) \$(\d+\.\d\d)", doc)
    assert found, "the docstring states 'Worst case: N minutes and $X.XX'"
    minutes, dollars = int(found.group(1)), float(found.group(2))
    assert dollars <= 1.00
    assert minutes <= 70


def test_the_notebook_case_reads_the_lifecycle_log_and_stops_the_instance() -> None:
    module = importlib.import_module("tests.integ.integ_notebook")
    assert module.SDK_DEFAULTS_LINE in (
        Path("sagemaker_constructs/notebooks/runtime/on_start.sh").read_text()
    )
    idle = Path("sagemaker_constructs/notebooks/runtime/idle_stop_section.sh").read_text()
    pattern = module.IDLE_STOP_LINE.replace("60", "{{IDLE_MINUTES}}")
    assert re.search(pattern.replace("{", r"\{").replace("}", r"\}"), idle)


def test_assertions_call_what_the_docstrings_promise(synthesized: Synthesized) -> None:
    calls = [name for name, _ in synthesized.api_calls()]
    expected = {
        "integ_notebook": {
            "SageMaker.describeNotebookInstance": 2,
            "CloudWatchLogs.filterLogEvents": 2,
            "SageMaker.stopNotebookInstance": 1,
        },
        "integ_cost_guard": {
            "SageMaker.describeNotebookInstance": 3,
            "SNS.publish": 1,
            "CloudWatchLogs.filterLogEvents": 1,
            "SageMaker.stopNotebookInstance": 1,
        },
        "integ_deepar": {
            "S3.putObject": 1,
            "StepFunctions.startExecution": 1,
            "StepFunctions.describeExecution": 1,
            "SageMakerRuntime.invokeEndpoint": 1,
        },
        "integ_flywheel": {
            "S3.putObject": 3,
            "StepFunctions.startExecution": 2,
            "StepFunctions.describeExecution": 2,
            "SageMaker.describeModelPackage": 1,
            "SageMakerRuntime.invokeEndpoint": 1,
            "S3.listObjectsV2": 1,
            "S3.getObject": 1,
        },
    }[Path(synthesized.module.__file__ or "").stem]
    assert {name: calls.count(name) for name in set(calls)} == expected


def test_the_flywheel_writes_labels_for_every_object_and_expects_them_merged_in_order() -> None:
    module = importlib.import_module("tests.integ.integ_flywheel")
    merged = "".join(
        json.dumps(
            {
                "source": text,
                "label": module.LABELS.index(truth),
                "label-metadata": {
                    "class-name": truth,
                    "confidence": 1.0,
                    "type": "groundtruth/text-classification",
                    "job-name": f"labeling-job/{module.WORKFLOW}-{module.RUN_ID}",
                    "human-annotated": "yes",
                    "creation-date": "2026-12-05T10:11:12.123456",
                },
            },
            separators=(",", ":"),
        )
        + "\n"
        for text, truth in module.UNLABELED
    )
    assert re.search(module.MERGED, merged)
    # A line out of order, or a label that is not the people's, does not match.
    lines = merged.splitlines(keepends=True)
    assert not re.search(module.MERGED, "".join([lines[1], lines[0], *lines[2:]]))
    assert not re.search(module.MERGED, merged.replace('"label":1', '"label":0', 1))


def test_every_case_is_named_within_the_integration_roles_cleanup_scope() -> None:
    from stacks.github_deploy_stack import INTEG_PREFIX

    for name in CASES:
        module = importlib.import_module(f"tests.integ.{name}")
        assert module.PREFIX.startswith(INTEG_PREFIX)
        assert f"name_prefix: {module.PREFIX}\n" in module.CONFIG
