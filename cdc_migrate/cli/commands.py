"""The `cdc-migrate` command: plan, run, settings and demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cdc_migrate._version import __version__
from cdc_migrate.cli.report import plan_rows, run_summary, text_table
from cdc_migrate.config.layers import env_layer, expand_layer, load_toml, merge, resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.errors import CdcMigrateError, ConfigError
from cdc_migrate.run.progress import LogProgress

logger = logging.getLogger("cdc_migrate.cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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
    if "tables" in groups:
        g.add_argument("--tables", metavar="PATTERN", action="append",
                       help="db.table or db.* (repeatable, or comma-separated)")  # fmt: skip
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
        g.add_argument("--no-binlog-position", action="store_true",
                       help="load without recording a binlog position (CDC cannot start exactly from it)")  # fmt: skip
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
    put("tables", "include", _split(_arg(args, "tables")) or None)
    put("tables", "exclude", _split(_arg(args, "exclude")) or None)
    put("tables", "rows_per_partition", _arg(args, "rows_per_partition"))
    put("tables", "min_partitions", _arg(args, "min_partitions"))
    put("tables", "max_partitions", _arg(args, "max_partitions"))
    overrides: dict[str, dict[str, str]] = {}
    for table, column in _pairs(_arg(args, "split_column"), "--split-column").items():
        overrides.setdefault(table, {})["split_column"] = column
    for table, target in _pairs(_arg(args, "target"), "--target").items():
        overrides.setdefault(table, {})["target"] = target
    if overrides:
        layer["tables"]["overrides"] = overrides
    put("run", "parallel_tables", _arg(args, "parallel_tables"))
    put("source", "max_connections", _arg(args, "max_connections"))
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
    put("snapshot", "kind", _arg(args, "snapshot"))
    if _arg(args, "start_position"):
        file, sep, pos = _arg(args, "start_position").rpartition(":")
        if not sep or not file or not pos.isdigit():
            raise ConfigError(
                f"--start-position {_arg(args, 'start_position')!r} is not FILE:POS, e.g. mysql-bin.000042:154"
            )
        put("snapshot", "binlog_file", file)
        put("snapshot", "binlog_position", pos)
    put("snapshot", "gtid_set", _arg(args, "start_gtid_set"))
    put("snapshot", "rds_source", _arg(args, "rds_source"))
    if _arg(args, "no_binlog_position"):
        put("run", "record_binlog_position", False)
    if getattr(args, "force", False):
        put("run", "force", True)
    if getattr(args, "validate", False):
        put("run", "validate", True)
    return {k: v for k, v in layer.items() if v}


def options_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    flags = flags_layer(args)
    if getattr(args, "verbose", False):
        # Spark's own warnings and errors too (the sessions cdc-migrate starts are quiet otherwise).
        flags.setdefault("spark", {}).setdefault("conf", {}).setdefault("spark.log.level", "WARN")
    return resolve_options(args.config, environ, flags)


# ---- commands -----------------------------------------------------------------------------------------


def cmd_plan(args: argparse.Namespace) -> int:
    from cdc_migrate.plan.planner import plan

    outcomes = plan(options_from_args(args, os.environ))
    if args.json:
        print(json.dumps([_plan_dict(o) for o in outcomes], indent=2, default=str))
    else:
        print(text_table(*plan_rows(outcomes)))
    return EXIT_FAILED if any(o.error for o in outcomes) else EXIT_OK


def _plan_dict(o: Any) -> dict[str, Any]:
    p = o.plan
    return {
        "source": str(o.source),
        "target": str(o.target) if o.target else None,
        "error": o.error,
        "estimated_rows": p.source.estimated_rows if p else None,
        "strategy": p.strategy if p else None,
        "partitions": p.partitions if p else None,
        "estimated_rows_per_partition": p.estimated_rows_per_partition if p else None,
        "split_column": p.split_column if p else None,
        "min": (p.lower[0] if len(p.lower) == 1 else list(p.lower)) if p and p.lower else None,
        "max": (p.upper[0] if len(p.upper) == 1 else list(p.upper)) if p and p.upper else None,
        "note": p.note if p else None,
    }


def cmd_run(args: argparse.Namespace) -> int:
    from cdc_migrate.run.runner import run

    options = options_from_args(args, os.environ)
    manifest = run(options, progress=LogProgress())
    print(run_summary(manifest))
    if options.run.manifest:
        where = options.run.manifest
        print(f"manifest: {where if where.startswith('s3://') else os.path.abspath(where)}")
    return EXIT_FAILED if manifest.failed or manifest.mismatched else EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    from cdc_migrate.spark.session import settings_for
    from cdc_migrate.spark.settings import glue_conf_value, spark_submit_args

    options = options_from_args(args, os.environ)
    settings = settings_for(options, launching=args.format == "spark-submit")
    if args.format == "glue":
        print(f"--conf\n{glue_conf_value(settings)}")
    elif args.format == "spark-submit":
        print(" ".join(_shell_quote(a) for a in spark_submit_args(settings)))
    else:
        print("\n".join(f"{k}={v}" for k, v in settings.items()))
    return EXIT_OK


def options_for_manifest(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    """Options for working on a load: the flags and config as given, the rest from its manifest (the
    source, the catalog, each table's column overrides)."""
    from cdc_migrate.handoff.manifest import read_manifest

    manifest = read_manifest(args.manifest)
    src, cat = manifest.source, manifest.catalog
    base: dict[str, Any] = {
        "source": {"url": f"mysql://{src.user}@{src.host}:{src.port}"},
        "catalog": {k: v for k, v in cat.to_dict().items() if v},
        "tables": {
            "include": [t.source for t in manifest.tables],
            "overrides": {t.source: t.override for t in manifest.tables if t.override},  # as loaded
        },
        "run": {"manifest": args.manifest},
    }
    if manifest.snapshot and manifest.snapshot.kind:
        base["snapshot"] = {"kind": manifest.snapshot.kind} if manifest.snapshot.kind != "clone" else {}
    file_layer = load_toml(args.config) if args.config else {}
    layers = [base, file_layer, env_layer(environ), flags_layer(args)]
    return Options.from_mapping(merge(*map(expand_layer, layers)))


def cmd_validate(args: argparse.Namespace) -> int:
    from cdc_migrate.validate.validator import validate

    if not args.manifest:  # the one the configuration names (run.manifest), as `run` would write it
        args.manifest = resolve_options(args.config, os.environ, flags_layer(args)).run.manifest
    options = options_for_manifest(args, os.environ)
    manifest = validate(options, args.manifest, chunk_rows=args.chunk_rows)
    print(run_summary(manifest))
    return EXIT_FAILED if manifest.mismatched else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from cdc_migrate.cli.report import html_report, markdown_report
    from cdc_migrate.handoff.manifest import read_manifest

    manifest = read_manifest(args.manifest)
    text = {"text": run_summary, "markdown": markdown_report, "html": html_report}[args.format](manifest)
    if args.out:
        _write(Path(args.out), text if text.endswith("\n") else text + "\n", "--out")
        print(f"wrote {args.out}")
    else:
        print(text)
    return EXIT_OK


def cmd_connectors(args: argparse.Namespace) -> int:
    from cdc_migrate.handoff.connectors import (
        ConnectorOptions,
        debezium_source,
        handoff_steps,
        iceberg_sink,
        offsets_request,
    )
    from cdc_migrate.handoff.manifest import read_manifest

    manifest = read_manifest(args.manifest)
    if not manifest.binlog:
        raise ConfigError(
            f"{args.manifest} has no binlog position (the load ran with --no-binlog-position): CDC has nowhere to "
            "start from. Load again with binary logging on"
        )
    options = ConnectorOptions(
        name=args.name, topic_prefix=args.topic_prefix, server_id=args.server_id,
        bootstrap_servers=args.bootstrap_servers or ConnectorOptions.bootstrap_servers,
    )  # fmt: skip
    beside = Path("." if args.manifest.startswith("s3://") else Path(args.manifest).resolve().parent)
    out = Path(args.out or beside / "cdc-connectors")
    files = {"source": "debezium-source.json", "sink": "iceberg-sink.json", "offsets": "offsets.json"}
    documents = {
        "source": debezium_source(manifest, options),
        "sink": iceberg_sink(manifest, options),
        "offsets": offsets_request(manifest, options),
    }
    for key, name in files.items():
        _write(out / name, json.dumps(documents[key], indent=2) + "\n", "--out")
    _write(out / "HANDOFF.md", handoff_steps(manifest, options, files), "--out")
    print(f"wrote {', '.join([*files.values(), 'HANDOFF.md'])} to {out}")
    return EXIT_OK


def cmd_sink_offsets(args: argparse.Namespace) -> int:
    from cdc_migrate.handoff.connectors import parse_kcat, sink_offsets
    from cdc_migrate.handoff.manifest import read_manifest

    manifest = read_manifest(args.manifest)
    try:
        stream = open(args.topics, encoding="utf-8") if args.topics != "-" else sys.stdin  # noqa: SIM115
    except OSError as e:
        raise ConfigError(f"cannot read the topic dump {args.topics}: {e.strerror or e}; check --topics") from None
    try:
        body = sink_offsets(manifest, parse_kcat(stream))
    finally:
        if stream is not sys.stdin:
            stream.close()
    print(json.dumps(body, indent=2))
    return EXIT_OK


def _write(path: Path, text: str, flag: str) -> None:
    """Writes a file the user asked for (making its directory), or says in one line why it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}; give a writable place with {flag}") from None


def _glue_options(args: argparse.Namespace) -> Options:
    return resolve_options(args.config, os.environ, {})


def cmd_glue_deploy(args: argparse.Namespace) -> int:
    from cdc_migrate.aws.glue import deploy

    done = deploy(_glue_options(args), args.config, wheels=args.wheel)
    print(f"Glue job {done['job']} {done['action']}: script {done['script']}")
    for wheel in done["wheels"]:
        print(f"  wheel {wheel}")
    print(f"  config {done['config']}" + (f", catalog jar {done['catalog_jar']}" if done["catalog_jar"] else ""))
    print(f"start it with: cdc-migrate glue start --config {args.config}")
    return EXIT_OK


def cmd_glue_start(args: argparse.Namespace) -> int:
    from cdc_migrate.aws.glue import start

    if not args.config:
        raise ConfigError("glue start needs --config FILE: the file the job was deployed with")
    shared = argparse.ArgumentParser(add_help=False)
    add_options(shared)
    dests = {a.dest for a in shared._actions} - {"config"}
    given = {k: v for k, v in vars(args).items() if k in dests}  # run_arguments refuses all but the run flags
    options = _glue_options(args)
    run_id = start(options, given)
    print(f"started {options.glue.job_name} run {run_id}")
    if args.wait:
        return _wait_for(options, run_id)
    print(f"follow it with: cdc-migrate glue status --config {args.config} --run-id {run_id} --wait")
    return EXIT_OK


def cmd_glue_status(args: argparse.Namespace) -> int:
    from cdc_migrate.aws.glue import status

    options = _glue_options(args)
    if args.wait:
        return _wait_for(options, args.run_id)
    return _print_status(status(options, args.run_id))


def _print_status(summary: dict[str, Any]) -> int:
    from cdc_migrate.aws.glue import TERMINAL_STATES

    rows = [(k, v) for k, v in summary.items() if k != "arguments" and v not in (None, "")]
    print(text_table(["", ""], [[k, str(v)] for k, v in rows]))
    if summary["state"] in TERMINAL_STATES and summary["state"] != "SUCCEEDED":
        return EXIT_FAILED
    return EXIT_OK


def _wait_for(options: Options, run_id: str | None, poll_seconds: float = 30.0) -> int:
    import time

    from cdc_migrate.aws.glue import TERMINAL_STATES, status

    while True:
        summary = status(options, run_id)
        if summary["state"] in TERMINAL_STATES:
            return _print_status(summary)
        logger.info("%s run %s: %s, %ss", summary["job"], summary["run_id"], summary["state"], summary["seconds"])
        time.sleep(poll_seconds)


def cmd_types(args: argparse.Namespace) -> int:
    from cdc_migrate.contract.docs import contract_markdown

    print(contract_markdown())
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from cdc_migrate.demo.demo import demo

    return demo(args.config, args.output)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# ---- entry --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdc-migrate",
        description="Full load of MySQL / Aurora MySQL into Apache Iceberg, recording the binlog position "
        "from which Debezium CDC continues.",
    )
    parser.add_argument("--version", action="version", version=f"cdc-migrate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plan", help="show each table's plan without loading")
    add_options(p, ("source", "tables", "partitioning", "catalog", "snapshot"))
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("run", help="load the tables and write the manifest")
    add_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("settings", help="print the Spark settings for the configured catalog")
    add_options(p, ("catalog", "spark"))
    p.add_argument("--format", choices=["properties", "spark-submit", "glue"], default="properties")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("validate", help="compare every loaded table with the source, chunk by chunk (--manifest)")
    add_options(p, ("source", "tables", "catalog", "spark", "manifest"))
    p.add_argument(
        "--chunk-rows", type=int, metavar="N", help="rows per checksum chunk (the load's rows per partition)"
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="print a load's (and validation's) results again, or write them")
    p.add_argument("--manifest", required=True, metavar="PATH")
    p.add_argument("--format", choices=["text", "markdown", "html"], default="text")
    p.add_argument("--out", metavar="FILE", help="write to this file instead of printing")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("connectors", help="write the CDC connector configs that continue from a load")
    p.add_argument("--manifest", required=True, metavar="PATH", help="the manifest of the load")
    p.add_argument("--out", metavar="DIR", help="where to write them (next to the manifest, cdc-connectors/)")
    p.add_argument("--name", default="cdc-migrate", help="connector name prefix")
    p.add_argument("--topic-prefix", default="cdc", help="Debezium topic.prefix (the seed's: cdc)")
    p.add_argument("--server-id", type=int, default=10_000_000, help="Debezium database.server.id")
    p.add_argument("--bootstrap-servers", metavar="HOSTS", help="Kafka brokers for the schema history topic")
    p.set_defaults(func=cmd_connectors)

    p = sub.add_parser(
        "sink-offsets",
        help="the sink offsets (KIP-875) that skip what the load holds, for a source connector that already ran",
        description="Reads the loaded tables' topics as kcat prints them (-f '%%t\\t%%p\\t%%o\\t%%s\\n') and "
        "prints the body of PATCH /connectors/<sink>/offsets that starts the sink at the first change after the "
        "load's position in each topic partition.",
    )
    p.add_argument("--manifest", required=True, metavar="PATH", help="the manifest of the load")
    p.add_argument("--topics", default="-", metavar="FILE", help="the topic dump (default: standard input)")
    p.set_defaults(func=cmd_sink_offsets)

    p = sub.add_parser("glue", help="deploy, start and follow the load as an AWS Glue job")
    glue_sub = p.add_subparsers(dest="glue_command", required=True, metavar="ACTION")
    g = glue_sub.add_parser("deploy", help="upload the script, wheels, config (and jar); create or update the job")
    g.add_argument("--config", required=True, metavar="FILE", help="the TOML file with [glue] and the load's settings")
    g.add_argument("--wheel", action="append", metavar="PATH", help="use these wheels instead of building them")
    g.set_defaults(func=cmd_glue_deploy)
    g = glue_sub.add_parser("start", help="start a run; the run flags given here override the config file's")
    add_options(g)
    g.add_argument("--wait", action="store_true", help="wait until the run ends and print its status")
    g.set_defaults(func=cmd_glue_start)
    g = glue_sub.add_parser("status", help="state, duration, DPU-seconds, error and logs of a run")
    g.add_argument("--config", required=True, metavar="FILE")
    g.add_argument("--run-id", metavar="ID", help="the run (default: the newest)")
    g.add_argument("--wait", action="store_true", help="wait until the run ends")
    g.set_defaults(func=cmd_glue_status)

    p = sub.add_parser("types", help="print the CDC type contract (MySQL type -> Iceberg type) as Markdown")
    p.set_defaults(func=cmd_types)

    p = sub.add_parser("demo", help="load a generated sample database from a throwaway MariaDB")
    p.add_argument("--config", metavar="FILE", default="conf/local.toml")
    p.add_argument("--output", metavar="DIR", default="demo-output", help="warehouse and manifest go here")
    p.set_defaults(func=cmd_demo)
    return parser


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if not verbose else "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("cdc_migrate").setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 a table or the run failed, 2 bad input, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("cdc-migrate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except CdcMigrateError as e:
        if args.verbose:
            logger.exception("failed")
        print(f"cdc-migrate: error: {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAILED
    except OSError as e:  # a file or directory the command needed, named with the system's reason
        if args.verbose:
            logger.exception("failed")
        where = f": {e.filename}" if e.filename else ""
        print(f"cdc-migrate: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:
        if args.verbose:
            logger.exception("failed")
        print(
            f"cdc-migrate: unexpected error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
            "(run again with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
