"""The canonical row encoding both sides of a validation compute: the same text for the same row, written
as a MySQL expression over the source columns and as a Spark expression over the Iceberg columns (pure).

A row's text is CONCAT_WS('#', value texts..., null flags) as pt-table-checksum does it; a chunk's
checksum is COUNT(*) and BIT_XOR(CRC32(text)). Each value text follows the CDC type contract: the MySQL
side writes what the load made of the value (milliseconds of a DATETIME, the little-endian bytes of a
BIT, a zero date's NULL or epoch), the Spark side writes the Iceberg value in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdc_migrate.sql import quote_ident
from cdc_migrate.typemap import ColumnMapping, TableMapping

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
    if rule in ("tinyint1", "int", "long", "bigint_unsigned", "year"):
        return Canonical(f"CAST({q} AS CHAR)" if rule != "tinyint1" else f"CAST(CAST({q} AS SIGNED) AS CHAR)",
                         f"CAST({s} AS STRING)")  # fmt: skip
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
    if rule == "text":
        return Canonical(f"CONVERT({q} USING utf8mb4)", s)
    if rule == "binary":
        return Canonical(f"HEX({q})", f"hex({s})")
    if rule == "date":
        return Canonical(_zero(c.nullable, q, "'1970-01-01'", f"CAST({q} AS CHAR)"), f"CAST({s} AS STRING)",
                         not c.nullable)  # fmt: skip
    if rule == "datetime":
        width, pattern = (26, "SSSSSS") if choice == "timestamp_micros" else (23, "SSS")
        mysql = f"LEFT(DATE_FORMAT({q}, '%Y-%m-%d %H:%i:%s.%f'), {width})"
        epoch = "'1970-01-01 00:00:00." + "0" * (width - 20) + "'"
        spark = f"date_format({s}, 'yyyy-MM-dd HH:mm:ss.{pattern}')"
        return Canonical(_zero(c.nullable, q, epoch, mysql), spark, not c.nullable)
    if rule == "timestamp":  # microseconds since the epoch; a zero TIMESTAMP is 0 where NOT NULL
        unix = f"CAST(UNIX_TIMESTAMP({q}) * 1000000 AS SIGNED)"
        return Canonical(f"CAST({unix if not c.nullable else f'NULLIF({unix}, 0)'} AS CHAR)",
                         f"CAST(unix_micros({s}) AS STRING)", not c.nullable)  # fmt: skip
    if rule == "time":  # milliseconds since midnight
        millis = f"HOUR({q}) * 3600000 + MINUTE({q}) * 60000 + SECOND({q}) * 1000 + MICROSECOND({q}) DIV 1000"
        return Canonical(f"CAST({millis} AS CHAR)", f"CAST(unix_millis({s}) AS STRING)")
    if rule in ("geometry", "point"):
        return Canonical(f"CONCAT(ST_SRID({q}), ':', HEX(SUBSTRING({q}, 5)))",
                         f"concat(CAST({s}.srid AS STRING), ':', hex({s}.wkb))")  # fmt: skip
    return Canonical(f"CONVERT(CAST({q} AS CHAR) USING utf8mb4)", f"CAST({s} AS STRING)")


def _zero(nullable: bool, q: str, epoch: str, value: str) -> str:
    """A zero date's text as the load wrote it: NULL where nullable, the epoch where NOT NULL."""
    return f"CASE WHEN {q} IS NULL THEN NULL WHEN CAST({q} AS CHAR) LIKE '0000-00-00%' THEN {'NULL' if nullable else epoch} ELSE {value} END"  # noqa: E501


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
