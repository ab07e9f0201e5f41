"""The `cdc-migrate` commands: plan, run, settings, validate, report, connectors, sink-offsets, glue, types, demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from cdc_migrate.cli.flags import add_options, flags_layer, options_from_args
from cdc_migrate.cli.live import progress_for
from cdc_migrate.clock import utc_text
from cdc_migrate.config.layers import env_layer, expand_layer, load_toml, merge, resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.errors import CdcMigrateError, ConfigError, HandoffError
from cdc_migrate.handoff.manifest import Manifest
from cdc_migrate.load.report import plan_rows, run_summary, text_table

logger = logging.getLogger("cdc_migrate.cli")

# Exit codes: done, a table or the run failed, bad input, interrupted (Ctrl-C), terminated (SIGTERM).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # SIGTERM


def cmd_plan(args: argparse.Namespace) -> int:
    from cdc_migrate.load.runner import plan

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
    from cdc_migrate.load.runner import run

    options = options_from_args(args, os.environ)
    began = utc_text()
    try:
        with progress_for(sys.stderr) as progress:
            manifest = run(options, progress=progress)
    except BaseException:  # Ctrl-C, SIGTERM, a run-level error: what was done before it, then the error's line
        _summary_so_far(options.run.manifest, began)
        raise
    print(run_summary(manifest))
    if options.run.manifest:
        where = options.run.manifest
        print(f"manifest: {where if where.startswith('s3://') else os.path.abspath(where)}")
    return EXIT_FAILED if manifest.failed or manifest.mismatched or manifest.exact is False else EXIT_OK


def _summary_so_far(path: str | None, began: str) -> None:
    """The summary of a run that stopped, from the manifest it wrote (none where it wrote nothing yet)."""
    from cdc_migrate.handoff.manifest import read_manifest

    try:
        manifest = read_manifest(path, missing_ok=True) if path else None
    except (CdcMigrateError, OSError):  # best effort: the error that stopped the run is the one to show
        return
    if manifest is None or not manifest.runs or manifest.runs[-1].started_at < began:
        return  # not this run's (an earlier run's, or another's holding the lock)
    print(f"{run_summary(manifest)}\n\nthe run stopped; the manifest {path} records what it did (run again to go on)")


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
        "catalog": cat.settings(),
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
    from cdc_migrate.validation.validator import validate

    if not args.manifest:  # the one the configuration names (run.manifest), as `run` would write it
        args.manifest = resolve_options(args.config, os.environ, flags_layer(args)).run.manifest
    options = options_for_manifest(args, os.environ)
    manifest = validate(options, args.manifest, chunk_rows=args.chunk_rows)
    print(run_summary(manifest))
    return EXIT_FAILED if manifest.mismatched else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from cdc_migrate.handoff.manifest import read_manifest
    from cdc_migrate.load.projection import projection_lines
    from cdc_migrate.load.report import html_report, markdown_report

    manifest = read_manifest(args.manifest)
    text = {"text": run_summary, "markdown": markdown_report, "html": html_report}[args.format](manifest)
    projection = projection_lines(manifest.tables)
    if projection and args.format == "text":
        text += "\n\n" + "\n".join(projection)
    elif projection and args.format == "markdown":
        text = text.rstrip("\n") + "\n\n## On a cluster\n\n" + "\n".join(f"- {line.strip()}" for line in projection[1:])
    if args.out:
        _write(Path(args.out), text if text.endswith("\n") else text + "\n", "--out")
        print(f"wrote {args.out}")
    else:
        print(text)
    return EXIT_OK


def cmd_connectors(args: argparse.Namespace) -> int:
    from cdc_migrate.handoff.connectors import (
        ConnectorOptions,
        continued_tables,
        debezium_source,
        handoff_steps,
        iceberg_sink,
        offsets_request,
    )
    from cdc_migrate.handoff.manifest import read_manifest

    manifest = checked_claims(read_manifest(args.manifest), args)
    if not manifest.binlog:
        raise HandoffError(
            f"{args.manifest} has no binlog position (the load ran with --no-binlog-position): CDC has nowhere to "
            "start from. Load again with binary logging on"
        )
    options = ConnectorOptions(
        name=args.name,
        topic_prefix=args.topic_prefix,
        server_id=args.server_id,
        bootstrap_servers=args.bootstrap_servers or ConnectorOptions.bootstrap_servers,
    )
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
    continued = continued_tables(manifest)
    print(f"wrote {', '.join([*files.values(), 'HANDOFF.md'])} to {out}")
    print(f"CDC continues {len(continued.tables)} table(s): {', '.join(t.source for t in continued.tables)}")
    for table, why in continued.left_out:
        print(f"left out {table.source}: {why}")
    return EXIT_OK


def cmd_sink_offsets(args: argparse.Namespace) -> int:
    from cdc_migrate.handoff.manifest import read_manifest
    from cdc_migrate.handoff.sink_offsets import parse_kcat, sink_offsets

    manifest = checked_claims(read_manifest(args.manifest), args)
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


def checked_claims(manifest: Manifest, args: argparse.Namespace) -> Manifest:
    """The manifest with each table's claim checked against its Iceberg table (read with PyIceberg): a claim that
    no longer holds is withdrawn, so that no connector continues a table from where it is not exact. The catalog
    is the manifest's, with the extra properties of `--config` (credentials a catalog needs)."""
    from cdc_migrate.handoff.claims import checked_manifest, pyiceberg_chains

    catalog = manifest.catalog.options()
    if getattr(args, "config", None):
        catalog = replace(catalog, properties=resolve_options(args.config, os.environ, {}).catalog.properties)
    where = f"the {catalog.kind} catalog {catalog.warehouse or catalog.uri or ''}".rstrip()
    try:
        return checked_manifest(manifest, pyiceberg_chains(catalog))
    except ImportError as e:
        raise HandoffError(
            f"checking the tables' claims needs PyIceberg ({e}); pip install 'cdc_migrate[local]'"
        ) from None
    except CdcMigrateError:
        raise
    except Exception as e:  # the catalog's own error, whatever its type
        raise HandoffError(
            f"cannot check the tables of {args.manifest} in {where} ({type(e).__name__}: {str(e).splitlines()[0]}): "
            "a table is continued only where its claim still holds. Run this where the catalog is reachable, with "
            "its properties in --config"
        ) from None


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


def cmd_prepare(args: argparse.Namespace) -> int:
    from cdc_migrate.spark.classdata import prepare
    from cdc_migrate.spark.jars import find_local_jars

    options = options_from_args(args, os.environ)
    path = prepare(find_local_jars(options.catalog.kind, options.source.jdbc_driver_jar).jars)
    print(f"class-data archive: {path}" if path else "no class-data archive made (see the warning above)")
    return EXIT_OK if path else EXIT_FAILED


def cmd_demo(args: argparse.Namespace) -> int:
    from cdc_migrate.demo.demo import demo

    return demo(args.config, args.output)


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
