"""What the CDC pipeline would do, done independently: read row events from the binlog with PyPI's
mysql-replication (not cdc_migrate's code) and apply them to the Iceberg tables as upserts and deletes by
primary key, with Spark's MERGE INTO; then compare the tables with the source."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent


def replay(server: Any, spark: Any, database: str, keys: dict[str, list[str]], start: dict[str, Any],
           mariadb: bool) -> dict[str, int]:  # fmt: skip
    """Applies every row event of `database` from a manifest position (file, position, gtid_set) to the
    current end of the binlog; returns the number of row changes replayed per table. Tables are
    `local.<database>.<table>`, keyed as `keys` says."""
    end = server.execute("SHOW MASTER STATUS")[0]
    if (start["file"], int(start["position"])) == (end["File"], end["Position"]):
        return dict.fromkeys(keys, 0)
    where: dict[str, Any]
    if mariadb:
        # mysql-replication starts MariaDB streams by GTID state only (it ignores file and offset).
        where = {"auto_position": start["gtid_set"]}
    else:
        where = {"log_file": start["file"], "log_pos": int(start["position"]), "resume_stream": True}
    stream = BinLogStreamReader(
        connection_settings={
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "password": server.password,
        },
        server_id=random.randint(1000, 2**31),
        blocking=True,  # stop at the end position ourselves: a non-blocking MariaDB stream restarts at EOF
        slave_heartbeat=1,  # heartbeats while idle, so the end position is always reached
        is_mariadb=mariadb,
        **where,
    )
    # The last change of each key wins, in binlog order: a row image to upsert, or None to delete.
    final: dict[str, dict[tuple[Any, ...], dict[str, Any] | None]] = {t: {} for t in keys}
    counts = dict.fromkeys(keys, 0)
    try:
        for event in stream:
            if (stream.log_file, stream.log_pos) >= (end["File"], end["Position"]) and not isinstance(
                event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)
            ):
                break
            if not isinstance(event, (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent)):
                continue
            table = event.table
            if event.schema != database or table not in keys:
                continue
            key_of = _key_function(keys[table])
            for row in event.rows:
                counts[table] += 1
                if isinstance(event, WriteRowsEvent):
                    final[table][key_of(row["values"])] = row["values"]
                elif isinstance(event, UpdateRowsEvent):
                    before, after = row["before_values"], row["after_values"]
                    if key_of(before) != key_of(after):  # a primary-key change: delete, then insert
                        final[table][key_of(before)] = None
                    final[table][key_of(after)] = after
                else:
                    final[table][key_of(row["values"])] = None
            if (stream.log_file, stream.log_pos) >= (end["File"], end["Position"]):
                break
    finally:
        stream.close()
    for table, changes in final.items():
        if changes:
            _merge(spark, database, table, keys[table], changes)
    return counts


def _key_function(key: list[str]) -> Any:
    return lambda values: tuple(values[k] for k in key)


def _merge(spark: Any, database: str, table: str, key: list[str],
           changes: dict[tuple[Any, ...], dict[str, Any] | None]) -> None:  # fmt: skip
    from pyspark.sql.types import StringType, StructField, StructType

    target = spark.table(f"local.{database}.{table}")
    columns = target.columns
    schema = StructType([StructField(f.name, f.dataType, True) for f in target.schema.fields]
                        + [StructField("_op", StringType(), False)])  # fmt: skip
    rows = []
    for k, image in changes.items():
        if image is None:
            rows.append((*[dict(zip(key, k, strict=True)).get(c) for c in columns], "d"))
        else:
            rows.append((*[image[c] for c in columns], "u"))
    spark.createDataFrame(rows, schema).createOrReplaceTempView("cdc_changes")
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
    sets = ", ".join(f"t.`{c}` = s.`{c}`" for c in columns)
    cols = ", ".join(f"`{c}`" for c in columns)
    vals = ", ".join(f"s.`{c}`" for c in columns)
    spark.sql(
        f"MERGE INTO local.`{database}`.`{table}` t USING cdc_changes s ON {on} "
        f"WHEN MATCHED AND s._op = 'd' THEN DELETE "
        f"WHEN MATCHED THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED AND s._op <> 'd' THEN INSERT ({cols}) VALUES ({vals})"
    )


def differences(
    source_rows: Iterable[dict[str, Any]], iceberg_rows: Iterable[dict[str, Any]], key: list[str]
) -> list[str]:
    """Rows missing from Iceberg, extra in it, or different, by primary key (empty when equal)."""
    source = {tuple(r[k] for k in key): r for r in source_rows}
    iceberg = {tuple(r[k] for k in key): r for r in iceberg_rows}
    out = [f"missing {k}" for k in sorted(source.keys() - iceberg.keys())]
    out += [f"extra {k}" for k in sorted(iceberg.keys() - source.keys())]
    out += [f"different {k}: {iceberg[k]} != {source[k]}" for k in sorted(source.keys() & iceberg.keys())
            if source[k] != iceberg[k]]  # fmt: skip
    return out
