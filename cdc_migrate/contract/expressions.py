"""Spark SQL building blocks of the contract's conversions: a load-stopping error, little-endian bytes (pure)."""

from __future__ import annotations

ERROR_PREFIX = "cdc-migrate: "
# The JVM's long (Spark's, Debezium's).
LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


def message_text(text: str) -> str:
    """Text safe inside a Spark SQL single-quoted literal."""
    return text.replace("\\", "/").replace("'", "")


def fail(where: str, what: str, value_sql: str | None = None) -> str:
    """A Spark SQL expression that stops the load with a message naming table and column."""
    head = message_text(f"{ERROR_PREFIX}{where}: ")
    if value_sql is None:
        return f"raise_error('{head}{message_text(what)}')"
    before, _, after = what.partition("{value}")
    value = f"CAST({value_sql} AS STRING)"
    return f"raise_error(concat('{head}{message_text(before)}', {value}, '{message_text(after)}'))"


def le_hex(binary_sql: str, start: int, length: int) -> str:
    """Hex of `length` bytes from 1-based `start`, in reverse (little-endian -> big-endian) order."""
    parts = [f"hex(substring({binary_sql}, {start + i}, 1))" for i in reversed(range(length))]
    return f"concat({', '.join(parts)})"


def le_double(binary_sql: str, start: int) -> str:
    bits = f"CAST(conv({le_hex(binary_sql, start, 8)}, 16, -10) AS BIGINT)"
    return f"CAST(java_method('java.lang.Double', 'longBitsToDouble', {bits}) AS DOUBLE)"
