"""The option layers, lowest first: a TOML file, the environment, flags; merged key by key."""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cdc_migrate.config.coerce import expand_source_url, valid_keys
from cdc_migrate.config.keywords import keyword_layer, python_errors
from cdc_migrate.config.model import Options
from cdc_migrate.errors import ConfigError

ENV_PREFIX = "CDC_MIGRATE_"
PASSWORD_ENV = "CDC_MIGRATE_SOURCE_PASSWORD"
# Not options: the test suite's variables, and the Glue entrypoint's relaunch guard.
_ENV_IGNORED_PREFIXES = ("CDC_MIGRATE_TEST_",)
RELAUNCHED_ENV = "CDC_MIGRATE_RELAUNCHED"


def load_toml(path: str | Path) -> dict[str, Any]:
    """Reads a configuration file; a password inside it is refused."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file {p} does not exist; check --config") from e
    except IsADirectoryError as e:
        raise ConfigError(f"config file {p} is a directory; give --config a TOML file, e.g. {p / 'local.toml'}") from e
    except PermissionError as e:
        raise ConfigError(
            f"config file {p} cannot be read (permission denied); make it readable by this user or copy it, and "
            "give --config the copy"
        ) from e
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {p} is not UTF-8 text (byte {e.start}: {e.object[e.start : e.start + 1]!r}); TOML is "
            "UTF-8: save it as UTF-8 (e.g. iconv -f latin1 -t utf-8) and give it to --config"
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {p} is not valid TOML: {e}") from e
    source = data.get("source") or {}
    url = source.get("url") if isinstance(source, Mapping) else None
    if isinstance(source, Mapping) and (
        "password" in source or (isinstance(url, str) and urlsplit(url).password is not None)
    ):
        raise ConfigError(
            f"config file {p} contains a source password; passwords are never read from files. "
            f"Remove it and set {PASSWORD_ENV} instead"
        )
    return data


def env_keys() -> dict[str, tuple[str, str]]:
    """The environment variables that set options: `CDC_MIGRATE_<SECTION>_<KEY>` for every scalar key."""
    out: dict[str, tuple[str, str]] = {f"{ENV_PREFIX}SOURCE_URL": ("source", "url")}
    for section, cls in Options.SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for name in valid_keys(cls):
            if typing.get_origin(hints[name]) is dict:
                continue
            out[f"{ENV_PREFIX}{section.upper()}_{name.upper()}"] = (section, name)
    return out


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """The options set by environment variables; an unknown CDC_MIGRATE_ variable is an error."""
    known = env_keys()
    layer: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(_ENV_IGNORED_PREFIXES) or name == RELAUNCHED_ENV:
            continue
        if name not in known:
            raise ConfigError(f"unknown environment variable {name}; valid ones: {', '.join(sorted(known))}")
        section, key = known[name]
        layer.setdefault(section, {})[key] = value
    return layer


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merges option layers, later ones winning key by key."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
    return out


def expand_layer(layer: Mapping[str, Any]) -> Mapping[str, Any]:
    """Replaces a layer's source URL by the keys it stands for, so that layers merge key by key."""
    source = layer.get("source")
    if not isinstance(source, Mapping) or "url" not in source:
        return layer
    return {**layer, "source": expand_source_url(dict(source))}


def resolve_options(
    config_path: str | Path | None,
    environ: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
) -> Options:
    """Builds the options from the three layers, lowest first: config file, environment, flags."""
    file_layer = load_toml(config_path) if config_path else {}
    try:
        layers = [file_layer, env_layer(environ), flags or {}]
        return Options.from_mapping(merge(*map(expand_layer, layers)))
    except ConfigError as e:
        if config_path:
            raise ConfigError(f"{e} (config file {config_path})") from e
        raise


def options(config: str | Path | None = None, *, environ: Mapping[str, str] | None = None, **keywords: Any) -> Options:
    """Options for a Python caller: a TOML file if given (relative paths from the working directory), the
    environment's CDC_MIGRATE_* variables (os.environ unless `environ`), then the keywords, which win. A keyword is
    a setting's name (`tables="shop.*"`, `warehouse="wh"`, `max_connections=8`, `force=True`), the source a URL
    (`source="mysql://user@host:3306"`) with `password=` or CDC_MIGRATE_SOURCE_PASSWORD; see Options.replace to
    change one later. Errors name the keyword."""
    import os

    with python_errors(Options.SECTIONS):
        layer = keyword_layer(keywords, Options.SECTIONS)
        return resolve_options(config, os.environ if environ is None else environ, layer)
