"""The exact handoff for a live source: each table is made exact at a binlog position taken after its read
(the changes it saw while it was read are folded in before its one commit), then every table is brought to
the same final position, which is where CDC starts.

Why: the Iceberg sink CDC continues with (tabular 0.6.19, cdc-field + DebeziumTransform) appends an insert
without deleting its key, so CDC must start exactly where the tables are exact; replaying an overlap would
duplicate rows. This is Flink CDC's snapshot-then-backfill with one watermark per table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.source.changelog import ChangeLog
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.spark.fold import changes_frames, fold, merge

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from cdc_migrate.planning.partitions import TablePlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exactness:
    """Where a loaded table equals its source table, and how many changed keys it took to get there.

    exact is False for a table without a primary key that changed while it was read (nothing to fold by).
    """

    position: BinlogPosition
    changes: int = 0
    exact: bool = True


class Backfill:
    """Folds the binlog into each table of a live load (see the module's docstring)."""

    def __init__(self, log: ChangeLog, source: SourceOptions, server: ServerInfo, scratch: str | None = None):
        self.log = log
        self._source = source
        self._server = server
        self._scratch = scratch

    def position(self) -> BinlogPosition:
        """The server's binlog position now (a new connection: table loads call this in parallel)."""
        with MySQLSource.connect(self._source) as source:
            return source.binlog_position(self._server)

    def apply(
        self, spark: SparkSession, plan: TablePlan, pushed: StructType, converted: DataFrame
    ) -> tuple[DataFrame, Exactness]:
        """The table's rows exact at a position taken once every row has been read.

        The read is materialised first (a local checkpoint on the executors' disks; if an executor is lost the
        load fails rather than read the source again at a later state), then the position is taken, then the
        changes up to it replace the rows of their keys.
        """
        loaded = converted.localCheckpoint(eager=True)
        high = self.position()
        self.log.read_to(high)
        table = plan.source.name
        changed = self.log.count(table, None, high)
        if changed == 0:
            return loaded, Exactness(high)
        if not plan.mapping.identifier:
            logger.warning(
                "%s has no primary key and %d rows of it changed while it was read: its load is not a snapshot at "
                "one position (CDC does not continue tables without a primary key)",
                table,
                changed,
            )
            return loaded, Exactness(high, changed, exact=False)
        changes = changes_frames(spark, plan.mapping, pushed, self.log.changes(table, None, high), self._scratch)
        logger.info(
            "%s: %d keys changed while it was read; folded in, exact at %s:%d",
            table,
            changes.count,
            high.file,
            high.position,
        )
        return fold(loaded, changes, plan.mapping.identifier), Exactness(high, changes.count)

    def catch_up(
        self,
        spark: SparkSession,
        identifier: str,
        plan: TablePlan,
        pushed: StructType,
        since: BinlogPosition,
        upto: BinlogPosition,
    ) -> int:
        """Merges a loaded table's changes after `since` up to `upto` (read already) in one commit."""
        table = plan.source.name
        if not plan.mapping.identifier or self.log.count(table, since, upto) == 0:
            return 0
        changes = changes_frames(spark, plan.mapping, pushed, self.log.changes(table, since, upto), self._scratch)
        merge(spark, identifier, changes, plan.mapping)
        logger.info(
            "%s: %d keys changed after its load; merged in, exact at %s:%d",
            table,
            changes.count,
            upto.file,
            upto.position,
        )
        return changes.count
