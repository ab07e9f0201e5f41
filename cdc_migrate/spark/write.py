"""The Spark edge: read one planned table over JDBC, replace its Iceberg table atomically, commit its schema and
properties, and follow its jobs (handoff/exactness.py runs a table's whole load with these)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdc_migrate._version import __version__
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.naming import TableName
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.source.binlog import BinlogPosition, Exactness
from cdc_migrate.spark.jdbc import read_spec
from cdc_migrate.spark.jvm import jclass, string_array
from cdc_migrate.spark.status import group_tasks, rows_read
from cdc_migrate.sqltext import quote_path
from cdc_migrate.target.lineage import RUN_PROPERTY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

PROPERTY_PREFIX = "cdc-migrate."
NAME_MAPPING_PROPERTY = "schema.name-mapping.default"
DICTIONARY_BYTES_PROPERTY = "write.parquet.dict-size-bytes"
DICTIONARY_BYTES = 32 * 1024


@dataclass(frozen=True)
class LoadOutcome:
    """What the write committed: the table's snapshot, its row count and the rows of each read partition, and
    where (for a live source) the table is exact."""

    rows: int
    snapshot_id: int | None
    partition_rows: tuple[int, ...] | None = None
    bytes: int | None = None
    exactness: Exactness | None = None
    partition_seconds: tuple[float, ...] | None = None  # each read partition's task time


def table_properties(plan: TablePlan, server_address: str) -> dict[str, str]:
    """Iceberg table properties a table's write commits: format version 2, the Parquet dictionary size, the source
    table. The position it is exact at comes after, bound to its snapshot (finish_table, position_properties).

    Names (documented in the README): write.parquet.dict-size-bytes, cdc-migrate.source-table,
    cdc-migrate.source-server, cdc-migrate.split-column, cdc-migrate.version.
    """
    props = {
        "format-version": "2",
        # Parquet tries a dictionary on every column of a row group until it holds this many bytes: at Iceberg's
        # 2 MiB a unique column (a key, a timestamp, a free-text column) is hashed value by value for its whole
        # row group and then written plain anyway, a quarter of the write's CPU; 32 KiB still takes a dictionary
        # for a column of a few thousand distinct values (a status, a country) and gives the others up early.
        DICTIONARY_BYTES_PROPERTY: str(DICTIONARY_BYTES),
        # A live load's catch-up writes position deletes and the changed rows (merge-on-read, which format v2
        # readers apply) instead of rewriting every data file that holds a changed key: changes spread over a
        # big table touch every file. Its DELETE on a staging branch (spark/merge.py), or its MERGE.
        "write.merge.mode": "merge-on-read",
        "write.delete.mode": "merge-on-read",
        f"{PROPERTY_PREFIX}source-table": str(plan.source.name),
        f"{PROPERTY_PREFIX}source-server": server_address,
        f"{PROPERTY_PREFIX}version": __version__,
    }
    if plan.split_column:
        props[f"{PROPERTY_PREFIX}split-column"] = plan.split_column
    return props


EXACT_SNAPSHOT_PROPERTY = f"{PROPERTY_PREFIX}exact-snapshot-id"
POSITION_KEYS = (
    *(f"{PROPERTY_PREFIX}binlog-{k}" for k in ("file", "position", "gtid-set", "taken-at")),
    EXACT_SNAPSHOT_PROPERTY,
)


def position_properties(position: BinlogPosition | None, snapshot_id: int | None = None) -> dict[str, str]:
    """The binlog position a table is exact at, as table properties, bound to the snapshot that is (none without
    a position): the claim holds while the table's main is that snapshot or it with only the sink's commits after
    it (a replace keeps a table's old properties, so a claim a killed load left names a snapshot main is not)."""
    if position is None:
        return {}
    # binlog-file, binlog-position, binlog-gtid-set, binlog-taken-at: the manifest's fields, dashed
    props = {f"{PROPERTY_PREFIX}binlog-{k.replace('_', '-')}": str(v) for k, v in position.to_dict().items()}
    if snapshot_id is not None:
        props[EXACT_SNAPSHOT_PROPERTY] = str(snapshot_id)
    return props


def snapshot_options(run_id: str | None) -> dict[str, str]:
    """The write options that mark a commit as this run's (a snapshot property, target/lineage.RUN_PROPERTY)."""
    return {f"snapshot-property.{RUN_PROPERTY}": run_id} if run_id else {}


def spark_identifier(catalog: str, target: TableName, *more: str) -> str:
    """`catalog`.`namespace`.`table`[.`more`], backquoted for Spark SQL."""
    return quote_path(catalog, target.namespace, target.name, *more)


def read_table(spark: SparkSession, plan: TablePlan, source: SourceOptions, driver: str) -> DataFrame:
    """The planned table as pushed down to MySQL, read over JDBC in `plan.partitions` partitions."""
    spec = read_spec(plan, source, driver)
    if spec.predicates is None:
        return spark.read.jdbc(spec.url, spec.table, properties=spec.properties)
    return spark.read.jdbc(spec.url, spec.table, predicates=list(spec.predicates), properties=spec.properties)


def convert(df: DataFrame, mapping: TableMapping) -> DataFrame:
    """The rows as the CDC type contract wants them: one converted, exactly typed column per target."""
    return df.selectExpr(*mapping.spark_expressions())


def iceberg_table(spark: SparkSession, catalog: str, target: TableName) -> Any:
    """The Iceberg (Java) table object behind a Spark catalog table."""
    load = jclass(spark, "org.apache.iceberg.spark.Spark3Util", "loadIcebergTable")
    return load(spark._jsparkSession, spark_identifier(catalog, target))


def set_table_properties(table: Any, properties: Mapping[str, str]) -> None:
    """Sets table properties in one metadata commit through Iceberg's own API (as finish_table does), no new
    snapshot: the one way a table's properties change after its write."""
    if properties:
        update = table.updateProperties()
        for key, value in properties.items():
            update = update.set(key, value)
        update.commit()


def finish_table(spark: SparkSession, table: Any, mapping: TableMapping, position: BinlogPosition | None) -> None:
    """One metadata commit after the data commit: NOT NULL columns required, the primary key as identifier
    fields, for renamed columns their source names in the name mapping (so the sink finds them), the position
    the table is exact at bound to its current snapshot (none: a claim a replaced table kept is removed), and
    no staging branch a stopped catch-up left (it would keep that run's files).

    Spark creates every column of a CREATE OR REPLACE ... AS SELECT nullable; Iceberg's UpdateSchema
    makes them required here (the conversion has already refused NULLs in them). No new snapshot.
    """
    current = table.currentSnapshot()
    properties: dict[str, str] = position_properties(position, None if current is None else int(current.snapshotId()))
    txn = table.newTransaction()
    update = txn.updateSchema().allowIncompatibleChanges()
    for path in mapping.required_paths():
        update = update.requireColumn(path)
    identifier = jclass(spark, "java.util.ArrayList")()
    for name in mapping.identifier:
        identifier.add(name)
    update.setIdentifierFields(identifier).commit()
    renamed = mapping.renamed()
    if renamed:
        create = jclass(spark, "org.apache.iceberg.mapping.MappingUtil", "create")
        default = json.loads(
            jclass(spark, "org.apache.iceberg.mapping.NameMappingParser", "toJson")(create(txn.table().schema()))
        )
        properties = {**(properties or {}), NAME_MAPPING_PROPERTY: json.dumps(with_source_names(default, renamed))}
    stale = [k for k in POSITION_KEYS if k not in properties and table.properties().containsKey(k)]
    if properties or stale:
        update_properties = txn.updateProperties()
        for key, value in properties.items():
            update_properties = update_properties.set(key, value)
        for key in stale:
            update_properties = update_properties.remove(key)
        update_properties.commit()
    branches = stale_branches(table)
    if branches:
        manage = txn.manageSnapshots()
        for name in branches:
            manage = manage.removeBranch(name)
        manage.commit()
    txn.commitTransaction()


BRANCH_PREFIX = "cdc_migrate_merge_"


def stale_branches(table: Any) -> list[str]:
    """The staging branches of catch-ups (spark/merge.py) a stopped run left on the table."""
    return [name for name in (str(n) for n in table.refs().keySet().toArray()) if name.startswith(BRANCH_PREFIX)]


def table_outcome(table: Any, partitions: int) -> LoadOutcome:
    """Rows, snapshot id and the rows each read partition wrote, from the table's current snapshot.

    Iceberg names a data file after the Spark partition that wrote it (`{partition:05d}-...`), and a read
    partition writes its own files, so the files' record counts give each partition's rows.
    """
    snapshot = table.currentSnapshot()
    if snapshot is None:
        return LoadOutcome(rows=0, snapshot_id=None, partition_rows=(0,) * partitions)
    counts = [0] * partitions
    files = snapshot.addedDataFiles(table.io()).iterator()
    while files.hasNext():
        data_file = files.next()
        prefix = str(data_file.location()).rsplit("/", 1)[-1].split("-", 1)[0]
        if prefix.isdigit() and int(prefix) < partitions:
            counts[int(prefix)] += int(data_file.recordCount())
    summary = snapshot.summary()
    # A merge-on-read MERGE deletes rows by position: the rows left are the records less those deletes.
    rows = int(summary.get("total-records") or 0) - int(summary.get("total-position-deletes") or 0)
    return LoadOutcome(
        rows=rows,
        snapshot_id=int(snapshot.snapshotId()),
        partition_rows=tuple(counts),
        bytes=int(summary.get("total-files-size") or 0),
    )


def with_source_names(name_mapping: list[dict[str, Any]], renamed: Mapping[str, str]) -> list[dict[str, Any]]:
    """An Iceberg name mapping with each renamed top-level column's source name added as an alias."""
    out = []
    for entry in name_mapping:
        names = list(entry.get("names", []))
        extra = [renamed[n] for n in names if n in renamed]
        out.append({**entry, "names": names + [n for n in extra if n not in names]})
    return out


def ensure_namespaces(spark: SparkSession, catalog: str, namespaces: set[str]) -> None:
    """Creates the target namespaces, one after another, before tables load in parallel: through the catalog's
    own API (SupportsNamespaces), not SQL, whose first statement costs a second of Catalyst's start that a run
    on the Arrow path has no other use for."""
    plugin = spark._jsparkSession.sessionState().catalogManager().catalog(catalog)
    for namespace in sorted(namespaces):
        levels = string_array(spark, [namespace])
        if not plugin.namespaceExists(levels):
            try:
                plugin.createNamespace(levels, jclass(spark, "java.util.HashMap")())
            except Exception as e:  # made meanwhile by another run: as CREATE NAMESPACE IF NOT EXISTS
                if "NamespaceAlreadyExists" not in str(e):
                    raise


def write_table(
    spark: SparkSession,
    df: DataFrame,
    catalog: str,
    target: TableName,
    properties: Mapping[str, str],
    run_id: str | None = None,
) -> None:
    """Creates or replaces `catalog.target` with df in one Iceberg commit (its namespace exists: the run made
    them all before the tables load).

    Iceberg's SparkCatalog stages the replacement and commits it atomically: a reader sees the old
    table or the complete new one, never an empty or partial table. If the write fails the old table
    stays as it was.
    """
    writer = df.writeTo(spark_identifier(catalog, target)).using("iceberg")  # CREATE OR REPLACE ... AS SELECT
    for key, value in properties.items():
        writer = writer.tableProperty(key, value)
    for key, value in snapshot_options(run_id).items():
        writer = writer.option(key, value)
    writer.createOrReplace()


@contextmanager
def job_group(spark: SparkSession, description: str) -> Iterator[str]:
    """The table's jobs as one job group, in a scheduler pool of their own: under FAIR scheduling,
    tables loading at the same time then share the task slots."""
    sc = spark.sparkContext
    group = f"cdc-migrate-{uuid.uuid4().hex[:12]}"
    sc.setJobGroup(group, description, interruptOnCancel=True)
    sc.setLocalProperty("spark.scheduler.pool", group)
    try:
        yield group
    finally:
        for key in ("spark.jobGroup.id", "spark.job.description", "spark.scheduler.pool"):
            sc.setLocalProperty(key, None)  # type: ignore[arg-type]


@contextmanager
def ticker(
    spark: SparkSession,
    group: str,
    plan: TablePlan,
    report: Callable[[int, int, int], None],
    every: float = 2.0,
    rows: Callable[[], int] | None = None,
) -> Iterator[None]:
    """Reports the table's progress while it loads to `report(done, total, rows)`: partitions done and rows read
    (Spark's status store, or `rows` where the tasks count them themselves: Python tasks report no input rows)."""
    stop = threading.Event()

    def watch() -> None:
        last = (-1, -1)
        while not stop.wait(every):
            try:
                tasks = group_tasks(spark, group)
            except Exception:  # the status store is best effort; never fail a load over it
                continue
            done, total = sum(t.done for t in tasks), len(tasks)
            read = rows() if rows is not None else rows_read(tasks)
            if (done, read) != last and (done or read):
                last = (done, read)
                report(done, max(total, plan.partitions), read)

    thread = threading.Thread(target=watch, name=f"progress-{group}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
