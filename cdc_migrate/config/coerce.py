"""Building option sections from TOML / environment / flag values: each value coerced to its
field's type, unknown keys refused with the valid ones, the source URL split into keys (pure)."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Union
from urllib.parse import unquote, urlsplit

from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError, OptionTypeError


def valid_keys(section_cls: type) -> list[str]:
    """The keys a section accepts, in declaration order."""
    return [f.name for f in dataclasses.fields(section_cls)]


def reject_unknown(mapping: Mapping[str, Any], allowed: Mapping[str, Any] | list[str], where: str) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        place = f"[{where}]" if where else "the top level"
        raise ConfigError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {place}; "
            f"valid keys there: {', '.join(allowed)}"
        )


def _as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of keys, not {value!r}")
    return value


def build_section(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    reject_unknown(_as_mapping(raw, where), valid_keys(cls), where)
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in raw.items()}
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Coerces a TOML / environment / flag value to the field's type, or explains the mismatch."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if hint is Secret:
        return value if isinstance(value, Secret) else Secret(str(value))
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ConfigError(f"{where} = {value!r} is not a boolean; use true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d[\d_]*", value.strip()):
            return int(value.strip().replace("_", ""))
        raise ConfigError(f"{where} = {value!r} is not an integer")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d*)?([eE][-+]?\d+)?", value.strip()):
            return float(value)
        raise ConfigError(f"{where} = {value!r} is not a number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} = {value!r} is not a string; quote it")
    if origin is tuple:
        items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{where} = {value!r} must be a list of strings")
        return tuple(items)
    if origin is dict:
        mapping = _as_mapping(value, where)
        if args and isinstance(args[1], type) and dataclasses.is_dataclass(args[1]):
            item_cls: type = args[1]
            return {
                str(k): build_section(item_cls, _as_mapping(v, f"{where}.{k}"), f"{where}.{k}")
                for k, v in mapping.items()
            }
        if args and args[1] is str:
            return {str(k): _scalar_text(v, f"{where}.{k}") for k, v in mapping.items()}
        return dict(mapping)
    return value


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(f"{where} = {value!r} must be a string, number or boolean")


def parse_source_url(url: str) -> dict[str, Any]:
    """Splits `mysql://USER[:PASSWORD]@HOST[:PORT]` into source keys (the password as a Secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise ConfigError(f"source URL {_redact_url(url)!r} is not of the form mysql://USER@HOST:PORT")
    if parts.path not in ("", "/") or parts.query:
        raise ConfigError(
            f"source URL {_redact_url(url)!r} names a database or parameters; give only mysql://USER@HOST:PORT "
            "and select tables with --tables 'db.*'"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"source URL {_redact_url(url)!r} has an invalid port") from e
    out: dict[str, Any] = {"host": parts.hostname}
    if port is not None:
        out["port"] = port
    if parts.username:
        out["user"] = unquote(parts.username)
    if parts.password is not None:
        out["password"] = Secret(unquote(parts.password))
    return out


def _redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def expand_source_url(raw: dict[str, Any]) -> dict[str, Any]:
    url = raw.pop("url", None)
    if url is None:
        return raw
    if not isinstance(url, str):
        raise ConfigError(f"source.url = {url!r} must be a string like mysql://USER@HOST:PORT")
    return {**raw, **parse_source_url(url)}


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` is of the type `hint` names, as far as a constructor can tell (pure)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin is tuple:
        return isinstance(value, tuple)
    if origin is dict:
        return isinstance(value, Mapping)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a Literal, Any: not checked here


def refuse_wrong_types(instance: Any) -> None:
    """Refuses, at construction, a field of a section given a value of another type (Options(source={...}), a
    port as text): named with the type it takes and the way to build it from plain values."""
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        hint = hints[f.name]
        if not _fits(value, hint):
            shown = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
            raise OptionTypeError(
                f"{type(instance).__name__}({f.name}={value!r}): {f.name} takes {shown}, not "
                f"{type(value).__name__}; build options from plain values with cdc_migrate.options(...) or "
                "Options.from_mapping(...)"
            )
