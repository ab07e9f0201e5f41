"""Plan and run a full load: position first, then every table, then the manifest."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cdc_migrate.binlog import BinlogPosition, ServerInfo
from cdc_migrate.config import Options
from cdc_migrate.errors import CdcMigrateError, ConfigError, PlanningError
from cdc_migrate.load import load_table, table_properties
from cdc_migrate.manifest import (
    Manifest,
    TableResult,
    binlog_section,
    catalog_section,
    source_section,
    write_manifest,
)
from cdc_migrate.naming import TableName, check_collisions, target_name
from cdc_migrate.planning import Partitioning, TablePlan, choose_split_column, plan_table
from cdc_migrate.progress import NullProgress, Progress
from cdc_migrate.selection import select_tables
from cdc_migrate.session import (
    build_session,
    ensure_local_warehouse,
    jdbc_driver_kind,
    prepare_session,
    settings_for,
)
from cdc_migrate.source import MySQLSource
from cdc_migrate.typemap import map_table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOutcome:
    """A table's plan, or why it cannot be planned."""

    source: TableName
    target: TableName | None
    plan: TablePlan | None = None
    error: str | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plan_tables(source: MySQLSource, options: Options) -> list[PlanOutcome]:
    """Selects, describes and plans the tables; a table that cannot be planned carries its error."""
    selection = options.require_tables()
    tables, views = source.list_tables()
    names = select_tables(tables, selection.include, selection.exclude, views)
    # One file serves many runs: overrides for tables this run does not select are not used, but one
    # naming a table that does not exist in a database being loaded is a typo.
    loading = {n.namespace for n in names}
    missing = sorted(
        key
        for key in selection.overrides
        if (o := TableName.parse(key)).namespace in loading and o.name not in tables.get(o.namespace, ())
    )
    if missing:
        raise ConfigError(
            f"tables.overrides name {'tables that do' if len(missing) > 1 else 'a table that does'} not exist: "
            f"{', '.join(missing)}; check the names (db.table, case-sensitive)"
        )
    described = source.describe(names)
    targets: dict[TableName, TableName | str] = {}
    for name in names:
        override = selection.overrides.get(str(name))
        try:
            targets[name] = target_name(name, options.catalog.namespace, override.target if override else None)
        except PlanningError as e:
            targets[name] = str(e)
    check_collisions((n, t) for n, t in targets.items() if isinstance(t, TableName))

    outcomes = []
    for name in names:
        target = targets[name]
        if isinstance(target, str):
            outcomes.append(PlanOutcome(name, None, error=target))
            continue
        override = selection.overrides.get(str(name))
        try:
            table = described[name]
            mapping = map_table(table, override.columns if override else None)
            column = choose_split_column(table, override)
            bounds = source.bounds(name, column.name)
            plan = plan_table(table, target, column, bounds, Partitioning.for_table(selection, override), mapping)
        except (PlanningError, ConfigError) as e:
            outcomes.append(PlanOutcome(name, target, error=str(e)))
            continue
        outcomes.append(PlanOutcome(name, target, plan=plan))
    return outcomes


def plan(options: Options) -> list[PlanOutcome]:
    """Plans every selected table without loading anything (no Spark needed)."""
    with MySQLSource.connect(options.require_source()) as source:
        return plan_tables(source, options)


def run(options: Options, spark: SparkSession | None = None, progress: Progress | None = None) -> Manifest:
    """Records the binlog position, loads every selected table and writes the manifest.

    A table that fails does not stop the others; its error is in the manifest. Bad options, an
    unreachable source or binary logging being off stop the run before anything is read.

    Args:
        options: validated options (see Options.from_mapping / resolve_options).
        spark: an existing session (notebook, Glue); by default one is built from options.spark.
        progress: where progress goes (LogProgress logs it); nothing by default.
    """
    progress = progress or NullProgress()
    started_at = _now()
    source_opts = options.require_source()
    with MySQLSource.connect(source_opts) as source:
        server = source.server_info()
        position = _start_position(source, server, options)
        outcomes = plan_tables(source, options)

    if spark is None:
        spark = build_session(options)
    else:
        ensure_local_warehouse(options)
        prepare_session(spark, settings_for(options, launching=False))
    driver = jdbc_driver_kind(spark, source_opts.jdbc_driver)

    manifest = Manifest(
        started_at=started_at,
        source=source_section(source_opts, server),
        catalog=catalog_section(options.catalog),
        binlog=binlog_section(position),
    )
    secrets = [source_opts.password.reveal()] if source_opts.password else []
    results: list[TableResult] = []
    total = len(outcomes)
    progress.run_started(total)
    try:
        for index, outcome in enumerate(outcomes, 1):
            result = _load_one(spark, options, outcome, driver, position, index, total, progress)
            result = replace(result, error=_scrub(result.error, secrets))
            results.append(result)
            progress.table_finished(index, total, result)
            manifest = replace(manifest, tables=tuple(results))
            _save(options, manifest)
    except BaseException:
        spark.sparkContext.cancelAllJobs()
        done = {r.source for r in results}
        results += [
            TableResult(
                source=str(o.source),
                target=str(o.target) if o.target else None,
                status="skipped",
                error="the run was interrupted before this table",
            )
            for o in outcomes
            if str(o.source) not in done
        ]
        _save(options, replace(manifest, tables=tuple(results), finished_at=_now()))
        raise
    manifest = replace(manifest, finished_at=_now())
    _save(options, manifest)
    progress.run_finished(manifest)
    return manifest


def _start_position(source: MySQLSource, server: ServerInfo, options: Options) -> BinlogPosition | None:
    if not options.run.record_binlog_position:
        logger.warning("no binlog position recorded (--no-binlog-position): CDC cannot start exactly from this load")
        return None
    position = source.binlog_position(server)
    logger.info("binlog position %s:%d gtid=%s", position.file, position.position, position.gtid_set or "-")
    return position


def _load_one(
    spark: SparkSession,
    options: Options,
    outcome: PlanOutcome,
    driver: str,
    position: BinlogPosition | None,
    index: int,
    total: int,
    progress: Progress,
) -> TableResult:
    target = str(outcome.target) if outcome.target else None
    if outcome.plan is None:
        return TableResult(source=str(outcome.source), target=target, status="failed", error=outcome.error)
    plan = outcome.plan
    base = TableResult(
        source=str(plan.source.name),
        target=target,
        status="failed",
        estimated_rows=plan.source.estimated_rows,
        partitions=plan.partitions,
        split_column=plan.split_column,
        min=plan.lower,
        max=plan.upper,
    )
    progress.table_started(index, total, plan)
    started = time.monotonic()
    try:
        loaded = load_table(
            spark,
            plan,
            options.source,
            driver,
            options.catalog.catalog_name,
            table_properties(plan, options.source.address, position),
            progress,
        )
    except CdcMigrateError as e:
        logger.debug("loading %s failed", plan.source.name, exc_info=True)
        return replace(base, seconds=round(time.monotonic() - started, 3), error=str(e))
    return replace(
        base,
        status="loaded",
        rows=loaded.rows,
        snapshot_id=loaded.snapshot_id,
        seconds=round(time.monotonic() - started, 3),
    )


def _scrub(text: str | None, secrets: list[str]) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _save(options: Options, manifest: Manifest) -> None:
    if options.run.manifest:
        write_manifest(options.run.manifest, manifest)
