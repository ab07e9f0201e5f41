"""Planning against the source: select and describe the tables, take key bounds and boundaries (I/O over
the pure planning functions)."""

from __future__ import annotations

import importlib.util
import logging
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import TableOverride, TablesOptions
from cdc_migrate.contract.literals import sql_literals
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.errors import ConfigError, PlanningError, SourceError
from cdc_migrate.naming import TableName, check_collisions, target_name
from cdc_migrate.planning.capacity import UserLimit, besides_reads
from cdc_migrate.planning.estimates import estimated_boundaries
from cdc_migrate.planning.partitions import (
    Partitioning,
    SplitKey,
    TablePlan,
    choose_split_key,
    decide,
    keyset_step,
    no_key_note,
    plan_table,
)
from cdc_migrate.planning.reader import choose_reader
from cdc_migrate.source.access import Grants, grant_statement, selection_problems, table_problem
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.schema import Key, SourceTable
from cdc_migrate.source.selection import select_tables, skipped_views
from cdc_migrate.sqltext import key_range, lexicographic, quote_ident, quote_table
from cdc_migrate.views import counted, html_table, shown

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOutcome:
    """A table's plan, or why it cannot be planned."""

    source: TableName
    target: TableName | None
    plan: TablePlan | None = None
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """The plan as a row of plain values (Plan's table and frames)."""
        p = self.plan
        return {
            "source": str(self.source),
            "target": str(self.target) if self.target else None,
            "reader": p.reader if p else None,
            "estimated_rows": p.source.estimated_rows if p else None,
            "strategy": p.strategy if p else None,
            "partitions": p.partitions if p else None,
            "split_column": p.split_column if p else None,
            "note": (p.reader_note or p.note or None) if p else None,
            "error": self.error,
        }

    def __repr__(self) -> str:
        p = self.plan
        if p is None:
            return f"PlanOutcome({self.source}: {shown(self.error, 100)})"
        parts = f"{p.reader}, ~{p.source.estimated_rows:,} rows, {p.strategy}, {p.partitions} partition(s)"
        return f"PlanOutcome({self.source} -> {self.target}: {parts})"


class Plan(list[PlanOutcome]):
    """plan()'s result: every selected table's PlanOutcome (a list), shown as a line, an HTML table in a notebook,
    or a frame (to_arrow, to_pandas)."""

    def __repr__(self) -> str:
        readers = Counter(o.plan.reader for o in self if o.plan)
        errors = [str(o.source) for o in self if o.plan is None]
        parts = [f"{n} by {reader}" for reader, n in sorted(readers.items())]
        parts += [f"{counted(errors, 'error')}"] if errors else []
        return f"Plan({len(self)} tables: {'; '.join(parts) or 'none'})"

    def _repr_html_(self) -> str:
        rows = [o.row() for o in self]
        headers = list(rows[0]) if rows else ["source"]
        return html_table(f"cdc_migrate plan: {len(self)} tables", headers, [list(r.values()) for r in rows])

    def to_arrow(self) -> Any:
        import pyarrow as pa

        return pa.Table.from_pylist([o.row() for o in self])

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()


def _check_overrides(overrides: Mapping[str, object], names: list[TableName], tables: Mapping[str, list[str]]) -> None:
    """One file serves many runs: overrides for tables this run does not select are not used, but one naming a
    table that does not exist in a database being loaded is a typo."""
    loading = {n.namespace for n in names}
    missing = sorted(
        key
        for key in overrides
        if (o := TableName.parse(key)).namespace in loading and o.name not in tables.get(o.namespace, ())
    )
    if missing:
        raise ConfigError(
            f"tables.overrides name {'tables that do' if len(missing) > 1 else 'a table that does'} not exist: "
            f"{', '.join(missing)}; check the names (db.table, case-sensitive)"
        )


@dataclass(frozen=True)
class Planned:
    """Every selected table's plan (or why it has none), and the views the patterns matched, which are left out
    (only base tables are loaded)."""

    tables: list[PlanOutcome]
    views: tuple[str, ...] = ()


def plan_tables(source: MySQLSource, options: Options) -> Planned:
    """Selects, describes and plans the tables; a table that cannot be planned carries its error."""
    selection = options.require_tables()
    tables, views = source.list_tables()
    grants = source.grants()
    try:
        names = select_tables(tables, selection.include, selection.exclude, views)
    except ConfigError as e:
        raise ConfigError(f"{e}{unreadable_hint(grants, str(e))}") from None
    problems = selection_problems(grants, selection.include, tables)
    if problems:
        raise SourceError("; ".join(problems))
    skipped = skipped_views(views, selection.include, selection.exclude)
    if skipped:
        logger.info(
            "left out %d view(s) the patterns match (only base tables are loaded): %s",
            len(skipped),
            ", ".join(skipped[:20]) + (" ..." if len(skipped) > 20 else ""),
        )
    _check_overrides(selection.overrides, names, tables)
    described = source.describe(names)
    targets: dict[TableName, TableName | str] = {}
    for name in names:
        override = selection.overrides.get(str(name))
        try:
            targets[name] = target_name(name, options.catalog.namespace, override.target if override else None)
        except PlanningError as e:
            targets[name] = str(e)
    check_collisions((n, t) for n, t in targets.items() if isinstance(t, TableName))

    outcomes = []
    missing = arrow_missing() if options.source.reader != "jdbc" else None
    for name in names:
        target = targets[name]
        if isinstance(target, str):
            outcomes.append(PlanOutcome(name, None, error=target))
            continue
        problem = access_problem(source, grants, described[name])
        if problem:
            outcomes.append(PlanOutcome(name, target, error=problem))
            continue
        try:
            plan = plan_one(source, described[name], target, selection, selection.overrides.get(str(name)))
            reader = choose_reader(plan.mapping, options.source, missing)
            plan = replace(plan, reader=reader.kind, reader_note=reader.why)
        except (PlanningError, ConfigError) as e:
            outcomes.append(PlanOutcome(name, target, error=str(e)))
            continue
        if plan.key == ():  # said once here, not by every caller of plan_one (validate plans again)
            _warn_once(plan.note)
        outcomes.append(PlanOutcome(name, target, plan=plan))
    return Planned(outcomes, tuple(skipped))


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A warning about a table, once per process (a notebook plans and runs again and again)."""
    if message not in _warned:
        _warned.add(message)
        logger.warning("%s", message)


_MISSING_TABLE = re.compile(r"table '([^'.]+)\.([^']+)' does not exist")
_MISSING_DATABASE = re.compile(r"table pattern '([^'.]+)\.[^']*' names a database that does not exist")


def arrow_missing() -> str | None:
    """Why the Arrow reader is not there (ConnectorX and pyarrow, the `local` extra; on Glue the job's
    --additional-python-modules), or None."""
    absent = [m for m in ("connectorx", "pyarrow") if importlib.util.find_spec(m) is None]
    if absent:
        return f"{' and '.join(absent)} not installed (pip install 'cdc_migrate[local]')"
    return None


def unreadable_hint(grants: Grants, message: str) -> str:
    """For a table (or database) that 'does not exist': it may exist but be invisible to a user who may not read
    it; the GRANT that would show it (pure). `run`, `plan` and `validate` say the same."""
    if grants.everything or "does not exist" not in message:
        return ""
    table, database = _MISSING_TABLE.search(message), _MISSING_DATABASE.search(message)
    fix = "check its grants"
    if table:
        fix = grant_statement(grants, quote_table(TableName(table.group(1), table.group(2))))
    elif database:
        fix = grant_statement(grants, f"{quote_ident(database.group(1))}.*")
    return f" (or {grants.user} may not read it: MySQL shows a user only what it may access; {fix})"


def access_problem(source: MySQLSource, grants: Grants, table: SourceTable) -> str | None:
    """Why the user cannot read all of a table, or None. Where the grants do not prove it may (roles, proxies),
    `SELECT *` says: it needs every column, and returns them all."""
    problem = table_problem(grants, table.name)
    if problem or grants.reads_table(table.name):
        return problem
    readable = source.readable_columns(table.name)
    fix = grant_statement(grants, quote_table(table.name))
    if isinstance(readable, str):
        return f"{grants.user} may not read every column of {table.name} ({readable}). {fix}"
    hidden = [c.name for c in table.columns if c.name not in readable]
    if len(readable) != len(table.columns) or hidden:
        return f"{grants.user} does not see every column of {table.name}. {fix}"
    return None


def plan_one(
    source: MySQLSource, table: SourceTable, target: TableName, selection: TablesOptions, override: TableOverride | None
) -> TablePlan:
    """One table's plan: its column mapping, split key, bounds and (for keyset ranges) boundaries."""
    mapping = map_table(table, override.columns if override else None)
    settings = Partitioning.for_table(selection, override)
    key = choose_split_key(table, override)
    if key is None:
        return plan_table(table, target, mapping, settings, None, note=no_key_note(table, override))
    lower, upper = source.bounds(table.name, key.names)
    strategy, partitions, _ = decide(table, key, lower, upper, settings)
    if strategy != "keyset" or lower is None or upper is None:
        return plan_table(table, target, mapping, settings, key, lower, upper)
    estimated = _estimated_plan(source, table, key, lower, upper, partitions)
    if estimated is not None:
        leading, cuts = estimated
        return plan_table(table, target, mapping, settings, leading, (lower[0],), (upper[0],), cuts)
    return plan_table(
        table, target, mapping, settings, key, lower, upper, _walked(source, table, key, upper, partitions)
    )


def _estimated_plan(
    source: MySQLSource, table: SourceTable, key: SplitKey, lower: Key, upper: Key, partitions: int
) -> tuple[SplitKey, tuple[Key, ...]] | None:
    """Boundaries on the key's leading integer column from the optimizer's estimates (no scan), where that column
    leads the primary key; None where it does not, or the estimates would take too many dives."""
    first = key.columns[0]
    if not first.is_integer or not table.primary_key or table.primary_key[0].lower() != first.name.lower():
        return None
    started = time.monotonic()

    def said(dives: int) -> None:
        logger.info("planning %s: %d estimates from its primary key so far", table.name, dives)

    cuts = estimated_boundaries(
        int(lower[0]),
        int(upper[0]),
        partitions,
        lambda lo, hi: source.estimate_rows(table.name, first.name, lo, hi),
        progress=said,
    )
    if cuts is None:
        return None
    logger.debug("planning %s: %d boundaries estimated in %.1fs", table.name, len(cuts), time.monotonic() - started)
    reason = f"{key.reason}, split on its leading column by the optimizer's estimates"
    return SplitKey((first,), reason), tuple((c,) for c in cuts)


def _walked(source: MySQLSource, table: SourceTable, key: SplitKey, upper: Key, partitions: int) -> tuple[Key, ...]:
    """Every n-th key, found by MySQL in the key's index (one pass over it: strings, dates, other keys)."""
    quoted = [quote_ident(k) for k in key.names]

    def literals(value: Key) -> list[str]:
        return sql_literals(value, key.columns)

    logger.info("planning %s: finding %d boundaries in its index", table.name, partitions - 1)
    not_beyond = lexicographic(quoted, literals(upper), "<=")
    return tuple(
        source.key_boundaries(
            table.name,
            key.names,
            lambda prev: key_range(quoted, literals(prev), literals(upper), lower_op=">", upper_op="<="),
            step=keyset_step(table, partitions),
            limit=partitions - 1,
            first_where=f"{' AND '.join(f'{q} IS NOT NULL' for q in quoted)} AND ({not_beyond})",
        )
    )


def user_limit(source: MySQLSource, options: Options) -> UserLimit:
    """What the source user may still open for a load's reads (its connection here closes before them)."""
    user, allowed, in_use = source.user_connections()
    return UserLimit(user, allowed, in_use - 1, besides_reads(options))
