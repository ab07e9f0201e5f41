"""JDBC URL, connection properties and Spark reader options for one table plan (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.contract.literals import sql_literals
from cdc_migrate.errors import ConfigError
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.records import Record
from cdc_migrate.source.schema import Key
from cdc_migrate.sqltext import key_range, quote_ident

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
        # Server-side prepared statements: rows come in the binary protocol, cheaper to send and parse.
        "useServerPrepStmts": "true",
    },
}
# Per driver, as connection properties: the session time zone UTC, so TIMESTAMP text is UTC.
# (MariaDB Connector/J streams a result set whenever the fetch size is above 0.)
_DRIVER_PROPERTIES = {
    "mysql": {},
    "mariadb": {"sessionVariables": "time_zone='+00:00'"},
}
SOURCE_ALIAS = "cdc_migrate_src"
# MySQL Connector/J streams a result set row by row when the fetch size is Integer.MIN_VALUE (and no cursor
# fetch). useCursorFetch=true instead makes the server materialise every partition in a temporary table
# first: measured on 2M rows in 4 partitions, 282 MiB of temp files on the source and 9.8 s, against none and
# 5.4 s streaming (MariaDB Connector/J, which streams at any fetch size above 0: 5.5 s). See BENCHMARKS.md.
STREAMING_FETCH_SIZE = {"mysql": -(2**31)}


@dataclass(frozen=True)
class DriverRecord(Record):
    """The JDBC driver the tables were read with."""

    kind: str
    class_name: str = field(metadata={"key": "class"})
    version: str | None = None


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


@dataclass(frozen=True)
class ReadSpec:
    """Arguments for `spark.read.jdbc`: one partition per predicate (none: the whole table in one)."""

    url: str
    table: str
    predicates: tuple[str, ...] | None
    properties: dict[str, str]


def key_alias(i: int) -> str:
    """The name under which the i-th split-key column is also selected (raw, so ranges use its index)."""
    return f"__cdc_migrate_k{i}"


def pushed_select(plan: TablePlan) -> str:
    """The mapped SELECT plus the raw split-key columns; Spark prunes those from what it fetches."""
    keys = "".join(f", {quote_ident(k)} AS {key_alias(i)}" for i, k in enumerate(plan.key))
    select = plan.mapping.select_sql()
    head, sep, tail = select.partition(" FROM ")
    return f"{head}{keys}{sep}{tail}"


def partition_predicates(plan: TablePlan, names: list[str] | None = None) -> tuple[str, ...] | None:
    """One WHERE clause per partition: [lower, b1), [b1, b2), ..., [bk, upper]; NULL keys in the first. Over the
    key's aliases in the pushed SELECT, or over `names` (the key's columns, for a query on the table itself)."""
    if plan.partitions <= 1 or plan.lower is None or plan.upper is None:
        return None
    columns = plan.key_columns
    names = names or [key_alias(i) for i in range(len(plan.key))]

    def lit(key: Key) -> list[str]:
        return sql_literals(key, columns)

    edges = [plan.lower, *plan.boundaries, plan.upper]
    predicates = []
    for i in range(len(edges) - 1):
        high_op = "<=" if i == len(edges) - 2 else "<"
        where = key_range(names, lit(edges[i]), lit(edges[i + 1]), upper_op=high_op)
        if i == 0 and plan.key_nullable:
            where = f"({where}) OR {' OR '.join(f'{n} IS NULL' for n in names)}"
        predicates.append(where)
    return tuple(predicates)


def read_spec(plan: TablePlan, source: SourceOptions, kind: str) -> ReadSpec:
    """How Spark reads one planned table: the pushed-down SELECT as a derived table, one partition per
    key range, every partition streamed (fetch size) from MySQL."""
    properties = connection_properties(source, kind)
    properties.setdefault("fetchsize", str(STREAMING_FETCH_SIZE.get(kind, source.fetch_size)))
    return ReadSpec(
        url=jdbc_url(source, kind),
        table=f"({pushed_select(plan)}) AS {SOURCE_ALIAS}",
        predicates=partition_predicates(plan),
        properties=properties,
    )
