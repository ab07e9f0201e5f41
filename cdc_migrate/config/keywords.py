"""Options as Python keywords (pure): `cdc_migrate.options(source=..., tables="shop.*", warehouse=...)` and
`options.replace(force=True)`. A keyword is a command-line flag's name in snake_case (`--max-connections` is
`max_connections=`) or any setting's own name where it is unique across the sections (`fetch_size=`); a section
given whole is a mapping (`source={"host": ..., "user": ...}`, `spark={"conf": {...}}`). Errors name the keyword,
not the flag or the file's `section.key`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError

# Keywords whose setting is not the section field of the same name (the command line's flags among them).
ALIASES: dict[str, tuple[str, str]] = {
    "source": ("source", "url"),
    "source_secret": ("source", "secret"),
    "tables": ("tables", "include"),
    "catalog": ("catalog", "kind"),
    "catalog_name": ("catalog", "name"),
    "catalog_uri": ("catalog", "uri"),
    "snapshot": ("snapshot", "kind"),
    "conf": ("spark", "conf"),
    "manifest": ("run", "manifest"),
}
# Section fields whose bare name would be ambiguous or misleading as a keyword (`kind`, `name`: use the aliases).
_NOT_BARE = frozenset({"kind", "name", "url", "include", "properties", "arguments", "conf", "secret", "uri"})


def keyword_table(sections: Mapping[str, type]) -> dict[str, tuple[str, str]]:
    """Every keyword and the (section, key) it sets."""
    seen: dict[str, list[str]] = {}
    for section, cls in sections.items():
        for f in dataclasses.fields(cls):
            seen.setdefault(f.name, []).append(section)
    table = {name: (places[0], name) for name, places in seen.items() if len(places) == 1 and name not in _NOT_BARE}
    return table | ALIASES


def keyword_layer(keywords: Mapping[str, Any], sections: Mapping[str, type]) -> dict[str, dict[str, Any]]:
    """The keywords as a nested options mapping (the highest layer); a section given whole is merged under the
    keywords of its fields; an unknown keyword names the closest ones."""
    table = keyword_table(sections)
    layer: dict[str, dict[str, Any]] = {}
    for key, value in keywords.items():
        if value is None:
            continue
        if key in sections and isinstance(value, Mapping):
            layer.setdefault(key, {}).update(value)
            continue
        if key not in table:
            close = difflib.get_close_matches(key, [*table, *sections], n=3)
            hint = f"; did you mean {', '.join(f'{c}=' for c in close)}?" if close else ""
            raise ConfigError(f"unknown keyword {key}={value!r}{hint} (the keywords are the settings' names)")
        section, field = table[key]
        if field == "password" and isinstance(value, str):
            value = Secret(value)
        layer.setdefault(section, {})[field] = value
    return layer


def python_message(message: str, sections: Mapping[str, type]) -> str:
    """An options error as a Python caller reads it: a flag (`--max-connections`) and a setting's `section.key`
    given as the keyword that sets it (`max_connections=`)."""
    table = keyword_table(sections)
    by_setting = {f"{section}.{field}": key for key, (section, field) in table.items()}

    def flag(m: re.Match[str]) -> str:
        name = m.group(1).replace("-", "_")
        return f"{name}=" if name in table else m.group(0)  # (a flag's following space goes with it)

    def setting(m: re.Match[str]) -> str:
        return f"{by_setting[m.group(1)]}=" if m.group(1) in by_setting else m.group(0)

    text = re.sub(r"(?<![\w-])--([a-z][a-z-]*) ?", flag, message)
    names = "|".join(map(re.escape, sections))
    return re.sub(rf"\b((?:{names})\.[a-z_]+)\b(?: = )?", setting, text)


@contextlib.contextmanager
def python_errors(sections: Mapping[str, type]) -> Iterator[None]:
    """An options error raised inside as a Python caller reads it (python_message): the same error class, its
    text naming keywords; one that names no flag or setting goes on as it was."""
    try:
        yield
    except ConfigError as e:
        text = python_message(str(e), sections)
        if text == str(e):
            raise
        raise type(e)(text) from e
