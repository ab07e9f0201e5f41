from __future__ import annotations

import os

import pytest

from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.spark.settings import (
    ALWAYS,
    Workload,
    driver_java_options,
    glue_conf_value,
    spark_settings,
    spark_submit_args,
)

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
    assert got["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC -Xms1g"
    assert got["spark.scheduler.mode"] == "FAIR"  # tables loading together share the task slots


@pytest.mark.parametrize(
    ("memory", "workload", "options"),
    [
        ("1g", None, "-Duser.timezone=UTC -Xms1g"),
        ("4g", Workload(tables=300, cells=30_000_000), "-Duser.timezone=UTC -Xms4g -XX:TieredStopAtLevel=1"),
        ("1g", Workload(tables=1, cells=21_000_000), "-Duser.timezone=UTC -Xms1g -XX:TieredStopAtLevel=1"),
        ("1g", Workload(tables=1, cells=120_000_000), "-Duser.timezone=UTC -Xms1g"),
        ("1g", Workload(tables=500, cells=120_000_000), "-Duser.timezone=UTC -Xms1g -XX:TieredStopAtLevel=1"),
    ],
    ids=["no-workload", "many-small", "one-3M-row", "one-10M-row", "many-and-a-big-one"],
)
def test_the_driver_jvm_starts_at_its_whole_heap_and_many_small_tables_get_c1_only(
    memory: str, workload: Workload | None, options: str
) -> None:
    assert driver_java_options(memory, workload) == options


def test_the_initial_heap_follows_spark_driver_memory() -> None:
    got = spark_settings(
        CatalogOptions(kind="local", warehouse="w"), extra={"spark.driver.memory": "6g"}, local_jvm=True
    )

    assert got["spark.driver.extraJavaOptions"].split() == ["-Duser.timezone=UTC", "-Xms6g"]


def test_spark_submit_arguments() -> None:
    args = spark_submit_args({"spark.jars": "/a.jar,/b.jar", "spark.jars.packages": "g:a:1", "spark.x": "1"})

    assert args == ["--jars", "/a.jar,/b.jar", "--packages", "g:a:1", "--conf", "spark.x=1"]


def test_glue_conf_is_one_value_without_jars() -> None:
    value = glue_conf_value({"spark.a": "1", "spark.jars": "/x.jar", "spark.b": "2"})

    assert value == "spark.a=1 --conf spark.b=2"


# The two REST routes of ../shared/reference/aws-and-cdc.md, written out by hand.
S3TABLES_REST = {
    "spark.sql.catalog.s3tablesbucket": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.s3tablesbucket.type": "rest",
    "spark.sql.catalog.s3tablesbucket.uri": "https://s3tables.ap-northeast-2.amazonaws.com/iceberg",
    "spark.sql.catalog.s3tablesbucket.warehouse": ARN,
    "spark.sql.catalog.s3tablesbucket.rest.sigv4-enabled": "true",
    "spark.sql.catalog.s3tablesbucket.rest.signing-name": "s3tables",
    "spark.sql.catalog.s3tablesbucket.rest.signing-region": "ap-northeast-2",
    "spark.sql.catalog.s3tablesbucket.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
    "spark.sql.defaultCatalog": "s3tablesbucket",
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
}
GLUE_REST = {
    "spark.sql.catalog.s3tablescatalog": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.s3tablescatalog.type": "rest",
    "spark.sql.catalog.s3tablescatalog.uri": "https://glue.ap-northeast-2.amazonaws.com/iceberg",
    "spark.sql.catalog.s3tablescatalog.warehouse": "111122223333:s3tablescatalog/analytics",
    "spark.sql.catalog.s3tablescatalog.rest.sigv4-enabled": "true",
    "spark.sql.catalog.s3tablescatalog.rest.signing-name": "glue",
    "spark.sql.catalog.s3tablescatalog.rest.signing-region": "ap-northeast-2",
    "spark.sql.defaultCatalog": "s3tablescatalog",
    "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
}


def test_s3tables_rest_is_the_signed_s3tables_endpoint_of_the_buckets_region() -> None:
    assert spark_settings(CatalogOptions(kind="s3tables-rest", warehouse=ARN)) == S3TABLES_REST | ALWAYS_THREE


def test_glue_rest_is_the_glue_endpoint_with_the_bucket_as_account_s3tablescatalog_bucket() -> None:
    from_arn = spark_settings(CatalogOptions(kind="glue-rest", warehouse=ARN))
    from_glue_form = spark_settings(
        CatalogOptions(kind="glue-rest", warehouse="111122223333:s3tablescatalog/analytics", region="ap-northeast-2")
    )

    assert from_arn == GLUE_REST | ALWAYS_THREE
    assert from_glue_form == from_arn


def test_every_kind_of_a_table_bucket_refuses_what_is_not_one() -> None:
    from cdc_migrate.config.model import Options
    from cdc_migrate.errors import ConfigError

    for kind in ("s3tables", "s3tables-rest"):
        with pytest.raises(ConfigError, match=f"catalog.kind = '{kind}' needs arn:aws:s3tables:"):
            Options.from_mapping({"catalog": {"kind": kind, "warehouse": "111122223333:s3tablescatalog/analytics"}})
    with pytest.raises(ConfigError, match="together with catalog.region"):
        Options.from_mapping({"catalog": {"kind": "glue-rest", "warehouse": "111122223333:s3tablescatalog/analytics"}})
    with pytest.raises(ConfigError, match="catalog.region = 'Seoul' is not an AWS region"):
        Options.from_mapping({"catalog": {"kind": "glue-rest", "warehouse": ARN, "region": "Seoul"}})


def test_a_local_master_shuffles_in_twice_its_slots_not_200() -> None:
    local = CatalogOptions(kind="local", warehouse="w")

    assert spark_settings(local, local_jvm=True, local_slots=2)["spark.sql.shuffle.partitions"] == "4"
    assert spark_settings(local, local_jvm=True, local_slots=16)["spark.sql.shuffle.partitions"] == "32"
    assert "spark.sql.shuffle.partitions" not in spark_settings(local, local_jvm=True)  # a cluster's own
    given = spark_settings(local, {"spark.sql.shuffle.partitions": "7"}, local_jvm=True, local_slots=2)
    assert given["spark.sql.shuffle.partitions"] == "7"
