"""Which source tables a run covers: `db.table` and `db.*` patterns, excludes (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

from cdc_migrate.errors import ConfigError
from cdc_migrate.naming import TableName

SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_WILDCARDS = "*?["


def _has_wildcard(text: str) -> bool:
    return any(c in text for c in _WILDCARDS)


def select_tables(
    tables: Mapping[str, Sequence[str]],
    include: Sequence[str],
    exclude: Sequence[str] = (),
    views: Mapping[str, Sequence[str]] | None = None,
) -> list[TableName]:
    """The base tables the patterns select, sorted.

    Args:
        tables: base tables per database on the server (every database, even empty ones).
        include: patterns `db.table`; `*`, `?` and `[...]` match as in shell globs (case-sensitive).
        exclude: patterns removed from what include selected.
        views: views per database, only to explain why a named view cannot be loaded.

    A literal database or table that does not exist, or a pattern that matches nothing, is an error
    naming what does exist.
    """
    chosen: set[TableName] = set()
    for pattern in include:
        db_pat, table_pat = pattern.split(".", 1)
        dbs = [db for db in tables if fnmatchcase(db, db_pat)]
        if _has_wildcard(db_pat):
            dbs = [db for db in dbs if db not in SYSTEM_DATABASES or db == db_pat]
        if not dbs:
            known = ", ".join(sorted(db for db in tables if db not in SYSTEM_DATABASES)) or "none"
            what = "matches no database" if _has_wildcard(db_pat) else "names a database that does not exist"
            raise ConfigError(f"table pattern {pattern!r} {what}; databases on the server: {known}")
        matched = [TableName(db, t) for db in dbs for t in tables[db] if fnmatchcase(t, table_pat)]
        if not matched and not _has_wildcard(table_pat):
            view_dbs = [db for db in dbs if table_pat in (views or {}).get(db, ())]
            if view_dbs:
                raise ConfigError(
                    f"{view_dbs[0]}.{table_pat} is a view; only base tables are loaded. Remove it from the tables"
                )
            listing = ", ".join(sorted(t for db in dbs for t in tables[db])[:30]) or "none"
            raise ConfigError(f"table {pattern!r} does not exist; tables in {', '.join(dbs)}: {listing}")
        if not matched:
            raise ConfigError(f"table pattern {pattern!r} matches no table in {', '.join(dbs)}")
        chosen.update(matched)
    removed = {t for t in chosen for p in exclude if fnmatchcase(str(t), p)}
    result = sorted(chosen - removed)
    if not result:
        raise ConfigError(f"the excludes {list(exclude)} remove every selected table; nothing to load")
    return result


def skipped_views(views: Mapping[str, Sequence[str]], include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The views a wildcard pattern matches (only base tables are loaded, so these are left out)."""
    out = []
    for db, names in views.items():
        for name in names:
            full = f"{db}.{name}"
            wild = [p for p in include if _has_wildcard(p) and fnmatchcase(full, p)]
            if wild and db not in SYSTEM_DATABASES and not any(fnmatchcase(full, p) for p in exclude):
                out.append(full)
    return sorted(out)
