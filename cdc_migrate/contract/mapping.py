"""How a table's MySQL columns become Iceberg columns under the CDC type contract (rules.py): for each column
the SQL pushed down to MySQL, the Spark conversion, the Iceberg type and the text a validation compares (pure).

Every column is read through an expression whose JDBC type is the same with MySQL Connector/J and
MariaDB Connector/J (text for temporal types, bytes for bits and geometry), then converted in Spark by
an expression that applies Debezium's rules (connect time precision, zero dates, little-endian bits) and
stops the load with a message naming the table, column and fix where a value cannot be represented.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cdc_migrate.config.sections import ColumnOverride
from cdc_migrate.contract.conversions import as_char, decimal_choice, java_decoded, java_note, text_canonical
from cdc_migrate.contract.expressions import fail
from cdc_migrate.contract.rules import FLOATING_TYPES, Rule, rule_for
from cdc_migrate.contract.types import STRING, Canonical, Choice, Ctx, TargetType, same
from cdc_migrate.errors import ConfigError, PlanningError
from cdc_migrate.naming import TableName
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.sqltext import quote_ident, quote_table


@dataclass(frozen=True)
class ColumnMapping:
    """How one MySQL column becomes one Iceberg column."""

    source: Column
    name: str
    type: TargetType
    pushed: str  # MySQL expression, selected AS the (quoted) target name
    convert: str  # Spark SQL expression over the pushed column, producing `type`
    required: bool
    rule: str  # which contract rule applied
    binlog: Callable[[Any], Any] = same  # the pushed value from the binlog's value (Choice.binlog)
    cdc: str = ""  # where what CDC writes differs from MySQL's value (Rule.cdc)
    canonical: Canonical | None = None  # the text a validation compares (Rule.canonical); None: presence only

    @property
    def renamed(self) -> bool:
        return self.name != self.source.name


@dataclass(frozen=True)
class TableMapping:
    """The columns of one table in order, and its primary key as target names."""

    table: TableName
    columns: tuple[ColumnMapping, ...]
    identifier: tuple[str, ...] = ()

    def column(self, source_name: str) -> ColumnMapping:
        return next(c for c in self.columns if c.source.name.lower() == source_name.lower())

    def column_by_target(self, name: str) -> ColumnMapping:
        return next(c for c in self.columns if c.name == name)

    def select_sql(self) -> str:
        """The SELECT pushed down to MySQL (Spark wraps it as a derived table and adds partition filters)."""
        items = ", ".join(f"{c.pushed} AS {quote_ident(c.name)}" for c in self.columns)
        return f"SELECT {items} FROM {quote_table(self.table)}"

    def spark_expressions(self) -> list[str]:
        """One Spark SQL expression per target column: the conversion, cast to the exact target type."""
        return [f"CAST(({c.convert}) AS {c.type.sql}) AS {quote_ident(c.name)}" for c in self.columns]

    def schema_json(self) -> dict[str, Any]:
        """The target schema as Spark schema JSON, nullability as in MySQL."""
        return {
            "type": "struct",
            "fields": [
                {"name": c.name, "type": c.type.json, "nullable": not c.required, "metadata": {}} for c in self.columns
            ],
        }

    def required_paths(self) -> list[str]:
        """Columns (and struct fields of required structs' kind) that Iceberg must mark required."""
        paths = [c.name for c in self.columns if c.required]
        for c in self.columns:
            paths += [f"{c.name}.{f}" for f in c.type.required_fields]
        return paths

    def renamed(self) -> dict[str, str]:
        """Target name -> source name for every column whose name changed."""
        return {c.name: c.source.name for c in self.columns if c.renamed}


NULL_IN_NOT_NULL = "NULL in a NOT NULL column"
_DECIMAL_OVERRIDE = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def _choice(rule: Rule, ctx: Ctx, override: str | None) -> Choice:
    if override is None:
        return rule.default(ctx)
    if rule.name == "decimal" and (m := _DECIMAL_OVERRIDE.match(override)):
        p, s = int(m.group(1)), int(m.group(2))
        if 1 <= p <= 38 and s <= p:
            return decimal_choice(p, s)(ctx)
    if override in rule.choices:
        return rule.choices[override](ctx)
    if override in rule.refused:
        raise ConfigError(
            f"{ctx.override_key} = {override!r} is refused for {ctx.column.column_type.upper()}: "
            f"{rule.refused[override]}. Remove the override: the contract type is what CDC keeps writing"
        )
    valid = sorted(rule.choices) + (["decimal(P,S) with P <= 38"] if rule.name == "decimal" else [])
    raise ConfigError(
        f"{ctx.override_key} = {override!r} is not a valid way to load {ctx.column.column_type.upper()}; "
        f"valid: {', '.join(valid) if valid else 'none (the contract type is the only one)'}"
    )


def map_column(table: TableName, column: Column, override: ColumnOverride | None = None) -> ColumnMapping:
    """The mapping of one column (name from the override, or the source name lower-cased)."""
    name = override.name if override and override.name else column.name.lower()
    ctx = Ctx(table, column, quote_ident(name))
    rule = rule_for(column)
    chosen = override.type if override else None
    if rule is None:
        if chosen == "string":
            pushed, required = f"CAST({ctx.q} AS CHAR)", not column.nullable
            return ColumnMapping(
                column, name, STRING, pushed, ctx.alias, required, "override", as_char, canonical=text_canonical(ctx)
            )
        raise PlanningError(
            f"{ctx.where} has type {column.column_type.upper()}, which the CDC type contract does not cover; "
            f'load it as text with {ctx.override_key} = "string"'
        )
    choice = _choice(rule, ctx, chosen)
    required = not column.nullable if choice.required is None else choice.required
    convert = choice.convert
    if required:
        convert = f"coalesce({convert}, {fail(ctx.where, NULL_IN_NOT_NULL)})"
    return ColumnMapping(
        column,
        name,
        choice.type,
        choice.pushed,
        convert,
        required,
        rule.name if chosen is None else f"{rule.name}:{chosen}",
        choice.binlog,
        rule.cdc or (java_note(ctx) if java_decoded(ctx) and rule.name == "text" else ""),
        text_canonical(ctx) if chosen == "string" else rule.canonical(ctx, choice, chosen),
    )


def map_table(table: SourceTable, overrides: Mapping[str, ColumnOverride] | None = None) -> TableMapping:
    """The mapping of a table; column names that collide after lower-casing are an error listing them."""
    overrides = overrides or {}
    by_lower = {c.name.lower(): c for c in table.columns}
    unknown = [k for k in overrides if k.lower() not in by_lower]
    if unknown:
        raise ConfigError(
            f'tables.overrides."{table.name}".columns names {", ".join(unknown)}, not columns of {table.name}; '
            f"its columns are {', '.join(c.name for c in table.columns)}"
        )
    lowered = {k.lower(): v for k, v in overrides.items()}
    floating = [c for c in table.columns if c.data_type in FLOATING_TYPES and c.name in table.primary_key]
    if floating:
        raise PlanningError(
            f"the primary key of {table.name} includes {', '.join(c.name for c in floating)} "
            f"({', '.join(c.column_type.upper() for c in floating)}, a float); Iceberg cannot make a "
            "float or double column an identifier field, so the sink could not update or delete its rows. "
            f"Give {table.name} a primary key without floats, or leave it out with --exclude {table.name}"
        )
    columns = tuple(map_column(table.name, c, lowered.get(c.name.lower())) for c in table.columns)
    _check_names(table.name, columns)
    reserved_names(table.name, columns)
    identifier = tuple(next(m.name for m in columns if m.source.name.lower() == k.lower()) for k in table.primary_key)
    return TableMapping(table.name, columns, identifier)


# Iceberg's metadata columns (MetadataColumns.java, Iceberg 1.10.2: _file, _pos, _deleted, _spec_id, _partition,
# _row_id, _last_updated_sequence_number; its changelog's _change_type, _change_ordinal, _commit_snapshot_id):
# Spark adds them to a row-level DELETE or MERGE (a live load's catch-up, the sink's readers), and a table column
# of the same name fails it ("Row ID attributes cannot be nullable: _file, _pos").
ICEBERG_RESERVED = (
    "_file",
    "_pos",
    "_deleted",
    "_spec_id",
    "_partition",
    "_row_id",
    "_last_updated_sequence_number",
    "_change_type",
    "_change_ordinal",
    "_commit_snapshot_id",
)
# The Iceberg sink's DebeziumTransform adds a `_cdc` field to every record (tabular v0.6.19,
# DebeziumTransform.java l.232-241, CdcConstants.COL_CDC) and the table a `_cdc` column.
SINK_FIELD = "_cdc"


def reserved_names(table: TableName, columns: tuple[ColumnMapping, ...]) -> None:
    """Refuses, all at once, target names Iceberg reserves (with the rename that works for each) and a source
    column the sink cannot carry (pure)."""
    if any(c.source.name.lower() == SINK_FIELD for c in columns) or any(c.name == SINK_FIELD for c in columns):
        raise PlanningError(
            f"{table} has a column {SINK_FIELD}, the field the Iceberg sink's DebeziumTransform adds to every change "
            "record (with the operation and the source): the sink would fail on the table's first change. Rename "
            f"the column in MySQL, or leave the table out (--exclude {table})"
        )
    clashing = [c for c in columns if c.name in ICEBERG_RESERVED]
    if clashing:
        fix = ", ".join(f'{c.source.name} = {{name = "{c.name.strip("_")}_"}}' for c in clashing)
        raise PlanningError(
            f"{table} has columns that Iceberg reserves for its metadata columns ({', '.join(c.name for c in clashing)}"
            "): a live load's merge and other row-level changes of the table would fail on them. Load them under "
            f'other names: tables.overrides."{table}".columns = {{{fix}}} (the sink still finds them by their '
            "source names, kept in the table's name mapping)"
        )


def _check_names(table: TableName, columns: tuple[ColumnMapping, ...]) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for c in columns:
        if not c.name or c.name != c.name.lower():
            raise ConfigError(f"{table}.{c.source.name}: target column name {c.name!r} must be non-empty lower case")
        by_name[c.name].append(c.source.name)
    clashes = {n: s for n, s in by_name.items() if len(s) > 1}
    if clashes:
        detail = "; ".join(f"{', '.join(s)} -> {n}" for n, s in sorted(clashes.items()))
        raise PlanningError(
            f"columns of {table} would share a target name: {detail}. "
            f'Rename all but one with tables.overrides."{table}".columns.<column>.name'
        )
