"""Which resources of a template exist for given parameter values: its `Conditions`
evaluated the way CloudFormation does, as far as the values are known.

The kit's conditional resources hang on parameters (an endpoint that follows a model
package group exists once its version parameter names a version), so comparing a
deployed template with a new one needs to know which of its resources exist. A
condition that depends on something unknown here (a pseudo parameter, an unknown
function) counts as true: the resource is kept, as a reviewer would assume.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

_UNKNOWN = object()


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    """Each parameter's value: the given one, else its default."""
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if name in given:
            values[name] = given[name]
        elif "Default" in spec:
            values[name] = spec["Default"]
    return values


def condition_values(
    template: Mapping[str, Any], parameters: Mapping[str, str]
) -> dict[str, bool | None]:
    """True / False per condition, None where it depends on something unknown."""
    values = parameter_values(template, parameters)
    conditions = template.get("Conditions") or {}
    results: dict[str, bool | None] = {}

    def condition(name: str) -> Any:
        if name not in results:
            results[name] = None  # guards against a cycle (CloudFormation refuses those)
            outcome = _evaluate(conditions.get(name), values, condition)
            results[name] = outcome if isinstance(outcome, bool) else None
        return results[name] if results[name] is not None else _UNKNOWN

    for name in conditions:
        condition(name)
    return results


def present(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """A copy of `template` without the resources whose condition is false."""
    values = condition_values(template, parameters)
    result = copy.deepcopy(dict(template))
    result["Resources"] = {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if values.get(resource.get("Condition", ""), True) is not False
    }
    return result


def _evaluate(node: Any, values: Mapping[str, Any], condition: Any) -> Any:
    if isinstance(node, str | int | float | bool):
        return node
    if not isinstance(node, Mapping) or len(node) != 1:
        return _UNKNOWN
    ((function, argument),) = node.items()
    if function == "Ref":
        return values.get(argument, _UNKNOWN)
    if function == "Condition":
        return condition(argument)
    if not isinstance(argument, list):
        return _UNKNOWN
    items = [_evaluate(item, values, condition) for item in argument]
    if function == "Fn::Equals" and len(items) == 2:
        if _UNKNOWN in items:
            return _UNKNOWN
        return str(items[0]) == str(items[1])
    if function == "Fn::Not" and len(items) == 1:
        return not items[0] if isinstance(items[0], bool) else _UNKNOWN
    if function == "Fn::And":
        if False in items:
            return False
        return True if all(i is True for i in items) else _UNKNOWN
    if function == "Fn::Or":
        if True in items:
            return True
        return False if all(i is False for i in items) else _UNKNOWN
    return _UNKNOWN
