"""Spark settings of a load (the catalog's from its kind, config/kinds.py), and their renderings for spark-submit
and Glue (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cdc_migrate.config.kinds import catalog_kind
from cdc_migrate.config.sections import CatalogOptions

SPARK_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"

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

# The JVM's JIT for a run of many small tables: C1 only. Measured on 2 cores (BENCHMARKS.md): C2 compiles
# Catalyst's and Iceberg's code again and again as tables go by, about 9 CPU-s at the start and more for every
# table, while C1 code costs about 0.2 CPU-s more per million values read and written. So C1 wins below about
# 40 million values plus 200,000 per table (300 small tables: 20% less CPU), and C2 above (a 10M-row table:
# 30% less CPU than C1).
DEFAULT_DRIVER_MEMORY = "1g"  # Spark's own default of spark.driver.memory
C1_ONLY = "-XX:TieredStopAtLevel=1"
C1_BASE_CELLS = 40_000_000
C1_CELLS_PER_TABLE = 200_000


@dataclass(frozen=True)
class Workload:
    """What a run will load, as far as the JVM's start can take it into account."""

    tables: int
    cells: int  # estimated rows x columns, all tables together


def driver_java_options(memory: str, workload: Workload | None) -> str:
    """The driver JVM's options for a session cdc_migrate launches (pure): UTC as the default zone, the initial
    heap at its maximum (`spark.driver.memory`: the heap does not grow with the run, so neither does the peak
    memory with the table), and C1 only where the workload is many small tables."""
    options = ["-Duser.timezone=UTC", f"-Xms{memory}"]
    if workload is not None and workload.cells < C1_BASE_CELLS + C1_CELLS_PER_TABLE * workload.tables:
        options.append(C1_ONLY)
    return " ".join(options)


def catalog_settings(catalog: CatalogOptions) -> dict[str, str]:
    """The Spark settings that define the Iceberg catalog `catalog.catalog_name`.

    `s3tables` gives exactly the seed's six settings: SparkCatalog, the S3 Tables catalog-impl,
    the table bucket ARN as warehouse, cache-enabled, defaultCatalog and the Iceberg SQL extensions;
    `s3tables-rest` and `glue-rest` the REST properties of `aws_rest_properties` under SparkCatalog.
    """
    name = catalog.catalog_name
    prefix = f"spark.sql.catalog.{name}"
    settings: dict[str, str] = {prefix: SPARK_CATALOG}
    settings |= {f"{prefix}.{key}": value for key, value in catalog_kind(catalog.kind).spark(catalog).items()}
    settings |= {f"{prefix}.{key}": value for key, value in catalog.properties.items()}
    settings |= {"spark.sql.defaultCatalog": name, "spark.sql.extensions": ICEBERG_EXTENSIONS}
    return settings


def spark_settings(
    catalog: CatalogOptions,
    extra: Mapping[str, str] | None = None,
    jars: Mapping[str, str] | None = None,
    local_jvm: bool = False,
    workload: Workload | None = None,
    local_slots: int | None = None,
) -> dict[str, str]:
    """Every Spark setting a load needs, in the order: catalog, always-on, jars, JVM, the user's own.

    Args:
        catalog: the target catalog.
        extra: the user's `[spark.conf]`; it wins over what cdc_migrate chose.
        jars: `spark.jars` / `spark.jars.packages` for a session cdc_migrate launches.
        local_jvm: add the JVM's options (only when cdc_migrate starts the JVM).
        workload: what the run loads, for the JVM's options (see driver_java_options).
        local_slots: a local master's task slots: shuffles (a live load's MERGE, a validation) in twice as many
            partitions, not Spark's 200 (each map task of a MERGE writes one file per partition: 200 files for a
            few changed keys; 5M rows with 50,000 changed: 3.7 s against 5.7 s).
    """
    settings = catalog_settings(catalog) | ALWAYS
    if jars:
        settings |= dict(jars)
    if local_jvm:
        memory = (extra or {}).get("spark.driver.memory", DEFAULT_DRIVER_MEMORY)
        settings |= LOCAL_JVM | {"spark.driver.extraJavaOptions": driver_java_options(memory, workload)}
    if local_jvm and local_slots:
        settings["spark.sql.shuffle.partitions"] = str(max(4, 2 * local_slots))
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
