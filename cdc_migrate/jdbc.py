"""JDBC URL, connection properties and Spark reader options for one table plan (pure)."""

from __future__ import annotations

from cdc_migrate.config import SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.planning import TablePlan

DRIVER_CLASSES = {
    "mysql": "com.mysql.cj.jdbc.Driver",  # MySQL Connector/J, on the Glue classpath
    "mariadb": "org.mariadb.jdbc.Driver",  # MariaDB Connector/J, Debian's libmariadb-java
}
# Preference when both are on the classpath.
DRIVER_ORDER = ("mysql", "mariadb")

# Per driver, in the URL: TINYINT(1) as a number and YEAR as a number (never boolean / date), zero dates
# not an error. The pushed-down SELECT reads every temporal column as text, so these are a second line.
URL_FLAGS = {
    "mysql": {
        "tinyInt1isBit": "false",
        "yearIsDateType": "false",
        "zeroDateTimeBehavior": "CONVERT_TO_NULL",
        "connectionTimeZone": "UTC",
        "forceConnectionTimeZoneToSession": "true",
    },
    "mariadb": {
        "tinyInt1isBit": "false",
        "yearIsDateType": "false",
    },
}
# Per driver, as connection properties: the session time zone UTC, so TIMESTAMP text is UTC.
_DRIVER_PROPERTIES = {
    "mysql": {},
    "mariadb": {"sessionVariables": "time_zone='+00:00'"},
}
SOURCE_ALIAS = "cdc_migrate_src"


def driver_kind(setting: str) -> str:
    """`mysql` or `mariadb` for a source.jdbc_driver value (a short name or a driver class)."""
    for kind, cls in DRIVER_CLASSES.items():
        if setting in (kind, cls):
            return kind
    raise ConfigError(
        f"source.jdbc_driver = {setting!r} is unknown; use auto, mysql ({DRIVER_CLASSES['mysql']}) "
        f"or mariadb ({DRIVER_CLASSES['mariadb']})"
    )


def jdbc_url(source: SourceOptions, kind: str) -> str:
    """`jdbc:mysql://host:port/?flags`: the `jdbc:mysql:` prefix makes Spark use its MySQL dialect, and
    both MySQL Connector/J and MariaDB Connector/J 2.x accept it. No credentials in it."""
    flags = "&".join(f"{k}={v}" for k, v in URL_FLAGS[kind].items())
    return f"jdbc:mysql://{source.host}:{source.port}/?{flags}"


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
        "url": jdbc_url(source, kind),
        "dbtable": f"({plan.mapping.select_sql()}) AS {SOURCE_ALIAS}",
        **connection_properties(source, kind),
    }
    if plan.partitions > 1:
        options |= {
            "partitionColumn": plan.split_alias or "",
            "lowerBound": str(plan.lower),
            "upperBound": str(plan.upper),
            "numPartitions": str(plan.partitions),
        }
    return options
