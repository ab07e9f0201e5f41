"""The exact handoff for a live source: each table is made exact at a binlog position taken after its write
committed (every row it holds was read before that position; the last image of every key that changed since
the low watermark is merged in), then every table is brought to the same final position, which is where CDC
starts.

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
from cdc_migrate.spark.merge import changes_frames, merge

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from cdc_migrate.planning.partitions import TablePlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exactness:
    """Where a loaded table equals its source table, and how many changed keys it took to get there.

    exact is False for a table without a primary key that changed while it was read (no key to merge by).
    """

    position: BinlogPosition
    changes: int = 0
    exact: bool = True


class Backfill:
    """Merges the binlog into each table of a live load (see the module's docstring)."""

    def __init__(self, log: ChangeLog, source: SourceOptions, server: ServerInfo, scratch: str | None = None):
        self.log = log
        self._source = source
        self._server = server
        self._scratch = scratch

    def position(self) -> BinlogPosition:
        """The server's binlog position now, on a connection of its own, closed at once: a table asks while it
        holds its share of the connection budget, so a connection kept between tables would be one the budget
        (and a server's max_user_connections) does not know about."""
        with MySQLSource.connect(self._source) as source:
            return source.binlog_position(self._server)

    def close(self) -> None:
        """Closes the change log."""
        self.log.close()

    def make_exact(self, spark: SparkSession, identifier: str, plan: TablePlan, pushed: StructType) -> Exactness:
        """Makes a table just written exact at a position taken now, after its commit.

        Every row the table holds was read before its commit, so before this position; a key that changed since
        the low watermark gets its image at the position (or goes, if deleted there) in one MERGE, and a key
        that did not change is the same at every point in between. Nothing is materialised on the executors,
        and a table that did not change (the common case) takes no second commit.
        """
        high = self.position()
        self.log.read_to(high)
        table = plan.source.name
        changed = self.log.count(table, None, high)
        if changed == 0:
            return Exactness(high)
        if not plan.mapping.identifier:
            logger.warning(
                "%s has no primary key and %d rows of it changed while it was read: its load is not a snapshot at "
                "one position (CDC does not continue tables without a primary key)",
                table,
                changed,
            )
            return Exactness(high, changed, exact=False)
        merged = self.catch_up(spark, identifier, plan, pushed, None, high)
        return Exactness(high, merged)

    def catch_up(
        self,
        spark: SparkSession,
        identifier: str,
        plan: TablePlan,
        pushed: StructType,
        since: BinlogPosition | None,
        upto: BinlogPosition,
    ) -> int:
        """Merges a loaded table's changes after `since` (the change log's start: None) up to `upto` (read
        already) in one commit."""
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
