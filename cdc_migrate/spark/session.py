"""The SparkSession edge: build one from settings, or bring an existing one (Glue, notebook) into line."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cdc_migrate.config.kinds import WAREHOUSE_LOCK, catalog_kind, local_catalog_paths
from cdc_migrate.config.model import Options
from cdc_migrate.errors import ConfigError, SessionError
from cdc_migrate.planning.capacity import local_slots
from cdc_migrate.spark import classdata
from cdc_migrate.spark.jars import find_local_jars
from cdc_migrate.spark.jdbc import DRIVER_CLASSES, DRIVER_ORDER, DriverRecord, driver_kind
from cdc_migrate.spark.jvm import jvm
from cdc_migrate.spark.settings import SPARK_CATALOG, Workload, spark_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

# Settings that only take effect when the JVM or the SparkContext starts.
_LAUNCH_ONLY_PREFIXES = ("spark.jars", "spark.driver.", "spark.executor.", "spark.master")


LOG4J2_FILE = Path(__file__).with_name("log4j2.properties")


def settings_for(options: Options, launching: bool, workload: Workload | None = None) -> dict[str, str]:
    """The Spark settings for these options; with `launching`, also the jars and JVM flags (for `workload`)."""
    if not launching:
        return spark_settings(options.catalog, options.spark.conf)
    jars = find_local_jars(options.catalog.kind, options.source.jdbc_driver_jar)
    settings = spark_settings(
        options.catalog,
        options.spark.conf,
        jars=jars.settings(),
        local_jvm=True,
        workload=workload,
        local_slots=local_slots(options.spark.master),
    )
    driver_opts = settings["spark.driver.extraJavaOptions"]
    if "log4j2.configurationFile" not in driver_opts:
        driver_opts = f"{driver_opts} -Dlog4j2.configurationFile=file:{LOG4J2_FILE}"
    if "SharedArchiveFile" not in driver_opts and "ArchiveClassesAtExit" not in driver_opts:
        driver_opts = f"{driver_opts} {classdata.java_options(jars.jars, driver_opts)}".strip()
    settings["spark.driver.extraJavaOptions"] = driver_opts
    return settings


def ensure_local_warehouse(options: Options, create: bool = True) -> bool:
    """Creates the local catalog's warehouse directory (its SQLite file lives there) and checks it is writable;
    with create=False (reading a load back) a missing one is an error instead. True where it made the directory
    (discard_unused_warehouse removes it again where the run stopped before writing anything)."""
    if not catalog_kind(options.catalog.kind).on_disk:
        return False
    root, db_file = local_catalog_paths(options.catalog.warehouse or "warehouse")
    made = create and not os.path.exists(root)
    fix = "give a writable directory with --warehouse (catalog.warehouse)"
    if not create:
        if not os.path.isfile(db_file):
            raise ConfigError(
                f"the local warehouse {root} holds no catalog ({os.path.basename(db_file)}): is it the warehouse "
                "the load wrote? Give that one with --warehouse (catalog.warehouse)"
            )
        return False
    try:
        os.makedirs(root, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".cdc-migrate-check.", dir=root)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise ConfigError(f"the local warehouse {root} is a file, not a directory; {fix}") from None
    except OSError as e:
        raise ConfigError(f"cannot write the local warehouse {root}: {e.strerror or e}; {fix}") from None
    return made


def discard_unused_warehouse(options: Options) -> None:
    """Removes a local warehouse directory a run made and then wrote nothing to (it stopped on bad input, an
    unreachable source, a refusal): only the run's lock file in it."""
    root, _ = local_catalog_paths(options.catalog.warehouse or "warehouse")
    try:
        if set(os.listdir(root)) <= {WAREHOUSE_LOCK}:
            shutil.rmtree(root)
    except OSError:  # best effort: never hide the error that stopped the run
        logger.debug("could not remove the unused warehouse %s", root, exc_info=True)


@contextlib.contextmanager
def tasks_python(spark: SparkSession) -> Iterator[None]:
    """Python tasks of a local master (the Arrow path's reads) run this interpreter, which has cdc_migrate, pyarrow
    and ConnectorX, where neither PYSPARK_PYTHON nor the session says otherwise (PySpark's default is whatever
    `python3` the PATH finds); the session's own setting is restored after. A cluster's executors run the
    Python PYSPARK_PYTHON names (Glue's has the job's --additional-python-modules)."""
    sc = spark.sparkContext
    before = sc.pythonExec
    local = str(sc.master).startswith("local") and "PYSPARK_PYTHON" not in os.environ and before == "python3"
    if local:
        sc.pythonExec = sys.executable
    try:
        yield
    finally:
        if local:
            sc.pythonExec = before


def build_session(options: Options, create_warehouse: bool = True, workload: Workload | None = None) -> SparkSession:
    """Builds (or joins) a SparkSession with everything the load needs, jars found on this machine; the JVM's
    options suit `workload` where one is given (a run knows its tables before it starts a local JVM)."""
    from pyspark.sql import SparkSession

    ensure_local_warehouse(options, create=create_warehouse)
    settings = settings_for(options, launching=True, workload=workload)
    builder = SparkSession.builder.master(options.spark.master).appName(options.spark.app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # the JVM did not start (Java missing, a bad setting): its reason in one line
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SessionError(
            f"Spark did not start (master {options.spark.master!r}): {reason}. Check Java 17 (java -version), the "
            "spark.* settings and --master; --verbose shows Spark's own output"
        ) from e
    prepare_session(spark, settings)
    return spark


def prepare_session(spark: SparkSession, settings: Mapping[str, str]) -> dict[str, str | None]:
    """Applies the runtime settings to an existing session, after checking that it can load: the Iceberg runtime
    is there and no catalog it defines differs. A refused session is left as it was. Returns what the settings
    changed were before (None: unset), for restore_session.

    A catalog the session already defines differently is an error: Spark caches catalogs, so changing
    its settings would silently keep writing to the old one. Settings fixed at launch (jars, JVM
    options, SQL extensions) cannot change on a live session; a difference is logged.
    """
    catalog_keys = [k for k in settings if k.startswith("spark.sql.catalog.")]
    conflicts = [
        f"{k}={current} (needed: {settings[k]})"
        for k in catalog_keys
        if (current := spark.conf.get(k, None)) is not None and current != settings[k]
    ]
    if conflicts:
        raise SessionError(
            "this SparkSession already defines the catalog differently: "
            + "; ".join(conflicts)
            + ". Give cdc_migrate another catalog.name, or use a session without that catalog"
        )
    if not jvm_has_class(spark, SPARK_CATALOG):
        raise SessionError(
            "the Iceberg Spark runtime is not on this SparkSession's classpath, and jars cannot be added to a "
            "running JVM (the session is left as it was). On AWS Glue add the job argument --datalake-formats "
            "iceberg; in a notebook stop this session (or restart the kernel) and start one with "
            "cdc_migrate.build_session(options), or with the settings of cdc_migrate.settings_for(options, "
            "launching=True), which name the jars; elsewhere add iceberg-spark-runtime-3.5_2.12 to spark.jars"
        )
    before: dict[str, str | None] = {}
    for key, value in settings.items():
        current = spark.conf.get(key, None)
        if current == value:
            continue
        if key.startswith(_LAUNCH_ONLY_PREFIXES) or key == "spark.sql.extensions":
            logger.warning(
                "this SparkSession was started without %s=%s; pass it when the session starts "
                "(spark-submit --conf, or the Glue job's --conf)",
                key,
                value,
            )
            continue
        try:
            spark.conf.set(key, value)
        except Exception as e:  # pyspark raises AnalysisException for static confs
            logger.warning("cannot set %s on this SparkSession (%s); set it when the session starts", key, e)
            continue
        before[key] = current
    return before


def restore_session(spark: SparkSession, before: Mapping[str, str | None], keep: str = "") -> None:
    """Puts back the settings prepare_session changed (`before`), except those starting with `keep` (the
    catalog's definition, which the caller reads the loaded tables through)."""
    for key, value in before.items():
        if keep and key.startswith(keep):
            continue
        try:
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
        except Exception:  # best effort: never hide the run's own outcome
            logger.debug("could not restore %s", key, exc_info=True)


def jvm_has_class(spark: SparkSession, name: str) -> bool:
    """Whether the session's JVM can load a class (the driver's context class loader)."""
    view = jvm(spark)
    loader = view.java.lang.Thread.currentThread().getContextClassLoader()
    try:
        view.java.lang.Class.forName(name, False, loader)
    except Exception:
        return False
    return True


_ADD_DRIVER = (
    "set source.jdbc_driver_jar to a downloaded MySQL Connector/J jar ({url}), or install Debian's libmariadb-java; "
    "in a session you built, add the jar to spark.jars. On AWS Glue Connector/J 8.0.33 is there already"
)


def jdbc_driver_kind(spark: SparkSession, setting: str) -> str:
    """`mysql` or `mariadb`: the configured driver, or with `auto` the first one the JVM can load."""
    from cdc_migrate.spark.jars import MYSQL_CONNECTOR_J_URL

    fix = _ADD_DRIVER.format(url=MYSQL_CONNECTOR_J_URL)
    if setting != "auto":
        kind = driver_kind(setting)
        if not jvm_has_class(spark, DRIVER_CLASSES[kind]):
            raise SessionError(
                f"source.jdbc_driver = {setting!r} but {DRIVER_CLASSES[kind]} is not on the Spark classpath: {fix}"
            )
        return kind
    for kind in DRIVER_ORDER:
        if jvm_has_class(spark, DRIVER_CLASSES[kind]):
            return kind
    raise SessionError(f"no MySQL JDBC driver on the Spark classpath: {fix}")


def driver_version(spark: SparkSession, kind: str) -> DriverRecord:
    """The JDBC driver's class and version (its jar's Implementation-Version), for the manifest."""
    cls = DRIVER_CLASSES[kind]
    version = None
    try:
        loaded = jvm(spark).org.apache.spark.util.Utils.classForName(cls, True, False)  # Spark's loader: spark.jars
        package = loaded.getPackage()
        version = package.getImplementationVersion() if package else None
        if not version:
            driver = loaded.newInstance()
            version = f"{driver.getMajorVersion()}.{driver.getMinorVersion()}"
    except Exception:  # a version is a record, never a reason to fail
        logger.debug("no version for %s", cls, exc_info=True)
    return DriverRecord(kind, cls, str(version) if version else None)
