"""The command line's option flags: which command takes which, and the options layer they make (pure)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.errors import ConfigError

FLAG_GROUPS = ("source", "tables", "partitioning", "catalog", "spark", "snapshot", "run")


def add_options(parser: argparse.ArgumentParser, groups: Sequence[str] = FLAG_GROUPS) -> None:
    """The option flags of the given groups (a command lists only the ones it reads; the Glue entrypoint all)."""
    g = parser.add_argument_group("configuration (flags win over the environment, which wins over --config)")
    g.add_argument("--config", metavar="FILE", help="TOML configuration file (see conf/)")
    if "source" in groups:
        g.add_argument(
            "--source", metavar="URL", help="mysql://USER@HOST:PORT; password from CDC_MIGRATE_SOURCE_PASSWORD"
        )
        g.add_argument(
            "--source-secret", metavar="NAME|ARN", help="the source login from AWS Secrets Manager (RDS format)"
        )
        g.add_argument("--max-connections", metavar="N", help="most source connections at once, all tables (32)")
        g.add_argument(
            "--tls", metavar="MODE", help="preferred (default: where the server offers it), required, verify, disabled"
        )
        g.add_argument("--tls-ca", metavar="PEM", help="CA certificate(s) --tls verify checks the server's with")
        g.add_argument("--reader", metavar="KIND", help="auto (default: Arrow where it can serve a table), arrow, jdbc")
    if "tables" in groups:
        g.add_argument(
            "--tables", metavar="PATTERN", action="append", help="db.table or db.* (repeatable, or comma-separated)"
        )
        g.add_argument("--exclude", metavar="PATTERN", action="append", help="tables to leave out (repeatable)")
    if "partitioning" in groups:
        g.add_argument("--split-column", metavar="DB.TABLE=COLUMN", action="append", help="split column for a table")
        g.add_argument("--target", metavar="DB.TABLE=[NS.]NAME", action="append", help="target name for a table")
        g.add_argument("--rows-per-partition", metavar="N", help="rows each read partition should hold (250000)")
        g.add_argument("--min-partitions", metavar="N", help="fewest read partitions per table (1)")
        g.add_argument("--max-partitions", metavar="N", help="most read partitions per table (200)")
    if "catalog" in groups:
        g.add_argument("--catalog", metavar="KIND", help="local, s3tables, s3tables-rest, glue-rest or rest")
        g.add_argument("--region", metavar="REGION", help="AWS region of the catalog (default: the bucket ARN's)")
        g.add_argument("--catalog-name", metavar="NAME", help="Spark catalog name")
        g.add_argument("--warehouse", metavar="DIR|ARN", help="local warehouse directory or S3 table bucket ARN")
        g.add_argument("--catalog-uri", metavar="URI", help="REST catalog endpoint (catalog kind rest)")
        g.add_argument("--namespace", metavar="NS", help="target namespace (default: the source database's name)")
    if "spark" in groups:
        g.add_argument("--master", metavar="MASTER", help="Spark master for a session cdc-migrate builds (local[*])")
        g.add_argument("--conf", metavar="KEY=VALUE", action="append", help="extra Spark setting (repeatable)")
    if "snapshot" in groups:
        g.add_argument(
            "--snapshot", metavar="KIND", help="live (default), replica (a stopped replica) or clone (Aurora)"
        )
        g.add_argument("--start-position", metavar="FILE:POS", help="a clone's binlog position, given")
        g.add_argument("--start-gtid-set", metavar="GTIDS", help="a clone's GTID set, given")
        g.add_argument("--rds-source", metavar="ID", help="a clone's RDS identifier: read its crash-recovery position")
        g.add_argument(
            "--no-binlog-position",
            action="store_true",
            help="load without recording a binlog position (CDC cannot start exactly from it)",
        )
    if "run" in groups or "manifest" in groups:
        g.add_argument("--manifest", metavar="PATH", help="the run manifest: a path or s3:// URI")
    if "run" in groups:
        g.add_argument("--parallel-tables", metavar="N", help="tables loaded at the same time (4)")
        g.add_argument("--force", action="store_true", help="load every table again, even those the manifest has")
        g.add_argument("--validate", action="store_true", help="after the load, validate every table (see validate)")


def _pairs(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    out = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ConfigError(f"{flag} {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _split(values: Sequence[str] | None) -> list[str]:
    return [p.strip() for v in values or () for p in v.split(",") if p.strip()]


def _arg(args: argparse.Namespace, name: str) -> Any:
    """A flag's value, None where the command does not take that flag."""
    return getattr(args, name, None)


def flags_layer(args: argparse.Namespace) -> dict[str, Any]:
    """The options given as flags, as a nested mapping (the highest layer)."""
    layer: dict[str, dict[str, Any]] = {s: {} for s in Options.SECTIONS}

    def put(section: str, key: str, value: Any) -> None:
        if value is not None:
            layer[section][key] = value

    if _arg(args, "source") and _arg(args, "source_secret"):
        raise ConfigError(
            "--source and --source-secret both give the login; give one (the secret holds host, port, user and "
            "password as RDS stores them)"
        )
    if _arg(args, "no_binlog_position") and (_arg(args, "start_position") or _arg(args, "rds_source")):
        raise ConfigError(
            "--no-binlog-position contradicts --start-position / --rds-source (a clone's position): give one"
        )
    if _arg(args, "source"):
        put("source", "url", _arg(args, "source"))
    put("source", "secret", _arg(args, "source_secret"))
    layer["tables"] = _tables_flags(args)
    put("run", "parallel_tables", _arg(args, "parallel_tables"))
    put("source", "max_connections", _arg(args, "max_connections"))
    put("source", "tls", _arg(args, "tls"))
    put("source", "tls_ca", _arg(args, "tls_ca"))
    put("source", "reader", _arg(args, "reader"))
    put("catalog", "kind", _arg(args, "catalog"))
    put("catalog", "name", _arg(args, "catalog_name"))
    put("catalog", "warehouse", _arg(args, "warehouse"))
    put("catalog", "uri", _arg(args, "catalog_uri"))
    put("catalog", "region", _arg(args, "region"))
    put("catalog", "namespace", _arg(args, "namespace"))
    put("spark", "master", _arg(args, "master"))
    if _arg(args, "conf"):
        layer["spark"]["conf"] = _pairs(_arg(args, "conf"), "--conf")
    put("run", "manifest", _arg(args, "manifest"))
    layer["snapshot"] = _snapshot_flags(args)
    if _arg(args, "no_binlog_position"):
        put("run", "record_binlog_position", False)
    if getattr(args, "force", False):
        put("run", "force", True)
    if getattr(args, "validate", False):
        put("run", "validate", True)
    return {k: v for k, v in layer.items() if v}


def _tables_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The [tables] section given as flags: the selection, the partitioning and per-table overrides."""
    tables = _arg(args, "tables")
    if tables is not None and not _split(tables):
        raise ConfigError(f"--tables {' '.join(map(repr, tables))} selects no table; give db.* or db.table")
    given = {
        "include": _split(tables) or None,
        "exclude": _split(_arg(args, "exclude")) or None,
        "rows_per_partition": _arg(args, "rows_per_partition"),
        "min_partitions": _arg(args, "min_partitions"),
        "max_partitions": _arg(args, "max_partitions"),
    }
    overrides: dict[str, dict[str, str]] = {}
    for table, column in _pairs(_arg(args, "split_column"), "--split-column").items():
        overrides.setdefault(table, {})["split_column"] = column
    for table, target in _pairs(_arg(args, "target"), "--target").items():
        overrides.setdefault(table, {})["target"] = target
    return {k: v for k, v in given.items() if v is not None} | ({"overrides": overrides} if overrides else {})


def _snapshot_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The [snapshot] section given as flags: the kind, and a clone's position given or where to read it."""
    given = {
        "kind": _arg(args, "snapshot"),
        "gtid_set": _arg(args, "start_gtid_set"),
        "rds_source": _arg(args, "rds_source"),
    }
    if _arg(args, "start_position"):
        file, sep, pos = _arg(args, "start_position").rpartition(":")
        if not sep or not file or not pos.isdigit():
            raise ConfigError(
                f"--start-position {_arg(args, 'start_position')!r} is not FILE:POS, e.g. mysql-bin.000042:154"
            )
        given |= {"binlog_file": file, "binlog_position": pos}
    return {k: v for k, v in given.items() if v is not None}


def options_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    flags = flags_layer(args)
    if getattr(args, "verbose", False):
        # Spark's own warnings and errors too (the sessions cdc-migrate starts are quiet otherwise).
        flags.setdefault("spark", {}).setdefault("conf", {}).setdefault("spark.log.level", "WARN")
    return resolve_options(args.config, environ, flags)
