"""Options: plain frozen values built from a TOML file, the environment and flags (flags win)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union
from urllib.parse import unquote, urlsplit

from cdc_migrate.errors import ConfigError
from cdc_migrate.target.kinds import GLUE_S3TABLES_CATALOG, TABLE_BUCKET_ARN, catalog_kind

ENV_PREFIX = "CDC_MIGRATE_"
PASSWORD_ENV = "CDC_MIGRATE_SOURCE_PASSWORD"
# Not options: the test suite's variables, and the Glue entrypoint's relaunch guard.
_ENV_IGNORED_PREFIXES = ("CDC_MIGRATE_TEST_",)
RELAUNCHED_ENV = "CDC_MIGRATE_RELAUNCHED"

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_SPARK_MASTER = re.compile(r"^(local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[.+\]|yarn|(spark|mesos|k8s)://.+)$")


class Secret:
    """A string that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Returns the secret value; call only where it is handed to a driver."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SourceOptions:
    """Where the MySQL snapshot source is and how to log in (the password never comes from a file).

    secret: an AWS Secrets Manager secret (name or ARN) holding the login as RDS stores it; its password is
    used unless CDC_MIGRATE_SOURCE_PASSWORD is set, its host, port and user where none is configured.
    jdbc_driver: `auto` (MySQL Connector/J where the JVM has it, as on Glue, else MariaDB Connector/J),
    `mysql` or `mariadb`. jdbc_driver_jar: a driver jar to put on the classpath of a session cdc_migrate
    starts (e.g. a downloaded mysql-connector-j-8.0.33.jar, Glue's version).
    """

    host: str | None = None
    port: int = 3306
    user: str | None = None
    password: Secret | None = None
    secret: str | None = None
    connect_timeout: int = 10
    max_connections: int = 32
    fetch_size: int = 10_000
    jdbc_driver: str = "auto"
    jdbc_driver_jar: str | None = None
    jdbc_properties: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"source.port = {self.port} is not a TCP port; use 1-65535 (MySQL's is 3306)")
        if self.connect_timeout < 1:
            raise ConfigError(f"source.connect_timeout = {self.connect_timeout}; give at least 1 second")
        if self.max_connections < 1:
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


@dataclass(frozen=True)
class TableOverride:
    """Per-table settings, keyed by the source table `db.table`."""

    split_column: str | None = None
    rows_per_partition: int | None = None
    min_partitions: int | None = None
    max_partitions: int | None = None
    target: str | None = None
    columns: dict[str, ColumnOverride] = field(default_factory=dict)


@dataclass(frozen=True)
class TablesOptions:
    """Which tables to load and the partitioning defaults."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    rows_per_partition: int = 250_000
    min_partitions: int = 1
    max_partitions: int = 200
    even_distribution_min: float = 0.05
    even_distribution_max: float = 10.0
    overrides: dict[str, TableOverride] = field(default_factory=dict)

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


def _check_partitioning(where: str, rows: int, lo: int, hi: int) -> None:
    if rows < 1:
        raise ConfigError(f"{where}.rows_per_partition = {rows}; it must be at least 1")
    if lo < 1:
        raise ConfigError(f"{where}.min_partitions = {lo}; it must be at least 1")
    if hi < lo:
        raise ConfigError(f"{where}: max_partitions ({hi}) is below min_partitions ({lo}); raise max_partitions")


@dataclass(frozen=True)
class CatalogOptions:
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
    properties: dict[str, str] = field(default_factory=dict)

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
        if self.region is not None and not _REGION.match(self.region):
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

    def check(self) -> None:
        if not _SPARK_MASTER.match(self.master):
            raise ConfigError(
                f"spark.master = {self.master!r} is not a Spark master; use local[*], local[N], yarn, "
                "spark://HOST:PORT or k8s://URL (--master)"
            )


@dataclass(frozen=True)
class RunOptions:
    """The run itself: where the manifest goes, whether a binlog position is required, parallelism.

    scratch_dir: where many binlog changes of one table go as Parquet while they are folded into its load (a
    directory every Spark executor can read, e.g. Glue's --TempDir); by default a local temporary directory
    when Spark runs locally, else the changes travel in the Spark plan.
    """

    manifest: str = "manifest.json"
    record_binlog_position: bool = True
    parallel_tables: int = 4
    force: bool = False
    validate: bool = False
    scratch_dir: str | None = None

    def check(self) -> None:
        if self.parallel_tables < 1:
            raise ConfigError(f"run.parallel_tables = {self.parallel_tables}; load at least 1 table at a time")


GLUE_WORKER_DPUS = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8, "G.12X": 12, "G.16X": 16,
                    "R.1X": 1, "R.2X": 2, "R.4X": 4, "R.8X": 8}  # fmt: skip
GLUE_VERSIONS = ("5.1", "5.0")  # S3 Tables needs Glue 5.0 or later


@dataclass(frozen=True)
class GlueOptions:
    """The AWS Glue job `cdc-migrate glue deploy` creates or updates (and `glue start`/`status` use).

    artifacts: an s3:// prefix where the entrypoint, the wheels, this configuration file and the catalog
    jar are uploaded. catalog_jar: the S3 Tables client catalog jar for `catalog.kind = 's3tables'` (a
    local file to upload, or an s3:// URI). connections: the Glue connections that reach the database.
    arguments: more job arguments (`--key = value`), added to the ones cdc-migrate sets.
    """

    job_name: str = "cdc-migrate-full-load"
    role: str | None = None
    artifacts: str | None = None
    glue_version: str = "5.1"
    worker_type: str = "G.1X"
    number_of_workers: int = 10
    connections: tuple[str, ...] = ()
    timeout_minutes: int = 2880
    max_retries: int = 0
    catalog_jar: str | None = None
    region: str | None = None
    arguments: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if not re.fullmatch(r"[\w .:/@-]{1,255}", self.job_name):
            raise ConfigError(f"glue.job_name = {self.job_name!r} is not a Glue job name (1-255 letters, digits, _-.)")
        if self.glue_version not in GLUE_VERSIONS:
            raise ConfigError(
                f"glue.glue_version = {self.glue_version!r}; S3 Tables and Spark 3.5 need {' or '.join(GLUE_VERSIONS)}"
            )
        if self.worker_type not in GLUE_WORKER_DPUS:
            raise ConfigError(
                f"glue.worker_type = {self.worker_type!r} is unknown; use one of {', '.join(GLUE_WORKER_DPUS)}"
            )
        if self.number_of_workers < 2:
            raise ConfigError(f"glue.number_of_workers = {self.number_of_workers}; a Spark job needs at least 2")
        if self.timeout_minutes < 1 or self.max_retries < 0:
            raise ConfigError("glue.timeout_minutes must be at least 1 and glue.max_retries at least 0")
        if self.artifacts is not None and not self.artifacts.startswith("s3://"):
            raise ConfigError(
                f"glue.artifacts = {self.artifacts!r} must be an s3:// prefix, e.g. s3://my-bucket/cdc-migrate"
            )
        if self.region is not None and not _REGION.match(self.region):
            raise ConfigError(f"glue.region = {self.region!r} is not an AWS region name such as us-east-1")
        for key in self.arguments:
            if not key.startswith("--"):
                raise ConfigError(f"glue.arguments key {key!r} must start with -- (as Glue job arguments do)")


@dataclass(frozen=True)
class Options:
    """Everything a plan or a run needs, validated once."""

    source: SourceOptions = field(default_factory=SourceOptions)
    tables: TablesOptions = field(default_factory=TablesOptions)
    catalog: CatalogOptions = field(default_factory=lambda: CatalogOptions(warehouse="warehouse"))
    snapshot: SnapshotOptions = field(default_factory=SnapshotOptions)
    spark: SparkOptions = field(default_factory=SparkOptions)
    run: RunOptions = field(default_factory=RunOptions)
    glue: GlueOptions = field(default_factory=GlueOptions)

    SECTIONS: ClassVar[dict[str, type]] = {
        "source": SourceOptions,
        "tables": TablesOptions,
        "catalog": CatalogOptions,
        "snapshot": SnapshotOptions,
        "spark": SparkOptions,
        "run": RunOptions,
        "glue": GlueOptions,
    }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Options:
        """Builds and validates options from a nested mapping; unknown keys are an error listing valid ones."""
        _reject_unknown(mapping, cls.SECTIONS, "")
        built: dict[str, Any] = {}
        for section, section_cls in cls.SECTIONS.items():
            raw = dict(mapping.get(section) or {})
            if section == "source":
                raw = _expand_source_url(raw)
            if section == "catalog" and "warehouse" not in raw and raw.get("kind", "local") == "local":
                raw["warehouse"] = "warehouse"
            built[section] = _build(section_cls, raw, section)
        options = cls(**built)
        options.source.check()
        options.tables.check()
        options.catalog.check()
        options.snapshot.check()
        options.spark.check()
        options.run.check()
        options.glue.check()
        if not options.run.record_binlog_position and options.snapshot.kind != "live":
            raise ConfigError(
                f"run.record_binlog_position = false (--no-binlog-position) contradicts snapshot.kind = "
                f"{options.snapshot.kind!r}, whose point is the position CDC starts from: drop one of them"
            )
        return options

    def require_source(self) -> SourceOptions:
        """Returns the source options, checking that host and user are given."""
        if not self.source.host:
            raise ConfigError(
                "no source host: give --source mysql://USER@HOST:PORT, [source] host in the config "
                "file, or CDC_MIGRATE_SOURCE_HOST"
            )
        if not self.source.user:
            raise ConfigError(
                f"no user for the source {self.source.host}: put it in the URL (mysql://USER@HOST), "
                "[source] user, or CDC_MIGRATE_SOURCE_USER"
            )
        return self.source

    def require_tables(self) -> TablesOptions:
        """Returns the table selection, checking that it selects something."""
        if not self.tables.include:
            raise ConfigError(
                "no tables selected: give --tables 'db.*' (or 'db.table', repeatable) or [tables] include"
            )
        return self.tables


def valid_keys(section_cls: type) -> list[str]:
    """The keys a section accepts, in declaration order."""
    return [f.name for f in dataclasses.fields(section_cls)]


def _reject_unknown(mapping: Mapping[str, Any], allowed: Mapping[str, Any] | list[str], where: str) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        place = f"[{where}]" if where else "the top level"
        raise ConfigError(
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {place}; "
            f"valid keys there: {', '.join(allowed)}"
        )


def _as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of keys, not {value!r}")
    return value


def _build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    _reject_unknown(_as_mapping(raw, where), valid_keys(cls), where)
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in raw.items()}
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Coerces a TOML / environment / flag value to the field's type, or explains the mismatch."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if hint is Secret:
        return value if isinstance(value, Secret) else Secret(str(value))
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ConfigError(f"{where} = {value!r} is not a boolean; use true or false")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d[\d_]*", value.strip()):
            return int(value.strip().replace("_", ""))
        raise ConfigError(f"{where} = {value!r} is not an integer")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d*)?([eE][-+]?\d+)?", value.strip()):
            return float(value)
        raise ConfigError(f"{where} = {value!r} is not a number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} = {value!r} is not a string; quote it")
    if origin is tuple:
        items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{where} = {value!r} must be a list of strings")
        return tuple(items)
    if origin is dict:
        mapping = _as_mapping(value, where)
        if args and isinstance(args[1], type) and dataclasses.is_dataclass(args[1]):
            item_cls: type = args[1]
            return {
                str(k): _build(item_cls, _as_mapping(v, f"{where}.{k}"), f"{where}.{k}") for k, v in mapping.items()
            }
        if args and args[1] is str:
            return {str(k): _scalar_text(v, f"{where}.{k}") for k, v in mapping.items()}
        return dict(mapping)
    return value


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(f"{where} = {value!r} must be a string, number or boolean")


def parse_source_url(url: str) -> dict[str, Any]:
    """Splits `mysql://USER[:PASSWORD]@HOST[:PORT]` into source keys (the password as a Secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
        raise ConfigError(f"source URL {_redact_url(url)!r} is not of the form mysql://USER@HOST:PORT")
    if parts.path not in ("", "/") or parts.query:
        raise ConfigError(
            f"source URL {_redact_url(url)!r} names a database or parameters; give only mysql://USER@HOST:PORT "
            "and select tables with --tables 'db.*'"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"source URL {_redact_url(url)!r} has an invalid port") from e
    out: dict[str, Any] = {"host": parts.hostname}
    if port is not None:
        out["port"] = port
    if parts.username:
        out["user"] = unquote(parts.username)
    if parts.password is not None:
        out["password"] = Secret(unquote(parts.password))
    return out


def _redact_url(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _expand_source_url(raw: dict[str, Any]) -> dict[str, Any]:
    url = raw.pop("url", None)
    if url is None:
        return raw
    if not isinstance(url, str):
        raise ConfigError(f"source.url = {url!r} must be a string like mysql://USER@HOST:PORT")
    return {**raw, **parse_source_url(url)}


# ---- layers -------------------------------------------------------------------------------------------


def load_toml(path: str | Path) -> dict[str, Any]:
    """Reads a configuration file; a password inside it is refused."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file {p} does not exist; check --config") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {p} is not valid TOML: {e}") from e
    source = data.get("source") or {}
    url = source.get("url") if isinstance(source, Mapping) else None
    if isinstance(source, Mapping) and (
        "password" in source or (isinstance(url, str) and urlsplit(url).password is not None)
    ):
        raise ConfigError(
            f"config file {p} contains a source password; passwords are never read from files. "
            f"Remove it and set {PASSWORD_ENV} instead"
        )
    return data


def env_keys() -> dict[str, tuple[str, str]]:
    """The environment variables that set options: `CDC_MIGRATE_<SECTION>_<KEY>` for every scalar key."""
    out: dict[str, tuple[str, str]] = {f"{ENV_PREFIX}SOURCE_URL": ("source", "url")}
    for section, cls in Options.SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for name in valid_keys(cls):
            if typing.get_origin(hints[name]) is dict:
                continue
            out[f"{ENV_PREFIX}{section.upper()}_{name.upper()}"] = (section, name)
    return out


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """The options set by environment variables; an unknown CDC_MIGRATE_ variable is an error."""
    known = env_keys()
    layer: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name.startswith(_ENV_IGNORED_PREFIXES) or name == RELAUNCHED_ENV:
            continue
        if name not in known:
            raise ConfigError(f"unknown environment variable {name}; valid ones: {', '.join(sorted(known))}")
        section, key = known[name]
        layer.setdefault(section, {})[key] = value
    return layer


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merges option layers, later ones winning key by key."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge(out[key], value)
            else:
                out[key] = value
    return out


def expand_layer(layer: Mapping[str, Any]) -> Mapping[str, Any]:
    """Replaces a layer's source URL by the keys it stands for, so that layers merge key by key."""
    source = layer.get("source")
    if not isinstance(source, Mapping) or "url" not in source:
        return layer
    return {**layer, "source": _expand_source_url(dict(source))}


def resolve_options(
    config_path: str | Path | None,
    environ: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
) -> Options:
    """Builds the options from the three layers, lowest first: config file, environment, flags."""
    file_layer = load_toml(config_path) if config_path else {}
    try:
        layers = [file_layer, env_layer(environ), flags or {}]
        return Options.from_mapping(merge(*map(expand_layer, layers)))
    except ConfigError as e:
        if config_path:
            raise ConfigError(f"{e} (config file {config_path})") from e
        raise
