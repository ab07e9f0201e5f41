"""The two sides of a validation (the MySQL and Spark edge): per-chunk counts and checksums computed where the
rows are, and, for the chunks that differ, each row's key and hash, to name the keys that differ."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdc_migrate.naming import TableName
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.sqltext import quote_table
from cdc_migrate.validation.checksum import RowEncoding, mysql_row_hash, spark_row_hash
from cdc_migrate.validation.chunks import Chunks

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING = "missing from Iceberg"
EXTRA = "not in MySQL"
DIFFERENT = "different values"


@dataclass(frozen=True)
class Difference:
    """One key whose row differs: missing from Iceberg, not in MySQL, or with other values."""

    chunk: int
    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.key}"


def mysql_checksums(
    connect: Callable[[], MySQLSource], table: TableName, enc: RowEncoding, chunks: Chunks, workers: int
) -> dict[int, tuple[int, int]]:
    """COUNT(*) and BIT_XOR of the row hashes per chunk, computed inside MySQL (chunks in parallel)."""
    hash_sql = mysql_row_hash(enc)
    if chunks.mode == "hash":
        with connect() as source:
            rows = source.query(
                f"SELECT {chunks.mysql_bucket} AS chunk, COUNT(*) AS n, BIT_XOR({hash_sql}) AS x "
                f"FROM {quote_table(table)} GROUP BY chunk"
            )
        return {int(r["chunk"]): (int(r["n"]), int(r["x"])) for r in rows}

    def one(i: int) -> tuple[int, tuple[int, int]]:
        with connect() as source:
            where = chunks.mysql_where[i]
            [row] = source.query(
                f"SELECT COUNT(*) AS n, BIT_XOR({hash_sql}) AS x FROM {quote_table(table)} WHERE {where}"
            )
        return i, (int(row["n"]), int(row["x"] or 0))

    with ThreadPoolExecutor(max_workers=max(1, min(workers, chunks.count))) as pool:
        return {i: v for i, v in pool.map(one, range(chunks.count)) if v[0]}


def spark_checksums(spark: SparkSession, ident: str, enc: RowEncoding, chunks: Chunks) -> dict[int, tuple[int, int]]:
    """The same per chunk over the Iceberg table, by Spark (only the aggregates reach the driver)."""
    rows = spark.sql(
        f"SELECT {chunks.spark_chunk} AS chunk, COUNT(*) AS n, bit_xor({spark_row_hash(enc)}) AS x "
        f"FROM {ident} GROUP BY 1"
    ).collect()
    return {int(r["chunk"]): (int(r["n"]), int(r["x"])) for r in rows}


def differences(
    source: MySQLSource,
    spark: SparkSession,
    table: TableName,
    ident: str,
    enc: RowEncoding,
    chunks: Chunks,
    bad: Iterable[int],
) -> list[Difference]:
    """Every key that differs in the chunks `bad`, by its text (enc's key: the primary key where there is one),
    in chunk and key order. Both sides' keys and hashes of those chunks pass through this process, chunk by
    chunk on MySQL's side and in one query on Spark's."""
    wanted = sorted(set(bad))
    out: list[Difference] = []
    for at in range(0, len(wanted), _CHUNKS_AT_ONCE):
        out += _differences(source, spark, table, ident, enc, chunks, wanted[at : at + _CHUNKS_AT_ONCE])
    return out


_CHUNKS_AT_ONCE = 4  # chunks whose Iceberg keys one Spark query brings to this process


def _differences(
    source: MySQLSource,
    spark: SparkSession,
    table: TableName,
    ident: str,
    enc: RowEncoding,
    chunks: Chunks,
    wanted: list[int],
) -> list[Difference]:
    hash_sql, spark_hash = mysql_row_hash(enc), spark_row_hash(enc)
    iceberg: dict[int, dict[str, int]] = {i: {} for i in wanted}
    spark_sql = (
        f"SELECT chunk, k, h FROM (SELECT {chunks.spark_chunk} AS chunk, {enc.spark_key} AS k, {spark_hash} AS h "
        f"FROM {ident}) WHERE chunk IN ({', '.join(map(str, wanted))})"
    )
    for row in spark.sql(spark_sql).toLocalIterator():
        iceberg[int(row["chunk"])][str(row["k"])] = int(row["h"])
    out: list[Difference] = []
    for i in wanted:
        rows = source.query(
            f"SELECT {enc.mysql_key} AS k, {hash_sql} AS h FROM {quote_table(table)} WHERE {chunks.mysql_filter(i)}"
        )
        mysql = {str(r["k"]): int(r["h"]) for r in rows}
        theirs = iceberg.pop(i)
        out += [Difference(i, MISSING, k) for k in sorted(mysql.keys() - theirs.keys())]
        out += [Difference(i, EXTRA, k) for k in sorted(theirs.keys() - mysql.keys())]
        out += [Difference(i, DIFFERENT, k) for k in sorted(mysql.keys() & theirs.keys()) if mysql[k] != theirs[k]]
    return out
