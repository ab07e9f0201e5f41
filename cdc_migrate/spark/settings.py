"""Spark settings for each catalog kind, and their renderings for spark-submit and Glue (pure)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from cdc_migrate.config.model import CatalogOptions

SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
S3TABLES_CATALOG_IMPL = "software.amazon.s3tables.iceberg.S3TablesCatalog"
JDBC_CATALOG_IMPL = "org.apache.iceberg.jdbc.JdbcCatalog"
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"

# Always on, whatever the catalog: unpadded CHAR/ENUM, timestamps before 1900 written as they are, UTC.
ALWAYS: dict[str, str] = {
    "spark.sql.readSideCharPadding": "false",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.session.timeZone": "UTC",
}

# Only where cdc_migrate launches the JVM itself: the JVM's default zone, which JDBC drivers use; fair
# scheduling, so that tables loading at the same time share the task slots instead of queueing behind
# the largest; no console progress bar (cdc_migrate reports progress itself).
LOCAL_JVM: dict[str, str] = {
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.scheduler.mode": "FAIR",
    "spark.ui.showConsoleProgress": "false",
}

LOCAL_CATALOG_FILE = "catalog.db"


def local_catalog_paths(warehouse: str) -> tuple[str, str]:
    """The absolute warehouse directory and SQLite catalog file of a local catalog."""
    root = os.path.abspath(warehouse)
    return root, os.path.join(root, LOCAL_CATALOG_FILE)


def aws_rest_properties(catalog: CatalogOptions, route: str | None = None) -> dict[str, str]:
    """The Iceberg REST catalog properties of an AWS route to a table bucket (Spark, PyIceberg, the sink).

    `s3tables-rest`: the S3 Tables Iceberg REST endpoint, signed for `s3tables`, the bucket ARN as warehouse.
    `glue-rest`: the Glue Data Catalog's Iceberg REST endpoint, signed for `glue`, the bucket as
    `<account>:s3tablescatalog/<bucket>`.
    """
    route = route or catalog.kind
    region = catalog.region_name or ""
    # the same endpoint shape, signed for its service; only S3 Tables names the FileIO
    service, warehouse = (
        ("glue", catalog.glue_catalog_id) if route == "glue-rest" else ("s3tables", catalog.table_bucket_arn)
    )
    props = {
        "type": "rest",
        "uri": f"https://{service}.{region}.amazonaws.com/iceberg",
        "warehouse": warehouse or "",
        "rest.sigv4-enabled": "true",
        "rest.signing-name": service,
        "rest.signing-region": region,
    }
    if service == "s3tables":
        props["io-impl"] = S3_FILE_IO
    return props


def catalog_settings(catalog: CatalogOptions) -> dict[str, str]:
    """The Spark settings that define the Iceberg catalog `catalog.catalog_name`.

    `s3tables` gives exactly the seed's six settings: SparkCatalog, the S3 Tables catalog-impl,
    the table bucket ARN as warehouse, cache-enabled, defaultCatalog and the Iceberg SQL extensions;
    `s3tables-rest` and `glue-rest` the REST properties of `aws_rest_properties` under SparkCatalog.
    """
    name = catalog.catalog_name
    prefix = f"spark.sql.catalog.{name}"
    settings: dict[str, str] = {prefix: SPARK_CATALOG}
    if catalog.kind == "s3tables":
        assert catalog.warehouse is not None
        settings |= {
            f"{prefix}.catalog-impl": S3TABLES_CATALOG_IMPL,
            f"{prefix}.warehouse": catalog.warehouse,
            f"{prefix}.cache-enabled": "true",
        }
    elif catalog.kind in ("s3tables-rest", "glue-rest"):
        settings |= {f"{prefix}.{key}": value for key, value in aws_rest_properties(catalog).items()}
    elif catalog.kind == "local":
        root, db_file = local_catalog_paths(catalog.warehouse or "warehouse")
        settings |= {
            f"{prefix}.catalog-impl": JDBC_CATALOG_IMPL,
            f"{prefix}.uri": f"jdbc:sqlite:{db_file}",
            f"{prefix}.warehouse": f"file://{root}",
            # The layout with view support; PyIceberg's SqlCatalog reads it as well.
            f"{prefix}.jdbc.schema-version": "V1",
            # SQLite has one writer at a time: tables committing in parallel through a pool of connections
            # fail with SQLITE_BUSY(_SNAPSHOT) once the catalog holds tables, so this JVM's catalog uses one
            # connection (measured on 40 tables, 4 at a time: 10.3 s against 11.4 s with Iceberg's pool of
            # two), and waits up to a minute for another process (PyIceberg, a second run) to let go.
            f"{prefix}.clients": "1",
            f"{prefix}.jdbc.busy_timeout": "60000",
        }
    elif catalog.kind == "rest":
        assert catalog.uri is not None
        settings |= {f"{prefix}.type": "rest", f"{prefix}.uri": catalog.uri}
        if catalog.warehouse:
            settings[f"{prefix}.warehouse"] = catalog.warehouse
    settings |= {f"{prefix}.{key}": value for key, value in catalog.properties.items()}
    settings |= {"spark.sql.defaultCatalog": name, "spark.sql.extensions": ICEBERG_EXTENSIONS}
    return settings


def spark_settings(
    catalog: CatalogOptions,
    extra: Mapping[str, str] | None = None,
    jars: Mapping[str, str] | None = None,
    local_jvm: bool = False,
) -> dict[str, str]:
    """Every Spark setting a load needs, in the order: catalog, always-on, jars, JVM, the user's own.

    Args:
        catalog: the target catalog.
        extra: the user's `[spark.conf]`; it wins over what cdc_migrate chose.
        jars: `spark.jars` / `spark.jars.packages` for a session cdc_migrate launches.
        local_jvm: add the JVM time-zone options (only when cdc_migrate starts the JVM).
    """
    settings = catalog_settings(catalog) | ALWAYS
    if jars:
        settings |= dict(jars)
    if local_jvm:
        settings |= LOCAL_JVM
    if extra:
        for key, value in extra.items():
            if key in ("spark.jars", "spark.jars.packages") and settings.get(key):
                settings[key] = f"{settings[key]},{value}"
            else:
                settings[key] = value
    return settings


def spark_submit_args(settings: Mapping[str, str]) -> list[str]:
    """The settings as spark-submit arguments (`--jars`, `--packages`, `--conf k=v`)."""
    args: list[str] = []
    for key, value in settings.items():
        if key == "spark.jars":
            args += ["--jars", value]
        elif key == "spark.jars.packages":
            args += ["--packages", value]
        else:
            args += ["--conf", f"{key}={value}"]
    return args


def glue_conf_value(settings: Mapping[str, str]) -> str:
    """The settings as the ONE value of a Glue job's `--conf` argument: `k1=v1 --conf k2=v2 ...`.

    Jars are left out: Glue takes them from `--extra-jars` and `--datalake-formats iceberg`.
    """
    pairs = [f"{k}={v}" for k, v in settings.items() if k not in ("spark.jars", "spark.jars.packages")]
    return " --conf ".join(pairs)
