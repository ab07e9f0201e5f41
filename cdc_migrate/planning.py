"""Per-table plans: the split column, its bounds and the partition count (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdc_migrate.config import TableOverride, TablesOptions
from cdc_migrate.errors import PlanningError
from cdc_migrate.naming import TableName

if TYPE_CHECKING:
    from cdc_migrate.typemap import TableMapping

INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Column:
    """A source column as information_schema.COLUMNS describes it."""

    name: str
    data_type: str
    column_type: str
    nullable: bool
    numeric_precision: int | None = None
    numeric_scale: int | None = None
    datetime_precision: int | None = None

    @property
    def unsigned(self) -> bool:
        return "unsigned" in self.column_type.lower()

    @property
    def is_integer(self) -> bool:
        return self.data_type.lower() in INTEGER_TYPES


@dataclass(frozen=True)
class SourceTable:
    """A MySQL table: its columns in order, its primary key and the server's row estimate."""

    name: TableName
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    estimated_rows: int = 0

    def column(self, name: str) -> Column | None:
        """The column called `name` (MySQL compares column names case-insensitively)."""
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Partitioning:
    """The partitioning settings in force for one table (defaults with its override applied)."""

    rows_per_partition: int
    min_partitions: int
    max_partitions: int

    @classmethod
    def for_table(cls, tables: TablesOptions, override: TableOverride | None) -> Partitioning:
        o = override or TableOverride()
        return cls(
            rows_per_partition=o.rows_per_partition or tables.rows_per_partition,
            min_partitions=o.min_partitions or tables.min_partitions,
            max_partitions=o.max_partitions or tables.max_partitions,
        )


@dataclass(frozen=True)
class TablePlan:
    """How one table is read: split column and bounds for Spark's JDBC reader, and where it is written."""

    source: SourceTable
    target: TableName
    split_column: str | None
    lower: int | None
    upper: int | None
    partitions: int
    settings: Partitioning
    mapping: TableMapping

    @property
    def strategy(self) -> str:
        return "stride" if self.partitions > 1 else "single"

    @property
    def split_alias(self) -> str | None:
        """The split column's name in the pushed-down SELECT (its target name)."""
        return self.mapping.column(self.split_column).name if self.split_column else None


def seed_partition_count(min_id: int, max_id: int, settings: Partitioning) -> int:
    """The seed recipe's rule: max(min_parts, min(max_parts, int((max_id - min_id) / rows_per_partition)))."""
    by_span = int((max_id - min_id) / settings.rows_per_partition)
    return max(settings.min_partitions, min(settings.max_partitions, by_span))


def partition_count(lower: int | None, upper: int | None, settings: Partitioning) -> int:
    """The number of partitions Spark's JDBC reader really uses for the seed rule's count.

    No bounds (an empty table, or only NULL keys) or equal bounds give one partition; Spark also
    never makes more partitions than `upper - lower`.
    """
    if lower is None or upper is None or upper <= lower:
        return 1
    return min(seed_partition_count(lower, upper, settings), upper - lower)


def choose_split_column(table: SourceTable, override: TableOverride | None) -> Column:
    """The column the read is split on: the named split column, else the first primary-key column."""
    named = override.split_column if override else None
    if named:
        column = table.column(named)
        if column is None:
            raise PlanningError(
                f"split column {named!r} named for {table.name} does not exist; its columns are "
                f'{", ".join(c.name for c in table.columns)}. Fix tables.overrides."{table.name}".split_column'
            )
        reason = f'named in tables.overrides."{table.name}".split_column'
    elif table.primary_key:
        column = table.column(table.primary_key[0])
        assert column is not None, "primary key columns come from the same table"
        reason = "its primary key"
    else:
        raise PlanningError(
            f"{table.name} has no primary key, so nothing says how to split its read; name an integer "
            f'column: tables.overrides."{table.name}".split_column = "..." (or --split-column '
            f"{table.name}=COLUMN)"
        )
    if not column.is_integer:
        raise PlanningError(
            f"split column {column.name!r} of {table.name} ({reason}) is {column.column_type}; only integer "
            f'columns can split a read for now. Name an integer column in tables.overrides."{table.name}".'
            "split_column"
        )
    return column


def plan_table(
    table: SourceTable,
    target: TableName,
    split_column: Column,
    bounds: tuple[int | None, int | None],
    settings: Partitioning,
    mapping: TableMapping,
) -> TablePlan:
    """Combines a table, its split column's MIN/MAX, the settings and the column mapping into a plan."""
    lower, upper = bounds
    for value in (lower, upper):
        if value is not None and not LONG_MIN <= value <= LONG_MAX:
            raise PlanningError(
                f"split column {split_column.name!r} of {table.name} holds {value}, beyond the 64-bit range "
                f"Spark's JDBC reader accepts for bounds. Name another split column in "
                f'tables.overrides."{table.name}".split_column'
            )
    partitions = partition_count(lower, upper, settings)
    return TablePlan(
        source=table,
        target=target,
        split_column=split_column.name,
        lower=lower,
        upper=upper,
        partitions=partitions,
        settings=settings,
        mapping=mapping,
    )
