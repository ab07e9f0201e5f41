"""The CDC type contract, one row per MySQL type: which columns, what Debezium sends, how the load reads and
converts them, the other ways to load them, what CDC writes differently from MySQL, how a validation compares
them, and whether their keys split into ranges that MySQL and Iceberg order alike (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cdc_migrate.contract import conversions as v
from cdc_migrate.contract import temporal as t
from cdc_migrate.contract.types import BINARY, DOUBLE, INT, LONG, STRING, Canonical, Choice, Ctx, decimal
from cdc_migrate.source.schema import Column

ChoiceBuilder = Callable[[Ctx], Choice]
CanonicalForm = Callable[[Ctx, Choice, str | None], Canonical | None]
ColumnTest = Callable[[Column], bool]


def _of(*types: str) -> ColumnTest:
    return lambda c: c.data_type in types


def _always(c: Column) -> bool:
    return True


def _never(c: Column) -> bool:
    return False


def _binary_collation(c: Column) -> bool:
    """Text keys order alike in MySQL and Iceberg (bytes) only under a binary collation."""
    return c.data_type in ("char", "varchar") and (c.collation or "").endswith("_bin")


@dataclass(frozen=True)
class Rule:
    """One row of the contract.

    choices: the other ways to load the column (the `type` override); refused: overrides that cannot work with
    CDC, and why; cdc: where what Debezium sends (and the load therefore writes) differs from the value in
    MySQL; canonical: the text a validation compares on both sides (None: compared by presence only);
    splittable: its key values split into ranges (MySQL orders them as the literals we write); ordered: those
    ranges select the same rows in Iceberg (so a validation can compare range by range).
    """

    name: str
    mysql: str
    debezium: str
    matches: ColumnTest
    default: ChoiceBuilder
    canonical: CanonicalForm
    choices: dict[str, ChoiceBuilder] = field(default_factory=dict)
    samples: tuple[str, ...] = ()  # COLUMN_TYPEs shown in the generated documentation
    refused: dict[str, str] = field(default_factory=dict)
    cdc: str = ""
    splittable: ColumnTest = _always
    ordered: ColumnTest = _always


def _is_tinyint1(c: Column) -> bool:
    return c.data_type == "tinyint" and c.column_type.lower().startswith("tinyint(1)") and not c.unsigned


def _is_int(c: Column) -> bool:
    small = ("tinyint", "smallint", "mediumint")
    return (c.data_type in (*small, "int", "integer") and not c.unsigned) or (c.data_type in small and c.unsigned)


def _is_long(c: Column) -> bool:
    return (c.data_type in ("int", "integer") and c.unsigned) or (c.data_type == "bigint" and not c.unsigned)


def _is_bigint_unsigned(c: Column) -> bool:
    return c.data_type == "bigint" and c.unsigned


TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")
GEOMETRY_TYPES = (
    *("geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"),
    *("geometrycollection", "geomcollection"),
)
# Iceberg refuses float and double identifier fields.
FLOATING_TYPES = ("float", "double", "real")

STRING_CHOICE: dict[str, ChoiceBuilder] = {"string": v.text_choice}
_DATE_AS_STRING = (
    "the sink's string columns reject the java.util.Date Debezium sends for this type (time.precision.mode="
    "connect), so CDC would stop on the first change"
)
_ZONED_AS_STRING = (
    "Debezium sends TIMESTAMP as ISO text with a T and a Z (2024-01-02T03:04:05Z), which differs from the "
    "loaded text, so a row would change when CDC rewrites it"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "tinyint1",
        "TINYINT(1), BOOL",
        "INT16 (a number, not a boolean)",
        _is_tinyint1,
        v.tinyint1_choice,
        v.tinyint1_canonical,
        STRING_CHOICE,
        ("tinyint(1)",),
    ),
    Rule(
        "int",
        "TINYINT, SMALLINT, MEDIUMINT, INT (signed); TINYINT, SMALLINT, MEDIUMINT UNSIGNED",
        "INT16 / INT32",
        _is_int,
        v.as_is(INT),
        v.number_canonical,
        {"long": v.as_is(LONG), **STRING_CHOICE},
        ("smallint unsigned",),
    ),
    Rule(
        "long",
        "INT UNSIGNED, BIGINT",
        "INT64",
        _is_long,
        v.as_is(LONG),
        v.number_canonical,
        STRING_CHOICE,
        ("int unsigned",),
    ),
    Rule(
        "bigint_unsigned",
        "BIGINT UNSIGNED",
        "INT64 (bigint.unsigned.handling.mode=long: values >= 2^63 wrap); Decimal(20,0) in precise mode",
        _is_bigint_unsigned,
        v.bigint_unsigned_long,
        v.number_canonical,
        {"decimal(20,0)": v.as_is(decimal(20, 0)), **STRING_CHOICE},
        ("bigint unsigned",),
        cdc="bigint.unsigned.handling.mode is one setting per connector: every BIGINT UNSIGNED column one "
        "connector continues must be loaded the same way",
    ),
    Rule(
        "decimal",
        "DECIMAL(p,s), NUMERIC(p,s)",
        "Decimal (decimal.handling.mode=precise)",
        _of("decimal", "numeric"),
        v.decimal_default,
        v.decimal_canonical,
        STRING_CHOICE,
        ("decimal(12,2)",),
    ),
    Rule(
        "float",
        "FLOAT",
        "FLOAT32; FLOAT(M,D) as FLOAT64",
        _of("float"),
        v.float_choice,
        v.uncompared,
        {"double": v.float_as_double},
        ("float", "float(7,2)"),
        ordered=_never,
    ),
    Rule(
        "double",
        "DOUBLE, REAL",
        "FLOAT64",
        _of("double", "real"),
        v.as_is(DOUBLE),
        v.uncompared,
        {},
        ("double",),
        splittable=_of("double"),
        ordered=_never,
    ),
    Rule(
        "bit",
        "BIT(1); BIT(n > 1)",
        "BOOLEAN; BYTES (io.debezium.data.Bits, little-endian, ceil(n/8) bytes)",
        _of("bit"),
        v.bit_choice,
        v.bit_canonical,
        {},
        ("bit(1)", "bit(3)"),
        splittable=_never,
        ordered=_never,
    ),
    Rule(
        "text",
        "CHAR, VARCHAR, TEXT, ENUM, SET (and MariaDB's JSON, a LONGTEXT)",
        "STRING",
        _of(*TEXT_TYPES),
        v.as_is(STRING),
        v.string_canonical,
        {},
        ("enum('a','b')",),
        splittable=_of("char", "varchar"),
        ordered=_binary_collation,
    ),
    Rule(
        "json",
        "JSON (MySQL 5.7+)",
        "STRING: the binary form printed compactly",
        _of("json"),
        v.as_is(STRING),
        v.string_canonical,
        {},
        ("json",),
        cdc="MySQL only (not verified here, no MySQL 8 server): Debezium prints the binlog's binary form compactly "
        '({"k":[1,2]}) where the load reads MySQL\'s text ({"k": [1, 2]}), the same JSON in other text until '
        "CDC rewrites the row",
        splittable=_never,
        ordered=_never,
    ),
    Rule(
        "binary",
        "BINARY, VARBINARY, BLOB",
        "BYTES",
        _of(*BINARY_TYPES),
        v.as_is(BINARY),
        v.binary_canonical,
        {},
        ("binary(4)",),
        splittable=_of("binary", "varbinary"),
        ordered=_of("binary", "varbinary"),
    ),
    Rule(
        "date",
        "DATE",
        "Connect Date",
        _of("date"),
        t.date_choice,
        t.date_canonical,
        {},
        ("date",),
        refused={"string": _DATE_AS_STRING},
        cdc="a zero year, month or day: NULL if nullable, else the column's DEFAULT, else 1970-01-01; years "
        "0001-0099 as stored (the connector gets enable.time.adjuster=false)",
    ),
    Rule(
        "datetime",
        "DATETIME(p)",
        "Connect Timestamp: the wall clock as UTC, truncated to milliseconds",
        _of("datetime"),
        t.datetime_choice(micros=False),
        t.datetime_canonical,
        {"timestamp_micros": t.datetime_choice(micros=True)},
        ("datetime(6)",),
        refused={"string": _DATE_AS_STRING},
        cdc="truncated to milliseconds; zero dates as for DATE (the epoch 1970-01-01 00:00:00)",
        ordered=_never,
    ),
    Rule(
        "timestamp",
        "TIMESTAMP(p)",
        "io.debezium.time.ZonedTimestamp (UTC, full precision)",
        _of("timestamp"),
        t.timestamp_choice,
        t.timestamp_canonical,
        {},
        ("timestamp(6)",),
        refused={"string": _ZONED_AS_STRING},
        cdc="0000-00-00 00:00:00: NULL if nullable, else the column's DEFAULT as the server's time zone shows it, "
        "read as UTC, else the epoch",
        ordered=_never,
    ),
    Rule(
        "time",
        "TIME(p)",
        "Connect Time: milliseconds since midnight",
        _of("time"),
        t.time_choice,
        t.time_canonical,
        {},
        ("time(3)",),
        refused={"string": _DATE_AS_STRING},
        cdc="truncated to milliseconds; 24:00:00 is 1970-01-02 00:00 UTC; outside 00:00:00-24:00:00: NULL if "
        "nullable, else the column's DEFAULT, else the load stops (so would CDC)",
        ordered=_never,
    ),
    Rule("year", "YEAR", "INT32", _of("year"), t.year_choice, t.year_canonical, {}, ("year",), cdc="YEAR 0000 is 1900"),
    Rule(
        "point",
        "POINT",
        "io.debezium.data.geometry.Point {x, y, wkb, srid}",
        _of("point"),
        v.point_choice,
        v.geometry_canonical,
        {},
        ("point",),
        cdc="SRID 0 is a null srid; the column is nullable",
        splittable=_never,
        ordered=_never,
    ),
    Rule(
        "geometry",
        "GEOMETRY, LINESTRING, POLYGON, MULTI*, GEOMETRYCOLLECTION",
        "io.debezium.data.geometry.Geometry {wkb, srid}",
        _of(*GEOMETRY_TYPES),
        v.geometry_choice,
        v.geometry_canonical,
        {},
        ("geometry",),
        cdc="SRID 0 is a null srid; the column is nullable",
        splittable=_never,
        ordered=_never,
    ),
)


def rule_for(column: Column) -> Rule | None:
    """The contract's row for a column, or None for a type it does not cover."""
    return next((r for r in RULES if r.matches(column)), None)


def splittable(column: Column) -> bool:
    """Whether a key column's values split into ranges MySQL selects by the literals we write."""
    rule = rule_for(column)
    return rule is not None and rule.splittable(column)


def order_preserving(column: Column) -> bool:
    """Whether MySQL and Iceberg order the column's values alike, so a key range selects the same rows."""
    rule = rule_for(column)
    return rule is not None and rule.splittable(column) and rule.ordered(column)
