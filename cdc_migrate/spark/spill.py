"""Rows from this process into Spark as Parquet (the edge to a scratch directory): pyarrow writes them, `batch`
rows a file, to a local directory or to S3 (a directory every executor reads), and Spark reads the files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType


def arrow_type(dtype: DataType) -> Any:
    """The Arrow type Spark reads back as `dtype` (the simple types JDBC reads give)."""
    import pyarrow as pa
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

    simple = [
        (LongType, pa.int64()),
        (IntegerType, pa.int32()),
        (ShortType, pa.int16()),
        (ByteType, pa.int8()),
        (DoubleType, pa.float64()),
        (FloatType, pa.float32()),
        (StringType, pa.string()),
        (BinaryType, pa.binary()),
        (BooleanType, pa.bool_()),
    ]
    if isinstance(dtype, DecimalType):
        return pa.decimal128(dtype.precision, dtype.scale)
    for spark_type, arrow in simple:
        if isinstance(dtype, spark_type):
            return arrow
    raise TypeError(f"no Arrow type for {dtype}")


class _Writer:
    """Parquet files of one schema under a directory, a file per `flush`."""

    def __init__(self, directory: str, schema: StructType) -> None:
        import pyarrow as pa
        import pyarrow.fs as pafs

        self._fs, self._dir = pafs.FileSystem.from_uri(directory.replace("s3a://", "s3://", 1))
        self._fs.create_dir(self._dir, recursive=True)
        self._schema = pa.schema([pa.field(f.name, arrow_type(f.dataType)) for f in schema.fields])
        self._rows: list[tuple[Any, ...]] = []
        self._files = 0

    def add(self, row: tuple[Any, ...]) -> None:
        self._rows.append(row)

    def flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*self._rows, strict=True)) if self._rows else [()] * len(self._schema)
        table = pa.Table.from_arrays(
            [pa.array(list(c), type=f.type) for c, f in zip(columns, self._schema, strict=True)], schema=self._schema
        )
        pq.write_table(table, f"{self._dir}/part-{self._files:05d}.parquet", filesystem=self._fs)
        self._files += 1
        self._rows = []


def spill_parquet(
    path: str,
    key_schema: StructType,
    image_schema: StructType,
    rows: Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]],
    batch: int,
) -> int:
    """Writes (key, image or None) rows as Parquet under `path`/keys and `path`/images; returns how many."""
    keys, images = _Writer(f"{path}/keys", key_schema), _Writer(f"{path}/images", image_schema)
    count = 0
    for key, image in rows:
        count += 1
        keys.add(key)
        if image is not None:
            images.add(image)
        if count % batch == 0:
            keys.flush()
            images.flush()
    keys.flush()
    images.flush()
    return count
