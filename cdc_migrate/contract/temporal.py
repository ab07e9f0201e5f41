"""The contract's dates and times: Debezium's rules for values it cannot convert, the loads' conversions
and the canonical text a validation compares (pure).

Read in Debezium 3.6 and seen with it (tests/integration/test_debezium_types.py): a DATE or DATETIME whose
year, month or day is 0, a zero TIMESTAMP, and a TIME outside 00:00:00-24:00:00 cannot be sent as they
are. Debezium then sends NULL in a nullable column; in a NOT NULL column the column's DEFAULT converted
the same way, or the epoch where the default is none, an expression or itself a zero date. A TIME that
fails in a NOT NULL column without a usable default stops the connector ("null used for required field").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cdc_migrate.contract.expressions import fail
from cdc_migrate.contract.types import (
    DATE,
    INT,
    TIMESTAMP,
    TIMESTAMPTZ,
    BinlogForm,
    Canonical,
    Choice,
    Ctx,
    TargetType,
    same,
)
from cdc_migrate.source.schema import Column

_DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?$")
_TIME_TEXT = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?$")
TIME_IN_RANGE = r"^(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?|24:00:00([.]0+)?)$"


def _zero_month_or_day(a: str) -> str:
    """Spark SQL: the MySQL date text in `a` has a zero month or day (asked only of text that does not parse:
    substring counts characters from the start, the costliest part of a row's conversion when asked of all)."""
    return f"(substring({a}, 6, 2) = '00' OR substring({a}, 9, 2) = '00')"


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


def zero_value(column: Column, width: int = 23) -> str | None:
    """What Debezium sends in place of a zero DATE/DATETIME/TIMESTAMP value (see above), as MySQL's text: None for
    NULL (a nullable column), else the column's literal DEFAULT (to `width` characters) or the epoch."""
    if column.nullable:
        return None
    default = column.default
    if column.data_type == "date":
        return default[:10] if default and _usable_date(default) else "1970-01-01"
    if default and _usable_date(default) and _DATETIME_TEXT.match(default[:26]):
        return default if width >= len(default) else default[:width]
    return "1970-01-01 00:00:00"


def zero_replacement(column: Column, width: int = 23) -> str:
    """Spark SQL for what Debezium sends in place of a zero DATE/DATETIME/TIMESTAMP value (zero_value)."""
    text = zero_value(column, width)
    if text is None:
        return "NULL"
    if column.data_type == "date":
        return f"DATE'{text}'"
    return f"{'TIMESTAMP_NTZ' if column.data_type == 'datetime' else 'TIMESTAMP'}'{text}'"


# ---- the loads' conversions ---------------------------------------------------------------------------

TIME_OUTSIDE = (
    "TIME {value} is outside 00:00:00-24:00:00 in a NOT NULL column without such a DEFAULT: Debezium cannot send it "
    "(its connector stops with null used for required field). Correct the value, or make the column nullable "
    "(Debezium then sends NULL) or give it a DEFAULT inside a day"
)


def not_valid(what: str) -> str:
    return f"{{value}} is not a valid {what}"


def time_default_millis(column: Column) -> int | None:
    """What a TIME outside a day becomes in a NOT NULL column: its DEFAULT's milliseconds, where it has one inside a
    day (None: NULL where nullable, else an error)."""
    return time_millis(column.default) if column.default and not column.nullable else None


def _temporal(c: Ctx, target: TargetType, pushed: str, width: int, what: str, form: BinlogForm) -> Choice:
    """A DATE or DATETIME pushed as MySQL's text: a zero year (which would parse, as year 0) is Debezium's
    replacement; text that does not parse is that too where its month or day is zero, else an error."""
    a, zero = c.alias, zero_replacement(c.column, width)
    stop = fail(c.where, not_valid(what), a)
    # try_cast: NULL for text that does not parse even where a session runs ANSI SQL (where CAST would fail).
    parse = f"try_cast({a} AS {target.sql})"
    return Choice(
        target,
        pushed,
        f"CASE WHEN {a} IS NULL THEN NULL WHEN startswith({a}, '0000') THEN {zero} "
        f"ELSE coalesce({parse}, CASE WHEN {_zero_month_or_day(a)} THEN {zero} ELSE {stop} END) END",
        form,
    )


def date_choice(c: Ctx) -> Choice:
    return _temporal(c, DATE, f"CAST({c.q} AS CHAR)", 10, "DATE", same)


def _left(width: int) -> BinlogForm:
    return lambda v: None if v is None else v[:width]


def datetime_choice(micros: bool) -> Callable[[Ctx], Choice]:
    def build(c: Ctx) -> Choice:
        # Debezium (time.precision.mode=connect) truncates to milliseconds: 'YYYY-MM-DD HH:MM:SS.fff' is 23 chars.
        width = 26 if micros else 23
        pushed = f"CAST({c.q} AS CHAR)" if micros else f"LEFT(CAST({c.q} AS CHAR), 23)"
        return _temporal(c, TIMESTAMP, pushed, width, "DATETIME", same if micros else _left(23))

    return build


def _micros(v: Any) -> Any:
    """UNIX_TIMESTAMP's seconds (an int, or a Decimal with the column's fraction) as whole microseconds."""
    return None if v is None else int(v * 1_000_000)


def _nullif_zero_micros(v: Any) -> Any:
    micros = _micros(v)
    return None if micros == 0 else micros


def timestamp_choice(c: Ctx) -> Choice:
    # UNIX_TIMESTAMP of a TIMESTAMP column is its stored UTC value, whatever the session's time zone; pushed as
    # whole microseconds (a BIGINT the driver decodes cheaply, where its seconds are a DECIMAL). A zero
    # TIMESTAMP gives 0, which no real TIMESTAMP has (they start at 1970-01-01 00:00:01 UTC).
    micros = f"CAST(UNIX_TIMESTAMP({c.q}) * 1000000 AS SIGNED)"
    if c.column.nullable:
        return Choice(TIMESTAMPTZ, f"NULLIF({micros}, 0)", f"timestamp_micros({c.alias})", _nullif_zero_micros)
    return Choice(
        TIMESTAMPTZ,
        micros,
        f"CASE WHEN {c.alias} = 0 THEN {zero_replacement(c.column, 26)} ELSE timestamp_micros({c.alias}) END",
        _micros,
    )


def time_choice(c: Ctx) -> Choice:
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
        outside = fail(c.where, TIME_OUTSIDE, a)
    return Choice(
        TIMESTAMPTZ,
        f"CAST({c.q} AS CHAR)",
        f"CASE WHEN {a} IS NULL THEN NULL WHEN {a} RLIKE '{TIME_IN_RANGE}' THEN timestamp_micros({micros}) "
        f"ELSE {outside} END",
    )


def year_choice(c: Ctx) -> Choice:
    # Debezium's binlog decoder returns 1900 + the stored byte, so YEAR 0000 arrives as 1900.
    return Choice(INT, f"CAST({c.q} AS SIGNED)", f"CASE WHEN {c.alias} = 0 THEN 1900 ELSE {c.alias} END")


# ---- canonical text (what a validation compares) -------------------------------------------------------


def _zero(c: Column, q: str, value: str, text: str, width: int) -> str:
    """A DATE/DATETIME's text as the load wrote it: a zero year, month or day as Debezium sends it (NULL where
    nullable, else the column's literal DEFAULT, else the epoch), `text` being the value's text over `{}`."""
    replacement = zero_replacement(c, width)
    if replacement == "NULL":
        zero = "NULL"
    else:
        literal = replacement.split("'")[1]
        zero = text.format(f"CAST('{literal}' AS {'DATE' if c.data_type == 'date' else 'DATETIME(6)'})")
    is_zero = f"YEAR({q}) = 0 OR MONTH({q}) = 0 OR DAYOFMONTH({q}) = 0"
    return f"CASE WHEN {q} IS NULL THEN NULL WHEN {is_zero} THEN {zero} ELSE {value} END"


def date_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    q = c.q
    return Canonical(
        _zero(c.column, q, f"CAST({q} AS CHAR)", "CAST({} AS CHAR)", 10), f"CAST({c.alias} AS STRING)", False
    )


def datetime_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    width, pattern = (26, "SSSSSS") if override == "timestamp_micros" else (23, "SSS")
    text = "LEFT(DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s.%f'), " + str(width) + ")"
    spark = f"date_format({c.alias}, 'yyyy-MM-dd HH:mm:ss.{pattern}')"
    return Canonical(_zero(c.column, c.q, text.format(c.q), text, width), spark, False)


def _micros_of(literal: str) -> str:
    """Microseconds since the epoch of a zero_replacement literal, as a MySQL expression (NULL stays NULL)."""
    if literal == "NULL":
        return "NULL"
    text = literal.split("'")[1]
    return f"CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', '{text}') AS SIGNED)"


def timestamp_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    """Microseconds since the epoch; a zero TIMESTAMP as the load made it."""
    unix = f"CAST(UNIX_TIMESTAMP({c.q}) * 1000000 AS SIGNED)"
    zero = _micros_of(zero_replacement(c.column, 26))
    return Canonical(f"CAST(IF({unix} = 0, {zero}, {unix}) AS CHAR)", f"CAST(unix_micros({c.alias}) AS STRING)", False)


def time_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    """Milliseconds since midnight; outside a day as the load made it (NULL, or the column's default)."""
    q = c.q
    millis = f"HOUR({q}) * 3600000 + MINUTE({q}) * 60000 + SECOND({q}) * 1000 + MICROSECOND({q}) DIV 1000"
    inside = f"{q} BETWEEN '00:00:00' AND '24:00:00'"
    default = time_millis(c.column.default) if c.column.default and not c.column.nullable else None
    outside = "NULL" if default is None else str(default)
    return Canonical(
        f"CAST(IF({inside}, {millis}, {outside}) AS CHAR)", f"CAST(unix_millis({c.alias}) AS STRING)", False
    )


def year_canonical(c: Ctx, choice: Choice, override: str | None) -> Canonical:
    """YEAR 0000 is loaded as 1900, as Debezium sends it."""
    return Canonical(f"CAST(IF({c.q} = 0, 1900, CAST({c.q} AS SIGNED)) AS CHAR)", f"CAST({c.alias} AS STRING)")
