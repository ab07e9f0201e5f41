"""Merging binlog changes into a loaded table (the Spark edge): the last image of every key that changed
after the low watermark replaces the rows of that key in one MERGE (a deleted key goes), so that a table is
exact at a known binlog position.

Changes become rows of the load's pushed SELECT (ColumnMapping.binlog), then go through the same Spark
conversion as rows read over JDBC. Up to `batch` changes travel in the Spark plan; more are written to a
scratch directory as Parquet, `batch` at a time, so the driver never holds them all.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cdc_migrate.contract.conversions import as_char
from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.contract.types import same
from cdc_migrate.source.changelog import KeyChange
from cdc_migrate.spark.jvm import jvm
from cdc_migrate.spark.spill import spill_parquet
from cdc_migrate.spark.write import BRANCH_PREFIX, snapshot_options, stale_branches
from cdc_migrate.sqltext import quote_ident

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

PRESENT = "__cdc_migrate_present"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """A table's changed keys and the images of those still present, converted like loaded rows."""

    keys: DataFrame
    upserts: DataFrame
    count: int
    small: bool


def _coercer(dtype: DataType, arrow: bool) -> Callable[[Any], Any]:
    """How a pushed value becomes the Python value Spark (or Arrow, with `arrow`) takes for `dtype` (JDBC types
    differ by driver); chosen once per column, not per value."""
    from pyspark.sql.types import (
        BinaryType,
        BooleanType,
        ByteType,
        DecimalType,
        DoubleType,
        FloatType,
        IntegerType,
        LongType,
        ShortType,
        StringType,
    )

    if isinstance(dtype, DecimalType):
        return lambda v: v if v is None or isinstance(v, Decimal) else Decimal(v)
    if isinstance(dtype, IntegerType | LongType | ShortType | ByteType):
        return lambda v: v if v is None or type(v) is int else int(v)
    if isinstance(dtype, FloatType | DoubleType):
        return lambda v: v if v is None or type(v) is float else float(v)
    if isinstance(dtype, StringType):
        return as_char
    if isinstance(dtype, BinaryType):
        wrap = bytes if arrow else bytearray
        return lambda v: None if v is None else wrap(v.encode("utf-8") if isinstance(v, str) else v)
    if isinstance(dtype, BooleanType):
        return lambda v: v if v is None else bool(v)
    return lambda v: v


def _pushed_fields(mapping: TableMapping, pushed: StructType) -> dict[str, Any]:
    by_name = {f.name: f for f in pushed.fields}
    return {c.name: by_name[c.name] for c in mapping.columns}


def _converters(mapping: TableMapping, pushed: StructType, arrow: bool) -> list[Callable[[Any], Any]]:
    """Per column, the binlog value to the value the pushed SELECT gives, as Spark (or Arrow) takes it."""
    fields = _pushed_fields(mapping, pushed)

    def one(form: Callable[[Any], Any], to: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return to if form is same else lambda v: to(form(v))

    return [one(c.binlog, _coercer(fields[c.name].dataType, arrow)) for c in mapping.columns]


def _rows(
    mapping: TableMapping, pushed: StructType, changes: Iterable[KeyChange], arrow: bool = False
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(key row, image row or None) per change, as the pushed SELECT would have returned them."""
    converters = _converters(mapping, pushed, arrow)
    index = {c.name: i for i, c in enumerate(mapping.columns)}
    key_converters = [converters[index[mapping.column_by_target(k).name]] for k in mapping.identifier]
    for change in changes:
        key = tuple(f(v) for f, v in zip(key_converters, change.key, strict=True))
        image = None
        if change.image is not None:
            image = tuple(f(v) for f, v in zip(converters, change.image, strict=True))
        yield key, image


def _expressions(mapping: TableMapping, names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [e for c, e in zip(mapping.columns, mapping.spark_expressions(), strict=True) if c.name in wanted]


IN_PLAN = 1_000  # up to this many changes travel in the Spark plan; more as Parquet through the scratch directory


def changes_frames(
    spark: SparkSession,
    mapping: TableMapping,
    pushed: StructType,
    changes: Iterable[KeyChange],
    scratch: str | None = None,
    batch: int = 50_000,
    in_plan: int = IN_PLAN,
) -> Changes:
    """The changed keys and present images of a table as converted DataFrames.

    Up to `in_plan` changes (or any number without a scratch directory) go into the Spark plan; more are written
    as Parquet files with pyarrow into `scratch`, `batch` rows a file, and read from there by Spark (several
    times faster than Spark's conversion of Python rows: 50,000 rows of 12 columns in 1.5 s against 4-5 s).
    """
    from pyspark.sql.types import StructType

    fields = _pushed_fields(mapping, pushed)
    key_schema = StructType([fields[k] for k in mapping.identifier])
    image_schema = StructType([fields[c.name] for c in mapping.columns])
    rows = iter(changes)
    head = list(itertools.islice(rows, in_plan + 1))
    if scratch is None or len(head) <= in_plan:
        converted = list(_rows(mapping, pushed, itertools.chain(head, rows)))
        key_df = spark.createDataFrame([k for k, _ in converted], key_schema)
        image_df = spark.createDataFrame([i for _, i in converted if i is not None], image_schema)
        count, small = len(converted), True
    else:
        path = f"{scratch.rstrip('/')}/{uuid.uuid4().hex}"
        arrow_rows = _rows(mapping, pushed, itertools.chain(head, rows), arrow=True)
        count = spill_parquet(path, key_schema, image_schema, arrow_rows, batch)
        key_df = spark.read.schema(key_schema).parquet(f"{path}/keys")
        image_df = spark.read.schema(image_schema).parquet(f"{path}/images")
        small = False
    return Changes(
        keys=key_df.selectExpr(*_expressions(mapping, mapping.identifier)),
        upserts=image_df.selectExpr(*mapping.spark_expressions()),
        count=count,
        small=small,
    )


def merge(spark: SparkSession, table: str, changes: Changes, mapping: TableMapping, run_id: str | None = None) -> None:
    """Applies the changes to an Iceberg table (`table` a quoted catalog.namespace.name) as one change its readers
    see: on a branch of its own, every changed key's rows deleted and the present images appended, then main
    fast-forwarded to that branch. The delete is a semi join of the target's keys and row positions with the
    changed keys (broadcast when they are few): no other column of the target is read and nothing of it is
    shuffled, where a MERGE joins the whole target row by row (5M rows, 50,000 keys: 0.8 s against 2.5 s warm).
    Where the catalog takes no branch (or the table has no snapshot to branch from), one MERGE commit.

    The branch is made, fast-forwarded and removed through Iceberg's API (metadata commits, no Spark job)."""
    iceberg = jvm(spark).org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, table)
    try:
        branch = _branch(iceberg)
    except Exception as e:  # the catalog's refusal, whatever its type: the MERGE does the same
        logger.info("%s: no staging branch (%s); merging the changes with one MERGE", table, str(e).splitlines()[0])
        _merge_into(spark, table, changes, mapping)
        return
    try:
        _delete_and_append(spark, f"{table}.{quote_ident('branch_' + branch)}", changes, mapping, run_id)
        iceberg.refresh()  # the branch as Spark's two commits left it
        iceberg.manageSnapshots().fastForwardBranch("main", branch).commit()
    finally:
        iceberg.refresh()
        if iceberg.refs().containsKey(branch):
            iceberg.manageSnapshots().removeBranch(branch).commit()


def _branch(iceberg: Any) -> str:
    """A new branch of the table at its current snapshot, after removing any a stopped run left behind."""
    for name in stale_branches(iceberg):
        iceberg.manageSnapshots().removeBranch(name).commit()
    current = iceberg.currentSnapshot()
    if current is None:
        raise ValueError("the table has no snapshot to branch from")
    branch = f"{BRANCH_PREFIX}{uuid.uuid4().hex[:12]}"
    iceberg.manageSnapshots().createBranch(branch, current.snapshotId()).commit()
    return branch


def _delete_and_append(
    spark: SparkSession, target: str, changes: Changes, mapping: TableMapping, run_id: str | None
) -> None:
    view = f"cdc_migrate_keys_{uuid.uuid4().hex[:12]}"
    changes.keys.createOrReplaceTempView(view)
    matches = " AND ".join(f"k.{quote_ident(c)} = t.{quote_ident(c)}" for c in mapping.identifier)
    try:
        spark.sql(f"DELETE FROM {target} t WHERE EXISTS (SELECT 1 FROM {view} k WHERE {matches})")
    finally:
        spark.catalog.dropTempView(view)
    images = changes.upserts.select(*[quote_ident(c.name) for c in mapping.columns])
    images.writeTo(target).options(**snapshot_options(run_id)).append()


def _merge_into(spark: SparkSession, table: str, changes: Changes, mapping: TableMapping) -> None:
    """One MERGE commit: delete, update or insert by key."""
    from pyspark.sql.functions import lit

    view = f"cdc_migrate_changes_{uuid.uuid4().hex[:12]}"
    present = changes.upserts.withColumn(PRESENT, lit(True))
    source = changes.keys.join(present, on=list(mapping.identifier), how="left")
    if not source._jdf.queryExecution().analyzed().deterministic():
        # Spark refuses a MERGE whose source computes non-deterministic expressions (the contract's java_method,
        # for POINT) under its join: materialised first (the changed keys only).
        source = source.localCheckpoint(eager=True)
    source.createOrReplaceTempView(view)

    columns = [c.name for c in mapping.columns]
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in mapping.identifier)
    sets = ", ".join(f"t.{quote_ident(c)} = s.{quote_ident(c)}" for c in columns)
    try:
        spark.sql(
            f"MERGE INTO {table} t USING {view} s ON {on} "
            f"WHEN MATCHED AND s.{PRESENT} IS NULL THEN DELETE "
            f"WHEN MATCHED THEN UPDATE SET {sets} "
            f"WHEN NOT MATCHED AND s.{PRESENT} IS NOT NULL THEN INSERT ({', '.join(map(quote_ident, columns))}) "
            f"VALUES ({', '.join(f's.{quote_ident(c)}' for c in columns)})"
        )
    finally:
        spark.catalog.dropTempView(view)


def replace_rows(spark: SparkSession, table: str, changes: Changes | None, run_id: str | None = None) -> None:
    """Replaces every row of an Iceberg table with the present images of `changes` in one commit (a TRUNCATE
    applied, then the rows written after it); with no changes, deletes every row."""
    if changes is None:
        spark.sql(f"DELETE FROM {table}")
        return
    from pyspark.sql.functions import lit

    changes.upserts.writeTo(table).options(**snapshot_options(run_id)).overwrite(lit(True))
