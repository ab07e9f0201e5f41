"""One table of a run: loaded within the connection budget, its result recorded."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.errors import BinlogGone, CdcMigrateError, WriteError
from cdc_migrate.handoff.backfill import Backfill
from cdc_migrate.handoff.exactness import claim_of, load_table
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.budget import ConnectionBudget, connections_for
from cdc_migrate.load.progress import Progress
from cdc_migrate.load.recorder import Recorder
from cdc_migrate.load.resume import override_dict
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.planner import PlanOutcome
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.source.schema import Key
from cdc_migrate.spark.failures import dropped
from cdc_migrate.spark.write import LoadOutcome, table_properties

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableRun:
    """What every table load of a run shares."""

    spark: SparkSession
    options: Options
    driver: str
    position: BinlogPosition | None
    slots: int
    budget: ConnectionBudget
    recorder: Recorder
    progress: Progress
    backfill: Backfill | None = None
    run_id: str | None = None  # what its commits carry (the snapshot property cdc-migrate.run-id)
    halt: Halt = field(default_factory=lambda: Halt())


class Halt:
    """Why a run stops loading tables, once a table has found that none can be made exact (the binlog it needs is
    gone): the tables being loaded are cancelled, those not started are not read."""

    def __init__(self) -> None:
        self._reason: str | None = None
        self._lock = threading.Lock()
        self._set = threading.Event()

    @property
    def reason(self) -> str | None:
        return self._reason

    def set(self, reason: str) -> bool:
        """Sets the reason; True for the first caller."""
        with self._lock:
            first, self._reason = self._reason is None, self._reason or reason
        self._set.set()
        return first

    def wait(self, seconds: float) -> bool:
        """Waits `seconds`, or less where the run halts meanwhile (True then)."""
        return self._set.wait(seconds)


# Waits before each new try of a table whose connection the source dropped or refused: about a minute in all,
# two Aurora failovers' worth (about 30 s each).
RETRY_WAITS = (2.0, 4.0, 8.0, 16.0, 30.0)


def run_tag(run: TableRun) -> str:
    """The Spark job tag of every job a run starts (its loader threads carry it): what an interruption cancels,
    and only that (the caller's own jobs in the same session go on)."""
    return f"cdc-migrate-run-{run.run_id or id(run)}"


def load_one(run: TableRun, outcome: PlanOutcome) -> None:
    """Loads one table within the connection budget and records its result."""
    run.spark.sparkContext.addJobTag(run_tag(run))  # (a thread's tags stay with it: the pool's threads are the run's)
    target = str(outcome.target) if outcome.target else None
    halted = run.halt.reason
    if outcome.plan is None or halted:
        index = run.recorder.started(outcome)
        error = outcome.error if halted is None else f"not loaded: {halted}"
        run.recorder.finished(index, TableResult(str(outcome.source), target, "failed", error=error))
        return
    need, partitions = connections_for(outcome.plan.partitions, run.slots, run.budget.limit)
    plan = outcome.plan.merged(partitions)
    with run.budget.hold(need):
        index = run.recorder.started(outcome)
        started_at, started = utc_text(), time.monotonic()
        base = replace(
            planned_result(plan, target, override_dict(run.options, str(plan.source.name))), started_at=started_at
        )
        try:
            loaded = _with_retries(run, plan)
        except CdcMigrateError as e:
            logger.debug("loading %s failed", plan.source.name, exc_info=True)
            if isinstance(e.__cause__, BinlogGone) and run.halt.set(str(e.__cause__)):
                logger.error("%s; stopping the other tables", e.__cause__)
                run.spark.sparkContext.cancelJobsWithTag(run_tag(run))
            gone = run.halt.reason is not None and not isinstance(e.__cause__, BinlogGone)
            result = replace(base, error=f"stopped: {run.halt.reason}" if gone else str(e))
        else:
            result = loaded_result(base, loaded, run.position)
        seconds = round(time.monotonic() - started, 3)
        rate = round(result.rows / seconds) if result.rows is not None and seconds > 0 else None
        result = replace(result, seconds=seconds, rows_per_second=rate, finished_at=utc_text())
    run.recorder.finished(index, result)


def _with_retries(run: TableRun, plan: TablePlan, waits: tuple[float, ...] = RETRY_WAITS) -> LoadOutcome:
    """Loads a table, again after a wait where the source dropped or refused a connection (a restart, a failover):
    its replace is atomic, so a failed try left nothing. Each try is logged; the last one's error is the table's."""
    for attempt in range(len(waits) + 1):
        try:
            return load_table(
                run.spark,
                plan,
                run.options.source,
                run.driver,
                run.options.catalog.catalog_name,
                written_properties(run, plan),
                lambda done, total, rows: run.progress.partitions_done(plan, done, total, rows),
                run.backfill,
                run.run_id,
                run.position,
                stopped=lambda: run.halt.reason,
            )
        except WriteError as e:
            if attempt == len(waits) or not dropped(str(e)) or run.halt.reason:
                raise
            logger.warning(
                "%s: the source dropped or refused a connection (%s); trying again in %.0f s (try %d of %d)",
                plan.source.name,
                str(e).split(": ", 1)[-1][:300],
                waits[attempt],
                attempt + 2,
                len(waits) + 1,
            )
            if run.halt.wait(waits[attempt]):
                raise
    raise AssertionError("unreachable")


def written_properties(run: TableRun, plan: TablePlan) -> dict[str, str]:
    """The table properties its write commits (the position it is exact at follows, bound to its snapshot)."""
    return table_properties(plan, run.options.source.address)


def planned_result(plan: TablePlan, target: str | None, override: dict[str, object]) -> TableResult:
    """A table's result before it loads (pure): `failed` until it has loaded, with its plan and mapping."""
    columns = plan.mapping.columns
    return TableResult(
        source=str(plan.source.name),
        target=target,
        status="failed",
        estimated_rows=plan.source.estimated_rows,
        strategy=plan.strategy,
        reader=plan.reader,
        partitions=plan.partitions,
        estimated_rows_per_partition=plan.estimated_rows_per_partition,
        split_column=plan.split_column,
        primary_key=plan.mapping.identifier,
        column_choices={c.name: c.rule for c in columns if ":" in c.rule or c.rule == "bigint_unsigned"} or None,
        cdc_values={c.name: c.cdc for c in columns if c.cdc} or None,
        min=key_json(plan.lower),
        max=key_json(plan.upper),
        override=override,
    )


def loaded_result(base: TableResult, loaded: LoadOutcome, position: BinlogPosition | None) -> TableResult:
    """A loaded table's result (pure): where it is exact (none when a live load could not make it exact)."""
    exactness = loaded.exactness
    exact_at, not_exact = claim_of(exactness, position)
    return replace(
        base,
        status="loaded",
        rows=loaded.rows,
        partition_rows=loaded.partition_rows,
        partition_seconds=loaded.partition_seconds,
        snapshot_id=loaded.snapshot_id,
        bytes=loaded.bytes,
        exact_at=exact_at,
        not_exact=not_exact,
        changes=exactness.changes if exactness else None,
        applied=(exactness.applied or None) if exactness else None,
        merge_seconds=exactness.seconds or None if exactness else None,
    )


def key_json(key: Key | None) -> object:
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
