"""Frozen dataclasses that are JSON objects of the manifest: one to_dict and one from_dict for all (pure).

Fields are written in their order; nested records and tuples of them as objects and lists. A field whose
metadata has `omit_none` is left out while it is None (the JSON has no such key then), `key` names it
differently in JSON, `written` False keeps it out, `doc` describes it in the JSON Schema. Reading takes what the
object has (missing keys get the field's default, unknown ones are ignored) and an empty object for an optional
record reads as None.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Self

OMIT_NONE: Mapping[str, Any] = {"omit_none": True}
NOT_WRITTEN: Mapping[str, Any] = {"written": False}  # a field that stays out of the JSON (and is not read)


def doc(text: str, omit_none: bool = False) -> Mapping[str, Any]:
    """A field's metadata with its description for the JSON Schema (and `omit_none`)."""
    return {"doc": " ".join(text.split()), **({"omit_none": True} if omit_none else {})}


class Record:
    """The mixin of every manifest record (a frozen dataclass)."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if not f.metadata.get("written", True) or (value is None and f.metadata.get("omit_none")):
                continue
            out[f.metadata.get("key", f.name)] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} is not an object: {data!r}")
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            key = f.metadata.get("key", f.name)
            if key in data and f.metadata.get("written", True):
                values[f.name] = _typed(hints[f.name], data[key])
        return cls(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _typed(hint: Any, value: Any) -> Any:
    """A JSON value as the field's type: records from objects, tuples from lists; the rest as they are."""
    if value is None:
        return None
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            if isinstance(value, Mapping) and not value and _is_record(inner[0]):
                return None  # an empty object: an absent record
            return _typed(inner[0], value)
        return value
    if _is_record(hint):
        return hint.from_dict(value)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {value!r}")
        return tuple(_typed(args[0], v) for v in value)
    return value


def _is_record(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, Record)


def json_schema(cls: type[Record], title: str, identifier: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a record's JSON as to_dict writes it and from_dict reads it (pure): each
    record a definition, its fields its properties in order, those without a default required, unknown keys
    allowed (a newer writer may add fields; readers ignore them)."""
    definitions: dict[str, Any] = {}
    root = _record_schema(cls, definitions)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": identifier,
        "title": title,
        **root,
        "$defs": dict(sorted(definitions.items())),
    }


def _record_schema(cls: type[Record], definitions: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.metadata.get("written", True):
            continue
        key = f.metadata.get("key", f.name)
        properties[key] = _type_schema(hints[f.name], definitions)
        if f.metadata.get("doc"):
            properties[key] = {"description": f.metadata["doc"], **properties[key]}
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(key)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if cls.__doc__:
        schema["description"] = " ".join(cls.__doc__.split())
    return schema | ({"required": required} if required else {})


def _type_schema(hint: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [_type_schema(a, definitions) for a in args if a is not type(None)]
        options = [*inner, {"type": "null"}] if type(None) in args else inner
        if _is_record(next((a for a in args if a is not type(None)), None)):
            options.append({"type": "object", "maxProperties": 0})  # an empty object reads as absent
        return {"anyOf": options}
    if _is_record(hint):
        if hint.__name__ not in definitions:
            definitions[hint.__name__] = {}  # a placeholder while its own fields are described
            definitions[hint.__name__] = _record_schema(hint, definitions)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0], definitions)} if args else {"type": "array"}
    if origin is dict or hint is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1], definitions) if args else {}}
    if origin is typing.Literal:
        return {"enum": list(args)}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if hint in simple:
        return {"type": "number" if hint is float else simple[hint]}
    return {}  # Any, object: any JSON value
