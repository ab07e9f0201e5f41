"""The driver JVM's class-data-sharing archive (JDK 13+ dynamic CDS): the classes a session loads, saved once by
`cdc-migrate prepare` (`make setup` runs it) and mapped by every later JVM cdc_migrate launches, which then starts
a session in about half the time (BENCHMARKS.md). It is keyed by the Java, the Spark and the jars it was made with:
any change of them asks for a new one, and a missing or unusable archive only costs the start it would have saved
(the JVM ignores it silently: -Xshare:auto with its CDS log off)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"
# How long `prepare` waits for the training JVM to write the archive as it exits.
DUMP_WAIT_SECONDS = 120.0


def cache_dir() -> Path:
    """Where archives are kept: $CDC_MIGRATE_CACHE, else the user's cache directory (XDG)."""
    if os.environ.get("CDC_MIGRATE_CACHE"):
        return Path(os.environ["CDC_MIGRATE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cdc-migrate"


def java_binary() -> str | None:
    """The java that Spark's launcher runs (spark-class: $JAVA_HOME/bin/java, else the PATH's)."""
    home = os.environ.get("JAVA_HOME")
    found = os.path.join(home, "bin", "java") if home else shutil.which("java")
    return os.path.realpath(found) if found and os.path.exists(found) else None


def _identity(path: str) -> str:
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{int(stat.st_mtime)}"


def archive_path(jars: Sequence[str]) -> Path | None:
    """The archive for this machine's Java, PySpark and `jars` (the session's spark.jars), present or not; None
    where no Java is found."""
    import pyspark

    java = java_binary()
    if java is None:
        return None
    spark_jars = Path(pyspark.__file__).parent / "jars"
    names = sorted(os.listdir(spark_jars)) if spark_jars.is_dir() else []
    parts = [_identity(java), pyspark.__version__, *names, *(_identity(j) for j in jars if os.path.exists(j))]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return cache_dir() / f"driver-{key}.jsa"


# JVM options that hook class loading (an agent, the flight recorder): with them, Java 17 crashes loading a class
# from a dynamic archive (SIGSEGV in KlassFactory::check_shared_class_file_load_hook, seen with JFR).
AGENTS = ("-javaagent", "-agentlib", "-agentpath", "StartFlightRecording", "FlightRecorder")
JAVA_OPTION_VARIABLES = ("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


def java_options(jars: Sequence[str], driver_options: str = "") -> str:
    """The driver JVM's options that map the archive, where one was made for this Java, Spark and jars, and
    neither `driver_options` nor the environment's Java options load an agent."""
    hooked = [driver_options, *(os.environ.get(name, "") for name in JAVA_OPTION_VARIABLES)]
    if any(agent in text for text in hooked for agent in AGENTS):
        logger.debug("no class-data archive: a Java agent or the flight recorder is on (Java 17 crashes with both)")
        return ""
    path = archive_path(jars)
    if path is None or not path.is_file():
        logger.debug("no class-data archive for this Java and Spark (cdc-migrate prepare makes one)")
        return ""
    return f"-XX:SharedArchiveFile={path} {QUIET}"


def prepare(jars: Sequence[str]) -> Path | None:
    """Makes the archive for this Java, Spark and `jars` (none where it exists or no Java is found): a Python
    process starts a session whose JVM writes the classes it loaded as it exits, after the catalog, a table's
    write and read and a Python job; the archive is renamed into place once that JVM has gone."""
    path = archive_path(jars)
    if path is None or path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
    with tempfile.TemporaryDirectory(prefix="cdc-migrate-prepare-") as scratch:
        command = [sys.executable, "-m", "cdc_migrate.spark.classdata", str(partial), scratch, *jars]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            logger.warning("no class-data archive: the training session failed: %s", done.stderr.strip()[-500:])
            return None
        _wait_for_exit(int(done.stdout.split()[-1]))
    if not partial.is_file() or partial.stat().st_size == 0:
        logger.warning("no class-data archive: the JVM wrote none (Java 13 or later makes one)")
        return None
    os.replace(partial, path)
    return path


def _wait_for_exit(pid: int) -> None:
    deadline = time.monotonic() + DUMP_WAIT_SECONDS
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.1)


def _train(archive: str, scratch: str, jars: Sequence[str]) -> None:
    """The training session (run as `python -m cdc_migrate.spark.classdata ARCHIVE SCRATCH JARS...`): what a load
    does in the JVM, then the JVM's pid on stdout."""
    from pyspark.sql import SparkSession

    from cdc_migrate.config.sections import CatalogOptions
    from cdc_migrate.spark.settings import ALWAYS, catalog_settings

    catalog = CatalogOptions(kind="local", warehouse=os.path.join(scratch, "warehouse"))
    os.makedirs(catalog.warehouse or "", exist_ok=True)
    builder = SparkSession.builder.master("local[2]").appName("cdc-migrate prepare")
    settings = catalog_settings(catalog) | ALWAYS | {"spark.ui.enabled": "false", "spark.jars": ",".join(jars)}
    settings["spark.driver.extraJavaOptions"] = f"-Duser.timezone=UTC -XX:ArchiveClassesAtExit={archive} {QUIET}"
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    name = catalog.catalog_name
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {name}.prepare")
    spark.sql(f"CREATE TABLE {name}.prepare.t (id BIGINT, s STRING, d DECIMAL(12,2), ts TIMESTAMP) USING iceberg")
    spark.sql(f"INSERT INTO {name}.prepare.t VALUES (1, 'a', 1.50, TIMESTAMP'2024-01-01 00:00:00')")
    spark.table(f"{name}.prepare.t").collect()
    spark.sparkContext.parallelize(range(2), 2).map(lambda x: x).collect()
    pid = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    spark.stop()
    print(pid)


if __name__ == "__main__":
    _train(sys.argv[1], sys.argv[2], sys.argv[3:])
