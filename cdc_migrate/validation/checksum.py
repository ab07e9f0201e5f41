"""The canonical row encoding both sides of a validation compute: the same text for the same row, written
as a MySQL expression over the source columns and as a Spark expression over the Iceberg columns (pure).

A row's text is CONCAT_WS('#', value texts..., null flags) as pt-table-checksum does it; a chunk's
checksum is COUNT(*) and BIT_XOR(CRC32(text)). Each value text follows the CDC type contract: the MySQL
side writes what the load made of the value (milliseconds of a DATETIME, the little-endian bytes of a
BIT, a zero date's NULL or epoch), the Spark side writes the Iceberg value in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.sqltext import quote_ident


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
    texts = [(m, m.canonical) for m in mapping.columns]
    compared = [t for _, t in texts if t is not None]
    mysql_values = [t.mysql for t in compared]
    spark_values = [t.spark for t in compared]
    # Which values are NULL (CONCAT_WS skips NULLs): tested on the column itself where that is the same
    # answer (MySQL does not share the work of an expression written twice); FLOAT/DOUBLE only by this.
    compared_first = [(m, t) for m, t in texts if t is not None] + [(m, t) for m, t in texts if t is None]
    mysql_flags = (
        ", ".join(
            f"ISNULL({quote_ident(m.source.name) if t is None or t.nulls_as_source else t.mysql})"
            for m, t in compared_first
        )
        or "''"
    )
    spark_flags = (
        ", ".join(
            f"CAST(isnull({quote_ident(m.name) if t is None or t.nulls_as_source else t.spark}) AS INT)"
            for m, t in compared_first
        )
        or "''"
    )
    mysql_row = f"CONCAT_WS('#', {', '.join([*mysql_values, f'CONCAT({mysql_flags})'])})"
    spark_row = f"concat_ws('#', {', '.join([*spark_values, f'concat({spark_flags})'])})"
    key_texts = [mapping.column(k).canonical for k in key]
    mysql_key = f"CONCAT_WS('#', {', '.join(t.mysql for t in key_texts if t)})"
    spark_key = f"concat_ws('#', {', '.join(t.spark for t in key_texts if t)})"
    return RowEncoding(mysql_row, spark_row, mysql_key, spark_key, tuple(m.name for m, t in texts if t is None))


def mysql_row_hash(enc: RowEncoding) -> str:
    return f"CAST(CRC32({enc.mysql_row}) AS UNSIGNED)"


def spark_row_hash(enc: RowEncoding) -> str:
    return f"crc32(CAST({enc.spark_row} AS BINARY))"
