"""The sections of the options, each a frozen dataclass that checks itself (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdc_migrate.config.coerce import refuse_wrong_types
from cdc_migrate.config.kinds import GLUE_S3TABLES_CATALOG, TABLE_BUCKET_ARN, catalog_kind
from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError
from cdc_migrate.records import NOT_WRITTEN, Record

AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_SPARK_MASTER = re.compile(r"^(local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[.+\]|yarn|(spark|mesos|k8s)://.+)$")


TLS_MODES = ("preferred", "required", "verify", "disabled")


READERS = ("auto", "arrow", "jdbc")


@dataclass(frozen=True)
class SourceOptions:
    """Where the MySQL snapshot source is and how to log in (the password never comes from a file).

    secret: an AWS Secrets Manager secret (name or ARN) holding the login as RDS stores it; its password is
    used unless CDC_MIGRATE_SOURCE_PASSWORD is set, its host, port and user where none is configured.
    jdbc_driver: `auto` (MySQL Connector/J where the JVM has it, as on Glue, else MariaDB Connector/J),
    `mysql` or `mariadb`. jdbc_driver_jar: a driver jar to put on the classpath of a session cdc_migrate
    starts (e.g. a downloaded mysql-connector-j-8.0.33.jar, Glue's version). tls: how every connection (PyMySQL's
    and the JDBC reads alike) uses TLS: `preferred` (where the server offers it, unverified), `required`
    (unverified), `verify` (the server's certificate and name checked against `tls_ca`), `disabled`.
    """

    host: str | None = None
    port: int = 3306
    user: str | None = None
    password: Secret | None = None
    secret: str | None = None
    connect_timeout: int = 10
    max_connections: int | None = None  # None: from the task slots and the server (planning/capacity.py)
    fetch_size: int = 10_000
    jdbc_driver: str = "auto"
    jdbc_driver_jar: str | None = None
    jdbc_properties: dict[str, str] = field(default_factory=dict)
    tls: str = "preferred"  # preferred | required | verify | disabled (source/tls.py)
    tls_ca: str | None = None  # the CA certificate(s), PEM, that `verify` checks the server's certificate with
    reader: str = "auto"  # auto | arrow | jdbc: how rows are read (planning/reader.py)

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        if self.reader not in READERS:
            raise ConfigError(
                f"source.reader = {self.reader!r} is not a reader; use auto (Arrow where it can serve a table, else "
                "JDBC), arrow or jdbc"
            )
        if self.tls not in TLS_MODES:
            raise ConfigError(
                f"source.tls = {self.tls!r} is not a TLS mode; use {', '.join(TLS_MODES)} (preferred: TLS where the "
                "server offers it; verify: the server's certificate checked against source.tls_ca)"
            )
        if self.tls == "verify" and not self.tls_ca:
            raise ConfigError(
                "source.tls = 'verify' needs source.tls_ca: the CA certificate(s) to check the server's with, a PEM "
                "file (for RDS and Aurora: https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)"
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"source.port = {self.port} is not a TCP port; use 1-65535 (MySQL's is 3306)")
        if self.connect_timeout < 1:
            raise ConfigError(f"source.connect_timeout = {self.connect_timeout}; give at least 1 second")
        if self.max_connections is not None and self.max_connections < 1:
            raise ConfigError(f"source.max_connections = {self.max_connections}; allow at least 1 connection")
        if self.fetch_size < 1:
            raise ConfigError(
                f"source.fetch_size = {self.fetch_size}; give at least 1 (rows fetched per round trip, so that "
                "partitions stream instead of being buffered whole)"
            )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ColumnOverride:
    """Per-column choices, keyed by the source column name: another way to load it, another name."""

    type: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        refuse_wrong_types(self)


@dataclass(frozen=True)
class TableOverride:
    """Per-table settings, keyed by the source table `db.table`."""

    split_column: str | None = None
    rows_per_partition: int | None = None
    min_partitions: int | None = None
    max_partitions: int | None = None
    target: str | None = None
    columns: dict[str, ColumnOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_wrong_types(self)


@dataclass(frozen=True)
class TablesOptions:
    """Which tables to load and the partitioning defaults."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rows_per_partition: int = 250_000
    min_partitions: int = 1
    max_partitions: int | None = None  # None: from the task slots (planning/capacity.py)
    even_distribution_min: float = 0.05
    even_distribution_max: float = 10.0
    overrides: dict[str, TableOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        for pattern in (*self.include, *self.exclude):
            if pattern.count(".") != 1 or not all(pattern.split(".")):
                raise ConfigError(
                    f"table pattern {pattern!r} is not of the form db.table; use e.g. 'shop.orders' or 'shop.*'"
                )
        for key in self.overrides:
            if key.count(".") != 1 or any(c in key for c in "*?["):
                raise ConfigError(
                    f"tables.overrides key {key!r} must name one source table as db.table, without wildcards"
                )
        _check_partitioning("tables", self.rows_per_partition, self.min_partitions, self.max_partitions)
        if not 0 < self.even_distribution_min <= 1 <= self.even_distribution_max:
            raise ConfigError(
                f"tables.even_distribution_min/max = {self.even_distribution_min}/{self.even_distribution_max}; "
                "they bound (max - min + 1) / rows for an evenly spread key: use 0 < min <= 1 <= max"
            )
        for key, o in self.overrides.items():
            _check_partitioning(
                f'tables.overrides."{key}"',
                o.rows_per_partition if o.rows_per_partition is not None else self.rows_per_partition,
                o.min_partitions if o.min_partitions is not None else self.min_partitions,
                o.max_partitions if o.max_partitions is not None else self.max_partitions,
            )


def _check_partitioning(where: str, rows: int, lo: int, hi: int | None) -> None:
    if rows < 1:
        raise ConfigError(f"{where}.rows_per_partition = {rows}; it must be at least 1")
    if lo < 1:
        raise ConfigError(f"{where}.min_partitions = {lo}; it must be at least 1")
    if hi is not None and hi < lo:
        raise ConfigError(f"{where}: max_partitions ({hi}) is below min_partitions ({lo}); raise max_partitions")


@dataclass(frozen=True)
class CatalogOptions(Record):
    """The Iceberg catalog the tables are written to.

    kind: `local` (JdbcCatalog on SQLite in `warehouse`); for an S3 table bucket, `warehouse` is its ARN
    and the kind is the route: `s3tables` (the S3 Tables client catalog jar, the seed's route),
    `s3tables-rest` (the S3 Tables Iceberg REST endpoint) or `glue-rest` (the Glue Data Catalog's Iceberg
    REST endpoint, `<account>:s3tablescatalog/<bucket>`, the route AWS recommends for Glue); `rest` is any
    Iceberg REST catalog at `uri`.
    namespace: the target namespace; by default each table goes to its source database's name.
    region: the AWS region (taken from the table bucket ARN when it is one).
    """

    kind: str = "local"
    name: str | None = None
    warehouse: str | None = None
    uri: str | None = None
    namespace: str | None = None
    region: str | None = None
    properties: dict[str, str] = field(default_factory=dict, metadata=NOT_WRITTEN)  # may carry credentials

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    @property
    def catalog_name(self) -> str:
        return self.name or catalog_kind(self.kind).default_catalog_name

    @property
    def region_name(self) -> str | None:
        """The AWS region: given, or that of the table bucket ARN."""
        m = TABLE_BUCKET_ARN.match(self.warehouse or "")
        return self.region or (m.group(2) if m else None)

    @property
    def table_bucket_arn(self) -> str | None:
        """The S3 table bucket's ARN (also built from the Glue form `<account>:s3tablescatalog/<bucket>`)."""
        if TABLE_BUCKET_ARN.match(self.warehouse or ""):
            return self.warehouse
        g = GLUE_S3TABLES_CATALOG.match(self.warehouse or "")
        if g and self.region_name:
            return f"arn:aws:s3tables:{self.region_name}:{g.group(1)}:bucket/{g.group(2)}"
        return None

    @property
    def glue_catalog_id(self) -> str | None:
        """The table bucket's catalog in the Glue Data Catalog: `<account>:s3tablescatalog/<bucket>`."""
        m = TABLE_BUCKET_ARN.match(self.table_bucket_arn or "")
        return f"{m.group(3)}:s3tablescatalog/{m.group(4)}" if m else None

    def check(self) -> None:
        kind = catalog_kind(self.kind)
        if self.name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise ConfigError(f"catalog.name = {self.name!r} is not a valid Spark catalog name; use letters, digits, _")
        if self.region is not None and not AWS_REGION.match(self.region):
            raise ConfigError(f"catalog.region = {self.region!r} is not an AWS region name such as us-east-1")
        kind.check(self)
        if not kind.takes_uri and self.uri:
            raise ConfigError(
                f"catalog.uri = {self.uri!r} is only read for catalog.kind = 'rest'; a {self.kind!r} catalog finds its "
                "own endpoint: remove catalog.uri (--catalog-uri) or use --catalog rest"
            )


SNAPSHOT_KINDS = ("live", "replica", "clone")


@dataclass(frozen=True)
class SnapshotOptions:
    """What the source is, and so where the CDC start position comes from.

    kind: `live` (a server in use: SHOW MASTER STATUS before and after the load, the low and high
    watermarks), `replica` (a replica whose SQL thread is stopped: its position in its source's binlog),
    `clone` (an Aurora clone: the position given here, or from the RDS event of its crash recovery).
    """

    kind: str = "live"
    binlog_file: str | None = None
    binlog_position: int | None = None
    gtid_set: str | None = None
    rds_source: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        if self.kind not in SNAPSHOT_KINDS:
            raise ConfigError(f"snapshot.kind = {self.kind!r} is unknown; use one of {', '.join(SNAPSHOT_KINDS)}")
        if (self.binlog_file is None) != (self.binlog_position is None):
            raise ConfigError(
                "give snapshot.binlog_file and snapshot.binlog_position together (--start-position FILE:POS)"
            )
        if self.binlog_file and self.kind != "clone":
            raise ConfigError(
                f"snapshot.binlog_file is only used with snapshot.kind = 'clone' (it is {self.kind!r}); a live "
                "server or a replica reports its own position"
            )
        if self.kind == "clone" and not self.binlog_file and not self.rds_source:
            raise ConfigError(
                "snapshot.kind = 'clone' needs the position: snapshot.binlog_file and snapshot.binlog_position "
                "(--start-position FILE:POS), or snapshot.rds_source (--rds-source ID) to read it from the RDS "
                "event 'Binlog position from crash recovery is ...'"
            )


@dataclass(frozen=True)
class SparkOptions:
    """How to build a SparkSession when none is handed in."""

    master: str = "local[*]"
    app_name: str = "cdc-migrate"
    conf: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        if not _SPARK_MASTER.match(self.master):
            raise ConfigError(
                f"spark.master = {self.master!r} is not a Spark master; use local[*], local[N], yarn, "
                "spark://HOST:PORT or k8s://URL (--master)"
            )


@dataclass(frozen=True)
class RunOptions:
    """The run itself: where the manifest goes, whether a binlog position is required, parallelism.

    scratch_dir: where many binlog changes of one table go as Parquet while they are merged into it (a
    directory every Spark executor can read, e.g. Glue's --TempDir); by default a local temporary directory
    when Spark runs locally, else the changes travel in the Spark plan.
    """

    manifest: str = "manifest.json"
    record_binlog_position: bool = True
    parallel_tables: int | None = None  # None: from the task slots (planning/capacity.py)
    force: bool = False
    validate: bool = False
    scratch_dir: str | None = None

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        if self.parallel_tables is not None and self.parallel_tables < 1:
            raise ConfigError(f"run.parallel_tables = {self.parallel_tables}; load at least 1 table at a time")
