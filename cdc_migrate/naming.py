"""Target names valid for Amazon S3 Tables: normalisation, validation and collision checks."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cdc_migrate.errors import ConfigError, PlanningError

MAX_NAME = 255
_VALID = re.compile(r"^[a-z0-9](?:[a-z0-9_]{0,253}[a-z0-9])?$")


@dataclass(frozen=True, order=True)
class TableName:
    """A two-part table name, `namespace.table` in the catalog or `db.table` in MySQL."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> TableName:
        """Parses `a.b`; raises ConfigError for anything else."""
        parts = text.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"{text!r} is not a two-part name like db.table")
        return cls(parts[0], parts[1])


def normalize(name: str) -> str:
    """Lower-cases a MySQL name and replaces what S3 Tables does not accept.

    Characters outside `[a-z0-9_]` become `_`, leading and trailing `_` are dropped and the result is
    cut to 255 characters. Returns "" when nothing usable remains.
    """
    text = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")
    return text[:MAX_NAME].rstrip("_")


def problem(name: str, kind: str) -> str | None:
    """Says why `name` is not a valid S3 Tables namespace or table name (kind), or None when it is."""
    if not _VALID.match(name):
        return (
            f"{kind} name {name!r} is not valid for S3 Tables: use 1-255 characters of [a-z0-9_], "
            "beginning and ending with a letter or digit"
        )
    if kind == "namespace" and name.startswith("aws"):
        return f"namespace {name!r} begins with 'aws', which S3 Tables reserves"
    return None


def target_name(source: TableName, namespace: str | None, override: str | None) -> TableName:
    """The Iceberg table a source table is written to.

    Args:
        source: the MySQL `db.table`.
        namespace: the configured target namespace, or None for the normalised database name.
        override: a per-table target, `table` or `namespace.table`, used as given (it must be valid).
    """
    if override:
        explicit = TableName.parse(override) if "." in override else TableName(namespace or "", override)
        ns = explicit.namespace or _derived(source.namespace, "namespace", source)
        for name, kind in ((ns, "namespace"), (explicit.name, "table")):
            if (why := problem(name, kind)) is not None:
                raise PlanningError(f'target {override!r} for {source}: {why}; fix tables.overrides."{source}".target')
        return TableName(ns, explicit.name)
    if namespace:
        if (why := problem(namespace, "namespace")) is not None:
            raise ConfigError(f"catalog.namespace: {why}")
        ns = namespace
    else:
        ns = _derived(source.namespace, "namespace", source)
    return TableName(ns, _derived(source.name, "table", source))


def _derived(mysql_name: str, kind: str, source: TableName) -> str:
    name = normalize(mysql_name)
    why = problem(name, kind)
    if why is not None:
        where = "[catalog] namespace" if kind == "namespace" else f'tables.overrides."{source}".target'
        raise PlanningError(f"{source}: the MySQL {kind} name {mysql_name!r} gives {kind} {name!r}; {why}. Set {where}")
    return name


def check_collisions(targets: Iterable[tuple[TableName, TableName]]) -> None:
    """Raises when two source tables would be written to the same target (pairs of source, target)."""
    by_target: dict[TableName, list[TableName]] = defaultdict(list)
    for source, target in targets:
        by_target[target].append(source)
    clashes = {t: s for t, s in by_target.items() if len(s) > 1}
    if clashes:
        detail = "; ".join(f"{', '.join(map(str, sorted(s)))} -> {t}" for t, s in sorted(clashes.items()))
        raise ConfigError(
            f"several source tables would be written to the same target: {detail}. "
            'Give all but one a target in tables.overrides."db.table".target'
        )
