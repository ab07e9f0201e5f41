"""The CDC type contract in Arrow: for each column, the SQL an Arrow-native reader (ConnectorX) is given and how its
values become exactly what the JDBC path's Spark conversion makes of them (mapping.py), decided here (pure, per
column, picklable) and applied in the read tasks with pyarrow.compute (apply_conversion).

What ConnectorX 0.4.6 does with each MySQL type (read in its source and seen against MariaDB 10.11) decides the SQL:
integers keep their widths (BIGINT UNSIGNED is uint64), FLOAT is float32, DECIMAL is decimal128(38,10) (a scale
above 10 or more than 18 integer digits fails, more than 28 digits panics: such columns come as text), a DATE,
DATETIME or TIMESTAMP with a zero year, month or day panics (the server replaces those first, as Debezium does), a
TIME outside a day panics (TIME comes as text, as over JDBC), GEOMETRY panics (it comes as its internal bytes,
CAST(... AS BINARY)), and JSON is re-serialised with its keys sorted and big integers as floats (it comes as text).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cdc_migrate.contract.conversions import BIG_ENDIAN_POINT, bigint_unsigned_above, decimal_not_fitting, java_decoded
from cdc_migrate.contract.mapping import ColumnMapping, TableMapping
from cdc_migrate.contract.temporal import TIME_OUTSIDE, time_default_millis, zero_value
from cdc_migrate.contract.types import Ctx
from cdc_migrate.naming import TableName
from cdc_migrate.source.charsets import SINGLE_BYTE_JAVA, java_encoding
from cdc_migrate.sqltext import quote_ident, quote_table

# ConnectorX parses a DECIMAL into rust_decimal (28 significant digits) and rescales it to 10 places: a column whose
# values can have more integer digits or more places comes as text instead.
NATIVE_DECIMAL_SCALE = 10
NATIVE_DECIMAL_INTEGER_DIGITS = 18


class DataError(ValueError):
    """A value the contract cannot load (the same message as the JDBC path's, naming the table and column)."""


@dataclass(frozen=True)
class ArrowColumn:
    """One column as the Arrow path reads and converts it.

    pushed: the SQL the reader selects (AS the target name); kind: the conversion (apply_conversion); iceberg: the
    target type as Iceberg names it; outside_millis: a TIME outside a day in a NOT NULL column (its DEFAULT);
    message: the column's data error, with {value} where the value goes.
    """

    name: str
    pushed: str
    kind: str
    iceberg: str
    required: bool
    where: str
    precision: int = 0
    scale: int = 0
    source_scale: int = 0
    outside_millis: int | None = None
    message: str = ""
    encoding: str = ""  # a one-byte Java charset the column's bytes are decoded with (kind java_text)
    decoding: str = ""  # its 256 characters, byte by byte, as the JVM gives them (added where the load runs)

    def error(self, value: Any = None, text: str | None = None) -> DataError:
        what = (text or self.message).replace("{value}", str(value))
        return DataError(f"{self.where}: {what}")


class NotCarried(Exception):
    """A column the Arrow path cannot read (its table takes the JDBC path)."""


def arrow_column(table: TableName, column: ColumnMapping) -> ArrowColumn:
    """How the Arrow path reads and converts one mapped column (pure); NotCarried where it cannot."""
    src = column.source
    ctx = Ctx(table, src, quote_ident(column.name))
    rule, _, chosen = column.rule.partition(":")
    base = ArrowColumn(column.name, column.pushed, "", column.type.iceberg, column.required, ctx.where)
    as_char = f"CAST({ctx.q} AS CHAR)"
    if chosen == "string" or rule == "override":
        return _with(base, kind="string")
    if rule in ("tinyint1", "int", "year"):
        return _with(base, kind="year" if rule == "year" else "long" if chosen == "long" else "int")
    if rule == "long":
        return _with(base, kind="long")
    if rule == "bigint_unsigned":
        if chosen:
            return _with(base, kind="unsigned_decimal", precision=20)
        return _with(base, kind="unsigned_long", message=bigint_unsigned_above(ctx))
    if rule == "decimal":
        return _decimal(base, ctx, column, as_char)
    if rule in ("float", "double"):  # FLOAT(M,D) or the double override: the single-precision value, widened
        widened = rule == "float" and column.type.iceberg == "double"
        return _with(base, kind="float_double" if widened else column.type.iceberg)
    if rule == "bit":
        return _with(base, kind="boolean" if column.type.iceberg == "boolean" else "binary")
    if rule == "text" and java_decoded(ctx):
        encoding = java_encoding(src.character_set)
        if encoding not in SINGLE_BYTE_JAVA:
            raise NotCarried(
                f"{ctx.where} is {src.character_set} text, which Debezium decodes with Java's {encoding}, a charset "
                "of several bytes a character: only the JDBC path (Spark, in the JVM) decodes it the same way"
            )
        return _with(base, pushed=f"CAST({ctx.q} AS BINARY)", kind="java_text", encoding=encoding)
    if rule in ("text", "json"):
        return _with(base, pushed=as_char if rule == "json" else base.pushed, kind="string")
    if rule == "binary":
        return _with(base, kind="binary")
    if rule in ("date", "datetime", "timestamp"):
        return _temporal(base, ctx, rule, chosen)
    if rule == "time":
        return _with(base, kind="time", outside_millis=time_default_millis(src), message=TIME_OUTSIDE)
    if rule in ("point", "geometry"):
        return _with(base, pushed=f"CAST({ctx.q} AS BINARY)", kind=rule, message=BIG_ENDIAN_POINT)
    raise NotCarried(f"{ctx.where}: the Arrow path has no conversion for {column.rule}")


def _temporal(base: ArrowColumn, ctx: Ctx, rule: str, chosen: str) -> ArrowColumn:
    """A DATE, DATETIME or TIMESTAMP read as itself (not as text: the server formats no string, the reader parses
    none), its zero values replaced by the server as Debezium replaces them: a zero year, month or day (which
    ConnectorX cannot read) is NULL where the column is nullable, else its DEFAULT, else the epoch. A TIMESTAMP is
    read in the session's zone, UTC (Chunk.setup); a DATETIME is truncated to milliseconds after (floor, as the
    JDBC path's text is cut)."""
    q = ctx.q
    width = 10 if rule == "date" else 26 if chosen == "timestamp_micros" or rule == "timestamp" else 23
    zero = zero_value(ctx.column, width)
    literal = "NULL" if zero is None else f"{'DATE' if rule == 'date' else 'TIMESTAMP'}'{zero}'"
    # TO_DAYS is NULL for a zero month or day and below 366 in year 0: one call where YEAR, MONTH and DAYOFMONTH
    # were three (15% less of the server's CPU reading the 10M-row table)
    usable = f"YEAR({q}) > 0" if rule == "timestamp" else f"TO_DAYS({q}) >= 366"
    millis = rule == "datetime" and chosen != "timestamp_micros"
    kind = {"date": "native_date", "datetime": "native_datetime", "timestamp": "native_timestamp"}[rule]
    return _with(base, pushed=f"IF({usable}, {q}, {literal})", kind=kind, scale=3 if millis else 6)


def _decimal(base: ArrowColumn, ctx: Ctx, column: ColumnMapping, as_char: str) -> ArrowColumn:
    p, s = _precision(column.type.iceberg)
    source_p, source_s = ctx.column.numeric_precision or 0, ctx.column.numeric_scale or 0
    if source_p > 38:  # an override to decimal(P,S): the text, rounded half up to S places as Spark casts it
        message = decimal_not_fitting(ctx, p, s)
        return _with(base, kind="decimal_rounded", precision=p, scale=s, source_scale=source_s, message=message)
    if source_s <= NATIVE_DECIMAL_SCALE and source_p - source_s <= NATIVE_DECIMAL_INTEGER_DIGITS:
        return _with(base, kind="decimal", precision=p, scale=s)
    return _with(base, pushed=as_char, kind="decimal", precision=p, scale=s)


def _precision(iceberg: str) -> tuple[int, int]:
    p, s = iceberg[len("decimal(") : -1].split(",")
    return int(p), int(s)


def _with(base: ArrowColumn, **changes: Any) -> ArrowColumn:
    return replace(base, **changes)


def arrow_columns(mapping: TableMapping) -> tuple[ArrowColumn, ...]:
    """Every column of a table as the Arrow path reads it (pure); NotCarried naming the first it cannot."""
    return tuple(arrow_column(mapping.table, c) for c in mapping.columns)


def arrow_select(columns: tuple[ArrowColumn, ...], table: TableName, where: str | None) -> str:
    """The SELECT of one chunk: every column's SQL AS its target name, the chunk's key range."""
    items = ", ".join(f"{c.pushed} AS {quote_ident(c.name)}" for c in columns)
    return f"SELECT {items} FROM {quote_table(table)}" + (f" WHERE {where}" if where else "")
