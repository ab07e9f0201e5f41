"""The fastest single-machine alternative a user would pick: ConnectorX reads each table into Arrow
(partitioned on its first key column, one reader per core), PyIceberg writes it. Run by bench/run.py in
its own process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import connectorx as cx
import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog


def iceberg_compatible(table: pa.Table) -> pa.Table:
    """What a user has to add: PyIceberg takes no unsigned integers and only microsecond timestamps."""
    fields = []
    for field in table.schema:
        t = field.type
        if pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_timestamp(t):
            t = pa.timestamp("us", tz=t.tz)
        fields.append(pa.field(field.name, t, field.nullable))
    return table.cast(pa.schema(fields))


def main(config_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    wh = cfg["warehouse"]
    os.makedirs(wh, exist_ok=True)
    catalog = SqlCatalog("cx", uri=f"sqlite:///{wh}/catalog.db", warehouse=f"file://{wh}")
    db = cfg["database"]
    catalog.create_namespace_if_not_exists(db)
    conn = f"mysql://{cfg['user']}:{cfg['password']}@{cfg['host']}:{cfg['port']}/{db}"
    cores = os.cpu_count() or 1
    for table, key in cfg["tables"]:
        query = f"SELECT * FROM {table}"
        big = cfg["row_counts"][table] > 100_000
        arrow = cx.read_sql(
            conn, query, return_type="arrow", partition_on=key if big else None, partition_num=cores if big else None
        )
        arrow = iceberg_compatible(arrow)
        name = f"{db}.{table}"
        if catalog.table_exists(name):
            catalog.drop_table(name)
        iceberg = catalog.create_table(name, schema=arrow.schema, properties={"format-version": "2"})
        iceberg.append(arrow)


if __name__ == "__main__":
    main(sys.argv[1])
