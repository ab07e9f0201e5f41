"""The source schema as information_schema describes it: tables, columns, keys (pure records, a leaf every
layer may import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdc_migrate.naming import TableName

INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})

Key = tuple[Any, ...]  # a key's values, one per key column


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
    character_set: str | None = None
    collation: str | None = None
    # The column's DEFAULT when it is a literal (text as MySQL would show it unquoted); None when it has no
    # default, a NULL default or an expression (CURRENT_TIMESTAMP): Debezium sends a literal default in
    # place of a value it cannot convert in a NOT NULL column.
    default: str | None = None

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
