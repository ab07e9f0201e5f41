"""`cdc-migrate validate`: row counts and per-chunk checksums of every loaded table, computed inside MySQL
and by Spark over the Iceberg table with the same canonical row encoding; mismatching chunks are drilled
into to name the first differing keys. Results go into the manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import TableOverride
from cdc_migrate.contract.literals import spark_literals, sql_literals
from cdc_migrate.contract.rules import order_preserving
from cdc_migrate.errors import CdcMigrateError, ConfigError
from cdc_migrate.handoff.manifest import (
    ChunkDifference,
    Manifest,
    TableResult,
    Validation,
    read_manifest,
    write_manifest,
)
from cdc_migrate.handoff.position import take_position
from cdc_migrate.planning.capacity import capacity
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.planner import plan_one
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.schema import Key
from cdc_migrate.spark.write import spark_error_reason, spark_identifier
from cdc_migrate.sqltext import key_range, lexicographic, quote_ident, quote_table
from cdc_migrate.target.naming import TableName
from cdc_migrate.validate.checksum import RowEncoding, encoding, mysql_row_hash, spark_row_hash

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

FIRST_DIFFERENCES = 10
MAX_CHUNKS = 10_000


@dataclass(frozen=True)
class Chunks:
    """How a table is cut for checksums: key ranges where MySQL and Iceberg order keys alike, else hash
    buckets of the key (for collations and truncated temporal keys)."""

    mode: str  # "range" | "hash" | "whole"
    count: int
    mysql_where: tuple[str, ...]  # range: one predicate per chunk
    mysql_bucket: str  # hash: the bucket expression
    spark_chunk: str  # the chunk number of a row, as a Spark expression
    labels: tuple[str, ...]  # a human description of each chunk


def chunks_for(plan: TablePlan, enc: RowEncoding) -> Chunks:
    """The chunks of a table, from a plan of its key (pure)."""
    if not plan.key or plan.partitions <= 1:
        return Chunks("whole", 1, ("1 = 1",), "", "0", ("the whole table",))
    columns = plan.key_columns
    if not all(order_preserving(c) for c in columns):
        n = plan.partitions
        spark_bucket = f"pmod(crc32(CAST({enc.spark_key} AS BINARY)), {n})"
        buckets = tuple(f"hash bucket {i} of {n}" for i in range(n))
        return Chunks("hash", n, (), f"CRC32({enc.mysql_key}) % {n}", spark_bucket, buckets)
    mysql_names = [quote_ident(k) for k in plan.key]
    spark_names = [quote_ident(plan.mapping.column(k).name) for k in plan.key]
    bounds = list(plan.boundaries)

    def mysql_lits(key: Key) -> list[str]:
        return sql_literals(key, columns)

    def spark_lits(key: Key) -> list[str]:
        return spark_literals(key)

    nulls = " OR ".join(f"{n} IS NULL" for n in mysql_names)
    where: list[str] = []
    cases: list[str] = []
    labels: list[str] = []
    for i in range(len(bounds) + 1):
        lower = mysql_lits(bounds[i - 1]) if i > 0 else None
        clause = key_range(mysql_names, lower, mysql_lits(bounds[i]) if i < len(bounds) else None)
        where.append(f"({clause}) OR {nulls}" if i == 0 else clause)
        if i < len(bounds):
            cases.append(f"WHEN {lexicographic(spark_names, spark_lits(bounds[i]), '<')} THEN {i}")
        low = "MIN" if i == 0 else _key_text(bounds[i - 1])
        high = "MAX" if i == len(bounds) else _key_text(bounds[i])
        labels.append(f"[{low}, {high}{']' if i == len(bounds) else ')'}")
    # NULL keys are in the first chunk on both sides (a comparison with NULL is not true, so say it first).
    spark_nulls = " OR ".join(f"{n} IS NULL" for n in spark_names)
    spark_chunk = f"CASE WHEN {spark_nulls} THEN 0 {' '.join(cases)} ELSE {len(bounds)} END"
    return Chunks("range", len(bounds) + 1, tuple(where), "", spark_chunk, tuple(labels))


def _key_text(key: tuple[Any, ...]) -> str:
    return str(key[0]) if len(key) == 1 else "(" + ", ".join(map(str, key)) + ")"


# ---- the two sides -------------------------------------------------------------------------------------


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


def first_differences(
    source: MySQLSource, spark: SparkSession, table: TableName, ident: str, enc: RowEncoding, chunks: Chunks, chunk: int
) -> list[str]:
    """The first keys that differ in one chunk: missing from Iceberg, extra in it, or with other values."""
    where = chunks.mysql_where[chunk] if chunks.mode == "range" else f"{chunks.mysql_bucket} = {chunk}"
    if chunks.mode == "whole":
        where = "1 = 1"
    mysql_sql = f"SELECT {enc.mysql_key} AS k, {mysql_row_hash(enc)} AS h FROM {quote_table(table)} WHERE {where}"
    spark_sql = (
        f"SELECT {enc.spark_key} AS k, {spark_row_hash(enc)} AS h FROM {ident} WHERE {chunks.spark_chunk} = {chunk}"
    )
    mysql = {str(r["k"]): int(r["h"]) for r in source.query(mysql_sql)}
    iceberg = {str(r["k"]): int(r["h"]) for r in spark.sql(spark_sql).collect()}
    out = [f"missing from Iceberg: {k}" for k in sorted(mysql.keys() - iceberg.keys())]
    out += [f"not in MySQL: {k}" for k in sorted(iceberg.keys() - mysql.keys())]
    out += [f"different values: {k}" for k in sorted(mysql.keys() & iceberg.keys()) if mysql[k] != iceberg[k]]
    return out[:FIRST_DIFFERENCES]


# ---- orchestration -------------------------------------------------------------------------------------


def validate(
    options: Options, manifest_path: str, spark: SparkSession | None = None, chunk_rows: int | None = None
) -> Manifest:
    """Validates the loaded tables of a manifest that `options.tables` selects against the source and records the
    results in it (a table validated earlier and not selected now keeps its result)."""
    from cdc_migrate.aws.secrets import with_secret
    from cdc_migrate.spark.session import build_session, ensure_local_warehouse

    manifest = read_manifest(manifest_path)
    options = with_secret(options)
    source_opts = options.require_source()
    ensure_local_warehouse(options, create=False)  # a wrong warehouse is an error, not a new empty one
    chosen = {t.source for t in manifest.tables if t.status == "loaded" and _selected(options, t.source)}
    if not chosen:
        raise ConfigError(
            f"no loaded table of {manifest_path} matches {', '.join(options.tables.include) or 'the selection'}; "
            f"its loaded tables: {', '.join(t.source for t in manifest.tables if t.status == 'loaded') or 'none'}"
        )
    drift, plans = _plans(options, manifest, chosen, chunk_rows)
    if spark is None:
        spark = build_session(options, create_warehouse=False)
    catalog = options.catalog.catalog_name
    inexact = _inexact(manifest)

    def connect() -> MySQLSource:
        return MySQLSource.connect(source_opts)

    def one(result: TableResult) -> TableResult:
        plan = plans.get(result.source)
        if plan is None:
            return result
        why = inexact or (None if result.exact_at else _KEYLESS_CHANGED if result.changes else None)
        head = Validation(utc_text(), drift, False if why else None, why)
        try:
            checked = validate_table(connect, spark, catalog, plan, per_table)
        except CdcMigrateError as e:  # a table that cannot be validated is reported, not fatal
            return replace(result, validation=replace(head, status="error", error=str(e).splitlines()[0]))
        except Exception as e:  # a Spark or Py4J error: the table cannot be read, reported the same way
            if not _spark_failure(e):
                raise
            logger.debug("validating %s failed", result.source, exc_info=True)
            return replace(result, validation=replace(head, status="error", error=spark_error_reason(e)))
        return replace(
            result,
            validation=replace(checked, checked_at=head.checked_at, drift=drift, exact=head.exact, note=head.note),
        )

    # Tables in parallel, their chunks in parallel, together within the source's connection limit (each
    # table also holds one connection for the drill-down).
    limits = capacity(options, spark.sparkContext.defaultParallelism)
    tables_at_once = max(1, min(limits.parallel_tables, limits.max_connections // 2))
    per_table = max(1, limits.max_connections // tables_at_once - 1)
    with ThreadPoolExecutor(max_workers=tables_at_once) as pool:
        results = list(pool.map(one, manifest.tables))
    manifest = replace(manifest, tables=tuple(results))
    write_manifest(manifest_path, manifest)
    return manifest


def _plans(
    options: Options, manifest: Manifest, chosen: set[str], chunk_rows: int | None
) -> tuple[bool | None, dict[str, TablePlan]]:
    """Whether the source moved on since the load, and each chosen table planned again as it was loaded (its
    partitions are the chunks), or in chunks of `chunk_rows`."""
    with MySQLSource.connect(options.require_source()) as source:
        drift = _drift(source, source.server_info(), options, manifest)
        described = source.describe([TableName.parse(t) for t in chosen])
        plans = {}
        for t in manifest.tables:
            name = TableName.parse(t.source)
            if t.source in chosen and name in described and t.target:
                override = _chunking(options.tables.overrides.get(t.source), chunk_rows)
                plans[t.source] = plan_one(source, described[name], TableName.parse(t.target), options.tables, override)
    return drift, plans


_KEYLESS_CHANGED = (
    "the table has no primary key and changed while it was read, so its load is not the source at one position: "
    "differences may be those changes"
)


def _selected(options: Options, table: str) -> bool:
    include, exclude = options.tables.include, options.tables.exclude
    return any(fnmatchcase(table, p) for p in include) and not any(fnmatchcase(table, p) for p in exclude)


def _inexact(manifest: Manifest) -> str | None:
    """Why the load is not the source at one position (so differences need not be load errors), or None."""
    if not manifest.binlog:
        return "no binlog position was recorded, so the load is not known to be a snapshot at one position"
    if manifest.snapshot and manifest.snapshot.exact is False:
        return f"the load is not exact ({manifest.snapshot.note}): differences may be changes made while it ran"
    return None


def _spark_failure(e: BaseException) -> bool:
    """A Spark or Py4J error (a table Spark cannot read), reported per table rather than ending the run."""
    module = type(e).__module__
    return module.startswith(("pyspark", "py4j"))


def _chunking(override: TableOverride | None, chunk_rows: int | None) -> TableOverride | None:
    """The table's partitioning as loaded, or chunks of `chunk_rows` rows (up to MAX_CHUNKS) when asked."""
    if chunk_rows is None:
        return override
    if chunk_rows < 1:
        raise ConfigError(f"--chunk-rows must be a positive number of rows, not {chunk_rows}")
    return replace(
        override or TableOverride(), rows_per_partition=chunk_rows, min_partitions=1, max_partitions=MAX_CHUNKS
    )


def validate_table(
    connect: Callable[[], MySQLSource], spark: SparkSession, catalog: str, plan: TablePlan, workers: int
) -> Validation:
    """Counts and checksums of one table on both sides; the differing chunks and their first keys."""
    enc = encoding(plan.mapping, plan.key or tuple(c.name for c in plan.source.columns))
    chunks = chunks_for(plan, enc)
    ident = spark_identifier(catalog, plan.target)
    with ThreadPoolExecutor(max_workers=1) as side:  # MySQL's side runs while Spark computes its own
        mysql_side = side.submit(mysql_checksums, connect, plan.source.name, enc, chunks, workers)
        theirs = spark_checksums(spark, ident, enc, chunks)
        mine = mysql_side.result()
    bad = sorted(i for i in set(mine) | set(theirs) if mine.get(i, (0, 0)) != theirs.get(i, (0, 0)))
    with connect() as source:
        differences = tuple(
            ChunkDifference(
                chunk=i,
                range=chunks.labels[i],
                source_rows=mine.get(i, (0, 0))[0],
                iceberg_rows=theirs.get(i, (0, 0))[0],
                first_differences=tuple(first_differences(source, spark, plan.source.name, ident, enc, chunks, i)),
            )
            for i in bad[:5]
        )
    return Validation(
        checked_at=utc_text(),
        status="match" if not bad else "mismatch",
        source_rows=sum(n for n, _ in mine.values()),
        iceberg_rows=sum(n for n, _ in theirs.values()),
        chunks=chunks.count,
        chunking=chunks.mode,
        mismatched_chunks=differences,
        compared_by_presence_only=tuple(enc.uncompared) or None,
        mismatched_chunk_count=len(bad),
    )


def _drift(source: MySQLSource, server: Any, options: Options, manifest: Manifest) -> bool | None:
    """Whether the source moved on since the load (its binlog position is past the load's high watermark)."""
    if not manifest.binlog:
        return None
    then = (manifest.snapshot.high_watermark if manifest.snapshot else None) or manifest.binlog
    try:
        now, _ = take_position(source, server, options.snapshot)
    except CdcMigrateError:
        return None
    return now.key() != then.key()
