"""Read state machine definitions out of templates and check the SageMaker requests
in them against botocore's service model.

A `.sync` integration passes its `Parameters` (or JSONata `Arguments`) to the
SageMaker API as they are: a misspelt key or a wrong type only shows at run time,
after a deploy. botocore's input shape of the operation catches it offline.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

# What intrinsic functions are rendered as. Every placeholder contains "${" so that
# checks of literal values (enums, patterns) can tell a placeholder from a literal.
PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "stack",
}
# Optimized integrations (`sagemaker:createTrainingJob.sync`) and SDK integrations
# (`aws-sdk:sagemaker:createModelPackage`) alike pass their parameters to the API.
SAGEMAKER_RESOURCE = re.compile(
    r"^arn:[^:]+:states:::(aws-sdk:)?sagemaker:(?P<api>[A-Za-z]+)"
    r"(?P<pattern>\.sync|\.waitForTaskToken)?$"
)


@dataclass(frozen=True)
class SageMakerRequest:
    """One SageMaker call made by a Task state."""

    state: str
    """Path of the state, e.g. `Train` or `Branch[0].Tune`."""
    operation: str
    """API operation name, e.g. `CreateTrainingJob`."""
    parameters: dict[str, Any]
    """The request as the definition gives it (JSONPath keys end in `.$`)."""


def state_machines(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rendered definitions of every state machine in a template, by logical ID."""
    return {
        logical_id: render_definition(resource)
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def render_definition(resource: dict[str, Any]) -> dict[str, Any]:
    """A state machine's definition as JSON, with intrinsic functions replaced by
    placeholders (`${Ref:Id|resolved-at-deploy}`, `${Id.Attr|...}`, `${Import:Name|...}`)."""
    properties = resource["Properties"]
    if "Definition" in properties:
        definition: dict[str, Any] = properties["Definition"]
        return definition
    text = _render(properties["DefinitionString"])
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + name + "}", _render(value))
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _token(text: str) -> str:
    # Long enough for any minimum length a SageMaker string member has (ARNs: 20).
    return "${" + text + "|resolved-at-deploy}"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(_render(p) for p in parts)
        if function == "Ref":
            return PSEUDO_PARAMETERS.get(argument) or _token(f"Ref:{argument}")
        if function == "Fn::GetAtt":
            target = argument if isinstance(argument, str) else ".".join(argument)
            return _token(target)
        if function == "Fn::ImportValue":
            return _token(f"Import:{_render(argument)}")
        if function == "Fn::Select":
            return _token(f"Select:{_render(argument[0])}")
        if function == "Fn::Sub":
            return _token("Sub")
        if function == "Fn::FindInMap":
            return _token(f"FindInMap:{_render(argument[0])}")
    # Inside the definition's JSON text: no double quotes.
    return _token(json.dumps(value, sort_keys=True).replace('"', "'"))


def render_intrinsics(value: Any) -> Any:
    """`value` (e.g. a resource's properties) with every intrinsic function replaced by
    its placeholder, so that `validate_request` can check CloudFormation-made requests."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            return _render(value)
        return {key: render_intrinsics(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render_intrinsics(item) for item in value]
    return value


def sagemaker_requests(definition: dict[str, Any]) -> list[SageMakerRequest]:
    """Every SageMaker service-integration call in a definition, nested states included."""
    return list(_walk(definition.get("States", {}), ""))


def _walk(states: dict[str, Any], prefix: str) -> Iterator[SageMakerRequest]:
    for name, state in states.items():
        path = f"{prefix}{name}"
        if state.get("Type") == "Task":
            match = SAGEMAKER_RESOURCE.match(str(state.get("Resource", "")))
            if match:
                api = match.group("api")
                parameters = state.get("Parameters", state.get("Arguments", {}))
                yield SageMakerRequest(path, api[0].upper() + api[1:], parameters)
        for index, branch in enumerate(state.get("Branches", [])):
            yield from _walk(branch.get("States", {}), f"{path}.Branches[{index}].")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _walk(processor.get("States", {}), f"{path}.ItemProcessor.")


def validate_request(operation: str, parameters: dict[str, Any]) -> list[str]:
    """Problems of one request against the operation's input shape: unknown keys, wrong
    types, missing required members, values below a minimum, literal strings outside
    an enum or a pattern. Values given by JSONPath (`Key.$`) or JSONata (`{% %}`) are
    known only at run time: they count as present and of the right type."""
    model = _operation(operation)
    shape = model.input_shape
    problems: list[str] = []
    concrete = _concretize(parameters, shape, operation, problems)
    report = ParamValidator().validate(concrete, shape)
    if report.has_errors():
        lines = report.generate_report().splitlines()
        problems.extend(line.strip() for line in lines if line.strip())
    return problems


def validate_definition(definition: dict[str, Any]) -> list[str]:
    """Problems of every SageMaker request in a definition, prefixed by the state."""
    return [
        f"{request.state} ({request.operation}): {problem}"
        for request in sagemaker_requests(definition)
        for problem in validate_request(request.operation, request.parameters)
    ]


# --- internals -----------------------------------------------------------------------------

_SESSION = botocore.session.get_session()
_SERVICE = _SESSION.get_service_model("sagemaker")


def _operation(name: str) -> OperationModel:
    if name not in _SERVICE.operation_names:
        raise ValueError(f"SageMaker has no operation {name!r}")
    return _SERVICE.operation_model(name)


def _is_dynamic(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _concretize(value: Any, shape: Shape | None, path: str, problems: list[str]) -> Any:
    """Copy of `value` with run-time values replaced by placeholders of the shape's type."""
    if shape is None:
        return value
    if _is_dynamic(value):
        return _placeholder(shape)
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key.endswith(".$"):
                name = key[:-2]
                member = shape.members.get(name)
                result[name] = _placeholder(member) if member is not None else item
            else:
                result[key] = _concretize(item, shape.members.get(key), f"{path}.{key}", problems)
        return result
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [
            _concretize(item, shape.member, f"{path}[{index}]", problems)
            for index, item in enumerate(value)
        ]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {
            (key[:-2] if key.endswith(".$") else key): (
                _placeholder(shape.value)
                if key.endswith(".$")
                else _concretize(item, shape.value, f"{path}.{key}", problems)
            )
            for key, item in value.items()
        }
    if shape.type_name == "string" and isinstance(value, str) and "${" not in value:
        _check_literal(value, shape, path, problems)
    return value


def _check_literal(value: str, shape: Shape, path: str, problems: list[str]) -> None:
    enum = shape.enum
    if enum and value not in enum:
        shown = ", ".join(sorted(enum)[:12]) + (
            f" ... ({len(enum)} in all)" if len(enum) > 12 else ""
        )
        problems.append(f"{path}: {value!r} is not one of {shown}")
        return
    pattern = shape.metadata.get("pattern")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error:
            return
        if not compiled.search(value):
            problems.append(f"{path}: {value!r} does not match the pattern {pattern}")
    maximum = shape.metadata.get("max")
    if maximum is not None and len(value) > maximum:
        problems.append(f"{path}: {len(value)} characters is over the maximum of {maximum}")


def _placeholder(shape: Shape) -> Any:
    """A value of the shape's type that passes botocore's checks."""
    kind = shape.type_name
    minimum = shape.metadata.get("min", 0)
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(int(minimum), 1)
    if kind in ("integer", "long"):
        return max(int(minimum), 1)
    if kind in ("float", "double"):
        return float(max(minimum, 1))
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    if kind == "blob":
        return b"x"
    if isinstance(shape, ListShape):
        return [_placeholder(shape.member) for _ in range(int(minimum))]
    if isinstance(shape, MapShape):
        return {}
    if isinstance(shape, StructureShape):
        return {name: _placeholder(shape.members[name]) for name in shape.required_members}
    return None
