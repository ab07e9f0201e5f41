"""The Arrow data plane: Spark plans, distributes and commits; the rows never enter the JVM. Each read task runs its
key range's SELECT with ConnectorX into Arrow, converts every column under the CDC type contract in Arrow
(contract/arrow.py), writes one Parquet file with pyarrow where the table keeps its data, and returns only the file's
path, size and rows. The driver then adds every file of the table to one replace transaction through Iceberg's API
(the session's catalog): readers see the old table or the whole new one, as with the JDBC path.

Nothing is silent: a chunk's rows are counted again in its file's footer, a data error (a value the contract cannot
load, a reader panic) is returned by the task, not raised (Spark would try it again four times on a cluster), each
attempt writes a file of its own, the files of attempts that did not make it are removed, and the commit comes
only after every task of the table succeeded.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import sys
import threading
import time
import uuid
import zipimport
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.contract.arrow import ArrowColumn, DataError, arrow_columns, arrow_select
from cdc_migrate.contract.arrow_values import apply_conversion
from cdc_migrate.errors import WriteError
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.spark.jdbc import partition_predicates
from cdc_migrate.spark.jvm import jclass
from cdc_migrate.spark.write import LoadOutcome, job_group
from cdc_migrate.sqltext import quote_ident
from cdc_migrate.target.files import (
    PARQUET_PROPERTIES,
    FieldSpec,
    ParquetSettings,
    arrow_schema,
    parquet_settings,
    schema_json,
)
from cdc_migrate.target.lineage import RUN_PROPERTY

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

# Each read's session: TIMESTAMPs in UTC (contract/arrow.py reads them as they are).
SESSION = "SET time_zone = '+00:00'"
ICEBERG = "org.apache.iceberg"
# The most attempts Spark makes of a task (spark.task.maxFailures' default); the files of the others are removed.
MAX_ATTEMPTS = 4


def reader_url(source: SourceOptions, database: str) -> str:
    """ConnectorX's URL for the source (the password in it: it travels with the task, never to a log), with the TLS
    the run settled on (ssl-mode: ConnectorX 0.4.6 treats PREFERRED as REQUIRED, so preferred is settled first)."""
    password = source.password.reveal() if source.password else ""
    login = f"{quote(source.user or '', safe='')}:{quote(password, safe='')}"
    mode = {"disabled": "DISABLED", "preferred": "DISABLED", "required": "REQUIRED", "verify": "VERIFY_IDENTITY"}
    url = f"mysql://{login}@{source.host}:{source.port}/{quote(database, safe='')}?ssl-mode={mode[source.tls]}"
    if source.tls == "verify" and source.tls_ca:
        url += f"&ssl-ca={quote(source.tls_ca, safe='')}"
    return url


@dataclass(frozen=True)
class Chunk:
    """What one read task needs: its SELECT, where its file goes, how to convert and write it."""

    index: int
    query: str
    path: str
    columns: tuple[ArrowColumn, ...]
    schema: str  # the table's Iceberg schema (JSON), with the ids the transaction gave its fields
    settings: ParquetSettings


@dataclass(frozen=True)
class Written:
    """What a read task did: its file (path, bytes, rows), its seconds, or why it could not (a data error)."""

    index: int
    path: str | None = None
    size: int = 0
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    started_at: float = 0.0  # the task's start (epoch seconds), for the log's picture of how tasks overlapped
    cpu: float = 0.0  # the task's CPU seconds (its process's, reading, converting and writing)
    phases: tuple[float, float, float] = (0.0, 0.0, 0.0)  # CPU seconds reading, converting, writing


def attempt_path(path: str, attempt: int) -> str:
    """The file an attempt of a task writes: one of its own, so that a retried or speculative attempt never writes
    over another's."""
    stem, dot, ext = path.rpartition(".")
    return f"{stem}-a{attempt}{dot}{ext}"


def write_chunk(chunk: Chunk, url: str, counted: Any = None) -> Written:
    """A read task: the chunk's rows read with ConnectorX, converted, written as one Parquet file. A value the
    contract refuses, or a reader's panic, comes back as the error (deterministic: not worth another attempt);
    anything else (a lost connection) raises, and Spark tries the task again. `url` (with the password) travels in
    the task's function, which Spark keeps in memory, never with the chunks, which PySpark writes to a file."""
    os.environ.setdefault("RUST_LOG", "off")  # ConnectorX's connection pool logs retries to stderr
    import connectorx as cx
    import pyarrow as pa
    from pyspark import TaskContext

    steady_worker()
    started, started_at, cpu = time.monotonic(), time.time(), time.process_time()
    context = TaskContext.get()
    path = attempt_path(chunk.path, context.attemptNumber() if context else 0)
    try:
        read = cx.read_sql(url, chunk.query, return_type="arrow", pre_execution_query=SESSION)
        was_read = time.process_time()
    except BaseException as e:  # PanicException is a BaseException
        if type(e).__name__ == "PanicException":
            return Written(chunk.index, error=f"the Arrow reader failed on this chunk ({str(e).splitlines()[0]})")
        raise
    try:
        schema = arrow_schema(chunk.schema)
        arrays = [
            apply_conversion(c, read.column(c.name)).cast(f.type) for c, f in zip(chunk.columns, schema, strict=True)
        ]
        table = pa.Table.from_arrays(arrays, schema=schema)
        converted = time.process_time()
    except DataError as e:
        return Written(chunk.index, error=str(e))
    rows = _write_parquet(table, path, chunk.settings)
    phases = (was_read - cpu, converted - was_read, time.process_time() - converted)
    if rows != read.num_rows:
        return Written(chunk.index, error=f"chunk {chunk.index}: {read.num_rows} rows read, {rows} in its file")
    if counted is not None:
        counted.add(rows)
    seconds, cpu = round(time.monotonic() - started, 3), round(time.process_time() - cpu, 3)
    return Written(chunk.index, path, _size(path), rows, seconds, None, started_at, cpu, phases)


def warmed(index: int) -> int:
    """A warm-up task: the read task's modules imported in a Python worker, which the tasks that follow reuse."""
    import connectorx  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import cdc_migrate.contract.arrow_values  # noqa: F401

    steady_worker()
    return index


class _SteadyZip(zipimport.zipimporter):
    """A zip importer that does not read its archive's directory again when import caches are invalidated (the
    archives on a worker's path, pyspark.zip and py4j's, do not change while it lives)."""

    def invalidate_caches(self) -> None:
        return None


_steady = False


def steady_worker() -> None:
    """Once per Python worker, what PySpark's worker costs every task, removed (profiled on the 10M-row table's 39
    tasks: about 6 of its 15 CPU-s): its worker calls importlib.invalidate_caches() before each task, and since
    Python 3.10 a zip importer then reads its whole archive's directory again (pyspark.zip, py4j's, for every
    package path in them); its daemon calls gc.collect() after each task, which walks every object the imports
    made (gc.freeze() moves them out of the collector's sight; new objects are collected as before)."""
    global _steady
    if _steady:
        return
    _steady = True
    for path, finder in list(sys.path_importer_cache.items()):
        if type(finder) is zipimport.zipimporter:
            try:
                sys.path_importer_cache[path] = _SteadyZip(path)
            except zipimport.ZipImportError:
                continue
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def warm_workers(spark: SparkSession, tag: str) -> Iterator[None]:
    """Starts a Python worker per task slot, with the read task's modules imported, while the driver does what it
    does before the first table's tasks (the catalog, the namespaces, the first transaction): about a second of a
    small table's load. Joined when the block ends; a failure is only logged (the tasks start their own workers).
    Its job carries the run's `tag`."""
    sc = spark.sparkContext
    slots = max(1, sc.defaultParallelism)

    def warm() -> None:
        sc.addJobTag(tag)  # the run's: cancelled with its other jobs
        with job_group(spark, "cdc-migrate: Python workers"):
            try:
                t = time.monotonic()
                sc.parallelize(range(slots), slots).map(warmed).collect()
                logger.debug("warm-up %.2f s", time.monotonic() - t)
            except Exception:
                logger.debug("the Python workers' warm-up failed", exc_info=True)

    thread = threading.Thread(target=warm, name="cdc-migrate-warm-up", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _write_parquet(table: Any, path: str, settings: ParquetSettings) -> int:
    """Writes the file (a local path or an s3:// one, through pyarrow's file systems); returns its rows as its footer
    says."""
    import pyarrow.parquet as pq
    from pyarrow import fs

    filesystem, where = fs.FileSystem.from_uri(path) if "://" in path else (fs.LocalFileSystem(), path)
    if isinstance(filesystem, fs.LocalFileSystem):
        os.makedirs(os.path.dirname(where), exist_ok=True)
    with pq.ParquetWriter(where, table.schema, filesystem=filesystem, **settings.writer_options()) as writer:
        writer.write_table(table, row_group_size=settings.row_group_rows)
    return int(pq.ParquetFile(where, filesystem=filesystem).metadata.num_rows)


def _size(path: str) -> int:
    from pyarrow import fs

    filesystem, where = fs.FileSystem.from_uri(path) if "://" in path else (fs.LocalFileSystem(), path)
    return int(filesystem.get_file_info(where).size)


# ---- the driver -------------------------------------------------------------------------------------------------


def _fields(plan: TablePlan) -> list[FieldSpec]:
    return [FieldSpec(c.name, c.type.iceberg, c.required, c.type.required_fields) for c in plan.mapping.columns]


def _ranges(plan: TablePlan) -> list[str | None]:
    """Each read partition's WHERE over the source table's key columns (the JDBC path's ranges)."""
    return list(partition_predicates(plan, [quote_ident(k) for k in plan.key]) or [None])


def _with_decoding(spark: SparkSession, column: ArrowColumn) -> ArrowColumn:
    """A java_text column with its charset's 256 characters as the JVM decodes each byte (what Debezium does)."""
    if column.kind != "java_text":
        return column
    table = str(jclass(spark, "java.lang.String")(bytearray(range(256)), column.encoding))
    return replace(column, decoding=table)


def load_arrow(
    spark: SparkSession,
    plan: TablePlan,
    source: SourceOptions,
    catalog: str,
    properties: dict[str, str],
    run_id: str | None,
    counted: Any = None,
    stopped: Callable[[], str | None] = lambda: None,
) -> LoadOutcome:
    """Reads `plan`'s table with the Arrow path and replaces its Iceberg table in one commit; `counted` (a Spark
    accumulator) gets each task's rows as it finishes, for the table's progress; where `stopped` says why the run
    stops once the tasks have run, the files are removed and nothing is committed."""
    started = time.monotonic()
    columns = tuple(_with_decoding(spark, c) for c in arrow_columns(plan.mapping))
    iceberg_catalog = spark._jsparkSession.sessionState().catalogManager().catalog(catalog).icebergCatalog()
    parse = jclass(spark, f"{ICEBERG}.catalog.TableIdentifier", "parse")
    identifier = parse(f"{plan.target.namespace}.{plan.target.name}")
    schema = jclass(spark, f"{ICEBERG}.SchemaParser", "fromJson")(schema_json(_fields(plan), plan.mapping.identifier))
    props = jclass(spark, "java.util.HashMap")()
    for key, value in properties.items():
        props.put(key, value)
    txn = iceberg_catalog.buildTable(identifier, schema).withProperties(props).createOrReplaceTransaction()
    table = txn.table()
    held = table.properties()  # a Java map: only the keys needed, each a call (iterating it is one per entry)
    settings = parquet_settings({k: str(v) for k in PARQUET_PROPERTIES if (v := held.get(k)) is not None})
    table_schema = str(jclass(spark, f"{ICEBERG}.SchemaParser", "toJson")(table.schema()))
    provider = table.locationProvider()
    prefix = f"{run_id or uuid.uuid4().hex[:16]}-{uuid.uuid4().hex[:8]}"
    url = reader_url(source, plan.source.name.namespace)
    chunks = [
        Chunk(
            i,
            arrow_select(columns, plan.source.name, where),
            str(provider.newDataLocation(f"{prefix}-{i:05d}.parquet")),
            columns,
            table_schema,
            settings,
        )
        for i, where in enumerate(_ranges(plan))
    ]
    opened = time.monotonic()
    try:
        task = functools.partial(write_chunk, url=url, counted=counted)
        results = spark.sparkContext.parallelize(chunks, len(chunks)).map(task).collect()
    except BaseException:
        _remove(table, [attempt_path(c.path, a) for c in chunks for a in range(MAX_ATTEMPTS)])
        raise
    kept = {r.path for r in results if r.path}
    _remove(table, [p for c in chunks for a in range(MAX_ATTEMPTS) if (p := attempt_path(c.path, a)) not in kept])
    errors = [r.error for r in sorted(results, key=lambda r: r.index) if r.error]
    if stopped() and not errors:  # the run was interrupted while the tasks ran: nothing is committed after that
        errors = [f"stopped before its commit: {stopped()}"]
    if errors:
        _remove(table, sorted(kept))
        raise WriteError(errors[0])
    read = time.monotonic()
    outcome = _commit(spark, txn, table, sorted(results, key=lambda r: r.index), run_id)
    _log_times(str(plan.source.name), results, (started, opened, read, time.monotonic()))
    return outcome


def _log_times(name: str, results: list[Written], marks: tuple[float, float, float, float]) -> None:
    """The debug log's picture of a table's load: its transaction, its tasks (when each started, its own seconds)
    and its commit."""
    started, opened, read, committed = marks
    first = min((r.started_at for r in results), default=0.0)
    logger.debug(
        "%s: transaction %.2f s, %d tasks %.2f s (their own %.2f s, CPU %.2f s: reading %.2f, converting %.2f, "
        "writing %.2f; started at %s), commit %.2f s",
        name,
        opened - started,
        len(results),
        read - opened,
        sum(r.seconds for r in results),
        sum(r.cpu for r in results),
        *(sum(r.phases[i] for r in results) for i in range(3)),
        ", ".join(f"+{r.started_at - first:.2f}/{r.seconds:.2f}" for r in results),
        committed - read,
    )


def _commit(spark: SparkSession, txn: Any, table: Any, written: list[Written], run_id: str | None) -> LoadOutcome:
    """Every file of the table in one append of its replace transaction, its metrics from its footer; the rows the
    footers count must be the rows the tasks wrote."""
    metrics_config = jclass(spark, f"{ICEBERG}.MetricsConfig", "forTable")(table)
    file_metrics = jclass(spark, f"{ICEBERG}.parquet.ParquetUtil", "fileMetrics")
    builder = jclass(spark, f"{ICEBERG}.DataFiles", "builder")
    io = table.io()
    append = txn.newAppend()
    if run_id:
        append.set(RUN_PROPERTY, run_id)
    for w in written:
        assert w.path is not None
        metrics = file_metrics(io.newInputFile(w.path), metrics_config)
        if int(metrics.recordCount()) != w.rows:
            raise WriteError(f"{w.path}: its footer counts {metrics.recordCount()} rows, its task wrote {w.rows}")
        data_file = (
            builder(table.spec())
            .withPath(w.path)
            .withFileSizeInBytes(w.size)
            .withFormat("PARQUET")
            .withMetrics(metrics)
            .build()
        )
        append.appendFile(data_file)
    append.commit()
    txn.commitTransaction()
    snapshot = txn.table().currentSnapshot()
    return LoadOutcome(
        rows=sum(w.rows for w in written),
        snapshot_id=int(snapshot.snapshotId()) if snapshot is not None else None,
        partition_rows=tuple(w.rows for w in written),
        bytes=sum(w.size for w in written),
        partition_seconds=tuple(w.seconds for w in written),
    )


def _remove(table: Any, paths: list[str]) -> None:
    """Removes files (those of attempts that did not make it, or all of a table that failed); best effort. A local
    path that is not there is passed over here, without a call into the JVM."""
    io = table.io()
    for path in paths:
        local = path[len("file:") :] if path.startswith("file:") else path if path.startswith("/") else None
        if local is not None and not os.path.lexists(local):
            continue
        try:
            io.deleteFile(path)
        except Exception:
            logger.debug("could not remove %s", path, exc_info=True)
