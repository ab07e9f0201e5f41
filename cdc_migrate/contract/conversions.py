"""The contract's numbers, text, bits and geometry: how each loads (pushed SQL, Spark conversion, binlog form)
and the canonical text a validation compares (pure). Dates and times are in temporal.py."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from cdc_migrate.contract.expressions import LONG_MAX, fail, le_double, le_hex
from cdc_migrate.contract.types import (
    BINARY,
    BOOLEAN,
    DOUBLE,
    FLOAT,
    GEOMETRY,
    INT,
    LONG,
    POINT,
    STRING,
    BinlogForm,
    Canonical,
    Choice,
    Ctx,
    TargetType,
    decimal,
)
from cdc_migrate.errors import PlanningError
from cdc_migrate.source.charsets import REENCODING, UNDECODABLE_BYTES, decoded_by_java, java_encoding

ChoiceBuilder = Callable[[Ctx], Choice]


def as_is(t: TargetType) -> ChoiceBuilder:
    return lambda c: Choice(t, c.q, c.alias)


def as_char(value: Any) -> Any:
    """What MySQL's CAST(value AS CHAR) gives for a value of the text protocol's kind."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def text_choice(c: Ctx) -> Choice:
    return Choice(STRING, f"CAST({c.q} AS CHAR)", c.alias, as_char)


# The text types whose value is the column's bytes in its character set (ENUM and SET are labels).
CHARACTER_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext")


def java_decoded(c: Ctx) -> bool:
    """A text column whose character set Debezium decodes with a Java charset other than UTF-8 (source/charsets.py):
    read as its bytes and decoded as Java does."""
    return c.column.data_type in CHARACTER_TYPES and decoded_by_java(c.column.character_set)


def _bytes_of(value: Any) -> Any:
    """The change log keeps such a column's bytes one character per byte (charsets.BYTES_AS_TEXT)."""
    return value.encode("latin-1") if isinstance(value, str) else value


def text_default(c: Ctx) -> Choice:
    """A text column as it is, or (java_decoded) its bytes decoded with its Java charset, as Debezium decodes them."""
    if not java_decoded(c):
        return Choice(STRING, c.q, c.alias)
    encoding = java_encoding(c.column.character_set)
    return Choice(STRING, f"CAST({c.q} AS BINARY)", f"decode({c.alias}, '{encoding}')", _bytes_of)


def java_note(c: Ctx) -> str:
    """What CDC writes differently from MySQL for a java_decoded column (the load does the same)."""
    encoding = java_encoding(c.column.character_set)
    return (
        f"decoded as Debezium decodes it, with Java's {encoding}: what Java cannot decode (as {encoding} has no "
        "character for it) is U+FFFD where MySQL shows a character"
    )


def bigint_unsigned_above(c: Ctx) -> str:
    """The error for a BIGINT UNSIGNED value a long cannot hold ({value} where the value goes)."""
    return (
        "BIGINT UNSIGNED value {value} is above 2^63-1, which Debezium (bigint.unsigned.handling.mode=long) would "
        f'wrap to a negative number. Fix both sides: load it as decimal(20,0) with {c.override_key} = "decimal(20,0)" '
        "and set bigint.unsigned.handling.mode=precise on the Debezium connector"
    )


def decimal_not_fitting(c: Ctx, precision: int, scale: int) -> str:
    p, s = c.column.numeric_precision or 0, c.column.numeric_scale or 0
    return f"DECIMAL({p},{s}) value {{value}} does not fit decimal({precision},{scale})"


BIG_ENDIAN_POINT = "POINT with big-endian WKB is not supported"


def bigint_unsigned_long(c: Ctx) -> Choice:
    stop = fail(c.where, bigint_unsigned_above(c), c.alias)
    return Choice(LONG, c.q, f"CASE WHEN {c.alias} > {LONG_MAX} THEN {stop} ELSE {c.alias} END")


def decimal_choice(precision: int, scale: int) -> ChoiceBuilder:
    def build(c: Ctx) -> Choice:
        p, s = c.column.numeric_precision or 0, c.column.numeric_scale or 0
        if p <= 38:
            return Choice(decimal(p, s), c.q, c.alias)
        stop = fail(c.where, decimal_not_fitting(c, precision, scale), c.alias)
        parsed = f"CAST({c.alias} AS DECIMAL({precision},{scale}))"
        return Choice(
            decimal(precision, scale),
            f"CAST({c.q} AS CHAR)",
            f"CASE WHEN {c.alias} IS NULL THEN NULL WHEN {parsed} IS NULL THEN {stop} ELSE {parsed} END",
            as_char,
        )

    return build


def decimal_default(c: Ctx) -> Choice:
    p, s = c.column.numeric_precision or 0, c.column.numeric_scale or 0
    if p > 38:
        raise PlanningError(
            f"{c.where} is DECIMAL({p},{s}); Iceberg decimals hold at most 38 digits. Choose how to load it: "
            f'{c.override_key} = "string", or "decimal(38,{min(s, 38)})" (values that do not fit stop the load)'
        )
    return decimal_choice(p, s)(c)


def float_choice(c: Ctx) -> Choice:
    if c.column.numeric_scale is None:
        return Choice(FLOAT, c.q, c.alias)
    # FLOAT(M,D): Debezium sends the single-precision value widened to float64.
    return float_as_double(c)


def float_as_double(c: Ctx) -> Choice:
    return Choice(DOUBLE, c.q, f"CAST(CAST({c.alias} AS FLOAT) AS DOUBLE)")


def _bit_bytes(width: int) -> BinlogForm:
    return lambda v: None if v is None else int(v).to_bytes(width, "little")


def bit_choice(c: Ctx) -> Choice:
    bits = c.column.numeric_precision or 1
    if bits == 1:
        return Choice(BOOLEAN, f"CAST({c.q} AS UNSIGNED)", f"{c.alias} <> 0")
    # MySQL gives BIT(n) as ceil(n/8) big-endian bytes; Debezium's io.debezium.data.Bits are little-endian.
    return Choice(BINARY, f"REVERSE({c.q})", c.alias, _bit_bytes((bits + 7) // 8))


def tinyint1_choice(c: Ctx) -> Choice:
    return Choice(INT, f"CAST({c.q} AS SIGNED)", c.alias)


def _srid(binary_sql: str) -> str:
    # Debezium sends an SRID of 0 as null (io.debezium.data.geometry.Geometry's srid is optional).
    return f"NULLIF(CAST(conv({le_hex(binary_sql, 1, 4)}, 16, 10) AS INT), 0)"


def geometry_choice(c: Ctx) -> Choice:
    # MySQL's internal value: 4 bytes little-endian SRID, then the WKB. Debezium's Geometry schema is always
    # optional, so the column is too (the sink would relax a required one on its first record).
    a = c.alias
    return Choice(
        GEOMETRY,
        c.q,
        f"CASE WHEN {a} IS NULL THEN NULL ELSE named_struct('wkb', substring({a}, 5), 'srid', {_srid(a)}) END",
        required=False,
    )


def point_choice(c: Ctx) -> Choice:
    # WKB of a point: byte order (1), type (4), x (8), y (8); MySQL writes little-endian (byte order 1).
    a = c.alias
    stop = fail(c.where, BIG_ENDIAN_POINT)
    x, y = le_double(a, 10), le_double(a, 18)
    return Choice(
        POINT,
        c.q,
        f"CASE WHEN {a} IS NULL THEN NULL WHEN substring({a}, 5, 1) <> X'01' THEN {stop} ELSE named_struct("
        f"'x', {x}, 'y', {y}, 'wkb', substring({a}, 5), 'srid', {_srid(a)}) END",
        required=False,
    )


# ---- canonical text (what a validation compares) -------------------------------------------------------
# Each takes the column's context, the load's choice and the override named (None: the contract's default).


def text_canonical(c: Ctx, choice: Choice | None = None, override: str | None = None) -> Canonical:
    """The column's text (also any column loaded with the `string` override)."""
    return Canonical(f"CONVERT(CAST({c.q} AS CHAR) USING utf8mb4)", c.alias)


def number_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    return Canonical(f"CAST({c.q} AS CHAR)", f"CAST({c.alias} AS STRING)")


def tinyint1_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    return Canonical(f"CAST(CAST({c.q} AS SIGNED) AS CHAR)", f"CAST({c.alias} AS STRING)")


def decimal_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    scale = choice.type.sql.split(",")[-1].rstrip(")") if choice.type.sql.startswith("DECIMAL") else "0"
    mysql = f"CAST({c.q} AS CHAR)" if override is None else f"CAST(CAST({c.q} AS DECIMAL(38,{scale})) AS CHAR)"
    return Canonical(mysql, f"replace(format_number({c.alias}, {scale}), ',', '')")


def uncompared(c: Ctx, choice: Choice, override: str | None) -> None:
    """FLOAT and DOUBLE: compared by presence (NULL or not) only."""
    return None


def bit_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    if (c.column.numeric_precision or 1) == 1:
        return Canonical(f"CAST(({c.q} <> 0) AS CHAR)", f"CAST(CAST({c.alias} AS INT) AS STRING)")
    return Canonical(f"HEX(REVERSE({c.q}))", f"hex({c.alias})")


def string_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    if not java_decoded(c):
        return Canonical(f"CONVERT({c.q} USING utf8mb4)", c.alias)
    # The bytes on both sides: MySQL's as stored (what its Java charset cannot decode counted as '?', which U+FFFD
    # encodes back to), Iceberg's value encoded back with that charset.
    encoding = java_encoding(c.column.character_set)
    raw = f"CAST({c.q} AS BINARY)"
    for byte in UNDECODABLE_BYTES.get(encoding, b""):
        raw = f"REPLACE({raw}, X'{byte:02X}', X'3F')"
    return Canonical(f"HEX({raw})", f"hex(encode({c.alias}, '{REENCODING.get(encoding, encoding)}'))")


def binary_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    return Canonical(f"HEX({c.q})", f"hex({c.alias})")


def geometry_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    """An SRID of 0 is loaded as a null srid, as Debezium sends it."""
    q, s = c.q, c.alias
    return Canonical(
        f"CONCAT(COALESCE(NULLIF(ST_SRID({q}), 0), ''), ':', HEX(SUBSTRING({q}, 5)))",
        f"concat(coalesce(CAST({s}.srid AS STRING), ''), ':', hex({s}.wkb))",
    )
