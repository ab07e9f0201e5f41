"""A table's exactness, its whole lifecycle in one place: the load (read, atomic replace), making it exact at a
position taken after its read (the change log's window merged in, statements applied or refused), the position
it claims committed with its schema, and a later catch-up to the high watermark; spark/write.py does the plain
reads, writes, merges and commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import CdcMigrateError, WriteError
from cdc_migrate.handoff.backfill import Backfill
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.reader import ARROW
from cdc_migrate.source.binlog import BinlogPosition, Exactness
from cdc_migrate.spark.arrow import load_arrow
from cdc_migrate.spark.failures import explained, spark_error_reason
from cdc_migrate.spark.status import group_tasks, partition_seconds
from cdc_migrate.spark.write import (
    LoadOutcome,
    convert,
    finish_table,
    iceberg_table,
    job_group,
    position_properties,
    read_table,
    set_table_properties,
    spark_identifier,
    table_outcome,
    ticker,
    write_table,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


def claim_of(exactness: Exactness | None, position: BinlogPosition | None) -> tuple[BinlogPosition | None, str | None]:
    """The position a loaded table claims to be exact at, or why it claims none (pure): where a live load made it
    exact (none where it could not: no key to merge by), else the run's position."""
    if exactness is None:
        return position, None if position is not None else "the load recorded no binlog position"
    return (exactness.position, None) if exactness.exact else (None, exactness.why)


def caught_up(result: TableResult, exactness: Exactness, outcome: LoadOutcome, high: BinlogPosition) -> TableResult:
    """A table's result once it was brought from its exact position to the high watermark (pure)."""
    return replace(
        result,
        exact_at=high if exactness.exact else None,
        not_exact=None if exactness.exact else exactness.why,
        changes=(result.changes or 0) + exactness.changes,
        applied=((result.applied or ()) + exactness.applied) or None,
        merge_seconds=round((result.merge_seconds or 0) + exactness.seconds, 3) or None,
        rows=outcome.rows,
        snapshot_id=outcome.snapshot_id,
        bytes=outcome.bytes,
    )


def load_table(
    spark: SparkSession,
    plan: TablePlan,
    source: SourceOptions,
    driver: str,
    catalog: str,
    properties: Mapping[str, str],
    report: Callable[[int, int, int], None] | None = None,
    backfill: Backfill | None = None,
    run_id: str | None = None,
    position: BinlogPosition | None = None,
    stopped: Callable[[], str | None] = lambda: None,
) -> LoadOutcome:
    """Reads one planned table and replaces its Iceberg table, reporting partitions as they finish to `report`.

    With a backfill (a live source), the rows are made exact at a position taken after the read; otherwise they
    are exact at `position`, where a stopped replica or a clone was read. That position goes into the table's
    properties, bound to the snapshot that is exact there; `run_id` marks its commits as this run's.
    """
    report = report or (lambda done, total, rows: None)
    replaced = False  # whether the Iceberg table holds this load's rows (its replace committed)
    counted = spark.sparkContext.accumulator(0) if plan.reader == ARROW else None  # the Arrow tasks' rows
    read = (lambda: int(counted.value)) if counted is not None else None
    with job_group(spark, f"cdc-migrate {plan.source.name}") as group, ticker(spark, group, plan, report, rows=read):
        try:
            if counted is not None:
                written = load_arrow(spark, plan, source, catalog, dict(properties), run_id, counted, stopped)
                replaced = True
                table = iceberg_table(spark, catalog, plan.target)
                table.refresh()
            else:
                pushed = read_table(spark, plan, source, driver)
                write_table(spark, convert(pushed, plan.mapping), catalog, plan.target, properties, run_id)
                replaced = True
                table = iceberg_table(spark, catalog, plan.target)
                written = table_outcome(table, plan.partitions)
                written = replace(written, partition_seconds=_partition_seconds(spark, group, plan.partitions))
            if stopped():  # committed, but no claim is made of it now: the error says what it left
                raise WriteError(f"stopped after its commit: {stopped()}")
            exactness = None
            if backfill is not None:
                identifier = spark_identifier(catalog, plan.target)
                schema = lambda: read_table(spark, plan, source, driver).schema  # noqa: E731 (only where changes are)
                exactness = backfill.make_exact(spark, identifier, plan, schema)
            merged = exactness is not None and (exactness.changes > 0 or bool(exactness.applied))
            if merged:  # a second commit: the table as it now is (else the one loaded is still current)
                table = iceberg_table(spark, catalog, plan.target)
            exact_at = position if exactness is None else exactness.position if exactness.exact else None
            finish_table(spark, table, plan.mapping, exact_at)
            if merged:  # the rows now, the partitions as read
                rows, seconds = written.partition_rows, written.partition_seconds
                written = replace(table_outcome(table, plan.partitions), partition_rows=rows, partition_seconds=seconds)
            return replace(written, exactness=exactness)
        except CdcMigrateError as e:
            raise WriteError(f"{plan.source.name} -> {plan.target}: {e}{_left(plan, replaced)}") from e
        except Exception as e:
            changed = backfill.changed_definition(plan.source.name) if backfill is not None else None
            reason = str(changed) if changed else explained(spark_error_reason(e), source.address)
            raise WriteError(f"{plan.source.name} -> {plan.target}: {reason}{_left(plan, replaced)}") from e


def _left(plan: TablePlan, replaced: bool) -> str:
    """What a failed table leaves in Iceberg where its replace had committed already (pure)."""
    if not replaced:
        return ""
    return (
        f". The Iceberg table {plan.target} was replaced with the rows read before that and is left so, exact "
        "nowhere (no claim): drop it, or load the table again"
    )


def _partition_seconds(spark: SparkSession, group: str, partitions: int) -> tuple[float, ...] | None:
    try:
        return partition_seconds(group_tasks(spark, group), partitions)
    except Exception:  # the status store is best effort
        logger.debug("no task times for %s", group, exc_info=True)
        return None


def catch_up_table(
    spark: SparkSession,
    plan: TablePlan,
    source: SourceOptions,
    driver: str,
    catalog: str,
    backfill: Backfill,
    since: BinlogPosition,
    upto: BinlogPosition,
) -> tuple[Exactness, LoadOutcome]:
    """Brings a loaded table from `since` to `upto` (merging the changes in between) and records `upto`;
    returns where it is exact and the table as it then is."""
    identifier = spark_identifier(catalog, plan.target)
    with job_group(spark, f"cdc-migrate {plan.source.name} (catch-up)"):
        try:
            pushed = lambda: read_table(spark, plan, source, driver).schema  # noqa: E731
            exactness = backfill.catch_up(spark, identifier, plan, pushed, since, upto)
            table = iceberg_table(spark, catalog, plan.target)
            current = table.currentSnapshot()
            if exactness.exact and current is not None:
                set_table_properties(table, position_properties(upto, int(current.snapshotId())))
            return exactness, table_outcome(table, plan.partitions)
        except CdcMigrateError as e:
            raise WriteError(f"{plan.source.name} -> {plan.target}: {e}") from e
        except Exception as e:
            raise WriteError(f"{plan.source.name} -> {plan.target}: {spark_error_reason(e)}") from e
