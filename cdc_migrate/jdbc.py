"""JDBC URL, connection properties and Spark reader options for one table plan (pure)."""

from __future__ import annotations

from cdc_migrate.config import SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.planning import TablePlan
from cdc_migrate.sql import quote_table

DRIVER_CLASSES = {
    "mysql": "com.mysql.cj.jdbc.Driver",  # MySQL Connector/J, on the Glue classpath
    "mariadb": "org.mariadb.jdbc.Driver",  # MariaDB Connector/J, Debian's libmariadb-java
}
# Preference when both are on the classpath.
DRIVER_ORDER = ("mysql", "mariadb")

# Per driver: the session in UTC, so TIMESTAMP values arrive as UTC instants.
_DRIVER_PROPERTIES = {
    "mysql": {
        "connectionTimeZone": "UTC",
        "forceConnectionTimeZoneToSession": "true",
        "zeroDateTimeBehavior": "CONVERT_TO_NULL",
    },
    "mariadb": {
        "sessionVariables": "time_zone='+00:00'",
    },
}


def driver_kind(setting: str) -> str:
    """`mysql` or `mariadb` for a source.jdbc_driver value (a short name or a driver class)."""
    for kind, cls in DRIVER_CLASSES.items():
        if setting in (kind, cls):
            return kind
    raise ConfigError(
        f"source.jdbc_driver = {setting!r} is unknown; use auto, mysql ({DRIVER_CLASSES['mysql']}) "
        f"or mariadb ({DRIVER_CLASSES['mariadb']})"
    )


def jdbc_url(source: SourceOptions) -> str:
    """`jdbc:mysql://host:port/`: the `jdbc:mysql:` prefix makes Spark use its MySQL dialect, and both
    MySQL Connector/J and MariaDB Connector/J 2.x accept it."""
    return f"jdbc:mysql://{source.host}:{source.port}/"


def connection_properties(source: SourceOptions, kind: str) -> dict[str, str]:
    """Driver class, user, password and the driver's flags; the user's jdbc_properties win."""
    props = {
        "driver": DRIVER_CLASSES[kind],
        "user": source.user or "",
        "password": source.password.reveal() if source.password else "",
        **_DRIVER_PROPERTIES[kind],
    }
    props.update(source.jdbc_properties)
    return props


def read_options(plan: TablePlan, source: SourceOptions, kind: str) -> dict[str, str]:
    """Options for `spark.read.format("jdbc")` that read one planned table.

    With more than one partition Spark splits the key range [lower, upper] into strides; its first
    and last partitions are open-ended and the first also takes NULL keys, so every row is read once.
    """
    options = {
        "url": jdbc_url(source),
        "dbtable": quote_table(plan.source.name),
        **connection_properties(source, kind),
    }
    if plan.partitions > 1:
        options |= {
            "partitionColumn": plan.split_column or "",
            "lowerBound": str(plan.lower),
            "upperBound": str(plan.upper),
            "numPartitions": str(plan.partitions),
        }
    return options
