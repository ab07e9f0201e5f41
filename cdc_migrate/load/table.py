"""One table of a run: loaded within the connection budget, its result recorded."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.errors import CdcMigrateError
from cdc_migrate.handoff.backfill import Backfill
from cdc_migrate.handoff.exactness import claimed_position, load_table, properties_at_write
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.budget import ConnectionBudget, connections_for
from cdc_migrate.load.progress import Progress
from cdc_migrate.load.recorder import Recorder
from cdc_migrate.load.resume import override_dict
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.planner import PlanOutcome
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.source.schema import Key
from cdc_migrate.spark.write import LoadOutcome

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


def load_one(run: TableRun, outcome: PlanOutcome) -> None:
    """Loads one table within the connection budget and records its result."""
    target = str(outcome.target) if outcome.target else None
    if outcome.plan is None:
        index = run.recorder.started(outcome)
        run.recorder.finished(index, TableResult(str(outcome.source), target, "failed", error=outcome.error))
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
            loaded = load_table(
                run.spark,
                plan,
                run.options.source,
                run.driver,
                run.options.catalog.catalog_name,
                written_properties(run, plan),
                lambda done, total, rows: run.progress.partitions_done(plan, done, total, rows),
                run.backfill,
            )
        except CdcMigrateError as e:
            logger.debug("loading %s failed", plan.source.name, exc_info=True)
            result = replace(base, error=str(e))
        else:
            result = loaded_result(base, loaded, run.position)
        seconds = round(time.monotonic() - started, 3)
        rate = round(result.rows / seconds) if result.rows is not None and seconds > 0 else None
        result = replace(result, seconds=seconds, rows_per_second=rate, finished_at=utc_text())
    run.recorder.finished(index, result)


def written_properties(run: TableRun, plan: TablePlan) -> dict[str, str]:
    """The table properties its write commits (handoff/exactness.py decides the position among them)."""
    return properties_at_write(plan, run.options.source.address, run.position, live=run.backfill is not None)


def planned_result(plan: TablePlan, target: str | None, override: dict[str, object]) -> TableResult:
    """A table's result before it loads (pure): `failed` until it has loaded, with its plan and mapping."""
    columns = plan.mapping.columns
    return TableResult(
        source=str(plan.source.name),
        target=target,
        status="failed",
        estimated_rows=plan.source.estimated_rows,
        strategy=plan.strategy,
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
    return replace(
        base,
        status="loaded",
        rows=loaded.rows,
        partition_rows=loaded.partition_rows,
        partition_seconds=loaded.partition_seconds,
        snapshot_id=loaded.snapshot_id,
        bytes=loaded.bytes,
        exact_at=claimed_position(exactness, position),
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
