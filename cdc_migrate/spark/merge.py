"""Merging binlog changes into a loaded table (the Spark edge): the last image of every key that changed
after the low watermark replaces the rows of that key in one MERGE (a deleted key goes), so that a table is
exact at a known binlog position.

Changes become rows of the load's pushed SELECT (ColumnMapping.binlog), then go through the same Spark
conversion as rows read over JDBC. Up to `batch` changes travel in the Spark plan; more are written to a
scratch directory as Parquet, `batch` at a time, so the driver never holds them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cdc_migrate.contract.conversions import as_char
from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.source.changelog import KeyChange
from cdc_migrate.sqltext import quote_ident

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

PRESENT = "__cdc_migrate_present"


@dataclass(frozen=True)
class Changes:
    """A table's changed keys and the images of those still present, converted like loaded rows."""

    keys: DataFrame
    upserts: DataFrame
    count: int
    small: bool


def coerce(value: Any, dtype: DataType) -> Any:
    """A pushed value as the Python type Spark wants for `dtype` (JDBC types differ by driver)."""
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

    if value is None:
        return None
    if isinstance(dtype, DecimalType):
        return value if isinstance(value, Decimal) else Decimal(value)
    if isinstance(dtype, IntegerType | LongType | ShortType | ByteType):
        return int(value)
    if isinstance(dtype, FloatType | DoubleType):
        return float(value)
    if isinstance(dtype, StringType):
        return as_char(value)
    if isinstance(dtype, BinaryType):
        return bytearray(value.encode("utf-8") if isinstance(value, str) else value)
    if isinstance(dtype, BooleanType):
        return bool(value)
    return value


def _pushed_fields(mapping: TableMapping, pushed: StructType) -> dict[str, Any]:
    by_name = {f.name: f for f in pushed.fields}
    return {c.name: by_name[c.name] for c in mapping.columns}


def _rows(
    mapping: TableMapping, pushed: StructType, changes: Iterable[KeyChange]
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """(key row, image row or None) per change, as the pushed SELECT would have returned them."""
    fields = _pushed_fields(mapping, pushed)
    key_columns = [mapping.column_by_target(k) for k in mapping.identifier]
    for change in changes:
        key = tuple(coerce(c.binlog(v), fields[c.name].dataType) for c, v in zip(key_columns, change.key, strict=True))
        image = None
        if change.image is not None:
            image = tuple(
                coerce(c.binlog(v), fields[c.name].dataType) for c, v in zip(mapping.columns, change.image, strict=True)
            )
        yield key, image


def _expressions(mapping: TableMapping, names: Iterable[str]) -> list[str]:
    wanted = set(names)
    return [e for c, e in zip(mapping.columns, mapping.spark_expressions(), strict=True) if c.name in wanted]


def changes_frames(
    spark: SparkSession,
    mapping: TableMapping,
    pushed: StructType,
    changes: Iterable[KeyChange],
    scratch: str | None = None,
    batch: int = 50_000,
) -> Changes:
    """The changed keys and present images of a table as converted DataFrames."""
    from pyspark.sql.types import StructType

    fields = _pushed_fields(mapping, pushed)
    key_schema = StructType([fields[k] for k in mapping.identifier])
    image_schema = StructType([fields[c.name] for c in mapping.columns])
    keys: list[tuple[Any, ...]] = []
    images: list[tuple[Any, ...]] = []
    count = 0
    spill: str | None = None
    for key, image in _rows(mapping, pushed, changes):
        count += 1
        keys.append(key)
        if image is not None:
            images.append(image)
        if len(keys) >= batch and scratch:
            spill = spill or f"{scratch.rstrip('/')}/{uuid.uuid4().hex}"
            _spill(spark, spill, keys, key_schema, images, image_schema)
            keys, images = [], []
    if spill:
        _spill(spark, spill, keys, key_schema, images, image_schema)
        key_df = spark.read.schema(key_schema).parquet(f"{spill}/keys")
        image_df = spark.read.schema(image_schema).parquet(f"{spill}/images")
    else:
        key_df = spark.createDataFrame(keys, key_schema)
        image_df = spark.createDataFrame(images, image_schema)
    return Changes(
        keys=key_df.selectExpr(*_expressions(mapping, mapping.identifier)),
        upserts=image_df.selectExpr(*mapping.spark_expressions()),
        count=count,
        small=spill is None,
    )


def _spill(
    spark: SparkSession,
    path: str,
    keys: list[tuple[Any, ...]],
    key_schema: StructType,
    images: list[tuple[Any, ...]],
    image_schema: StructType,
) -> None:
    spark.createDataFrame(keys, key_schema).write.mode("append").parquet(f"{path}/keys")
    spark.createDataFrame(images, image_schema).write.mode("append").parquet(f"{path}/images")


def merge(spark: SparkSession, table: str, changes: Changes, mapping: TableMapping) -> None:
    """Applies the changes to an Iceberg table in one MERGE commit: delete, update or insert by key."""
    from pyspark.sql.functions import lit

    view = f"cdc_migrate_changes_{uuid.uuid4().hex[:12]}"
    present = changes.upserts.withColumn(PRESENT, lit(True))
    # Materialised (the changed keys only): Spark refuses a MERGE whose source computes non-deterministic
    # expressions (the contract's raise_error and java_method) under its join.
    source = changes.keys.join(present, on=list(mapping.identifier), how="left").localCheckpoint(eager=True)
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


def replace_rows(spark: SparkSession, table: str, changes: Changes | None) -> None:
    """Replaces every row of an Iceberg table with the present images of `changes` in one commit (a TRUNCATE
    applied, then the rows written after it); with no changes, deletes every row."""
    if changes is None:
        spark.sql(f"DELETE FROM {table}")
        return
    from pyspark.sql.functions import lit

    changes.upserts.writeTo(table).overwrite(lit(True))
