"""State machine definitions that moto's Step Functions interpreter can execute.

moto executes Pass, Choice, Fail, Wait, intrinsic functions and SDK integrations (against
moto's own services), but not the optimized `.sync` SageMaker integrations. `runnable`
swaps each `sagemaker:create<Job>.sync` Task for what `.sync` does: the SDK Create
call (moto validates the request as botocore sends it), the SDK Describe call, whose
output is what `.sync` returns, and, when the job ended Failed or Stopped, an error
caught by the Task's own catchers. moto's jobs complete at once. Every other state
runs as synthesized; `unrunnable` names the Tasks moto cannot execute at all.

Used by the workflow tests (tests/oracles/sfn_runner.py) and by the playground
(tools/playground), which runs the deployed state machines in a moto server.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection
from typing import Any

_SYNC = re.compile(r"^arn:[^:]+:states:::sagemaker:create(?P<kind>[A-Za-z]+)\.sync$")
# The job kinds moto's SageMaker mocks (no labeling jobs), with their name field.
_NAME_FIELDS = {
    "TrainingJob": "TrainingJobName",
    "HyperParameterTuningJob": "HyperParameterTuningJobName",
    "ProcessingJob": "ProcessingJobName",
    "TransformJob": "TransformJobName",
}
# Labeling jobs: only where something answers their API (the playground's stand-in,
# tools/playground/labeling_jobs.py).
_LABELING = {"LabelingJob": "LabelingJobName"}


def runnable(definition: dict[str, Any], *, labeling_jobs: bool = False) -> dict[str, Any]:
    """A copy of `definition` whose `.sync` SageMaker tasks moto can run; with
    `labeling_jobs`, `createLabelingJob.sync` too (as Create and Describe calls)."""
    result = copy.deepcopy(definition)
    _rewrite(result["States"], {**_NAME_FIELDS, **(_LABELING if labeling_jobs else {})})
    return result


def _rewrite(states: dict[str, Any], name_fields: dict[str, str]) -> None:
    for name in list(states):
        state = states[name]
        for branch in state.get("Branches", []):
            _rewrite(branch["States"], name_fields)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            _rewrite(processor["States"], name_fields)
        match = _SYNC.match(str(state.get("Resource", "")))
        if state.get("Type") != "Task" or not match:
            continue
        kind = match.group("kind")
        if kind not in name_fields:
            continue
        name_field = name_fields[kind]
        parameters = state["Parameters"]
        name_value = {k: v for k, v in parameters.items() if k in (name_field, f"{name_field}.$")}
        catch = state.get("Catch", [])
        describe_name, status_name, failed_name = (
            f"{name} (describe)",
            f"{name} (status)",
            f"{name} (ended unsuccessfully)",
        )
        after = {"Next": state["Next"]} if "Next" in state else {"End": True}
        # 1. Create the job (moto validates the request as botocore sends it).
        states[name] = {
            **{k: v for k, v in state.items() if k not in ("Next", "End", "ResultSelector")},
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:create{kind}",
            "ResultPath": None,
            "Next": describe_name,
        }
        # 2. What `.sync` returns: the Describe output (moto's jobs end at once).
        result_path = state.get("ResultPath", "$")
        describe = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:describe{kind}",
            "Parameters": name_value,
            "ResultPath": result_path,
            "Next": status_name,
        }
        if catch:
            describe["Catch"] = catch
        status_path = f"{result_path}.{kind}Status" if result_path != "$" else f"$.{kind}Status"
        selected_name = None
        if "ResultSelector" in state:
            # The selector may drop or rename the status: the status is read by a
            # Describe of its own first, into the place the selected output goes to.
            describe["ResultSelector"] = {"status.$": f"$.{kind}Status"}
            status_path = f"{result_path}.status" if result_path != "$" else "$.status"
            selected_name = f"{name} (describe output)"
            states[selected_name] = {
                **{k: v for k, v in describe.items() if k != "Next"},
                "ResultSelector": state["ResultSelector"],
                **after,
            }
        states[describe_name] = describe
        # 3. `.sync` fails the Task when the job ends Failed or Stopped: a call that fails,
        # caught by the Task's own catchers.
        states[status_name] = {
            "Type": "Choice",
            "Choices": [
                {
                    "Or": [
                        {"Variable": status_path, "StringEquals": "Failed"},
                        {"Variable": status_path, "StringEquals": "Stopped"},
                    ],
                    "Next": failed_name,
                }
            ],
            "Default": selected_name or state.get("Next", f"{name} (end)"),
        }
        states[failed_name] = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:sagemaker:describe{kind}",
            "Parameters": {name_field: "the-job-ended-unsuccessfully"},
            "Catch": catch,
            **after,
        }
        if "Next" not in state:
            states[f"{name} (end)"] = {"Type": "Succeed"}


# Task resources moto's interpreter cannot execute, with the reason.
_UNRUNNABLE = (
    (
        re.compile(r"^arn:[^:]+:states:::sagemaker:createLabelingJob"),
        "moto 5.2.5 does not mock SageMaker labeling jobs",
    ),
    (
        re.compile(r"^arn:[^:]+:states:::lambda:invoke|^arn:[^:]+:lambda:"),
        "moto runs Lambda code only in Docker",
    ),
)


def unrunnable(
    definition: dict[str, Any],
    *,
    labeling_jobs: bool = False,
    functions: Collection[str] = (),
) -> dict[str, str]:
    """The Task states of `definition` (nested ones too) that moto cannot execute, even
    after `runnable`: state name -> why. `labeling_jobs`: labeling jobs run (the
    playground answers their API); `functions`: the names of the Lambda functions that
    run (the playground runs the kit's in its process)."""
    found: dict[str, str] = {}
    _find_unrunnable(definition["States"], found, labeling_jobs, set(functions))
    return found


def _find_unrunnable(
    states: dict[str, Any], found: dict[str, str], labeling_jobs: bool, functions: set[str]
) -> None:
    for name, state in states.items():
        for branch in state.get("Branches", []):
            _find_unrunnable(branch["States"], found, labeling_jobs, functions)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            _find_unrunnable(processor["States"], found, labeling_jobs, functions)
        resource = str(state.get("Resource", "")) if state.get("Type") == "Task" else ""
        for pattern, reason in _UNRUNNABLE:
            if not pattern.match(resource):
                continue
            if labeling_jobs and "createLabelingJob" in resource:
                continue
            target = str(state.get("Parameters", {}).get("FunctionName", resource))
            if "lambda" in reason.lower() and target.rsplit(":", 1)[-1] in functions:
                continue
            found[name] = reason


_RUNNABLE_CREATE = re.compile(r"^create(?P<kind>[A-Za-z]+)$")


def as_synthesized(resource_type: str, resource: str) -> tuple[str, str]:
    """The (resourceType, resource) Step Functions' history gives a task that `runnable`
    rewrote: `aws-sdk:sagemaker` `createTrainingJob` was `sagemaker`
    `createTrainingJob.sync` in the definition as synthesized. Others are unchanged."""
    match = _RUNNABLE_CREATE.match(resource)
    kinds = {**_NAME_FIELDS, **_LABELING}
    if resource_type == "aws-sdk:sagemaker" and match and match.group("kind") in kinds:
        return "sagemaker", f"{resource}.sync"
    return resource_type, resource
