"""The canonical row encoding both sides of a validation compute: the same text for the same row, written
as a MySQL expression over the source columns and as a Spark expression over the Iceberg columns (pure).

A row's text is CONCAT_WS('#', value texts..., null flags) as pt-table-checksum does it; a chunk's
checksum is COUNT(*) and BIT_XOR(CRC32(text)). Each value text follows the CDC type contract: the MySQL
side writes what the load made of the value (milliseconds of a DATETIME, the little-endian bytes of a
BIT, a zero date's NULL or epoch), the Spark side writes the Iceberg value in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdc_migrate.contract.mapping import ColumnMapping, TableMapping, zero_replacement
from cdc_migrate.plan.partitions import Column
from cdc_migrate.source.sql import quote_ident

# Types whose order in MySQL and in Iceberg is the same, so that key ranges select the same rows.
ORDER_PRESERVING = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
                              "date", "binary", "varbinary", "year"})  # fmt: skip
UNCOMPARED = ("float", "double", "real")  # compared by presence (NULL or not) only


@dataclass(frozen=True)
class Canonical:
    """One column's value as canonical text, on each side (NULL stays NULL)."""

    mysql: str
    spark: str
    nulls_as_source: bool = True  # NULL exactly where the source value is NULL (not a zero date made NULL)


def _spark(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def canonical(column: ColumnMapping) -> Canonical | None:
    """The column's canonical text on both sides, or None for FLOAT and DOUBLE (compared by presence)."""
    c, s = column.source, _spark(column.name)
    q = quote_ident(c.name)
    rule = column.rule.split(":")[0]
    choice = column.rule.split(":")[1] if ":" in column.rule else None
    if choice == "string":  # loaded as the column's text
        return Canonical(f"CONVERT(CAST({q} AS CHAR) USING utf8mb4)", s)
    if rule in ("tinyint1", "int", "long", "bigint_unsigned"):
        return Canonical(f"CAST({q} AS CHAR)" if rule != "tinyint1" else f"CAST(CAST({q} AS SIGNED) AS CHAR)",
                         f"CAST({s} AS STRING)")  # fmt: skip
    if rule == "year":  # YEAR 0000 is loaded as 1900, as Debezium sends it
        return Canonical(f"CAST(IF({q} = 0, 1900, CAST({q} AS SIGNED)) AS CHAR)", f"CAST({s} AS STRING)")
    if rule == "decimal":
        scale = column.type.sql.split(",")[-1].rstrip(")") if column.type.sql.startswith("DECIMAL") else "0"
        mysql = f"CAST({q} AS CHAR)" if choice is None else f"CAST(CAST({q} AS DECIMAL(38,{scale})) AS CHAR)"
        return Canonical(mysql, f"replace(format_number({s}, {scale}), ',', '')")
    if rule in ("float", "double"):
        return None
    if rule == "bit":
        if (c.numeric_precision or 1) == 1:
            return Canonical(f"CAST(({q} <> 0) AS CHAR)", f"CAST(CAST({s} AS INT) AS STRING)")
        return Canonical(f"HEX(REVERSE({q}))", f"hex({s})")
    if rule in ("text", "json"):
        return Canonical(f"CONVERT({q} USING utf8mb4)", s)
    if rule == "binary":
        return Canonical(f"HEX({q})", f"hex({s})")
    if rule == "date":
        return Canonical(_zero(c, q, f"CAST({q} AS CHAR)", "CAST({} AS CHAR)", 10), f"CAST({s} AS STRING)",
                         False)  # fmt: skip
    if rule == "datetime":
        width, pattern = (26, "SSSSSS") if choice == "timestamp_micros" else (23, "SSS")
        text = "LEFT(DATE_FORMAT({}, '%Y-%m-%d %H:%i:%s.%f'), " + str(width) + ")"
        spark = f"date_format({s}, 'yyyy-MM-dd HH:mm:ss.{pattern}')"
        return Canonical(_zero(c, q, text.format(q), text, width), spark, False)
    if rule == "timestamp":  # microseconds since the epoch; a zero TIMESTAMP as the load made it
        unix = f"CAST(UNIX_TIMESTAMP({q}) * 1000000 AS SIGNED)"
        zero = _spark_literal_micros(zero_replacement(c, 26))
        return Canonical(f"CAST(IF({unix} = 0, {zero}, {unix}) AS CHAR)", f"CAST(unix_micros({s}) AS STRING)", False)
    if rule == "time":  # milliseconds since midnight; outside a day as the load made it
        millis = f"HOUR({q}) * 3600000 + MINUTE({q}) * 60000 + SECOND({q}) * 1000 + MICROSECOND({q}) DIV 1000"
        inside = f"{q} BETWEEN '00:00:00' AND '24:00:00'"
        default = _time_default_millis(c)
        return Canonical(f"CAST(IF({inside}, {millis}, {default}) AS CHAR)", f"CAST(unix_millis({s}) AS STRING)",
                         False)  # fmt: skip
    if rule in ("geometry", "point"):  # an SRID of 0 is loaded as a null srid, as Debezium sends it
        return Canonical(f"CONCAT(COALESCE(NULLIF(ST_SRID({q}), 0), ''), ':', HEX(SUBSTRING({q}, 5)))",
                         f"concat(coalesce(CAST({s}.srid AS STRING), ''), ':', hex({s}.wkb))")  # fmt: skip
    return Canonical(f"CONVERT(CAST({q} AS CHAR) USING utf8mb4)", f"CAST({s} AS STRING)")


def _zero(c: Column, q: str, value: str, text: str, width: int) -> str:
    """A DATE/DATETIME's text as the load wrote it: a zero year, month or day as Debezium sends it (NULL where
    nullable, else the column's literal DEFAULT, else the epoch), `text` being the value's text over `{}`."""
    replacement = zero_replacement(c, width)
    if replacement == "NULL":
        zero = "NULL"
    else:
        literal = replacement.split("'")[1]
        zero = text.format(f"CAST('{literal}' AS {'DATE' if c.data_type == 'date' else 'DATETIME(6)'})")
    return f"CASE WHEN {q} IS NULL THEN NULL WHEN YEAR({q}) = 0 OR MONTH({q}) = 0 OR DAYOFMONTH({q}) = 0 THEN {zero} ELSE {value} END"  # noqa: E501


def _spark_literal_micros(literal: str) -> str:
    """Microseconds since the epoch of a zero_replacement literal, as a MySQL expression (NULL stays NULL)."""
    if literal == "NULL":
        return "NULL"
    text = literal.split("'")[1]
    return f"CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', '{text}') AS SIGNED)"


def _time_default_millis(c: Column) -> str:
    """The load's value for a TIME outside a day, in milliseconds: NULL, or the column's default."""
    from cdc_migrate.contract.mapping import time_millis

    millis = time_millis(c.default) if c.default and not c.nullable else None
    return "NULL" if millis is None else str(millis)


@dataclass(frozen=True)
class RowEncoding:
    """A table's row text and key text on both sides."""

    mysql_row: str
    spark_row: str
    mysql_key: str
    spark_key: str
    uncompared: tuple[str, ...]


def encoding(mapping: TableMapping, key: tuple[str, ...]) -> RowEncoding:
    """The canonical row and key texts of a table (key: source column names)."""
    texts = [(m, canonical(m)) for m in mapping.columns]
    compared = [t for _, t in texts if t is not None]
    mysql_values = [t.mysql for t in compared]
    spark_values = [t.spark for t in compared]
    # Which values are NULL (CONCAT_WS skips NULLs): tested on the column itself where that is the same
    # answer (MySQL does not share the work of an expression written twice); FLOAT/DOUBLE only by this.
    compared_first = [(m, t) for m, t in texts if t is not None] + [(m, t) for m, t in texts if t is None]
    mysql_flags = ", ".join(
        f"ISNULL({quote_ident(m.source.name) if t is None or t.nulls_as_source else t.mysql})"
        for m, t in compared_first
    ) or "''"  # fmt: skip
    spark_flags = ", ".join(
        f"CAST(isnull({_spark(m.name) if t is None or t.nulls_as_source else t.spark}) AS INT)"
        for m, t in compared_first
    ) or "''"  # fmt: skip
    mysql_row = f"CONCAT_WS('#', {', '.join([*mysql_values, f'CONCAT({mysql_flags})'])})"
    spark_row = f"concat_ws('#', {', '.join([*spark_values, f'concat({spark_flags})'])})"
    key_texts = [canonical(mapping.column(k)) for k in key]
    mysql_key = f"CONCAT_WS('#', {', '.join(t.mysql for t in key_texts if t)})"
    spark_key = f"concat_ws('#', {', '.join(t.spark for t in key_texts if t)})"
    return RowEncoding(mysql_row, spark_row, mysql_key, spark_key, tuple(m.name for m, t in texts if t is None))


def mysql_row_hash(enc: RowEncoding) -> str:
    return f"CAST(CRC32({enc.mysql_row}) AS UNSIGNED)"


def spark_row_hash(enc: RowEncoding) -> str:
    return f"crc32(CAST({enc.spark_row} AS BINARY))"
