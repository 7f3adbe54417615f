"""Load a config file into `PlatformSettings`, or fail with every problem at once.

Each problem names the field path, the line in the file, the bad value and
what is allowed, because the person reading it is fixing a YAML file, not
reading a pydantic traceback.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

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


MAX_CONFIG_BYTES = 1024 * 1024
"""Largest config file read (1 MiB). The full example is about 11 kB; anything near the
limit is the wrong file or generated input, and is refused before it is parsed."""

MAX_VALUES = 100_000
"""Most values (scalars, mappings and lists) a config file may stand for, counting each
alias as every value of its anchor. A full config holds a few hundred."""

MAX_NESTING = 32
"""Deepest nesting of mappings and lists. The settings nest about eight levels deep; a
deeper file is refused while it is scanned, before anything recurses into it."""


def load_settings(path: str | Path) -> PlatformSettings:
    """Read and validate one config file."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        raise ConfigError(source, [f"cannot read the file: {err.strerror or err}"]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(source, [_too_large()])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(source, [_not_utf8(data, err)]) from None
    return parse_settings(text, source=source)


def parse_settings(text: str, *, source: str = "<config>") -> PlatformSettings:
    """Validate config text (YAML); `source` names it in messages."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(source, [_too_large()])
    data, lines = _load_yaml(text, source)
    try:
        return PlatformSettings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(source, _describe_all(err.errors(), lines)) from None


def _too_large() -> str:
    return (
        f"the file is larger than 1 MiB ({MAX_CONFIG_BYTES:,} bytes), "
        "the most a config file may be; a config is a few kilobytes: is this the right file?"
    )


def _not_utf8(data: bytes, err: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, err.start) + 1
    column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
    return (
        f"line {line}, byte {column} of the line (byte {err.start + 1} of the file): "
        f"not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8"
    )


# --- YAML: a tree of plain values, with line numbers --------------------------------------

# libyaml's parser when PyYAML was built with it (about ten times faster on large files).
if TYPE_CHECKING:
    from yaml import SafeLoader as _BaseLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BaseLoader):
    """SafeLoader that refuses a key repeated in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                break  # PyYAML's own check names it ("found unhashable key")
            if key in seen:
                raise _RefusedError(
                    f"line {line}: key {key!r} appears twice in one mapping "
                    f"(first on line {seen[key]}); YAML would silently keep the last one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as err:
            # A scalar that matches a YAML type but is no value of it: 2024-02-30, or an
            # integer of more digits than Python converts.
            mark = node.start_mark
            raise _RefusedError(
                f"line {mark.line + 1}, column {mark.column + 1}: {_show(node.value)} "
                f"is not a valid {node.tag.rsplit(':', 1)[-1]} ({err}); quote it to keep it "
                "as text"
            ) from None


class _RefusedError(Exception):
    """Something the loader refuses; the message names the line."""


def _load_yaml(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        _check_events(text)
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(source, ["the file is empty: `name_prefix` at least is required"])
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        raise ConfigError(source, [_describe_yaml_error(err, text)]) from None
    except _RefusedError as err:
        raise ConfigError(source, [str(err)]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source, [f"the top level must be a mapping of settings (got {type(data).__name__})"]
        )
    lines: dict[tuple[Any, ...], int] = {}
    _record_lines(node, (), lines)
    return data, lines


@dataclass
class _Open:
    """A mapping or list being scanned."""

    anchor: str | None
    values_before: int
    level: int
    deepest: int


def _check_events(text: str) -> None:
    """Bound what the document stands for while the parser streams its events, before
    any node is built. An alias repeats its anchor's whole value, so a few lines of
    nested aliases can stand for billions of values ("billion laughs"); each alias
    counts here as every value it stands for. Deep nesting would exhaust the recursion
    of whatever walks the tree, so it is refused too."""
    parser = _BaseLoader(text)
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, levels of nesting)
    stack: list[_Open] = []
    values = 0
    try:
        while not parser.check_event(yaml.StreamEndEvent):
            event = parser.get_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            if not isinstance(event, yaml.NodeEvent | yaml.CollectionEndEvent):
                continue
            mark = event.start_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "here"
            level = len(stack)
            if isinstance(event, yaml.AliasEvent):
                if any(item.anchor == event.anchor for item in stack):
                    raise _RefusedError(
                        f"{where}: the alias *{event.anchor} stands for a value that contains "
                        "it (a value cannot include itself)"
                    )
                count, height = anchors.get(event.anchor or "", (1, 0))
                values += count
                level += height
            elif isinstance(event, yaml.ScalarEvent):
                values += 1
                if event.anchor:
                    anchors[event.anchor] = (1, 0)
            elif isinstance(event, yaml.CollectionStartEvent):
                values += 1
                level += 1
                stack.append(_Open(event.anchor, values - 1, level, level))
            else:
                done = stack.pop()
                if done.anchor:
                    anchors[done.anchor] = (
                        values - done.values_before,
                        done.deepest - done.level + 1,
                    )
                level = done.deepest
            if stack:
                stack[-1].deepest = max(stack[-1].deepest, level)
            if level > MAX_NESTING:
                raise _RefusedError(
                    f"{where}: mappings and lists nest more than {MAX_NESTING} levels deep "
                    "here; the settings nest far less (is a bracket left open?)"
                )
            if values > MAX_VALUES:
                raise _RefusedError(
                    f"{where}: the file stands for more than {MAX_VALUES:,} values here "
                    "(each alias counts as every value of its anchor); a config holds a few "
                    "hundred"
                )
    finally:
        parser.dispose()


def _describe_yaml_error(err: yaml.YAMLError, text: str) -> str:
    if isinstance(err, yaml.reader.ReaderError):
        before = text[: err.position]
        line = before.count("\n") + 1
        column = err.position - (before.rfind("\n") + 1) + 1
        return (
            f"line {line}, column {column}: character U+{err.character:04X} is not allowed "
            f"in YAML ({err.reason}); remove it or save the file as plain UTF-8 text"
        )
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(err, "problem", None) or str(err)
    return f"{where}not valid YAML: {problem}"


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
    if kind in _LENGTH_ERRORS and isinstance(value, str):
        # pydantic counts "items" when a length limit follows a validator; text has characters.
        ctx = error.get("ctx", {})
        bound = (
            f"at most {ctx['max_length']}"
            if "max_length" in ctx
            else f"at least {ctx['min_length']}"
        )
        return f"{where}: must be {bound} characters (got {len(value)}: {_show(value)})"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if isinstance(value, dict) and value:
        return f"{where}: {message}"  # a section: no Python dump of what the file shows
    return f"{where}: {message} (got {_show(value)})"


_LENGTH_ERRORS = {"too_long", "too_short", "string_too_long", "string_too_short"}

# The end of a description's first sentence: a full stop before a space, not in "e.g.".
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\.(\s|$)")


def _field_hint(model: type[BaseModel] | None, data_loc: tuple[Any, ...]) -> str:
    if model is None or not data_loc:
        return ""
    field = model.model_fields.get(str(data_loc[-1]))
    if field is None or not field.description:
        return ""
    first = _SENTENCE_END.split(field.description.strip(), maxsplit=1)[0]
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
