"""The records a contract rule builds: target types, one column's load choice, its canonical text (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cdc_migrate.naming import TableName
from cdc_migrate.source.schema import Column
from cdc_migrate.sqltext import quote_ident


@dataclass(frozen=True)
class TargetType:
    """A target column type: as Spark SQL (for CAST), as Spark schema JSON, and as Iceberg names it.

    required_fields: the struct fields that are required whenever the struct itself is present.
    """

    sql: str
    json: Any
    iceberg: str
    required_fields: tuple[str, ...] = ()


def _simple(sql: str, json_name: str, iceberg: str) -> TargetType:
    return TargetType(sql, json_name, iceberg)


INT = _simple("INT", "integer", "int")
LONG = _simple("BIGINT", "long", "long")
FLOAT = _simple("FLOAT", "float", "float")
DOUBLE = _simple("DOUBLE", "double", "double")
BOOLEAN = _simple("BOOLEAN", "boolean", "boolean")
STRING = _simple("STRING", "string", "string")
BINARY = _simple("BINARY", "binary", "binary")
DATE = _simple("DATE", "date", "date")
TIMESTAMP = _simple("TIMESTAMP_NTZ", "timestamp_ntz", "timestamp")
TIMESTAMPTZ = _simple("TIMESTAMP", "timestamp", "timestamptz")


def _struct(fields: list[tuple[str, TargetType, bool]]) -> TargetType:
    return TargetType(
        sql="STRUCT<" + ", ".join(f"{n}: {t.sql}" for n, t, _ in fields) + ">",
        json={
            "type": "struct",
            "fields": [{"name": n, "type": t.json, "nullable": not req, "metadata": {}} for n, t, req in fields],
        },
        iceberg="struct<" + ", ".join(f"{n}: {t.iceberg}" for n, t, _ in fields) + ">",
        required_fields=tuple(n for n, _, req in fields if req),
    )


# Debezium's io.debezium.data.geometry.Geometry and .Point structs.
GEOMETRY = _struct([("wkb", BINARY, True), ("srid", INT, False)])
POINT = _struct([("x", DOUBLE, True), ("y", DOUBLE, True), ("wkb", BINARY, False), ("srid", INT, False)])


def decimal(precision: int, scale: int) -> TargetType:
    return _simple(f"DECIMAL({precision},{scale})", f"decimal({precision},{scale})", f"decimal({precision},{scale})")


BinlogForm = Callable[[Any], Any]


def same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Choice:
    """One way to load a column: its type, the pushed SQL, the Spark conversion, and the pushed SQL's value
    computed from the column's value as a binlog row image gives it (see rowimage.canonical_value), so that
    changes read from the binlog go through the same conversion as rows read over JDBC."""

    type: TargetType
    pushed: str
    convert: str
    binlog: BinlogForm = same
    required: bool | None = None  # None: NOT NULL in MySQL


@dataclass(frozen=True)
class Canonical:
    """One column's value as the canonical text a validation compares, on each side (NULL stays NULL): a
    MySQL expression over the source column giving what the load made of the value, and a Spark expression
    over the Iceberg column giving the same text."""

    mysql: str
    spark: str
    nulls_as_source: bool = True  # NULL exactly where the source value is NULL (not a zero date made NULL)


@dataclass(frozen=True)
class Ctx:
    """What a rule needs to build expressions for one column."""

    table: TableName
    column: Column
    alias: str  # the column's target name in Spark, backquoted

    @property
    def q(self) -> str:
        return quote_ident(self.column.name)

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column.name}"

    @property
    def override_key(self) -> str:
        return f'tables.overrides."{self.table}".columns.{self.column.name}.type'
