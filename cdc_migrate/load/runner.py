"""Run a full load: the position first, then the tables (several at once, within a connection budget), then
the handoff position every table is exact at, then the manifest."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cdc_migrate.aws.secrets import with_secret
from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.errors import BinlogError, CdcMigrateError
from cdc_migrate.handoff.backfill import Backfill
from cdc_migrate.handoff.claims import check_claims, spark_chains, void_reason, withdrawn
from cdc_migrate.handoff.exactness import catch_up_table, caught_up
from cdc_migrate.handoff.lock import exclusive, lock_paths
from cdc_migrate.handoff.manifest import (
    LeftOut,
    Manifest,
    RunRecord,
    SourceRecord,
    TableResult,
    catalog_record,
    check_writable,
)
from cdc_migrate.handoff.position import preflight, replica_origin, snapshot_record, take_position
from cdc_migrate.load.budget import ConnectionBudget
from cdc_migrate.load.parallel import load_all
from cdc_migrate.load.progress import NullProgress, Progress
from cdc_migrate.load.recorder import Recorder
from cdc_migrate.load.resume import (
    changelog_start,
    high_watermark,
    prior_manifest,
    purged,
    resumable,
)
from cdc_migrate.load.table import TableRun
from cdc_migrate.planning.capacity import capacity, local_slots, with_capacity
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.planner import Plan, PlanOutcome, plan_tables, user_limit
from cdc_migrate.planning.reader import ARROW
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo, same_position
from cdc_migrate.source.changelog import ChangeLog
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.preconditions import Finding, retention_findings
from cdc_migrate.source.spool import spool_root
from cdc_migrate.source.tls import settled
from cdc_migrate.spark.jdbc import DriverRecord
from cdc_migrate.spark.session import (
    build_session,
    discard_unused_warehouse,
    driver_version,
    ensure_local_warehouse,
    jdbc_driver_kind,
    prepare_session,
    restore_session,
    settings_for,
    tasks_python,
)
from cdc_migrate.spark.settings import Workload
from cdc_migrate.spark.truststore import with_jdbc_tls

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["ConnectionBudget", "PlanOutcome", "plan", "run"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Start:
    """What a run knows before it reads a row: the options with the limits for its task slots, the server, the
    low watermark, the plans, what an earlier run left loaded, and the preconditions found."""

    options: Options
    server: ServerInfo
    low: BinlogPosition | None
    origin: tuple[str, int] | None
    planned: list[PlanOutcome]
    done: dict[str, TableResult]
    prior: Manifest | None
    findings: list[Finding]
    left_out: tuple[LeftOut, ...] = ()
    started_at: str = ""  # when the run began (UTC)

    @property
    def outcomes(self) -> list[PlanOutcome]:
        """The tables this run loads, largest first."""
        todo = [o for o in self.planned if str(o.source) not in self.done]
        return sorted(todo, key=lambda o: -(o.plan.source.estimated_rows if o.plan else 0))


def run(options: Options, spark: SparkSession | None = None, progress: Progress | None = None) -> Manifest:
    """Records the binlog position, loads every selected table, makes them exact at one position and writes the
    manifest.

    Tables load `run.parallel_tables` at a time, largest first, together holding at most
    `source.max_connections` source connections. A table that fails does not stop the others; its error
    is in the manifest. Bad options, an unreachable source or binary logging being off stop the run
    before anything is read.

    The position CDC starts from (the manifest's `binlog`) is where every loaded table is exactly the source:
    for a live source, the high watermark, after each table's changes were merged in from the binlog; for a
    stopped replica or a clone, their frozen position.

    Args:
        options: validated options (see Options.from_mapping / resolve_options).
        spark: an existing session (notebook, Glue); by default one is built from options.spark.
        progress: where progress goes (LogProgress logs it); nothing by default.
    """
    progress = progress or NullProgress()
    started_at = utc_text()
    options.require_tables()  # bad input is refused before anything is touched
    options = with_secret(options)
    if options.run.manifest:  # every output is checked before the first table is written
        check_writable(options.run.manifest)
    made = ensure_local_warehouse(options)
    try:
        with exclusive(lock_paths(options, options.run.manifest)):  # one run at a time, before anything is read
            return _run(options, spark, progress, started_at)
    except BaseException:
        if made:  # a run refused before it wrote anything leaves no directory behind
            discard_unused_warehouse(options)
        raise


def plan(options: Options) -> Plan:
    """Plans every selected table without loading anything (no Spark needed), after the same checks a run makes
    before it reads (binlog settings, a replica's state, the user's privileges), so a dry run finds every
    problem a run would."""
    options.require_tables()
    options = with_secret(options)
    with MySQLSource.connect(options.require_source()) as source:
        server = source.server_info()
        preflight(source, server, options)
        slots = local_slots(options.spark.master) or 1  # a cluster's slots are known only once it runs
        limits = capacity(options, slots, server.max_connections, user_limit(source, options))
        return Plan(plan_tables(source, with_capacity(options, limits)).tables)


def _run(options: Options, spark: SparkSession | None, progress: Progress, started_at: str) -> Manifest:
    built = None
    if spark is None and local_slots(options.spark.master) is None:  # a cluster: its slots show once it runs
        built = build_session(options)
    given = spark or built
    start = _start(options, given.sparkContext.defaultParallelism if given else local_slots(options.spark.master))
    start = replace(start, started_at=started_at)
    options = start.options
    if spark is None:
        return _load(options, built or build_session(options, workload=workload(start.outcomes)), start, progress)
    # The caller's session: checked before anything changes in it, and its settings put back after the run
    # (the catalog's definition stays, to read the tables through).
    before = prepare_session(spark, settings_for(options, launching=False))
    try:
        return _load(options, spark, start, progress)
    finally:
        restore_session(spark, before, keep=f"spark.sql.catalog.{options.catalog.catalog_name}")


def _load(options: Options, spark: SparkSession, start: Start, progress: Progress) -> Manifest:
    started_at = start.started_at
    start = _claims_checked(start, spark)
    driver = jdbc_driver_kind(spark, options.require_source().jdbc_driver)
    local = str(spark.sparkContext.master).startswith("local")  # executors in this process, or other hosts
    options = replace(options, source=with_jdbc_tls(options.require_source(), driver, local))
    source = options.require_source()
    manifest = _first_manifest(options, start, started_at, driver_version(spark, driver))
    secrets = [source.password.reveal()] if source.password else []
    recorder = Recorder(options, manifest, secrets, progress, len(start.outcomes))
    # Before any table is touched: an earlier run's claims on the tables this run loads again are gone from it.
    recorder.checkpoint()
    backfill = _backfill(options, spark, start, manifest.runs[-1].run_id)
    try:
        slots = max(1, spark.sparkContext.defaultParallelism)
        budget = ConnectionBudget(source.max_connections or 1)
        run_id = manifest.runs[-1].run_id
        shared = TableRun(spark, options, driver, start.low, slots, budget, recorder, progress, backfill, run_id)
        with tasks_python(spark):
            load_all(shared, start.outcomes)
            _finish(shared, start)
    finally:
        if backfill is not None:
            backfill.close()
    manifest = recorder.finish()
    if options.run.validate and options.run.manifest:
        from cdc_migrate.validation.validator import validate

        logger.info("validating the loaded tables against the source")
        manifest = validate(options, options.run.manifest, spark=spark)
    progress.run_finished(manifest)
    if options.snapshot.kind == "replica" and manifest.exact is False and manifest.snapshot:
        raise BinlogError(f"{manifest.snapshot.note} (the manifest {options.run.manifest} records the tables)")
    return manifest


def _claims_checked(start: Start, spark: SparkSession) -> Start:
    """The tables an earlier run left exact, kept only where their claim still holds (the table's main is the
    claimed snapshot, or it with only the sink's commits after it): the others load again."""
    checks = check_claims(start.done.values(), spark_chains(spark, start.options.catalog.catalog_name))
    void = {source: check for source, check in checks.items() if not check.holds}
    for source, check in void.items():
        logger.warning("%s: %s", source, void_reason(check))
    kept = {source: table for source, table in start.done.items() if source not in void}
    if kept:
        logger.info(
            "resuming %s: %d of %d tables already loaded (--force loads them again)",
            start.options.run.manifest,
            len(kept),
            len(start.planned),
        )
    return replace(start, done=kept)


def workload(outcomes: list[PlanOutcome]) -> Workload:
    """What the run loads, for the JVM it starts (pure): tables, and the estimated rows x columns the JVM reads and
    writes (the JDBC path's; the Arrow path's rows never enter it)."""
    plans = [o.plan for o in outcomes if o.plan]
    jvm_read = [p for p in plans if p.reader != ARROW]
    return Workload(len(plans), sum(p.source.estimated_rows * len(p.mapping.columns) for p in jvm_read))


def _start(options: Options, slots: int | None) -> Start:
    """The server, the limits for its task slots, the low watermark, the plans and the preconditions: everything
    checked before a row is read."""
    kind = options.snapshot.kind
    prior = prior_manifest(options)
    findings: list[Finding] = []
    with MySQLSource.connect(options.require_source()) as source:
        server = source.server_info()
        # source.tls = preferred, settled by what this server did, for every later connection (the JDBC reads')
        options = replace(options, source=settled(options.require_source(), source.encrypted()))
        limits = capacity(options, slots or 1, server.max_connections, user_limit(source, options))
        logger.info("%s", limits.describe())
        options = with_capacity(options, limits)
        low = None
        if options.run.record_binlog_position:
            findings += preflight(source, server, options)
            low, _ = take_position(source, server, options.snapshot)
            logger.info("binlog position (low watermark) %s", low)
        else:
            logger.warning(
                "no binlog position recorded (--no-binlog-position): CDC cannot start exactly from this load"
            )
        origin = replica_origin(source, server) if kind == "replica" else None
        planned = plan_tables(source, options)
        views = tuple(LeftOut(v, "a view: only base tables are loaded") for v in planned.views)
        done = resumable(options, prior, low)
        if done and low is not None and kind == "live":
            gone = purged(done, source.binlog_files())
            for name, table in gone.items():
                logger.warning(
                    "%s is exact at %s, a binlog file the server no longer has, so it cannot be brought from there: "
                    "loading it again",
                    name,
                    table.exact_at,
                )
            done = {k: v for k, v in done.items() if k not in gone}
        start = Start(options, server, low, origin, planned.tables, done, prior, findings, views)
        if low is not None:
            rds = source.rds_configuration()
            rows = sum(o.plan.source.estimated_rows for o in start.outcomes if o.plan)
            findings += retention_findings(server, rds is not None, (rds or {}).get("binlog retention hours"), rows)
    for finding in findings:
        if finding.level == "warning":
            logger.warning("%s: %s", finding.setting, finding.message)
    return start


def _first_manifest(options: Options, start: Start, started_at: str, driver: DriverRecord) -> Manifest:
    """The manifest as the run begins: the source, the catalog, the low watermark and the tables kept."""
    resumed = start.prior is not None and bool(start.done)
    new = new_run_id()
    return Manifest(
        started_at=start.prior.started_at if start.prior and resumed else started_at,
        source=SourceRecord.of(options.require_source(), start.server, start.origin, driver),
        catalog=catalog_record(options.catalog),
        binlog=start.low,
        snapshot=snapshot_record(options.snapshot.kind, start.low, None),
        preconditions=tuple(start.findings),
        runs=(*(start.prior.runs if resumed and start.prior else ()), RunRecord(started_at, start.low, run_id=new)),
        tables=tuple(start.done.values()),
        left_out=start.left_out or None,
    )


def new_run_id() -> str:
    """A new run's id, which its Iceberg commits carry (the snapshot property cdc-migrate.run-id)."""
    return uuid.uuid4().hex[:16]


def _backfill(options: Options, spark: SparkSession, start: Start, run_id: str | None) -> Backfill | None:
    """For a live source: the change log from the low watermark (or where a resumed table is exact)."""
    if start.low is None or options.snapshot.kind != "live":
        return None
    tables = {o.source: o.plan.source for o in start.planned if o.plan}
    spool = spool_root(options.run.manifest)  # beside a local manifest: the run's own directory
    log = ChangeLog(options.require_source(), changelog_start(start.low, start.done.values()), tables, spool)
    try:
        log.check()  # the binlog is readable by this user, from where it must be
    except BaseException:
        log.close()
        raise
    scratch = options.run.scratch_dir
    if scratch is None and str(spark.sparkContext.master).startswith("local"):
        scratch = log.directory
    return Backfill(log, options.require_source(), start.server, start.low, scratch, run_id)


def _finish(shared: TableRun, start: Start) -> None:
    """The high watermark; for a live source every loaded table brought to it; the snapshot record."""
    options, recorder, low, backfill = shared.options, shared.recorder, start.low, shared.backfill
    kind = options.snapshot.kind
    if low is None or kind == "clone":
        recorder.set_handoff(low, snapshot_record(kind, low, None, recorder.results()))
        return
    if backfill is None:  # a stopped replica: it must not have moved
        with MySQLSource.connect(options.require_source()) as source:
            high, _ = take_position(source, start.server, options.snapshot)
        logger.info("replica position after the load (high watermark) %s", high)
        if not same_position(low, high):  # no table is the source at one position: none claims one
            for result in recorder.results():
                if result.exact_at is not None:
                    moved = f"the replica applied changes while it was read ({low} to {high})"
                    recorder.update(withdrawn(result, moved))
        recorder.set_handoff(low, snapshot_record(kind, low, high, recorder.results()))
        return
    if shared.halt.reason:  # the binlog is gone: no table can be brought anywhere
        recorder.set_handoff(low, snapshot_record(kind, low, None, recorder.results()))
        return
    high = high_watermark(recorder.results()) or backfill.position()
    backfill.read_to(high)
    logger.info("binlog position after the load (high watermark) %s", high)
    plans = {str(o.source): o.plan for o in start.planned if o.plan}
    for result in recorder.results():
        plan = plans.get(result.source)
        if result.status == "loaded" and result.exact_at and plan and not same_position(result.exact_at, high):
            if backfill.changes_table(plan, result.exact_at, high):  # the manifest first stops claiming it
                moving = f"it was being brought from {result.exact_at} to {high}; load it again"
                recorder.withdraw(result.source, moving)
            recorder.update(_caught_up(shared, plan, result, high))
    recorder.set_handoff(high, snapshot_record(kind, low, high, recorder.results()))


def _caught_up(shared: TableRun, plan: TablePlan, result: TableResult, high: BinlogPosition) -> TableResult:
    """A table exact at an earlier position brought to the high watermark (one MERGE of its changes)."""
    if shared.backfill is None or result.exact_at is None:
        return result
    options = shared.options
    try:
        exactness, outcome = catch_up_table(
            shared.spark,
            plan,
            options.source,
            shared.driver,
            options.catalog.catalog_name,
            shared.backfill,
            result.exact_at,
            high,
        )
    except CdcMigrateError as e:
        left = f"; its Iceberg table {result.target} is left as loaded, exact nowhere: drop it, or load the table again"
        return replace(result, status="failed", error=f"bringing it to the high watermark failed: {e}{left}")
    return caught_up(result, exactness, outcome, high)
