"""Key values as SQL literals, for MySQL and for Spark: how planning, reading and validating write a key's
bounds (pure). The literal follows the Python type PyMySQL returns for the column's MySQL type."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cdc_migrate.contract.expressions import LONG_MAX, LONG_MIN
from cdc_migrate.source.schema import Column


def sql_literal(value: Any, column: Column) -> str:
    """A MySQL literal for a key value that compares as the column does (its charset and collation)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray):
        return f"X'{bytes(value).hex()}'" if value else "''"
    if isinstance(value, datetime | date):
        return f"'{value.isoformat(sep=' ') if isinstance(value, datetime) else value.isoformat()}'"
    if isinstance(value, timedelta):
        total = value.total_seconds()
        sign, total = ("-" if total < 0 else ""), abs(total)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"'{sign}{int(hours):02d}:{int(minutes):02d}:{seconds:09.6f}'"
    text = str(value)
    literal = f"_utf8mb4 X'{text.encode().hex()}'" if text else "_utf8mb4''"
    if column.character_set and column.collation:
        return f"CONVERT({literal} USING {column.character_set}) COLLATE {column.collation}"
    return literal


def spark_literal(value: Any) -> str:
    """A Spark SQL literal for a key value as PyMySQL returns it (the Iceberg column's type)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}L" if LONG_MIN <= value <= LONG_MAX else f"{value}BD"  # BIGINT UNSIGNED beyond a long
    if isinstance(value, Decimal):
        return f"{value}BD"
    if isinstance(value, datetime):
        return f"TIMESTAMP_NTZ'{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE'{value.isoformat()}'"
    if isinstance(value, bytes | bytearray):
        return f"X'{bytes(value).hex()}'"
    return f"CAST(unhex('{str(value).encode().hex()}') AS STRING)"


def sql_literals(key: Sequence[Any], columns: Sequence[Column]) -> list[str]:
    """A key's values as MySQL literals, one per key column."""
    return [sql_literal(v, c) for v, c in zip(key, columns, strict=True)]


def spark_literals(key: Sequence[Any]) -> list[str]:
    """A key's values as Spark SQL literals."""
    return [spark_literal(v) for v in key]
