"""A binlog row image's values as the text protocol would return the column, so that the type contract turns
them into what the load's pushed SELECT returns (pure: python-mysql-replication's decoded values in).

DATE/DATETIME/TIME as MySQL's text, TIMESTAMP as UNIX_TIMESTAMP, BIT as its number, SET as 'a,c'.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cdc_migrate.source.schema import Column, Key, SourceTable

Image = tuple[Any, ...]

_INT_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}
_ZERO_SOURCES = ("out of date range", "out of datetime range", "out of datetime2 range")
_SET_VALUES = re.compile(r"'((?:[^']|'')*)'")
_EPOCH = datetime(1970, 1, 1)


def _set_text(column: Column, value: Any) -> str:
    """A SET's members in the column's definition order, joined by commas, as MySQL shows them."""
    members = set(value) if not isinstance(value, str) else set(value.split(",")) - {""}
    return ",".join(m for m in labels(column) if m in members)


def _fraction(micros: int, digits: int) -> str:
    return f".{micros:06d}"[: digits + 1] if digits else ""


def _datetime_text(value: datetime, digits: int) -> str:
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}{_fraction(value.microsecond, digits)}"


def _time_text(value: timedelta, digits: int) -> str:
    total = value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds
    sign, total = ("-" if total < 0 else ""), abs(total)
    seconds, micros = divmod(total, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{_fraction(micros, digits)}"


def _json_text(value: Any) -> str:
    """MySQL 8's binary JSON as decoded by python-mysql-replication, back to text (MySQL's spacing)."""

    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return v.decode("utf-8")
        if isinstance(v, dict):
            return {plain(k): plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), ensure_ascii=False)


def canonical_value(column: Column, value: Any, none_source: str | None = None) -> Any:
    """A binlog row image's value (as python-mysql-replication decodes it) as the text protocol gives it.

    A zero DATE/DATETIME (the decoder gives None, "out of date range") becomes MySQL's zero text, an empty SET
    (None, "empty set") the empty string, so that the contract's rules see what the load sees.
    """
    kind = column.data_type
    if value is None:
        if none_source in _ZERO_SOURCES:
            return "0000-00-00" if kind == "date" else "0000-00-00 00:00:00"
        if none_source == "empty set":
            return ""
        return None
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        return value + (1 << bits) if column.unsigned and value < 0 else int(value)
    if kind == "bit":
        return int(value, 2) if isinstance(value, str) else int(value)
    if kind == "set":
        return _set_text(column, value)
    if kind == "json" and not isinstance(value, str | bytes):
        return _json_text(value)
    if kind in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob") or kind in _GEOMETRY:
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if kind == "binary":  # BINARY(n) is padded with zero bytes, which the row image leaves out
            width = int(re.sub(r"\D", "", column.column_type) or len(data))
            data = data.ljust(width, b"\x00")
        return data
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    digits = column.datetime_precision or 0
    if kind == "date" and isinstance(value, date):
        return f"{value.year:04d}-{value:%m-%d}"
    if kind == "datetime" and isinstance(value, datetime):
        return _datetime_text(value, digits)
    if kind == "timestamp" and isinstance(value, datetime):
        # The decoder gives the stored UTC instant as a naive datetime; the load reads UNIX_TIMESTAMP().
        delta = value.replace(tzinfo=None) - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        seconds = Decimal(micros).scaleb(-6).quantize(Decimal(1).scaleb(-digits))
        return int(seconds) if digits == 0 else seconds
    if kind == "time" and isinstance(value, timedelta):
        return _time_text(value, digits)
    return value


_GEOMETRY = (
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
)


def canonical_row(table: SourceTable, values: Mapping[str, Any], none_sources: Mapping[str, str]) -> Image:
    """A row image in the table's column order, by position (names from the image's own order; the caller has
    checked that the image has the table's columns)."""
    raw = list(values.items())
    return tuple(
        canonical_value(column, value, none_sources.get(name))
        for column, (name, value) in zip(table.columns, raw, strict=True)
    )


def key_of(table: SourceTable, image: Image) -> Key:
    """The primary key's values in a row image."""
    return tuple(image[i] for i in key_positions(table))


def key_positions(table: SourceTable) -> tuple[int, ...]:
    """Where the primary key's columns are in a row image."""
    index = {c.name.lower(): i for i, c in enumerate(table.columns)}
    return tuple(index[k.lower()] for k in table.primary_key)


# The binlog's column type codes (MySQL's enum_field_types, as a table map event carries them; ENUM and SET as their
# real types) each MySQL type is logged as: the per-event check that a row event's columns are still the planned
# table's (with binlog_row_metadata=MINIMAL the event has no names, and columns are matched by position).
_LOGGED_AS: dict[str, frozenset[int]] = {
    "tinyint": frozenset({1}),
    "smallint": frozenset({2}),
    "mediumint": frozenset({9}),
    "int": frozenset({3}),
    "integer": frozenset({3}),
    "bigint": frozenset({8}),
    "float": frozenset({4}),
    "double": frozenset({5}),
    "real": frozenset({5}),
    "decimal": frozenset({0, 246}),
    "numeric": frozenset({0, 246}),
    "date": frozenset({10, 14}),
    "datetime": frozenset({12, 18}),
    "timestamp": frozenset({7, 17}),
    "time": frozenset({11, 19}),
    "year": frozenset({13}),
    "char": frozenset({253, 254}),
    "binary": frozenset({253, 254}),
    "varchar": frozenset({15, 253}),
    "varbinary": frozenset({15, 253}),
    "enum": frozenset({247, 254}),
    "set": frozenset({248, 254}),
    "bit": frozenset({16}),
    "json": frozenset({245, 249, 250, 251, 252}),  # MariaDB's JSON is a LONGTEXT
    **{t: frozenset({249, 250, 251, 252}) for t in ("tinytext", "text", "mediumtext", "longtext")},
    **{t: frozenset({249, 250, 251, 252}) for t in ("tinyblob", "blob", "mediumblob", "longblob")},
    **dict.fromkeys(_GEOMETRY, frozenset({255})),
}


def logged_as(column: Column) -> frozenset[int] | None:
    """The binlog type codes a column of this definition is logged as (None: not known here, not checked)."""
    return _LOGGED_AS.get(column.data_type)


def labels(column: Column) -> list[str]:
    """An ENUM's or SET's labels in definition order, from its column type."""
    return [m.replace("''", "'") for m in _SET_VALUES.findall(column.column_type)]


def decimal_positions(table: SourceTable) -> tuple[int, ...]:
    """Where a table's DECIMAL columns are in its images (each value a Decimal or None, whoever decoded it)."""
    return tuple(i for i, c in enumerate(table.columns) if c.data_type == "decimal")


def packed(image: Image, decimals: tuple[int, ...]) -> bytes:
    """An image as the change log's spool keeps it: pickled, its DECIMAL values (at `decimals`) as their text,
    which gives back the same Decimal, digits and exponent alike (a Decimal pickles five times slower)."""
    return pickle.dumps(_converted(image, decimals, str) if decimals else image)


def unpacked(data: bytes, decimals: tuple[int, ...]) -> Image:
    """The image `packed` kept."""
    image: Image = pickle.loads(data)
    return _converted(image, decimals, Decimal) if decimals else image


def _converted(image: Image, positions: tuple[int, ...], convert: Callable[[Any], Any]) -> Image:
    values = list(image)
    for i in positions:
        if values[i] is not None:
            values[i] = convert(values[i])
    return tuple(values)
