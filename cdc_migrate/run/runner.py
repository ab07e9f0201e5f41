"""Run a full load: the position first, then the tables (several at once, within a connection budget),
then the manifest."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options, TableOverride
from cdc_migrate.errors import BinlogError, CdcMigrateError, ConfigError
from cdc_migrate.handoff.backfill import Backfill
from cdc_migrate.handoff.manifest import (
    Manifest,
    TableResult,
    binlog_section,
    catalog_section,
    check_writable,
    read_manifest,
    source_section,
    write_manifest,
)
from cdc_migrate.handoff.position import (
    position_dict,
    position_from_dict,
    preflight,
    replica_origin,
    snapshot_section,
    take_position,
)
from cdc_migrate.plan.planner import PlanOutcome, plan, plan_tables
from cdc_migrate.run.progress import NullProgress, Progress
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo, same_position
from cdc_migrate.source.changelog import ChangeLog
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.preconditions import Finding, retention_findings
from cdc_migrate.spark.session import (
    build_session,
    driver_version,
    ensure_local_warehouse,
    jdbc_driver_kind,
    prepare_session,
    settings_for,
)
from cdc_migrate.spark.write import catch_up_table, create_namespaces, load_table, table_properties

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ConnectionBudget", "PlanOutcome", "plan", "run"]

logger = logging.getLogger(__name__)

INTERRUPTED = "the run was interrupted before this table finished"


class ConnectionBudget:
    """At most `limit` source connections held at once by the table loads running in parallel."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, n: int) -> Iterator[None]:
        """Waits until `n` connections are free and holds them for the block."""
        if n > self.limit:
            raise ValueError(f"cannot hold {n} of {self.limit} connections")
        with self._cond:
            self._cond.wait_for(lambda: self._free >= n)
            self._free -= n
        try:
            yield
        finally:
            with self._cond:
                self._free += n
                self._cond.notify_all()


class _Recorder:
    """Collects table results from the worker threads and rewrites the manifest after each one."""

    def __init__(self, options: Options, manifest: Manifest, secrets: list[str], progress: Progress, total: int):
        self._options = options
        self._manifest = manifest
        self._secrets = [s for s in secrets if s]
        self._progress = progress
        self._total = total
        self._started = 0
        self._results: dict[str, TableResult] = {t.source: t for t in manifest.tables}
        self._lock = threading.Lock()
        self._interrupted = False

    def interrupt(self) -> None:
        """From now on a table that ends failing was cut off by the interruption: it is `skipped`, not `failed`."""
        with self._lock:
            self._interrupted = True

    def started(self, outcome: PlanOutcome) -> int:
        with self._lock:
            self._started += 1
            index = self._started
        if outcome.plan is not None:
            self._progress.table_started(index, self._total, outcome.plan)
        return index

    def finished(self, index: int, result: TableResult) -> None:
        result = replace(result, error=self._scrub(result.error))
        with self._lock:
            if self._interrupted and result.status == "failed":
                result = replace(result, status="skipped", error=INTERRUPTED)
            self._results[result.source] = result
            self._save(finished=False)
        self._progress.table_finished(index, self._total, result)

    def set_handoff(self, cdc_start: BinlogPosition | None, snapshot: dict[str, Any]) -> None:
        """Where CDC starts and what the snapshot is; the last run's high watermark."""
        with self._lock:
            runs = self._manifest.runs
            if runs:
                runs = (*runs[:-1], {**runs[-1], "high_watermark": snapshot.get("high_watermark")})
            self._manifest = replace(self._manifest, binlog=binlog_section(cdc_start), snapshot=snapshot, runs=runs)

    def results(self) -> list[TableResult]:
        with self._lock:
            return sorted(self._results.values(), key=lambda r: r.source)

    def update(self, result: TableResult) -> None:
        with self._lock:
            self._results[result.source] = result
            self._save(finished=False)

    def done(self) -> set[str]:
        with self._lock:
            return set(self._results)

    def finish(self, extra: list[TableResult] | None = None) -> Manifest:
        with self._lock:
            for result in extra or []:
                self._results.setdefault(result.source, result)
            return self._save(finished=True)

    def _save(self, finished: bool) -> Manifest:
        tables = tuple(sorted(self._results.values(), key=lambda r: r.source))
        runs = self._manifest.runs
        if finished and runs:
            runs = (*runs[:-1], {**runs[-1], "finished_at": utc_text()})
        self._manifest = replace(self._manifest, tables=tables, runs=runs, finished_at=utc_text() if finished else None)
        if self._options.run.manifest:
            write_manifest(self._options.run.manifest, self._manifest)
        return self._manifest

    def _scrub(self, text: str | None) -> str | None:
        for secret in self._secrets:
            text = text.replace(secret, "***") if text else text
        return text


def run(options: Options, spark: SparkSession | None = None, progress: Progress | None = None) -> Manifest:
    """Records the binlog position, loads every selected table, makes them exact at one position and writes the
    manifest.

    Tables load `run.parallel_tables` at a time, largest first, together holding at most
    `source.max_connections` source connections. A table that fails does not stop the others; its error
    is in the manifest. Bad options, an unreachable source or binary logging being off stop the run
    before anything is read.

    The position CDC starts from (the manifest's `binlog`) is where every loaded table is exactly the source:
    for a live source, the high watermark after each table's changes were folded in from the binlog; for a
    stopped replica or a clone, their frozen position.

    Args:
        options: validated options (see Options.from_mapping / resolve_options).
        spark: an existing session (notebook, Glue); by default one is built from options.spark.
        progress: where progress goes (LogProgress logs it); nothing by default.
    """
    from cdc_migrate.aws.calls import with_secret

    progress = progress or NullProgress()
    started_at = utc_text()
    options = with_secret(options)
    source_opts = options.require_source()
    if options.run.manifest:  # every output is checked before the first table is written
        check_writable(options.run.manifest)
    ensure_local_warehouse(options)
    kind = options.snapshot.kind
    prior = _prior_manifest(options)
    findings: list[Finding] = []
    with MySQLSource.connect(source_opts) as source:
        server = source.server_info()
        low = None
        if options.run.record_binlog_position:
            findings += preflight(source, server, options)
            low, _ = take_position(source, server, options.snapshot)
            logger.info("binlog position (low watermark) %s:%d gtid=%s", low.file, low.position, low.gtid_set or "-")
        else:
            logger.warning(
                "no binlog position recorded (--no-binlog-position): CDC cannot start exactly from this load"
            )
        origin = replica_origin(source, server) if kind == "replica" else None
        planned = plan_tables(source, options)
        done = _resumable(options, prior, low)
        outcomes = [o for o in planned if str(o.source) not in done]
        if done:
            logger.info(
                "resuming %s: %d of %d tables already loaded (--force loads them again)",
                options.run.manifest, len(planned) - len(outcomes), len(planned),
            )  # fmt: skip
        if low is not None:
            rds = source.rds_configuration()
            rows = sum(o.plan.source.estimated_rows for o in outcomes if o.plan)
            findings += retention_findings(server, rds is not None, (rds or {}).get("binlog retention hours"), rows)
    for finding in findings:
        if finding.level == "warning":
            logger.warning("%s: %s", finding.setting, finding.message)

    if spark is None:
        spark = build_session(options)
    else:
        prepare_session(spark, settings_for(options, launching=False))
    driver = jdbc_driver_kind(spark, source_opts.jdbc_driver)
    slots = max(1, spark.sparkContext.defaultParallelism)

    manifest = Manifest(
        started_at=prior.started_at if prior and done else started_at,
        source=source_section(source_opts, server, origin) | {"jdbc_driver": driver_version(spark, driver)},
        catalog=catalog_section(options.catalog),
        binlog=binlog_section(low),
        snapshot=snapshot_section(kind, low, None),
        preconditions=tuple(dataclasses.asdict(f) for f in findings),
        runs=(*(prior.runs if prior and done else ()), {"started_at": started_at, "binlog": binlog_section(low)}),
        tables=tuple(done.values()),
    )
    secrets = [source_opts.password.reveal()] if source_opts.password else []
    recorder = _Recorder(options, manifest, secrets, progress, len(outcomes))
    budget = ConnectionBudget(source_opts.max_connections)
    largest_first = sorted(outcomes, key=lambda o: -(o.plan.source.estimated_rows if o.plan else 0))
    backfill = _backfill(options, spark, server, low, planned, done)
    progress.run_started(len(outcomes))
    try:
        create_namespaces(spark, options.catalog, {o.target.namespace for o in outcomes if o.plan and o.target})
        pool = ThreadPoolExecutor(max_workers=options.run.parallel_tables, thread_name_prefix="cdc-migrate")
        try:
            futures = [
                pool.submit(_load_one, spark, options, o, driver, low, slots, budget, recorder, progress, backfill)
                for o in largest_first
            ]
            completed, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in completed:
                future.result()  # a bug in a worker, not a table failure: surface it
        except BaseException:
            recorder.interrupt()
            pool.shutdown(wait=False, cancel_futures=True)
            spark.sparkContext.cancelAllJobs()
            finished = recorder.done()
            recorder.finish(
                [
                    TableResult(str(o.source), str(o.target) if o.target else None, "skipped", error=INTERRUPTED)
                    for o in outcomes
                    if str(o.source) not in finished
                ]
            )  # fmt: skip
            raise
        pool.shutdown(wait=True)
        _finish(options, spark, server, low, planned, driver, backfill, recorder)
    finally:
        if backfill is not None:
            backfill.log.close()
    manifest = recorder.finish()
    if options.run.validate and options.run.manifest:
        from cdc_migrate.validate.validator import validate

        logger.info("validating the loaded tables against the source")
        manifest = validate(options, options.run.manifest, spark=spark)
    progress.run_finished(manifest)
    if kind == "replica" and manifest.snapshot.get("exact") is False:
        raise BinlogError(f"{manifest.snapshot['note']} (the manifest {options.run.manifest} records the tables)")
    return manifest


def _resumable(options: Options, prior: Manifest | None, low: BinlogPosition | None) -> dict[str, TableResult]:
    """The tables an earlier run of this load left exact, which this run keeps (and brings to its position).

    A live source's tables are caught up from where they are exact; a replica's or clone's only stay when the
    position is the same; a table loaded with other settings, or with no record of where it is exact, loads
    again.
    """
    if prior is None:
        return {}
    done = {}
    for t in prior.tables:
        if t.status != "loaded":
            continue
        if t.override is not None and t.override != _override_dict(options, t.source):
            logger.info("%s was loaded with other settings (%s); loading it again", t.source, t.override)
            continue
        at = position_from_dict(t.exact_at)
        if low is not None and (at is None or (options.snapshot.kind != "live" and not same_position(at, low))):
            logger.info("%s was not loaded exactly at a position this run can continue from; loading it again",
                        t.source)  # fmt: skip
            continue
        done[t.source] = t
    return done


def _backfill(
    options: Options,
    spark: SparkSession,
    server: ServerInfo,
    low: BinlogPosition | None,
    planned: list[PlanOutcome],
    done: dict[str, TableResult],
) -> Backfill | None:
    """For a live source: the change log from the low watermark (or where a resumed table is exact)."""
    if low is None or options.snapshot.kind != "live":
        return None
    starts = [low, *(p for t in done.values() if (p := position_from_dict(t.exact_at)) is not None)]
    start = min(starts, key=lambda p: (p.file, p.position))
    tables = {o.source: o.plan.source for o in planned if o.plan}
    log = ChangeLog(options.require_source(), start, tables)
    try:
        log.check()  # the binlog is readable by this user, from where it must be
    except BaseException:
        log.close()
        raise
    scratch = options.run.scratch_dir
    if scratch is None and str(spark.sparkContext.master).startswith("local"):
        scratch = log.directory
    return Backfill(log, options.require_source(), server, scratch)


def _finish(
    options: Options,
    spark: SparkSession,
    server: ServerInfo,
    low: BinlogPosition | None,
    planned: list[PlanOutcome],
    driver: str,
    backfill: Backfill | None,
    recorder: _Recorder,
) -> None:
    """The high watermark; for a live source every loaded table brought to it; the snapshot section."""
    kind = options.snapshot.kind
    if low is None or kind == "clone":
        recorder.set_handoff(low, snapshot_section(kind, low, None))
        return
    if backfill is None:  # a stopped replica: it must not have moved
        with MySQLSource.connect(options.require_source()) as source:
            high, _ = take_position(source, server, options.snapshot)
        logger.info("replica position after the load (high watermark) %s:%d", high.file, high.position)
        recorder.set_handoff(low, snapshot_section(kind, low, high))
        return
    # The latest position a loaded table is exact at: the others are brought to it (none needs to go further).
    exact = [p for t in recorder.results() if t.status == "loaded" and (p := position_from_dict(t.exact_at))]
    high = max(exact, key=lambda p: (p.file, p.position)) if exact else backfill.position()
    backfill.log.read_to(high)
    logger.info("binlog position after the load (high watermark) %s:%d", high.file, high.position)
    plans = {str(o.source): o.plan for o in planned if o.plan}
    for result in recorder.results():
        at = position_from_dict(result.exact_at)
        plan = plans.get(result.source)
        if result.status != "loaded" or at is None or plan is None or same_position(at, high):
            continue
        try:
            merged, outcome = catch_up_table(spark, plan, options.source, driver, options.catalog.catalog_name,
                                             backfill, at, high)  # fmt: skip
        except CdcMigrateError as e:
            recorder.update(replace(result, status="failed", error=f"bringing it to the high watermark failed: {e}"))
            continue
        recorder.update(
            replace(
                result,
                exact_at=position_dict(high),
                changes=(result.changes or 0) + merged,
                rows=outcome.rows,
                snapshot_id=outcome.snapshot_id,
                bytes=outcome.bytes,
            )
        )
    tables = [t for t in recorder.results() if t.status == "loaded"]
    everywhere = bool(tables) and all(
        (at := position_from_dict(t.exact_at)) is not None and same_position(at, high) for t in tables if t.primary_key
    )
    changes = sum(t.changes or 0 for t in tables)
    recorder.set_handoff(high, snapshot_section(kind, low, high, everywhere, changes))


def _prior_manifest(options: Options) -> Manifest | None:
    """The manifest of an earlier run of the same load, to resume from (None with --force or none there)."""
    path = options.run.manifest
    if not path or options.run.force:
        return None
    prior = read_manifest(path, missing_ok=True)
    if prior is None:
        return None
    here = {"host": options.source.host, "port": options.source.port}
    there = {"host": prior.source.get("host"), "port": prior.source.get("port")}
    catalog = catalog_section(options.catalog)
    if here != there or {k: prior.catalog.get(k) for k in ("kind", "name", "warehouse")} != {
        k: catalog[k] for k in ("kind", "name", "warehouse")
    }:
        raise ConfigError(
            f"{path} records a load from {there['host']}:{there['port']} into {prior.catalog.get('kind')} catalog "
            f"{prior.catalog.get('warehouse')}; this run is from {here['host']}:{here['port']} into "
            f"{catalog['warehouse']}. Give another --manifest, or --force to start over"
        )
    return prior


def _load_one(
    spark: SparkSession,
    options: Options,
    outcome: PlanOutcome,
    driver: str,
    position: BinlogPosition | None,
    slots: int,
    budget: ConnectionBudget,
    recorder: _Recorder,
    progress: Progress,
    backfill: Backfill | None = None,
) -> None:
    """Loads one table within the connection budget and records its result."""
    target = str(outcome.target) if outcome.target else None
    if outcome.plan is None:
        index = recorder.started(outcome)
        recorder.finished(index, TableResult(str(outcome.source), target, "failed", error=outcome.error))
        return
    plan = outcome.plan
    # A table's read holds min(partitions, task slots) connections at once; with fewer free in the
    # budget, adjacent key ranges are merged so that it holds no more than it was given.
    concurrency = min(plan.partitions, slots)
    need = min(concurrency, budget.limit)
    if need < concurrency:
        plan = plan.merged(need)
    with budget.hold(need):
        index = recorder.started(outcome)
        started_at, started = utc_text(), time.monotonic()
        base = TableResult(
            source=str(plan.source.name),
            target=target,
            status="failed",
            estimated_rows=plan.source.estimated_rows,
            strategy=plan.strategy,
            partitions=plan.partitions,
            estimated_rows_per_partition=plan.estimated_rows_per_partition,
            split_column=plan.split_column,
            primary_key=plan.mapping.identifier,
            column_choices={
                c.name: c.rule for c in plan.mapping.columns if ":" in c.rule or c.rule == "bigint_unsigned"
            }
            or None,
            cdc_values={c.name: c.cdc for c in plan.mapping.columns if c.cdc} or None,
            min=_key_value(plan.lower),
            max=_key_value(plan.upper),
            override=_override_dict(options, str(plan.source.name)),
            started_at=started_at,
        )
        try:
            loaded = load_table(
                spark,
                plan,
                options.source,
                driver,
                options.catalog.catalog_name,
                table_properties(plan, options.source.address, position),
                progress,
                backfill,
            )
        except CdcMigrateError as e:
            logger.debug("loading %s failed", plan.source.name, exc_info=True)
            result = replace(base, error=str(e))
        else:
            result = replace(
                base,
                status="loaded",
                rows=loaded.rows,
                partition_rows=loaded.partition_rows,
                snapshot_id=loaded.snapshot_id,
                bytes=loaded.bytes,
                exact_at=position_dict(loaded.exactness.position if loaded.exactness else position),
                changes=loaded.exactness.changes if loaded.exactness else None,
            )
            if loaded.exactness is not None and not loaded.exactness.exact:
                result = replace(result, exact_at=None)
        seconds = round(time.monotonic() - started, 3)
        rate = round(result.rows / seconds) if result.rows is not None and seconds > 0 else None
        result = replace(result, seconds=seconds, rows_per_second=rate, finished_at=utc_text())
    recorder.finished(index, result)


def _override_dict(options: Options, table: str) -> dict[str, object]:
    """The table's settings as loaded: partitioning (override or default) and column overrides, so that
    `validate` cuts the table into the load's partitions and maps its columns the same way."""
    override = options.tables.overrides.get(table) or TableOverride()
    given = {k: v for k, v in dataclasses.asdict(override).items() if v not in (None, {})}
    defaults = {k: getattr(options.tables, k) for k in ("rows_per_partition", "min_partitions", "max_partitions")}
    return defaults | given


def _key_value(key: tuple[object, ...] | None) -> object:
    """A key for the manifest (JSON): the value for one column, a list for a composite key; dates and
    times as ISO text, bytes as hex, decimals as text."""
    if key is None:
        return None
    values = [_json_value(v) for v in key]
    return values[0] if len(values) == 1 else values


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Decimal | timedelta):
        return str(value)
    return value
