"""Per-table read plans: the split key, its bounds, the strategy and the partition boundaries (pure).

Strategies:
- `single`: one partition (an empty or small table, or no usable key).
- `stride`: a single integer key whose values are evenly spread: equal key ranges, computed as Spark's
  JDBC stride would be, but with the first and last ranges closed at the MIN/MAX taken at planning.
- `keyset`: any other key (skewed integers, composite, strings, dates): row-balanced ranges whose
  boundaries (every n-th key) MySQL finds in the key's index.

The partition count follows the seed rule, max(min, min(max, int(units / rows_per_partition))), where
units is the key span for `stride` and the estimated row count for `keyset`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from cdc_migrate.config.sections import TableOverride, TablesOptions
from cdc_migrate.contract.expressions import LONG_MAX, LONG_MIN
from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.contract.rules import splittable
from cdc_migrate.errors import PlanningError
from cdc_migrate.naming import TableName
from cdc_migrate.source.schema import Column, Key, SourceTable

SEED_MAX_PARTITIONS = 200  # the seed's cap, where the task slots are not known (planning/capacity.py)


@dataclass(frozen=True)
class Partitioning:
    """The partitioning settings in force for one table (defaults with its override applied)."""

    rows_per_partition: int
    min_partitions: int
    max_partitions: int
    even_distribution_min: float = 0.05
    even_distribution_max: float = 10.0

    @classmethod
    def for_table(cls, tables: TablesOptions, override: TableOverride | None) -> Partitioning:
        o = override or TableOverride()
        return cls(
            rows_per_partition=o.rows_per_partition or tables.rows_per_partition,
            min_partitions=o.min_partitions or tables.min_partitions,
            max_partitions=o.max_partitions or tables.max_partitions or SEED_MAX_PARTITIONS,
            even_distribution_min=tables.even_distribution_min,
            even_distribution_max=tables.even_distribution_max,
        )

    def count(self, units: int) -> int:
        """The seed rule: max(min_partitions, min(max_partitions, int(units / rows_per_partition)))."""
        return max(self.min_partitions, min(self.max_partitions, int(units / self.rows_per_partition)))


@dataclass(frozen=True)
class SplitKey:
    """The columns a table's read is split on, in order, and why these."""

    columns: tuple[Column, ...]
    reason: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def single_integer(self) -> bool:
        return len(self.columns) == 1 and self.columns[0].is_integer

    @property
    def nullable(self) -> bool:
        return any(c.nullable for c in self.columns)


@dataclass(frozen=True)
class TablePlan:
    """How one table is read (strategy, key, bounds, boundaries) and where it is written."""

    source: SourceTable
    target: TableName
    mapping: TableMapping
    settings: Partitioning
    strategy: str = "single"
    key: tuple[str, ...] = ()
    lower: Key | None = None
    upper: Key | None = None
    boundaries: tuple[Key, ...] = ()
    key_nullable: bool = False
    note: str = ""
    reader: str = "jdbc"  # arrow | jdbc (planning/reader.py)
    reader_note: str = ""  # why JDBC, where the Arrow path cannot serve the table

    @property
    def key_columns(self) -> tuple[Column, ...]:
        """The key's columns as the source describes them."""
        columns = tuple(c for k in self.key if (c := self.source.column(k)) is not None)
        if len(columns) != len(self.key):
            raise PlanningError(f"the key {self.split_column} of {self.source.name} names a column it does not have")
        return columns

    @property
    def partitions(self) -> int:
        return 1 if self.strategy == "single" else len(self.boundaries) + 1

    @property
    def split_column(self) -> str | None:
        """The key as one text: the column, or the columns joined with commas."""
        return ",".join(self.key) if self.key else None

    @property
    def estimated_rows_per_partition(self) -> int:
        return math.ceil(self.source.estimated_rows / self.partitions)

    def __repr__(self) -> str:
        return (
            f"TablePlan({self.source.name} -> {self.target}: {self.reader}, ~{self.source.estimated_rows:,} rows, "
            f"{self.strategy}, {self.partitions} partition(s){f' on {self.split_column}' if self.key else ''})"
        )

    def merged(self, partitions: int) -> TablePlan:
        """The same key ranges merged into at most `partitions` partitions (fewer concurrent connections)."""
        if partitions >= self.partitions:
            return self
        if partitions <= 1:
            return replace(self, boundaries=(), strategy="single" if not self.key else self.strategy)
        step = math.ceil(self.partitions / partitions)
        kept = tuple(b for i, b in enumerate(self.boundaries, 1) if i % step == 0)
        return replace(self, boundaries=kept)


def partition_count(lower: int | None, upper: int | None, settings: Partitioning) -> int:
    """Stride partitions for an integer key range, as Spark's JDBC reader would make them.

    No bounds or equal bounds give one partition; never more partitions than `upper - lower`.
    """
    if lower is None or upper is None or upper <= lower:
        return 1
    return min(settings.count(upper - lower), upper - lower)


def _tdiv(a: int, b: int) -> int:
    """Integer division truncating towards zero, as the JVM's long division does."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def stride_boundaries(lower: int, upper: int, partitions: int) -> tuple[Key, ...]:
    """The interior boundaries of Spark's stride: lower + i * (upper/n - lower/n), for i in 1..n-1."""
    stride = _tdiv(upper, partitions) - _tdiv(lower, partitions)
    return tuple((lower + i * stride,) for i in range(1, partitions))


def distribution_factor(lower: int, upper: int, estimated_rows: int) -> float:
    """Flink CDC's test for an evenly spread key: (max - min + 1) / rows; near 1 for dense keys."""
    return (upper - lower + 1) / max(estimated_rows, 1)


def choose_split_key(table: SourceTable, override: TableOverride | None) -> SplitKey | None:
    """The key the read is split on: the named split column, else the primary key; None when there is
    neither or the key's type cannot be range-compared (the table is then read in one partition)."""
    named = override.split_column if override else None
    if named:
        column = table.column(named)
        if column is None:
            raise PlanningError(
                f"split column {named!r} named for {table.name} does not exist; its columns are "
                f'{", ".join(c.name for c in table.columns)}. Fix tables.overrides."{table.name}".split_column'
            )
        if not splittable(column):
            raise PlanningError(
                f"split column {column.name!r} of {table.name} is {column.column_type}, which cannot be split into "
                f'key ranges; name a column of another type in tables.overrides."{table.name}".split_column'
            )
        return SplitKey((column,), f'named in tables.overrides."{table.name}".split_column')
    if not table.primary_key:
        return None
    columns = tuple(c for name in table.primary_key if (c := table.column(name)) is not None)
    if not all(splittable(c) for c in columns):
        return None
    return SplitKey(columns, "its primary key")


def no_key_note(table: SourceTable, override: TableOverride | None) -> str:
    """Why a table without a usable key is read in one partition, and how to split it."""
    fix = f'name a split column in tables.overrides."{table.name}".split_column (or --split-column)'
    if not table.primary_key:
        return f"{table.name} has no primary key: it is read in one partition; to split it, {fix}"
    return (
        f"the primary key of {table.name} cannot be split into ranges: it is read in one partition; to split it, {fix}"
    )


def decide(
    table: SourceTable, key: SplitKey, lower: Key | None, upper: Key | None, settings: Partitioning
) -> tuple[str, int, str]:
    """The strategy, the partition count and a note on why, from the bounds and the row estimate."""
    if lower is None or upper is None:
        return "single", 1, "no rows with a key"
    rows = table.estimated_rows
    lo, hi = (int(lower[0]), int(upper[0])) if key.single_integer else (0, 0)
    if key.single_integer and lo >= LONG_MIN and hi <= LONG_MAX:
        # (Spark's stride arithmetic is 64-bit: a BIGINT UNSIGNED key beyond it gets row-balanced ranges.)
        factor = distribution_factor(lo, hi, rows)
        if settings.even_distribution_min <= factor <= settings.even_distribution_max:
            n = partition_count(lo, hi, settings)
            return ("stride" if n > 1 else "single"), n, f"keys evenly spread (distribution factor {factor:.2f})"
        note = f"keys unevenly spread (distribution factor {factor:.3g}): row-balanced ranges"
    else:
        note = "row-balanced ranges of the key"
    n = min(settings.count(rows), max(rows, 1))
    return ("keyset" if n > 1 else "single"), n, note


def keyset_step(table: SourceTable, partitions: int) -> int:
    """Rows per keyset partition: the estimated rows spread over the partitions."""
    return max(1, math.ceil(table.estimated_rows / partitions))


def plan_table(
    table: SourceTable,
    target: TableName,
    mapping: TableMapping,
    settings: Partitioning,
    key: SplitKey | None,
    lower: Key | None = None,
    upper: Key | None = None,
    boundaries: tuple[Key, ...] = (),
    note: str = "",
) -> TablePlan:
    """Assembles a plan. Stride boundaries are computed here; keyset boundaries come from MySQL."""
    base = TablePlan(table, target, mapping, settings, note=note)
    if key is None:
        return base
    base = replace(base, key=key.names, lower=lower, upper=upper, key_nullable=key.nullable)
    strategy, partitions, why = decide(table, key, lower, upper, settings)
    base = replace(base, note=note or why)
    if strategy == "stride" and lower is not None and upper is not None:
        return replace(base, strategy="stride", boundaries=stride_boundaries(int(lower[0]), int(upper[0]), partitions))
    if strategy == "keyset" and boundaries:
        return replace(base, strategy="keyset", boundaries=tuple(boundaries))
    return replace(base, strategy="single")
