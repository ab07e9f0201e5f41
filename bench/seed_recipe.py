"""The seed document's recipe, as written there: MIN/MAX of the key, the seed's partition formula handed to
Spark's JDBC reader as partitionColumn/lowerBound/upperBound/numPartitions, Spark's default fetch size,
tables one after another, CREATE OR REPLACE into Iceberg. Run by bench/run.py in its own process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from cdc_migrate.spark.jars import find_local_jars


def main(config_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    wh = cfg["warehouse"]
    os.makedirs(wh, exist_ok=True)
    jars = find_local_jars("local").settings()
    builder = (
        SparkSession.builder.master("local[*]")
        .appName("seed-recipe")
        .config("spark.sql.catalog.s3tablesbucket", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.s3tablesbucket.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
        .config("spark.sql.catalog.s3tablesbucket.uri", f"jdbc:sqlite:{wh}/catalog.db")
        .config("spark.sql.catalog.s3tablesbucket.warehouse", f"file://{wh}")
        .config("spark.sql.defaultCatalog", "s3tablesbucket")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")
        .config("spark.sql.readSideCharPadding", "false")
        .config("spark.driver.memory", cfg["driver_memory"])
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in jars.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    jdbc_url = f"jdbc:mysql://{cfg['host']}:{cfg['port']}/"
    jdbc_properties = {"user": cfg["user"], "password": cfg["password"], "driver": "org.mariadb.jdbc.Driver"}
    db = cfg["database"]
    for table, key in cfg["tables"]:
        # The seed's code, with its placeholders filled: rows_per_partition 1,000,000, min 1, max 200.
        minmax_df = spark.read.jdbc(
            url=jdbc_url,
            table=f"(SELECT MIN({key}) as min_id, MAX({key}) as max_id FROM {db}.{table}) AS minmax_{db}_{table}",
            properties=jdbc_properties,
        )
        min_max_row = minmax_df.collect()[0]
        min_id, max_id = min_max_row["min_id"], min_max_row["max_id"]
        rows_per_partition = 1_000_000
        partition_count = max(1, min(200, int((max_id - min_id) / rows_per_partition)))
        current_jdbc_properties = jdbc_properties | {
            "partitionColumn": key,
            "lowerBound": str(min_id),
            "upperBound": str(max_id),
            "numPartitions": str(partition_count),
        }
        target_df = spark.read.jdbc(url=jdbc_url, table=f"{db}.{table}", properties=current_jdbc_properties)
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {db}")
        target_df.writeTo(f"{db}.{table}").using("iceberg").tableProperty("format-version", "2").createOrReplace()
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1])
