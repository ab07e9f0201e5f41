"""A row event's images decoded straight from its bytes into the canonical values of source/rowimage.py (pure: bytes
in, images out), by a reader compiled once per table layout: Python code with each column's decoding written out,
instead of python-mysql-replication's generic decoder (a method call per byte read and per value, then
canonical_value's conversion of its objects), which read a narrow table's events at 15,000 a second.

It gives exactly what canonical_row makes of python-mysql-replication's values (tests/unit/test_rowdecode.py holds
the two side by side over every type); a layout it does not know (MySQL 8's binary JSON, the pre-5.6 temporal
types, a partial row image) compiles to None, and those events take python-mysql-replication's way.

An UPDATE's before image is read for its key only: the other columns are skipped by their lengths.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cdc_migrate.source.rowimage import Image, labels
from cdc_migrate.source.schema import SourceTable

# MySQL's enum_field_types as a table map carries them.
TINY, SHORT, LONG, FLOAT, DOUBLE, INT24, LONGLONG = 1, 2, 3, 4, 5, 9, 8
DATE, YEAR, VARCHAR, BIT, TIMESTAMP2, DATETIME2, TIME2 = 10, 13, 15, 16, 17, 18, 19
NEWDECIMAL, ENUM, SET, BLOB, VAR_STRING, STRING, GEOMETRY = 246, 247, 248, 252, 253, 254, 255
_DECIMAL_BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)
_TWO = tuple(f"{i:02d}" for i in range(100))  # two digits of a date or time, formatted once
_BINARY_KINDS = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")


@dataclass(frozen=True)
class Logged:
    """A column as the event's table map logs it: its type code and what its metadata says (length prefix bytes,
    maximum length, fractional digits, precision and scale, BIT's bits, ENUM/SET's byte width), and how its text
    is decoded (the character set name the change log gave it)."""

    type: int
    length_size: int = 0
    max_length: int = 0
    fsp: int = 0
    precision: int = 0
    decimals: int = 0
    bits: int = 0
    size: int = 0
    charset: str | None = None
    enum_values: tuple[str, ...] = ()
    set_values: tuple[str, ...] = ()


def logged(column: Any) -> Logged:
    """A python-mysql-replication table-map column as a Logged."""
    return Logged(
        type=int(column.type),
        length_size=int(getattr(column, "length_size", 0) or 0),
        max_length=int(getattr(column, "max_length", 0) or 0),
        fsp=int(getattr(column, "fsp", 0) or 0),
        precision=int(getattr(column, "precision", 0) or 0),
        decimals=int(getattr(column, "decimals", 0) or 0),
        bits=int(getattr(column, "bits", 0) or 0),
        size=int(getattr(column, "size", 0) or 0),
        charset=getattr(column, "character_set_name", None),
        enum_values=tuple(getattr(column, "enum_values", None) or ()),
        set_values=tuple(getattr(column, "set_values", None) or ()),
    )


@dataclass(frozen=True)
class RowReader:
    """A table layout's compiled readers: `images(data, before_key_only)` of a rows event's data (after its
    bitmaps), as (before, after) pairs for an UPDATE, else single images."""

    write: Callable[[bytes], list[Image]]
    update: Callable[[bytes], list[tuple[Image, Image]]]


def _fsp_bytes(fsp: int) -> int:
    return (fsp + 1) // 2


def _text(charset: str | None) -> str | None:
    """The codec python-mysql-replication decodes a text value's bytes with (pymysql's name for the character set,
    UTF-8 where none is logged); None where it has no such codec and keeps the bytes (its 'binary')."""
    import codecs

    from pymysql.charset import charset_by_name

    if charset is None:
        return "utf-8"
    known = charset_by_name(charset)
    encoding = known.encoding if known else charset
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None
    return encoding


class _Code:
    """The lines of a generated reader."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    def add(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _length(code: _Code, i: int, size: int, at: int) -> None:
    """n{i}: a length prefix of `size` little-endian bytes at pos."""
    if size == 1:
        code.add(at, f"n{i} = b[p]; p += 1")
    elif size == 2:
        code.add(at, f"n{i} = b[p] | b[p + 1] << 8; p += 2")
    else:
        code.add(at, f"n{i} = int.from_bytes(b[p:p + {size}], 'little'); p += {size}")


def _value(code: _Code, i: int, column: Any, log: Logged, at: int, skip: bool) -> bool:
    """Lines setting v{i} from the bytes at p (or only moving p past them, with `skip`); False where unknown."""
    t, v = log.type, f"v{i}"
    ints = {TINY: 1, SHORT: 2, INT24: 3, LONG: 4, LONGLONG: 8}
    if t in ints:
        width = ints[t]
        if not skip:
            code.add(at, f"{v} = int.from_bytes(b[p:p + {width}], 'little', signed={not column.unsigned})")
        code.add(at, f"p += {width}")
    elif t in (FLOAT, DOUBLE):
        width = 4 if t == FLOAT else 8
        if not skip:
            code.add(at, f"{v} = {'UF' if t == FLOAT else 'UD'}(b, p)[0]")
        code.add(at, f"p += {width}")
    elif t == YEAR:
        if not skip:
            code.add(at, f"{v} = b[p] + 1900")
        code.add(at, "p += 1")
    elif t == NEWDECIMAL:
        size = _decimal_size(log.precision, log.decimals)
        if not skip:
            _decimal_lines(code, v, log.precision, log.decimals, at)
        code.add(at, f"p += {size}")
    elif t == DATE:
        if not skip:
            code.add(at, f"{v} = DATE_TEXT(b[p] | b[p + 1] << 8 | b[p + 2] << 16)")
        code.add(at, "p += 3")
    elif t in (DATETIME2, TIMESTAMP2, TIME2):
        base = {DATETIME2: 5, TIMESTAMP2: 4, TIME2: 3}[t]
        size = base + _fsp_bytes(log.fsp)
        if not skip:
            digits = column.datetime_precision or 0
            fn = {DATETIME2: "DATETIME_TEXT", TIMESTAMP2: "TIMESTAMP_VALUE", TIME2: "TIME_TEXT"}[t]
            code.add(at, f"{v} = {fn}(b[p:p + {size}], {log.fsp}, {digits})")
        code.add(at, f"p += {size}")
    elif t in (VARCHAR, VAR_STRING, STRING, BLOB, GEOMETRY):
        return _sized(code, i, column, log, at, skip)
    elif t == ENUM:
        if log.size not in (1, 2):
            return False
        index = "b[p]" if log.size == 1 else "(b[p] | b[p + 1] << 8)"
        if not skip:
            values = code.const(log.enum_values) if log.enum_values else None
            code.add(at, f"{v} = {values}[{index}]" if values else f"{v} = None")
        code.add(at, f"p += {log.size}")
    elif t == SET:
        if not skip:
            members = code.const(tuple(log.set_values))
            order = code.const(tuple(labels(column)))
            code.add(at, f"{v} = SET_TEXT(int.from_bytes(b[p:p + {log.size}], 'little'), {members}, {order})")
        code.add(at, f"p += {log.size}")
    elif t == BIT:
        size = (log.bits + 7) // 8
        if not skip:
            code.add(at, f"{v} = int.from_bytes(b[p:p + {size}], 'big') & {(1 << log.bits) - 1}")
        code.add(at, f"p += {size}")
    else:
        return False
    return True


def _sized(code: _Code, i: int, column: Any, log: Logged, at: int, skip: bool) -> bool:
    """A value its length comes before: text, bytes, a geometry."""
    t = log.type
    prefix = log.length_size if t in (BLOB, GEOMETRY) else 2 if log.max_length > 255 else 1
    if prefix not in (1, 2, 3, 4):
        return False
    _length(code, i, prefix, at)
    if not skip:
        code.add(at, f"v{i} = {_string(code, column, log, column.data_type.lower(), t, i)}")
    code.add(at, f"p += n{i}")
    return True


def _string(code: _Code, column: Any, log: Logged, kind: str, t: int, i: int) -> str:
    raw = f"b[p:p + n{i}]"
    if t == GEOMETRY or kind in _BINARY_KINDS:
        if kind == "binary":  # BINARY(n) is padded with zero bytes, which the row image leaves out
            width = int("".join(ch for ch in column.column_type if ch.isdigit()) or 0)
            return f"bytes({raw}).ljust({width}, b'\\x00')"
        return f"bytes({raw})"
    how = _text(log.charset)
    if how is None:  # bytes kept by the reader, then decoded by canonical_value
        return f"{raw}.decode('utf-8', 'replace')"
    return f"{raw}.decode({how!r})"


def _decimal_size(precision: int, scale: int) -> int:
    integral = precision - scale
    return (integral // 9) * 4 + _DECIMAL_BYTES[integral % 9] + (scale // 9) * 4 + _DECIMAL_BYTES[scale % 9]


@functools.lru_cache(maxsize=256)
def _decimal_layout(precision: int, scale: int) -> tuple[int, tuple[tuple[int, int, int], ...], int]:
    """A binary DECIMAL's bytes, its digit groups as (shift, mask, digits) in the big-endian number of all its
    bytes, and how many of them are the integer part's."""
    integral = precision - scale
    sizes: list[tuple[int, int]] = []  # (bytes, digits)
    if integral % 9:
        sizes.append((_DECIMAL_BYTES[integral % 9], integral % 9))
    sizes += [(4, 9)] * (integral // 9)
    whole = len(sizes)
    sizes += [(4, 9)] * (scale // 9)
    if scale % 9:
        sizes.append((_DECIMAL_BYTES[scale % 9], scale % 9))
    total = sum(n for n, _ in sizes)
    groups, at = [], total
    for n, digits in sizes:
        at -= n
        groups.append((8 * at, (1 << (8 * n)) - 1, digits))
    return total, tuple(groups), whole


def _decimal_lines(code: _Code, v: str, precision: int, scale: int, at: int) -> None:
    """_decimal written out for one column: its groups' shifts, masks and weights as constants."""
    size, groups, whole = _decimal_layout(precision, scale)
    top = 1 << (8 * size - 1)

    def number(parts: tuple[tuple[int, int, int], ...]) -> str:
        terms, weight = [], 1
        for shift, mask, digits in reversed(parts):
            terms.append(f"((x >> {shift}) & {mask})" + (f" * {weight}" if weight != 1 else ""))
            weight *= 10**digits
        return " + ".join(reversed(terms)) or "0"

    code.add(at, f"x = int.from_bytes(b[p:p + {size}], 'big')")
    code.add(at, f"if x & {top}:")
    code.add(at + 1, f"x ^= {top}; s = ''")
    code.add(at, "else:")
    code.add(at + 1, f"x ^= {top - 1}; s = '-'")
    if scale:
        code.add(at, f"{v} = DECIMAL(f'{{s}}{{{number(groups[:whole])}}}.{{{number(groups[whole:])}:0{scale}d}}')")
    else:
        code.add(at, f"{v} = DECIMAL(f'{{s}}{{{number(groups[:whole])}}}')")


def _fraction(data: bytes, fsp: int) -> int:
    """The fractional seconds after a temporal value's integer part, in microseconds (signed, as the reader)."""
    if not fsp:
        return 0
    micros = int.from_bytes(data, "big", signed=True)
    if fsp % 2:
        micros = int(micros / 10)
    return int(micros * 10 ** (6 - fsp))


def _date_text(packed: int) -> str:
    year, month, day = packed >> 9, (packed >> 5) & 15, packed & 31
    if not (year and month and day):
        return "0000-00-00"
    date(year, month, day)  # the reader's own check: an impossible date fails the same way
    return f"{year:04d}-{month:02d}-{day:02d}"


def _digits(micros: int, digits: int) -> str:
    return f".{micros:06d}"[: digits + 1] if digits else ""


def _datetime_text(data: bytes, fsp: int, digits: int) -> str:
    packed = int.from_bytes(data[:5], "big")
    year_month = (packed >> 22) & 0x1FFFF
    year, month = year_month // 13, year_month % 13
    day, hour = (packed >> 17) & 31, (packed >> 12) & 31
    minute, second = (packed >> 6) & 63, packed & 63
    # a value every month has is checked here; the others as the reader checks them, by making the datetime
    if not (year and 1 <= month <= 12 and 1 <= day <= 28 and hour < 24 and minute < 60 and second < 60):
        try:
            datetime(year, month, day, hour, minute, second)
        except ValueError:
            return "0000-00-00 00:00:00"
    two = _TWO
    text = f"{year:04d}-{two[month]}-{two[day]} {two[hour]}:{two[minute]}:{two[second]}"
    if not digits:
        return text
    micros = _fraction(data[5:], fsp)
    return text + f".{micros if micros > 0 else 0:06d}"[: digits + 1]


def _timestamp_value(data: bytes, fsp: int, digits: int) -> Any:
    seconds = int.from_bytes(data[:4], "big", signed=True)
    micros = _fraction(data[4:], fsp)
    total = seconds * 1_000_000 + (micros if micros > 0 else 0)
    value = Decimal(total).scaleb(-6).quantize(Decimal(1).scaleb(-digits))
    return int(value) if digits == 0 else value


def _time_text(data: bytes, fsp: int, digits: int) -> str:
    packed = int.from_bytes(data[:3], "big", signed=True)
    sign = 1 if (packed >> 23) & 1 else -1
    if sign == -1:
        packed = ~packed + 1
    value = (
        timedelta(
            hours=(packed >> 12) & 0x3FF,
            minutes=(packed >> 6) & 63,
            seconds=packed & 63,
            microseconds=_fraction(data[3:], fsp),
        )
        * sign
    )
    total = value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds
    text_sign, total = ("-" if total < 0 else ""), abs(total)
    whole, micros = divmod(total, 1_000_000)
    hours, rest = divmod(whole, 3600)
    return f"{text_sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{_digits(micros, digits)}"


def _set_text(mask: int, members: Sequence[str], order: Sequence[str]) -> str:
    present = {m for i, m in enumerate(members) if mask & (1 << i)}
    return ",".join(m for m in order if m in present)


_HELPERS: dict[str, Any] = {
    "UF": struct.Struct("<f").unpack_from,
    "UD": struct.Struct("<d").unpack_from,
    "DECIMAL": Decimal,
    "DATE_TEXT": _date_text,
    "DATETIME_TEXT": _datetime_text,
    "TIMESTAMP_VALUE": _timestamp_value,
    "TIME_TEXT": _time_text,
    "SET_TEXT": _set_text,
}


def _image(code: _Code, table: SourceTable, layout: Sequence[Logged], name: str, only: set[int] | None) -> bool:
    """def {name}(b, p) -> (image, p): one image (all columns present); only: the columns to decode."""
    count = len(layout)
    code.add(0, f"def {name}(b, p):")
    code.add(1, f"nulls = int.from_bytes(b[p:p + {(count + 7) // 8}], 'little'); p += {(count + 7) // 8}")
    for i, (column, log) in enumerate(zip(table.columns, layout, strict=True)):
        skip = only is not None and i not in only
        code.add(1, f"if nulls >> {i} & 1:")
        code.add(2, f"v{i} = None")
        code.add(1, "else:")
        if not _value(code, i, column, log, 2, skip):
            return False
        if skip:
            code.add(2, f"v{i} = None")
    code.add(1, f"return ({', '.join(f'v{i}' for i in range(count))},), p")
    return True


def compile_reader(table: SourceTable, layout: Sequence[Logged]) -> RowReader | None:
    """The readers of `table`'s row images as logged with `layout`; None where a column is of a kind this module
    does not read (those events keep python-mysql-replication's way)."""
    if len(layout) != len(table.columns):
        return None
    key = {i for i, c in enumerate(table.columns) if c.name.lower() in {k.lower() for k in table.primary_key}}
    code = _Code()
    if not _image(code, table, layout, "full", None):
        return None
    if not _image(code, table, layout, "keyed", key if table.primary_key else None):
        return None
    code.add(0, "def write(b):")
    code.add(1, "out, p, end = [], 0, len(b)")
    code.add(1, "while p < end:")
    code.add(2, "image, p = full(b, p)")
    code.add(2, "out.append(image)")
    code.add(1, "return out")
    code.add(0, "def update(b):")
    code.add(1, "out, p, end = [], 0, len(b)")
    code.add(1, "while p < end:")
    code.add(2, "before, p = keyed(b, p)")
    code.add(2, "after, p = full(b, p)")
    code.add(2, "out.append((before, after))")
    code.add(1, "return out")
    scope: dict[str, Any] = {**_HELPERS, **code.consts}
    exec(compile("\n".join(code.lines), f"<row reader {table.name}>", "exec"), scope)
    return RowReader(scope["write"], scope["update"])
