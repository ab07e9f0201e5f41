"""The CDC type contract: for each MySQL column, the SQL pushed down to MySQL, the Spark conversion and the
Iceberg type the Debezium -> Iceberg-sink pipeline keeps writing (pure).

Every column is read through an expression whose JDBC type is the same with MySQL Connector/J and
MariaDB Connector/J (text for temporal types, bytes for bits and geometry), then converted in Spark by
an expression that applies Debezium's rules (connect time precision, zero dates, little-endian bits) and
stops the load with a message naming the table, column and fix where a value cannot be represented.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cdc_migrate.config.model import ColumnOverride
from cdc_migrate.errors import ConfigError, PlanningError
from cdc_migrate.plan.partitions import Column, SourceTable
from cdc_migrate.source.sql import quote_ident, quote_table
from cdc_migrate.target.naming import TableName

ERROR_PREFIX = "cdc-migrate: "
LONG_MAX = 2**63 - 1


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


def _same_value(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ColumnMapping:
    """How one MySQL column becomes one Iceberg column."""

    source: Column
    name: str
    type: TargetType
    pushed: str  # MySQL expression, selected AS the (quoted) target name
    convert: str  # Spark SQL expression over the pushed column, producing `type`
    required: bool
    rule: str  # which contract rule applied
    binlog: Callable[[Any], Any] = _same_value  # the pushed value from the binlog's value (Choice.binlog)
    cdc: str = ""  # where what CDC writes differs from MySQL's value (Rule.cdc)

    @property
    def renamed(self) -> bool:
        return self.name != self.source.name


@dataclass(frozen=True)
class TableMapping:
    """The columns of one table in order, and its primary key as target names."""

    table: TableName
    columns: tuple[ColumnMapping, ...]
    identifier: tuple[str, ...] = ()

    def column(self, source_name: str) -> ColumnMapping:
        return next(c for c in self.columns if c.source.name.lower() == source_name.lower())

    def column_by_target(self, name: str) -> ColumnMapping:
        return next(c for c in self.columns if c.name == name)

    def select_sql(self) -> str:
        """The SELECT pushed down to MySQL (Spark wraps it as a derived table and adds partition filters)."""
        items = ", ".join(f"{c.pushed} AS {quote_ident(c.name)}" for c in self.columns)
        return f"SELECT {items} FROM {quote_table(self.table)}"

    def spark_expressions(self) -> list[str]:
        """One Spark SQL expression per target column: the conversion, cast to the exact target type."""
        return [f"CAST(({c.convert}) AS {c.type.sql}) AS {_spark_ident(c.name)}" for c in self.columns]

    def schema_json(self) -> dict[str, Any]:
        """The target schema as Spark schema JSON, nullability as in MySQL."""
        return {
            "type": "struct",
            "fields": [
                {"name": c.name, "type": c.type.json, "nullable": not c.required, "metadata": {}} for c in self.columns
            ],
        }

    def required_paths(self) -> list[str]:
        """Columns (and struct fields of required structs' kind) that Iceberg must mark required."""
        paths = [c.name for c in self.columns if c.required]
        for c in self.columns:
            paths += [f"{c.name}.{f}" for f in c.type.required_fields]
        return paths

    def renamed(self) -> dict[str, str]:
        """Target name -> source name for every column whose name changed."""
        return {c.name: c.source.name for c in self.columns if c.renamed}


# ---- expressions -------------------------------------------------------------------------------------


def _spark_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _message_text(text: str) -> str:
    """Text safe inside a Spark SQL single-quoted literal."""
    return text.replace("\\", "/").replace("'", "")


def _fail(where: str, what: str, value_sql: str | None = None) -> str:
    """A Spark SQL expression that stops the load with a message naming table and column."""
    head = _message_text(f"{ERROR_PREFIX}{where}: ")
    if value_sql is None:
        return f"raise_error('{head}{_message_text(what)}')"
    before, _, after = what.partition("{value}")
    value = f"CAST({value_sql} AS STRING)"
    return f"raise_error(concat('{head}{_message_text(before)}', {value}, '{_message_text(after)}'))"


def _le_hex(binary_sql: str, start: int, length: int) -> str:
    """Hex of `length` bytes from 1-based `start`, in reverse (little-endian -> big-endian) order."""
    parts = [f"hex(substring({binary_sql}, {start + i}, 1))" for i in reversed(range(length))]
    return f"concat({', '.join(parts)})"


def _le_double(binary_sql: str, start: int) -> str:
    bits = f"CAST(conv({_le_hex(binary_sql, start, 8)}, 16, -10) AS BIGINT)"
    return f"CAST(java_method('java.lang.Double', 'longBitsToDouble', {bits}) AS DOUBLE)"


# ---- the contract -------------------------------------------------------------------------------------

TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")
GEOMETRY_TYPES = (
    "geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
    "geometrycollection", "geomcollection",
)  # fmt: skip
TEMPORAL_TYPES = ("date", "datetime", "timestamp", "time")
# Iceberg refuses float and double identifier fields.
FLOATING_TYPES = ("float", "double", "real")

BinlogForm = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Choice:
    """One way to load a column: its type, the pushed SQL, the Spark conversion, and the pushed SQL's value
    computed from the column's value as a binlog row image gives it (see changelog.canonical_value), so that
    changes read from the binlog go through the same conversion as rows read over JDBC."""

    type: TargetType
    pushed: str
    convert: str
    binlog: BinlogForm = _same
    required: bool | None = None  # None: NOT NULL in MySQL


@dataclass(frozen=True)
class Rule:
    """One row of the contract: which MySQL columns, what Debezium sends, the default and other choices.

    refused: overrides that cannot work with CDC, and why. cdc: where what Debezium sends (and the load
    therefore writes) differs from the value in MySQL.
    """

    name: str
    mysql: str
    debezium: str
    matches: Callable[[Column], bool]
    default: Callable[[Ctx], Choice]
    choices: dict[str, Callable[[Ctx], Choice]] = field(default_factory=dict)
    samples: tuple[str, ...] = ()  # COLUMN_TYPEs shown in the generated documentation
    refused: dict[str, str] = field(default_factory=dict)
    cdc: str = ""


@dataclass(frozen=True)
class Ctx:
    """What a rule needs to build expressions for one column."""

    table: TableName
    column: Column
    alias: str  # the pushed column's name in Spark, backquoted

    @property
    def q(self) -> str:
        return quote_ident(self.column.name)

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column.name}"

    @property
    def override_key(self) -> str:
        return f'tables.overrides."{self.table}".columns.{self.column.name}.type'


def _as_is(t: TargetType) -> Callable[[Ctx], Choice]:
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


def _text(c: Ctx) -> Choice:
    return Choice(STRING, f"CAST({c.q} AS CHAR)", c.alias, as_char)


def _bigint_unsigned_long(c: Ctx) -> Choice:
    fail = _fail(
        c.where,
        "BIGINT UNSIGNED value {value} is above 2^63-1, which Debezium (bigint.unsigned.handling.mode=long) would "
        f'wrap to a negative number. Fix both sides: load it as decimal(20,0) with {c.override_key} = "decimal(20,0)" '
        "and set bigint.unsigned.handling.mode=precise on the Debezium connector",
        c.alias,
    )
    return Choice(LONG, c.q, f"CASE WHEN {c.alias} > {LONG_MAX} THEN {fail} ELSE {c.alias} END")


def _decimal_choice(precision: int, scale: int) -> Callable[[Ctx], Choice]:
    def build(c: Ctx) -> Choice:
        p, s = c.column.numeric_precision or 0, c.column.numeric_scale or 0
        if p <= 38:
            return Choice(decimal(p, s), c.q, c.alias)
        fail = _fail(c.where, f"DECIMAL({p},{s}) value {{value}} does not fit decimal({precision},{scale})", c.alias)
        parsed = f"CAST({c.alias} AS DECIMAL({precision},{scale}))"
        return Choice(
            decimal(precision, scale),
            f"CAST({c.q} AS CHAR)",
            f"CASE WHEN {c.alias} IS NULL THEN NULL WHEN {parsed} IS NULL THEN {fail} ELSE {parsed} END",
            as_char,
        )

    return build


def _decimal_default(c: Ctx) -> Choice:
    p, s = c.column.numeric_precision or 0, c.column.numeric_scale or 0
    if p > 38:
        raise PlanningError(
            f"{c.where} is DECIMAL({p},{s}); Iceberg decimals hold at most 38 digits. Choose how to load it: "
            f'{c.override_key} = "string", or "decimal(38,{min(s, 38)})" (values that do not fit stop the load)'
        )
    return _decimal_choice(p, s)(c)


def _float(c: Ctx) -> Choice:
    if c.column.numeric_scale is None:
        return Choice(FLOAT, c.q, c.alias)
    # FLOAT(M,D): Debezium sends the single-precision value widened to float64.
    return Choice(DOUBLE, c.q, f"CAST(CAST({c.alias} AS FLOAT) AS DOUBLE)")


def _bit_bytes(width: int) -> BinlogForm:
    return lambda v: None if v is None else int(v).to_bytes(width, "little")


def _bit(c: Ctx) -> Choice:
    bits = c.column.numeric_precision or 1
    if bits == 1:
        return Choice(BOOLEAN, f"CAST({c.q} AS UNSIGNED)", f"{c.alias} <> 0")
    # MySQL gives BIT(n) as ceil(n/8) big-endian bytes; Debezium's io.debezium.data.Bits are little-endian.
    return Choice(BINARY, f"REVERSE({c.q})", c.alias, _bit_bytes((bits + 7) // 8))


# ---- dates and times: Debezium's rules for values it cannot convert -----------------------------------
#
# Read in Debezium 3.6 and seen with it (tests/integration/test_debezium_types.py): a DATE or DATETIME whose
# year, month or day is 0, a zero TIMESTAMP, and a TIME outside 00:00:00-24:00:00 cannot be sent as they
# are. Debezium then sends NULL in a nullable column; in a NOT NULL column the column's DEFAULT converted
# the same way, or the epoch where the default is none, an expression or itself a zero date. A TIME that
# fails in a NOT NULL column without a usable default stops the connector ("null used for required field").

_DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?$")
_TIME_TEXT = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?$")
TIME_IN_RANGE = r"^(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?|24:00:00([.]0+)?)$"


def _zero_text(a: str) -> str:
    """Spark SQL: the MySQL date text in `a` has a zero year, month or day."""
    return f"(substring({a}, 1, 4) = '0000' OR substring({a}, 6, 2) = '00' OR substring({a}, 9, 2) = '00')"


def _usable_date(text: str) -> bool:
    m = _DATE_TEXT.match(text[:10])
    return m is not None and all(int(g) for g in m.groups())


def time_millis(text: str) -> int | None:
    """Milliseconds since midnight of a TIME text inside 00:00:00-24:00:00, else None."""
    m = _TIME_TEXT.match(text)
    if not m or not re.match(TIME_IN_RANGE, text):
        return None
    h, mi, s = (int(g) for g in m.groups()[:3])
    return (h * 3600 + mi * 60 + s) * 1000 + int(((m.group(4) or ".")[1:] + "000")[:3])


def zero_replacement(column: Column, width: int = 23) -> str:
    """Spark SQL for what Debezium sends in place of a zero DATE/DATETIME/TIMESTAMP value (see above)."""
    if column.nullable:
        return "NULL"
    default = column.default
    if column.data_type == "date":
        return f"DATE'{default[:10]}'" if default and _usable_date(default) else "DATE'1970-01-01'"
    if default and _usable_date(default) and _DATETIME_TEXT.match(default[:26]):
        text = default if width >= len(default) else default[:width]
        sql = "TIMESTAMP_NTZ" if column.data_type == "datetime" else "TIMESTAMP"
        return f"{sql}'{text}'"
    return "TIMESTAMP_NTZ'1970-01-01 00:00:00'" if column.data_type == "datetime" else "TIMESTAMP'1970-01-01 00:00:00'"


def _temporal(c: Ctx, target: TargetType, pushed: str, width: int, parse: str, what: str, form: BinlogForm) -> Choice:
    fail = _fail(c.where, f"{{value}} is not a valid {what}", c.alias)
    return Choice(
        target,
        pushed,
        f"CASE WHEN {c.alias} IS NULL THEN NULL WHEN {_zero_text(c.alias)} THEN {zero_replacement(c.column, width)} "
        f"ELSE coalesce({parse}, {fail}) END",
        form,
    )


def _date(c: Ctx) -> Choice:
    return _temporal(c, DATE, f"CAST({c.q} AS CHAR)", 10, f"CAST({c.alias} AS DATE)", "DATE", _same)


def _left(width: int) -> BinlogForm:
    return lambda v: None if v is None else v[:width]


def _datetime(micros: bool) -> Callable[[Ctx], Choice]:
    def build(c: Ctx) -> Choice:
        # Debezium (time.precision.mode=connect) truncates to milliseconds: 'YYYY-MM-DD HH:MM:SS.fff' is 23 chars.
        width = 26 if micros else 23
        pushed = f"CAST({c.q} AS CHAR)" if micros else f"LEFT(CAST({c.q} AS CHAR), 23)"
        return _temporal(
            c, TIMESTAMP, pushed, width, f"CAST({c.alias} AS TIMESTAMP_NTZ)", "DATETIME", _same if micros else _left(23)
        )

    return build


def _nullif_zero(v: Any) -> Any:
    return None if v is not None and v == 0 else v


def _timestamp(c: Ctx) -> Choice:
    # UNIX_TIMESTAMP of a TIMESTAMP column is its stored UTC value, whatever the session's time zone. A
    # zero TIMESTAMP gives 0, which no real TIMESTAMP has (they start at 1970-01-01 00:00:01 UTC).
    micros = f"timestamp_micros(CAST({c.alias} * 1000000 AS BIGINT))"
    if c.column.nullable:
        return Choice(TIMESTAMPTZ, f"NULLIF(UNIX_TIMESTAMP({c.q}), 0)", micros, _nullif_zero)
    return Choice(
        TIMESTAMPTZ,
        f"UNIX_TIMESTAMP({c.q})",
        f"CASE WHEN {c.alias} = 0 THEN {zero_replacement(c.column, 26)} ELSE {micros} END",
    )


def _time(c: Ctx) -> Choice:
    a = c.alias
    # 'HH:MM:SS[.ffffff]' to microseconds since midnight, truncated to milliseconds, by integer arithmetic.
    micros = (
        f"CAST(substring({a}, 1, 2) AS BIGINT) * 3600000000 + CAST(substring({a}, 4, 2) AS BIGINT) * 60000000 "
        f"+ CAST(substring({a}, 7, 2) AS BIGINT) * 1000000 "
        f"+ coalesce(CAST(rpad(substring({a}, 10, 3), 3, '0') AS BIGINT), 0) * 1000"
    )
    default = time_millis(c.column.default) if c.column.default else None
    if c.column.nullable:
        outside = "NULL"
    elif default is not None:
        outside = f"timestamp_millis({default})"
    else:
        outside = _fail(
            c.where,
            "TIME {value} is outside 00:00:00-24:00:00 in a NOT NULL column without such a DEFAULT: Debezium "
            "cannot send it (its connector stops with null used for required field). Correct the value, or "
            "make the column nullable (Debezium then sends NULL) or give it a DEFAULT inside a day",
            a,
        )
    return Choice(
        TIMESTAMPTZ,
        f"CAST({c.q} AS CHAR)",
        f"CASE WHEN {a} IS NULL THEN NULL WHEN {a} RLIKE '{TIME_IN_RANGE}' THEN timestamp_micros({micros}) "
        f"ELSE {outside} END",
    )


def _year(c: Ctx) -> Choice:
    # Debezium's binlog decoder returns 1900 + the stored byte, so YEAR 0000 arrives as 1900.
    return Choice(INT, f"CAST({c.q} AS SIGNED)", f"CASE WHEN {c.alias} = 0 THEN 1900 ELSE {c.alias} END")


def _srid(binary_sql: str) -> str:
    # Debezium sends an SRID of 0 as null (io.debezium.data.geometry.Geometry's srid is optional).
    return f"NULLIF(CAST(conv({_le_hex(binary_sql, 1, 4)}, 16, 10) AS INT), 0)"


def _geometry(c: Ctx) -> Choice:
    # MySQL's internal value: 4 bytes little-endian SRID, then the WKB. Debezium's Geometry schema is always
    # optional, so the column is too (the sink would relax a required one on its first record).
    a = c.alias
    return Choice(
        GEOMETRY,
        c.q,
        f"CASE WHEN {a} IS NULL THEN NULL ELSE named_struct('wkb', substring({a}, 5), 'srid', {_srid(a)}) END",
        required=False,
    )


def _point(c: Ctx) -> Choice:
    # WKB of a point: byte order (1), type (4), x (8), y (8); MySQL writes little-endian (byte order 1).
    a = c.alias
    fail = _fail(c.where, "POINT with big-endian WKB is not supported")
    x, y = _le_double(a, 10), _le_double(a, 18)
    return Choice(
        POINT,
        c.q,
        f"CASE WHEN {a} IS NULL THEN NULL WHEN substring({a}, 5, 1) <> X'01' THEN {fail} ELSE named_struct("
        f"'x', {x}, 'y', {y}, 'wkb', substring({a}, 5), 'srid', {_srid(a)}) END",
        required=False,
    )


def _is_tinyint1(c: Column) -> bool:
    return c.data_type == "tinyint" and c.column_type.lower().startswith("tinyint(1)") and not c.unsigned


def _is_int(c: Column) -> bool:
    small = ("tinyint", "smallint", "mediumint")
    return (c.data_type in (*small, "int", "integer") and not c.unsigned) or (c.data_type in small and c.unsigned)


def _is_long(c: Column) -> bool:
    return (c.data_type in ("int", "integer") and c.unsigned) or (c.data_type == "bigint" and not c.unsigned)


def _is_bigint_unsigned(c: Column) -> bool:
    return c.data_type == "bigint" and c.unsigned


def _of(*types: str) -> Callable[[Column], bool]:
    return lambda c: c.data_type in types


def _float_as_double(c: Ctx) -> Choice:
    return Choice(DOUBLE, c.q, f"CAST(CAST({c.alias} AS FLOAT) AS DOUBLE)")


def _tinyint1(c: Ctx) -> Choice:
    return Choice(INT, f"CAST({c.q} AS SIGNED)", c.alias)


STRING_CHOICE: dict[str, Callable[[Ctx], Choice]] = {"string": _text}
_DATE_AS_STRING = (
    "the sink's string columns reject the java.util.Date Debezium sends for this type (time.precision.mode="
    "connect), so CDC would stop on the first change"
)
_ZONED_AS_STRING = (
    "Debezium sends TIMESTAMP as ISO text with a T and a Z (2024-01-02T03:04:05Z), which differs from the "
    "loaded text, so a row would change when CDC rewrites it"
)

RULES: tuple[Rule, ...] = (
    Rule("tinyint1", "TINYINT(1), BOOL", "INT16 (a number, not a boolean)", _is_tinyint1, _tinyint1,
         STRING_CHOICE, ("tinyint(1)",)),
    Rule("int", "TINYINT, SMALLINT, MEDIUMINT, INT (signed); TINYINT, SMALLINT, MEDIUMINT UNSIGNED", "INT16 / INT32",
         _is_int, _as_is(INT), {"long": _as_is(LONG), **STRING_CHOICE}, ("smallint unsigned",)),
    Rule("long", "INT UNSIGNED, BIGINT", "INT64", _is_long, _as_is(LONG), STRING_CHOICE, ("int unsigned",)),
    Rule("bigint_unsigned", "BIGINT UNSIGNED",
         "INT64 (bigint.unsigned.handling.mode=long: values >= 2^63 wrap); Decimal(20,0) in precise mode",
         _is_bigint_unsigned, _bigint_unsigned_long, {"decimal(20,0)": _as_is(decimal(20, 0)), **STRING_CHOICE},
         ("bigint unsigned",),
         cdc="bigint.unsigned.handling.mode is one setting per connector: every BIGINT UNSIGNED column one "
             "connector continues must be loaded the same way"),
    Rule("decimal", "DECIMAL(p,s), NUMERIC(p,s)", "Decimal (decimal.handling.mode=precise)",
         _of("decimal", "numeric"), _decimal_default, STRING_CHOICE, ("decimal(12,2)",)),
    Rule("float", "FLOAT", "FLOAT32; FLOAT(M,D) as FLOAT64", _of("float"), _float,
         {"double": _float_as_double}, ("float", "float(7,2)")),
    Rule("double", "DOUBLE, REAL", "FLOAT64", _of("double", "real"), _as_is(DOUBLE), {}, ("double",)),
    Rule("bit", "BIT(1); BIT(n > 1)", "BOOLEAN; BYTES (io.debezium.data.Bits, little-endian, ceil(n/8) bytes)",
         _of("bit"), _bit, {}, ("bit(1)", "bit(3)")),
    Rule("text", "CHAR, VARCHAR, TEXT, ENUM, SET (and MariaDB's JSON, a LONGTEXT)", "STRING", _of(*TEXT_TYPES),
         _as_is(STRING), {}, ("enum('a','b')",)),
    Rule("json", "JSON (MySQL 5.7+)", "STRING: the binary form printed compactly", _of("json"), _as_is(STRING), {},
         ("json",),
         cdc="MySQL only (not verified here, no MySQL 8 server): Debezium prints the binlog's binary form compactly "
             '({"k":[1,2]}) where the load reads MySQL\'s text ({"k": [1, 2]}), the same JSON in other text until '
             "CDC rewrites the row"),
    Rule("binary", "BINARY, VARBINARY, BLOB", "BYTES", _of(*BINARY_TYPES), _as_is(BINARY), {}, ("binary(4)",)),
    Rule("date", "DATE", "Connect Date", _of("date"), _date, {}, ("date",),
         refused={"string": _DATE_AS_STRING},
         cdc="a zero year, month or day: NULL if nullable, else the column's DEFAULT, else 1970-01-01; years "
             "0001-0099 as stored (the connector gets enable.time.adjuster=false)"),
    Rule("datetime", "DATETIME(p)", "Connect Timestamp: the wall clock as UTC, truncated to milliseconds",
         _of("datetime"), _datetime(micros=False), {"timestamp_micros": _datetime(micros=True)},
         ("datetime(6)",), refused={"string": _DATE_AS_STRING},
         cdc="truncated to milliseconds; zero dates as for DATE (the epoch 1970-01-01 00:00:00)"),
    Rule("timestamp", "TIMESTAMP(p)", "io.debezium.time.ZonedTimestamp (UTC, full precision)", _of("timestamp"),
         _timestamp, {}, ("timestamp(6)",), refused={"string": _ZONED_AS_STRING},
         cdc="0000-00-00 00:00:00: NULL if nullable, else the column's DEFAULT as the server's time zone shows it, "
             "read as UTC, else the epoch"),
    Rule("time", "TIME(p)", "Connect Time: milliseconds since midnight", _of("time"), _time, {}, ("time(3)",),
         refused={"string": _DATE_AS_STRING},
         cdc="truncated to milliseconds; 24:00:00 is 1970-01-02 00:00 UTC; outside 00:00:00-24:00:00: NULL if "
             "nullable, else the column's DEFAULT, else the load stops (so would CDC)"),
    Rule("year", "YEAR", "INT32", _of("year"), _year, {}, ("year",), cdc="YEAR 0000 is 1900"),
    Rule("point", "POINT", "io.debezium.data.geometry.Point {x, y, wkb, srid}", _of("point"), _point, {},
         ("point",), cdc="SRID 0 is a null srid; the column is nullable"),
    Rule("geometry", "GEOMETRY, LINESTRING, POLYGON, MULTI*, GEOMETRYCOLLECTION",
         "io.debezium.data.geometry.Geometry {wkb, srid}", _of(*GEOMETRY_TYPES), _geometry, {}, ("geometry",),
         cdc="SRID 0 is a null srid; the column is nullable"),
)  # fmt: skip

_DECIMAL_OVERRIDE = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


def _choice(rule: Rule, ctx: Ctx, override: str | None) -> Choice:
    if override is None:
        return rule.default(ctx)
    if rule.name == "decimal" and (m := _DECIMAL_OVERRIDE.match(override)):
        p, s = int(m.group(1)), int(m.group(2))
        if 1 <= p <= 38 and s <= p:
            return _decimal_choice(p, s)(ctx)
    if override in rule.choices:
        return rule.choices[override](ctx)
    if override in rule.refused:
        raise ConfigError(
            f"{ctx.override_key} = {override!r} is refused for {ctx.column.column_type.upper()}: "
            f"{rule.refused[override]}. Remove the override: the contract type is what CDC keeps writing"
        )
    valid = sorted(rule.choices) + (["decimal(P,S) with P <= 38"] if rule.name == "decimal" else [])
    raise ConfigError(
        f"{ctx.override_key} = {override!r} is not a valid way to load {ctx.column.column_type.upper()}; "
        f"valid: {', '.join(valid) if valid else 'none (the contract type is the only one)'}"
    )


def map_column(table: TableName, column: Column, override: ColumnOverride | None = None) -> ColumnMapping:
    """The mapping of one column (name from the override, or the source name lower-cased)."""
    name = override.name if override and override.name else column.name.lower()
    ctx = Ctx(table, column, _spark_ident(name))
    rule = next((r for r in RULES if r.matches(column)), None)
    if rule is None:
        if override and override.type == "string":
            return ColumnMapping(
                column, name, STRING, f"CAST({ctx.q} AS CHAR)", ctx.alias, not column.nullable, "override", as_char
            )
        raise PlanningError(
            f"{ctx.where} has type {column.column_type.upper()}, which the CDC type contract does not cover; "
            f'load it as text with {ctx.override_key} = "string"'
        )
    choice = _choice(rule, ctx, override.type if override else None)
    required = not column.nullable if choice.required is None else choice.required
    convert = choice.convert
    if required:
        fail = _fail(ctx.where, "NULL in a NOT NULL column")
        convert = f"coalesce({convert}, {fail})"
    return ColumnMapping(
        column,
        name,
        choice.type,
        choice.pushed,
        convert,
        required,
        rule.name if override is None or override.type is None else f"{rule.name}:{override.type}",
        choice.binlog,
        rule.cdc,
    )


def map_table(table: SourceTable, overrides: Mapping[str, ColumnOverride] | None = None) -> TableMapping:
    """The mapping of a table; column names that collide after lower-casing are an error listing them."""
    overrides = overrides or {}
    by_lower = {c.name.lower(): c for c in table.columns}
    unknown = [k for k in overrides if k.lower() not in by_lower]
    if unknown:
        raise ConfigError(
            f'tables.overrides."{table.name}".columns names {", ".join(unknown)}, not columns of {table.name}; '
            f"its columns are {', '.join(c.name for c in table.columns)}"
        )
    lowered = {k.lower(): v for k, v in overrides.items()}
    floating = [c for c in table.columns if c.data_type in FLOATING_TYPES and c.name in table.primary_key]
    if floating:
        raise PlanningError(
            f"the primary key of {table.name} includes {', '.join(c.name for c in floating)} "
            f"({', '.join(c.column_type.upper() for c in floating)}, a float); Iceberg cannot make a "
            "float or double column an identifier field, so the sink could not update or delete its rows. "
            f"Give {table.name} a primary key without floats, or leave it out with --exclude {table.name}"
        )
    columns = tuple(map_column(table.name, c, lowered.get(c.name.lower())) for c in table.columns)
    _check_names(table.name, columns)
    identifier = tuple(next(m.name for m in columns if m.source.name.lower() == k.lower()) for k in table.primary_key)
    return TableMapping(table.name, columns, identifier)


def _check_names(table: TableName, columns: tuple[ColumnMapping, ...]) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    for c in columns:
        if not c.name or c.name != c.name.lower():
            raise ConfigError(f"{table}.{c.source.name}: target column name {c.name!r} must be non-empty lower case")
        by_name[c.name].append(c.source.name)
    clashes = {n: s for n, s in by_name.items() if len(s) > 1}
    if clashes:
        detail = "; ".join(f"{', '.join(s)} -> {n}" for n, s in sorted(clashes.items()))
        raise PlanningError(
            f"columns of {table} would share a target name: {detail}. "
            f'Rename all but one with tables.overrides."{table}".columns.<column>.name'
        )


# ---- documentation ------------------------------------------------------------------------------------


def sample_column(column_type: str, nullable: bool = True) -> Column:
    """A Column as information_schema would describe `column_type` (for documentation and tests)."""
    m = re.match(r"^(\w+)(?:\((\d+)(?:,(\d+))?\))?", column_type.lower())
    assert m, column_type
    data_type, first, second = m.group(1), m.group(2), m.group(3)
    precision = int(first) if first and data_type in ("decimal", "numeric", "float", "bit") else None
    scale = int(second) if second else (0 if data_type in ("decimal", "numeric") else None)
    dt_precision = int(first) if first and data_type in ("datetime", "timestamp", "time") else None
    return Column("c", data_type, column_type, nullable, precision, scale, dt_precision)


def contract_markdown() -> str:
    """The mapping as a Markdown table, generated from RULES (the README embeds it; a test compares)."""
    lines = [
        "| MySQL | Debezium sends (connect mode) | Iceberg column | where CDC (and so the load) differs from MySQL "
        "| other choices (`type` override) |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        types = [(s, map_column(TableName("db", "t"), sample_column(s)).type.iceberg) for s in rule.samples]
        iceberg = "; ".join(f"{t} for {s.upper()}" if len(types) > 1 else t for s, t in types)
        choices = ", ".join(f"`{k}`" for k in sorted(rule.choices))
        if rule.name == "decimal":
            choices += ", `decimal(P,S)` (P <= 38; one is required when p > 38)"
        refused = "; ".join(f"`{k}` refused: {why}" for k, why in rule.refused.items())
        choices = "; ".join(p for p in (choices, refused) if p)
        lines.append(f"| {rule.mysql} | {rule.debezium} | {iceberg} | {rule.cdc or '-'} | {choices or '-'} |")
    lines.append("| any other type | - | (error) | - | `string` |")
    return "\n".join(lines)
