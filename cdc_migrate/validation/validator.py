"""`cdc-migrate validate`: row counts and per-chunk checksums of every loaded table, computed inside MySQL
and by Spark over the Iceberg table with the same canonical row encoding; mismatching chunks are drilled
into to name the keys that differ. On a live source that moved on since the load, the binlog from each table's
exact position tells a key that changed since (CDC applies it) from a load error. Results go into the manifest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import SourceOptions, TableOverride
from cdc_migrate.errors import CdcMigrateError, ConfigError, SourceError
from cdc_migrate.handoff.claims import checked_manifest, spark_chains
from cdc_migrate.handoff.lock import exclusive, lock_paths
from cdc_migrate.handoff.manifest import (
    ChunkDifference,
    Manifest,
    TableResult,
    Validation,
    read_manifest,
    write_manifest,
)
from cdc_migrate.handoff.position import take_position
from cdc_migrate.naming import TableName
from cdc_migrate.planning.capacity import capacity
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.planner import access_problem, plan_one, unreadable_hint
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.source.changelog import TableStatement
from cdc_migrate.source.ddl import TRUNCATE
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.selection import select_tables
from cdc_migrate.source.spool import spool_root
from cdc_migrate.source.tls import settled
from cdc_migrate.spark.failures import spark_error_reason
from cdc_migrate.spark.truststore import with_jdbc_tls
from cdc_migrate.spark.write import read_table, spark_identifier
from cdc_migrate.validation.checksum import RowEncoding, encoding
from cdc_migrate.validation.chunks import Chunks, chunks_for
from cdc_migrate.validation.sides import Difference, differences, mysql_checksums, spark_checksums
from cdc_migrate.validation.since import SinceLoad
from cdc_migrate.validation.watch import Unwatched, Watch, watched

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

FIRST_DIFFERENCES = 10  # keys named per chunk
FIRST_CHUNKS = 5  # chunks named per table
MAX_CHUNKS = 10_000


@dataclass(frozen=True)
class Compared:
    """One table's checksums on both sides, and the keys that differ (in every differing chunk when `complete`,
    else in the first FIRST_CHUNKS)."""

    chunks: Chunks
    mysql: dict[int, tuple[int, int]]
    iceberg: dict[int, tuple[int, int]]
    bad: list[int]
    differences: list[Difference]
    complete: bool
    key: RowEncoding  # the canonical key the differences are named by (the primary key where there is one)


def verdict(compared: Compared, changed: set[str] | None, since: list[TableStatement]) -> Validation:
    """A table's validation from its comparison (pure): with the keys changed since the load (None: unknown),
    a difference in one of them is a change CDC applies, any other a mismatch."""
    explained = [d for d in compared.differences if changed is not None and d.key in changed]
    unexplained = [d for d in compared.differences if changed is None or d.key not in changed]
    bad = sorted({d.chunk for d in unexplained}) if changed is not None else compared.bad
    named = [
        ChunkDifference(
            chunk=i,
            range=compared.chunks.labels[i],
            source_rows=compared.mysql.get(i, (0, 0))[0],
            iceberg_rows=compared.iceberg.get(i, (0, 0))[0],
            first_differences=tuple(str(d) for d in unexplained if d.chunk == i)[:FIRST_DIFFERENCES],
        )
        for i in bad[:FIRST_CHUNKS]
    ]
    return Validation(
        checked_at=utc_text(),
        status="match" if not bad else "mismatch",
        source_rows=sum(n for n, _ in compared.mysql.values()),
        iceberg_rows=sum(n for n, _ in compared.iceberg.values()),
        chunks=compared.chunks.count,
        chunking=compared.chunks.mode,
        mismatched_chunks=tuple(named),
        compared_by_presence_only=tuple(compared.key.uncompared) or None,
        mismatched_chunk_count=len(bad),
        changed_since=len(explained) if changed is not None else None,
        statements_since=tuple(str(s) for s in since) or None,
    )


def compare_table(
    connect: Callable[[], MySQLSource],
    spark: SparkSession,
    catalog: str,
    plan: TablePlan,
    workers: int,
    complete: bool = False,
) -> Compared:
    """Counts and checksums of one table on both sides; the keys that differ in the differing chunks (all of
    them when `complete`)."""
    every = tuple(c.name for c in plan.source.columns)
    enc = encoding(plan.mapping, plan.key or every)
    key = encoding(plan.mapping, plan.source.primary_key or plan.key or every)
    chunks = chunks_for(plan, enc)
    ident = spark_identifier(catalog, plan.target)
    spark.catalog.refreshTable(ident)  # its current snapshot, not the one this session's catalog cached
    with ThreadPoolExecutor(max_workers=1) as side:  # MySQL's side runs while Spark computes its own
        mysql_side = side.submit(mysql_checksums, connect, plan.source.name, enc, chunks, workers)
        theirs = spark_checksums(spark, ident, enc, chunks)
        mine = mysql_side.result()
    bad = sorted(i for i in set(mine) | set(theirs) if mine.get(i, (0, 0)) != theirs.get(i, (0, 0)))
    with connect() as source:
        found = differences(
            source, spark, plan.source.name, ident, key, chunks, bad if complete else bad[:FIRST_CHUNKS]
        )
    return Compared(chunks, mine, theirs, bad, found, complete, key)


@dataclass(frozen=True)
class Target:
    """What a validation knows before it reads a row: the server, whether it moved on since the load, and each
    chosen table planned again as loaded (its partitions are the chunks)."""

    server: ServerInfo
    drift: bool | None
    plans: dict[str, TablePlan]
    source: SourceOptions  # with source.tls settled by what the server did


def validate(
    options: Options,
    manifest_path: str,
    spark: SparkSession | None = None,
    chunk_rows: int | None = None,
    watch: Watch | None = None,
) -> Manifest:
    """Validates the loaded tables of a manifest that `options.tables` selects against the source and records the
    results in it (a table validated earlier and not selected now keeps its result).

    Before anything is read, the user's grants are checked as a run checks them: a table it may not see, or not
    every column of, is an error naming the GRANT. On a live source that moved on since the load, the binlog
    from each table's exact position is read: a difference in a key that changed since is counted as such (CDC
    applies it), one in a key that did not is a mismatch; a table altered since is reported as such.
    """
    from cdc_migrate.aws.secrets import with_secret
    from cdc_migrate.spark.session import ensure_local_warehouse

    options = with_secret(options)
    ensure_local_warehouse(options, create=False)  # a wrong warehouse is an error, not a new empty one
    with exclusive(lock_paths(options, manifest_path)):  # not while a run (or another validation) writes it
        return _validate(options, manifest_path, spark, chunk_rows, watch or Unwatched())


def _validate(
    options: Options, manifest_path: str, spark: SparkSession | None, chunk_rows: int | None, watch: Watch
) -> Manifest:
    from cdc_migrate.spark.session import build_session

    manifest = read_manifest(manifest_path)
    chosen = {t.source for t in manifest.tables if t.status == "loaded" and _selected(options, t.source)}
    if not chosen:
        raise ConfigError(
            f"no loaded table of {manifest_path} matches {', '.join(options.tables.include) or 'the selection'}; "
            f"its loaded tables: {', '.join(t.source for t in manifest.tables if t.status == 'loaded') or 'none'}"
        )
    target = _target(options, manifest, chosen, chunk_rows)
    if spark is None:
        spark = build_session(options, create_warehouse=False)
    # A claim is relied on only where it still holds (the table's main is the claimed snapshot, or it with only
    # the sink's commits after it); the others are withdrawn, and their differences are not changes since.
    manifest = checked_manifest(manifest, spark_chains(spark, options.catalog.catalog_name))
    since, unreadable = _since(options, manifest_path, manifest, target, spark)
    try:
        results = _validate_all(options, manifest, target, spark, since, unreadable, watch)
    finally:
        if since is not None:
            since.close()
    manifest = replace(manifest, tables=tuple(results))
    write_manifest(manifest_path, manifest)
    return manifest


def _validate_all(
    options: Options,
    manifest: Manifest,
    target: Target,
    spark: SparkSession,
    since: SinceLoad | None,
    unreadable: str | None,
    watch: Watch,
) -> list[TableResult]:
    source_opts = target.source
    catalog = options.catalog.catalog_name
    inexact = _inexact(manifest)
    driver = _driver(spark, source_opts.jdbc_driver) if since is not None else "auto"
    local = str(spark.sparkContext.master).startswith("local")
    jdbc_source = with_jdbc_tls(source_opts, driver, local) if since is not None else source_opts

    def connect() -> MySQLSource:
        return MySQLSource.connect(source_opts)

    def checked_one(result: TableResult, plan: TablePlan) -> TableResult:
        why = inexact or (result.not_exact if result.exact_at is None else None)
        head = Validation(utc_text(), target.drift, False if why else None, why or unreadable)
        exact_at = result.exact_at if since is not None and plan.mapping.identifier else None
        try:
            if since is not None and exact_at is not None:
                checked = _checked_since(connect, spark, catalog, plan, per_table, since, exact_at, jdbc_source, driver)
            else:
                checked = verdict(compare_table(connect, spark, catalog, plan, per_table), None, [])
        except CdcMigrateError as e:  # a table that cannot be validated is reported, not fatal
            return replace(result, validation=replace(head, status="error", error=str(e).splitlines()[0]))
        except Exception as e:  # a Spark or Py4J error: the table cannot be read, reported the same way
            if not _spark_failure(e):
                raise
            logger.debug("validating %s failed", result.source, exc_info=True)
            return replace(result, validation=replace(head, status="error", error=spark_error_reason(e)))
        return replace(
            result,
            validation=replace(
                checked, checked_at=head.checked_at, drift=target.drift, exact=head.exact, note=head.note
            ),
        )

    # Tables in parallel, their chunks in parallel, together within the source's connection limit (each
    # table also holds one connection for the drill-down).
    limits = capacity(options, spark.sparkContext.defaultParallelism)
    tables_at_once = max(1, min(limits.parallel_tables, limits.max_connections // 2))
    per_table = max(1, limits.max_connections // tables_at_once - 1)
    return watched(spark, manifest.tables, target.plans, checked_one, tables_at_once, watch)


def _checked_since(
    connect: Callable[[], MySQLSource],
    spark: SparkSession,
    catalog: str,
    plan: TablePlan,
    workers: int,
    since: SinceLoad,
    exact_at: BinlogPosition,
    jdbc_source: SourceOptions,
    driver: str,
) -> Validation:
    """A table of a live load validated against a source that moved on: the statements since its exact position
    first (a table altered since cannot be compared column by column), then both sides, then the keys that
    changed since, read from the binlog after both sides were read (a key that differs changed before then)."""
    table = plan.source.name
    _refuse_altered(table, since.statements(table, exact_at))
    compared = compare_table(connect, spark, catalog, plan, workers, complete=True)
    if not compared.differences:
        return verdict(compared, set(), [])
    since.read_now()
    statements = since.statements(table, exact_at)
    _refuse_altered(table, statements)
    pushed = read_table(spark, plan, jdbc_source, driver).schema
    changed = since.changed_keys(spark, table, plan.mapping, pushed, exact_at, compared.key.spark_key)
    return replace(verdict(compared, changed, statements), binlog_to=since.read_to)


def _refuse_altered(table: TableName, statements: list[TableStatement]) -> None:
    altered = next((s for s in statements if s.kind != TRUNCATE), None)
    if altered is not None:
        raise SourceError(
            f"{table} changed other than by rows since the load ({altered}): its rows cannot be compared with the "
            "load's columns. CDC's schema history carries the change to the sink; load the table again to validate it"
        )


def _since(
    options: Options, manifest_path: str, manifest: Manifest, target: Target, spark: SparkSession
) -> tuple[SinceLoad | None, str | None]:
    """For a live load whose source moved on: the binlog from the earliest exact position of the chosen tables, or
    why it cannot be read (the validation then cannot tell a change since the load from a load error)."""
    kind = manifest.snapshot.kind if manifest.snapshot else None
    positions = [
        t.exact_at for t in manifest.tables if t.source in target.plans and t.exact_at is not None and t.primary_key
    ]
    if not target.drift or kind != "live" or not positions:
        return None, None
    start = min(positions, key=BinlogPosition.key)
    tables = {plan.source.name: plan.source for plan in target.plans.values()}
    local = str(spark.sparkContext.master).startswith("local")
    try:
        since = SinceLoad(
            target.source,
            target.server,
            start,
            tables,
            options.run.scratch_dir,
            local,
            spool_root(manifest_path),
        )
        since.read_now()
    except CdcMigrateError as e:
        logger.warning("the binlog since the load cannot be read: %s", e)
        return None, (
            f"the source changed since the load and its binlog from {start} cannot be read ({str(e).splitlines()[0]})"
            ": differences may be changes CDC will apply, not load errors"
        )
    return since, None


def _driver(spark: SparkSession, configured: str) -> str:
    from cdc_migrate.spark.session import jdbc_driver_kind

    return jdbc_driver_kind(spark, configured)


def _target(options: Options, manifest: Manifest, chosen: set[str], chunk_rows: int | None) -> Target:
    """The server, whether the source moved on since the load, and each chosen table planned again as it was
    loaded (its partitions are the chunks), or in chunks of `chunk_rows`, after the grant checks a run makes."""
    with MySQLSource.connect(options.require_source()) as source:
        server = source.server_info()
        settled_source = settled(options.require_source(), source.encrypted())
        drift = _drift(source, server, options, manifest)
        names = sorted(TableName.parse(t) for t in chosen)
        described = _readable(source, names)
        plans = {}
        for t in manifest.tables:
            name = TableName.parse(t.source)
            if t.source in chosen and t.target:
                override = _chunking(options.tables.overrides.get(t.source), chunk_rows)
                plans[t.source] = plan_one(source, described[name], TableName.parse(t.target), options.tables, override)
    return Target(server, drift, plans, settled_source)


def _readable(source: MySQLSource, names: list[TableName]) -> dict[TableName, Any]:
    """The tables described, after the checks a run makes before it reads: a table the user cannot see (MySQL
    hides it) or may read only some columns of is an error naming the GRANT to add."""
    tables, views = source.list_tables()
    grants = source.grants()
    try:
        select_tables(tables, [str(n) for n in names], [], views)
    except ConfigError as e:
        raise ConfigError(f"{e}{unreadable_hint(grants, str(e))}") from None
    described = source.describe(names)
    problems = [p for n in names if (p := access_problem(source, grants, described[n]))]
    if problems:
        raise SourceError("; ".join(problems))
    return described


def _selected(options: Options, table: str) -> bool:
    include, exclude = options.tables.include, options.tables.exclude
    return any(fnmatchcase(table, p) for p in include) and not any(fnmatchcase(table, p) for p in exclude)


def _inexact(manifest: Manifest) -> str | None:
    """Why no table of the load is the source at one position (so differences need not be load errors), or None
    (each table's own claim then says)."""
    if not manifest.binlog:
        return "no binlog position was recorded, so the load is not known to be a snapshot at one position"
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
