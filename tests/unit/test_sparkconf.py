from __future__ import annotations

import os

from cdc_migrate.config import CatalogOptions
from cdc_migrate.sparkconf import ALWAYS, glue_conf_value, spark_settings, spark_submit_args

ARN = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/analytics"

# The seed document's six settings, written out by hand.
SEED_SIX = {
    "spark.sql.catalog.s3tablesbucket": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.s3tablesbucket.catalog-impl": "software.amazon.s3tables.iceberg.S3TablesCatalog",
    "spark.sql.catalog.s3tablesbucket.warehouse": ARN,
    "spark.sql.defaultCatalog": "s3tablesbucket",
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
    "spark.sql.catalog.s3tablesbucket.cache-enabled": "true",
}
ALWAYS_THREE = {
    "spark.sql.readSideCharPadding": "false",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.session.timeZone": "UTC",
}


def test_s3tables_gives_exactly_the_seed_settings_plus_the_always_on_ones() -> None:
    assert spark_settings(CatalogOptions(kind="s3tables", warehouse=ARN)) == SEED_SIX | ALWAYS_THREE
    assert ALWAYS == ALWAYS_THREE


def test_local_catalog_is_a_jdbc_catalog_on_sqlite_in_the_warehouse(tmp_path: os.PathLike[str]) -> None:
    wh = os.path.join(tmp_path, "wh")

    got = spark_settings(CatalogOptions(kind="local", warehouse=wh))

    assert got["spark.sql.catalog.local"] == "org.apache.iceberg.spark.SparkCatalog"
    assert got["spark.sql.catalog.local.catalog-impl"] == "org.apache.iceberg.jdbc.JdbcCatalog"
    assert got["spark.sql.catalog.local.uri"] == f"jdbc:sqlite:{wh}/catalog.db"
    assert got["spark.sql.catalog.local.warehouse"] == f"file://{wh}"
    assert got["spark.sql.defaultCatalog"] == "local"
    assert ALWAYS_THREE.items() <= got.items()


def test_rest_catalog_carries_uri_warehouse_and_extra_properties() -> None:
    got = spark_settings(
        CatalogOptions(
            kind="rest",
            name="lake",
            uri="https://cat.example/api",
            warehouse="wh",
            properties={"credential": "id:secret"},
        )
    )

    assert got["spark.sql.catalog.lake.type"] == "rest"
    assert got["spark.sql.catalog.lake.uri"] == "https://cat.example/api"
    assert got["spark.sql.catalog.lake.warehouse"] == "wh"
    assert got["spark.sql.catalog.lake.credential"] == "id:secret"


def test_the_users_settings_win_and_jars_are_appended() -> None:
    got = spark_settings(
        CatalogOptions(kind="local", warehouse="w"),
        extra={"spark.sql.session.timeZone": "Asia/Seoul", "spark.jars": "/x.jar"},
        jars={"spark.jars": "/iceberg.jar"},
        local_jvm=True,
    )

    assert got["spark.sql.session.timeZone"] == "Asia/Seoul"
    assert got["spark.jars"] == "/iceberg.jar,/x.jar"
    assert got["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC"
    assert got["spark.scheduler.mode"] == "FAIR"  # tables loading together share the task slots


def test_spark_submit_arguments() -> None:
    args = spark_submit_args({"spark.jars": "/a.jar,/b.jar", "spark.jars.packages": "g:a:1", "spark.x": "1"})

    assert args == ["--jars", "/a.jar,/b.jar", "--packages", "g:a:1", "--conf", "spark.x=1"]


def test_glue_conf_is_one_value_without_jars() -> None:
    value = glue_conf_value({"spark.a": "1", "spark.jars": "/x.jar", "spark.b": "2"})

    assert value == "spark.a=1 --conf spark.b=2"
