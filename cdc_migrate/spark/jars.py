"""Finding the jars a local run needs on disk, with Maven coordinates as the fallback (see DEVELOPERS.md)."""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
from dataclasses import dataclass

from cdc_migrate.config.kinds import KINDS
from cdc_migrate.errors import ConfigError

logger = logging.getLogger(__name__)

# Where each jar is looked for, in order, and the Maven coordinates used when none is on disk.
ICEBERG_PACKAGE = "snowpark_connect_deps_iceberg"
ICEBERG_JAR_GLOB = "iceberg-spark-runtime-3.5_2.12-*.jar"
MARIADB_JARS = ("/usr/share/java/mariadb-java-client.jar",)
MYSQL_JARS = ("/usr/share/java/mysql-connector-j.jar", "/usr/share/java/mysql-connector-java.jar")
SQLITE_JARS = ("/usr/share/java/sqlite-jdbc.jar", "/usr/share/java/xerial-sqlite-jdbc.jar")
MAVEN = {
    "iceberg": "org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0",
    "mysql": "com.mysql:mysql-connector-j:8.0.33",
    "sqlite": "org.xerial:sqlite-jdbc:3.40.1.0",
    # S3 Tables from a local Spark (Glue has its own): SigV4 and S3FileIO, and the client catalog
    "iceberg-aws": "org.apache.iceberg:iceberg-aws-bundle:1.10.0",
    "s3tables-catalog": "software.amazon.s3tables:s3-tables-catalog-for-iceberg-runtime:0.1.8",
}
MYSQL_CONNECTOR_J_URL = "https://repo1.maven.org/maven2/com/mysql/mysql-connector-j/8.0.33/mysql-connector-j-8.0.33.jar"
S3TABLES_CATALOG_JAR_URL = (
    "https://repo1.maven.org/maven2/software/amazon/s3tables/s3-tables-catalog-for-iceberg-runtime/0.1.8/"
    "s3-tables-catalog-for-iceberg-runtime-0.1.8.jar"
)


@dataclass(frozen=True)
class JarSet:
    """Jars found on disk and Maven coordinates for the ones that were not."""

    jars: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()

    def settings(self) -> dict[str, str]:
        out = {}
        if self.jars:
            out["spark.jars"] = ",".join(self.jars)
        if self.packages:
            out["spark.jars.packages"] = ",".join(self.packages)
        return out


def iceberg_runtime_jar() -> str | None:
    """The Iceberg Spark runtime jar shipped by the pinned PyPI package, if installed."""
    spec = importlib.util.find_spec(ICEBERG_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(location, "jars", ICEBERG_JAR_GLOB)))
        if found:
            return found[-1]
    return None


def _first_file(paths: tuple[str, ...]) -> str | None:
    return next((p for p in paths if os.path.isfile(p)), None)


def find_local_jars(catalog_kind: str, driver_jar: str | None = None) -> JarSet:
    """The Iceberg runtime, the MySQL-protocol JDBC drivers (the one given, and Debian's where installed),
    SQLite JDBC for the local catalog; for a table bucket, from Maven: Iceberg's AWS bundle (SigV4, S3FileIO)
    and for `s3tables` the client catalog."""
    jars: list[str] = []
    packages: list[str] = []
    if driver_jar:
        if not os.path.isfile(driver_jar):
            raise ConfigError(
                f"source.jdbc_driver_jar = {driver_jar!r} does not exist; download MySQL Connector/J 8.0.33 (Glue's "
                f"version) from {MYSQL_CONNECTOR_J_URL} and give its path, or leave the setting out to use Debian's "
                "libmariadb-java"
            )
        jars.append(os.path.abspath(driver_jar))
    debian = _first_file(MARIADB_JARS) or _first_file(MYSQL_JARS)
    wanted: list[tuple[str, str | None]] = [("iceberg", iceberg_runtime_jar())]
    if debian or not driver_jar:
        wanted.append(("mysql", debian))
    on_disk = {"sqlite": _first_file(SQLITE_JARS)}
    wanted += [(what, on_disk.get(what)) for what in KINDS[catalog_kind].jars]
    for what, path in wanted:
        if path:
            jars.append(path)
        else:
            logger.warning("no %s jar on disk; Spark will fetch %s from Maven Central", what, MAVEN[what])
            packages.append(MAVEN[what])
    return JarSet(tuple(jars), tuple(packages))
