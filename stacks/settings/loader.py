"""Load a config file into `PlatformSettings`, or fail with every problem at once.

Each problem names the field path, the line in the file, the bad value and
what is allowed, because the person reading it is fixing a YAML file, not
reading a pydantic traceback.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .base import InvalidFieldsError
from .platform import PlatformSettings


class ConfigError(Exception):
    """A config file that cannot be used; `problems` holds one line per problem."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{source}: invalid configuration ({count} problem{'s' if count != 1 else ''})"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


def load_settings(path: str | Path) -> PlatformSettings:
    """Read and validate one config file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(source, [f"cannot read the file: {err.strerror or err}"]) from None
    return parse_settings(text, source=source)


def parse_settings(text: str, *, source: str = "<config>") -> PlatformSettings:
    """Validate config text (YAML); `source` names it in messages."""
    data, lines = _load_yaml(text, source)
    try:
        return PlatformSettings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(source, _describe_all(err.errors(), lines)) from None


# --- YAML with duplicate-key detection and line numbers -----------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKeyError(
                    f"line {line}: key {key!r} appears twice in one mapping "
                    f"(first on line {seen[key]}); YAML would silently keep the last one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class _DuplicateKeyError(Exception):
    pass


def _load_yaml(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(source, ["the file is empty: `name_prefix` at least is required"])
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(source, [f"{where}not valid YAML: {problem}"]) from None
    except _DuplicateKeyError as err:
        raise ConfigError(source, [str(err)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"the top level must be a mapping of settings (got {type(data).__name__})"]
        )
    lines: dict[tuple[Any, ...], int] = {}
    _record_lines(node, (), lines)
    return data, lines


def _record_lines(node: yaml.Node, loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, key_node.value)
            _record_lines(value_node, key, lines)
            lines[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*loc, index), lines)


# --- Turning pydantic errors into sentences -------------------------------------------------


def _describe_all(errors: Sequence[Any], lines: dict[tuple[Any, ...], int]) -> list[str]:
    """One sentence per problem; a `InvalidFieldsError` error becomes one per field it names."""
    described: list[str] = []
    for error in errors:
        cause = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        if isinstance(cause, InvalidFieldsError):
            described.extend(
                _describe_at((*error["loc"], *loc), message, lines)
                for loc, message in cause.problems
            )
        else:
            described.append(_describe(error, lines))
    return described


def _describe_at(loc: tuple[Any, ...], message: str, lines: dict[tuple[Any, ...], int]) -> str:
    path, data_loc, _, _ = _resolve(PlatformSettings, loc)
    line = _line_of(data_loc, lines)
    return f"{path or '(top level)'}{f' (line {line})' if line else ''}: {message}"


def _describe(error: Any, lines: dict[tuple[Any, ...], int]) -> str:
    path, data_loc, model, annotation = _resolve(PlatformSettings, tuple(error["loc"]))
    kind = error["type"]
    value = error.get("input")
    line = _line_of(data_loc, lines)
    where = f"{path or '(top level)'}{f' (line {line})' if line else ''}"

    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields) if model else []
        hint = difflib.get_close_matches(str(data_loc[-1]), allowed, n=1)
        did_you_mean = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"{where}: unknown key; allowed here: {', '.join(allowed)}{did_you_mean}"
    if kind == "missing":
        section = f" in the section on line {line}" if line and len(data_loc) > 1 else ""
        return f"{path}: required{section}{_field_hint(model, data_loc)}"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        ctx = error.get("ctx", {})
        tag_name = ctx.get("discriminator", "mode").strip("'")
        tags = ctx.get("expected_tags") or ", ".join(repr(t) for t in _union_tags(annotation))
        got = value.get(tag_name) if isinstance(value, dict) else value
        if kind == "union_tag_not_found":
            section = f" in the section on line {line}" if line else ""
            return f"{path}.{tag_name}: required{section}; one of {tags}"
        tag_line = _line_of((*data_loc, tag_name), lines) or line
        tag_where = f"{path}.{tag_name}{f' (line {tag_line})' if tag_line else ''}"
        return f"{tag_where}: got {_show(got)}; allowed: {tags}"

    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"{where}: must be a mapping of settings (got {_show(value)})"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "value_error" and isinstance(value, dict) and model is not None:
        return f"{where}: {message}"
    return f"{where}: {message} (got {_show(value)})"


def _field_hint(model: type[BaseModel] | None, data_loc: tuple[Any, ...]) -> str:
    if model is None or not data_loc:
        return ""
    field = model.model_fields.get(str(data_loc[-1]))
    if field is None or not field.description:
        return ""
    first = field.description.strip().split(". ")[0].rstrip(".")
    return f" ({first})"


def _line_of(data_loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(data_loc), -1, -1):
        if data_loc[:end] in lines:
            return lines[data_loc[:end]]
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _resolve(
    root: type[BaseModel], loc: tuple[Any, ...]
) -> tuple[str, tuple[Any, ...], type[BaseModel] | None, Any]:
    """Map a pydantic error location to (display path, location in the data, model that
    owns the last key, annotation at the location). Discriminated-union tags in `loc`
    are not part of the data."""
    path = ""
    data_loc: tuple[Any, ...] = ()
    current: Any = root
    owner: type[BaseModel] | None = None
    items = list(loc)
    while items:
        item = items.pop(0)
        current = _unwrap(current)
        if _is_model(current):
            owner = current
            field = current.model_fields.get(item) if isinstance(item, str) else None
            path += f".{item}" if path else str(item)
            data_loc += (item,)
            current = field.annotation if field else None
            continue
        if _is_union(current):
            member = _union_member(current, item)
            if member is not None:
                current = member
                continue
        origin = get_origin(current)
        if origin in (list, tuple, set, frozenset) or isinstance(item, int):
            path += f"[{item}]"
            data_loc += (item,)
            args = get_args(current)
            current = args[0] if args else None
            continue
        if origin is dict:
            path += f".{item}" if str(item).isidentifier() else f"[{item!r}]"
            data_loc += (item,)
            if items and items[0] == "[key]":  # the key itself is invalid, not its value
                items.pop(0)
                path += " (key)"
                current = get_args(current)[0]
            else:
                current = get_args(current)[1]
            continue
        path += f".{item}"
        data_loc += (item,)
        current = None
    return path, data_loc, owner, current


def _unwrap(annotation: Any) -> Any:
    while True:
        if get_origin(annotation) is typing.Annotated:
            annotation = get_args(annotation)[0]
            continue
        if _is_union(annotation):
            members = [m for m in get_args(annotation) if m is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


# Discriminated unions in the settings model switch on one of these keys.
DISCRIMINATOR_KEYS = ("mode", "kind", "type", "source")


def _tag_values(member: Any) -> list[str]:
    member = _unwrap(member)
    if not _is_model(member):
        return []
    for name in DISCRIMINATOR_KEYS:
        field = member.model_fields.get(name)
        if field is not None:
            annotation = _unwrap(field.annotation)
            if get_origin(annotation) is Literal:
                return [v for v in get_args(annotation) if isinstance(v, str)]
    return []


def _union_tags(union: Any) -> list[str]:
    """The discriminator values of a discriminated union of models, in order."""
    return [tag for member in get_args(_unwrap(union)) for tag in _tag_values(member)]


def _union_member(union: Any, tag: Any) -> type[BaseModel] | None:
    for member in get_args(union):
        if tag in _tag_values(member):
            return typing.cast(type[BaseModel], _unwrap(member))
    return None
