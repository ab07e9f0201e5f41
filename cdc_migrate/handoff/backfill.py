"""The exact handoff for a live source: each table is made exact at a binlog position taken after its write
committed (every row it holds was read before that position; the last image of every key that changed since
the low watermark is merged in), then every table is brought to the same final position, which is where CDC
starts. A TRUNCATE in between is applied (the table is emptied there; the keys changed after it merged in); any
other statement that changed the table (DROP, RENAME, ALTER) fails it: the load no longer describes it.

Why: the Iceberg sink CDC continues with (tabular 0.6.19, cdc-field + DebeziumTransform) appends an insert
without deleting its key, so CDC must start exactly where the tables are exact; replaying an overlap would
duplicate rows. This is Flink CDC's snapshot-then-backfill with one watermark per table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import CdcMigrateError, DefinitionChanged
from cdc_migrate.naming import TableName
from cdc_migrate.source.binlog import BinlogPosition, Exactness, ServerInfo
from cdc_migrate.source.changelog import ChangeLog, TableStatement
from cdc_migrate.source.ddl import DROP, RENAME, TRUNCATE
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.spark.merge import changes_frames, merge, replace_rows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from cdc_migrate.planning.partitions import TablePlan

logger = logging.getLogger(__name__)


def definition_changed(table: TableName, statement: TableStatement) -> DefinitionChanged:
    """The error for a table that a statement other than TRUNCATE changed in its window (pure)."""
    again = "run again to load it anew (the manifest resumes; the tables already exact stay)"
    if statement.kind == DROP:
        return DefinitionChanged(
            f"{table} was dropped while it was loaded ({statement}), so it is not in the source where CDC starts: "
            f"leave it out (--exclude {table}), or {again} once it exists"
        )
    if statement.kind == RENAME:
        return DefinitionChanged(
            f"{table} was renamed while it was loaded ({statement}): the rows loaded are no longer the table of "
            f"that name; {again}, or leave it out (--exclude {table})"
        )
    return DefinitionChanged(
        f"{table} changed its definition while it was loaded ({statement}), after the load read its columns, so "
        f"the loaded table is not the source's: {again}"
    )


def keyless(table: TableName, position: BinlogPosition, changed: int) -> Exactness:
    """A table without a primary key on a live source: never exact, however little changed (pure). Its changes
    cannot be merged by key, so whether it is the source at any position rests on no row having changed while it
    was read; and CDC does not continue it anyway (the sink updates and deletes by key)."""
    why = (
        f"it has no primary key, so a live load cannot merge its changes ({changed:,} rows changed while it was "
        "read) and it is exact at no position; CDC does not continue it. Load it from a stopped replica or a clone, "
        "or give it a primary key"
    )
    if changed:
        logger.warning("%s: %s", table, why)
    return Exactness(position, 0, exact=False, why=why)


class Backfill:
    """Merges the binlog into each table of a live load (see the module's docstring).

    Args:
        log: the change log, read from the low watermark (or earlier, where a resumed table is exact).
        source: the server, for positions.
        server: what the server is.
        low: this run's low watermark: the tables this run reads were planned after it.
        scratch: where many changes go as Parquet on their way into a table (None: in the Spark plan).
        run_id: what the merges' commits carry as the run's (the snapshot property cdc-migrate.run-id).
    """

    def __init__(
        self,
        log: ChangeLog,
        source: SourceOptions,
        server: ServerInfo,
        low: BinlogPosition,
        scratch: str | None = None,
        run_id: str | None = None,
    ):
        self.log = log
        self._source = source
        self._server = server
        self._low = low
        self._scratch = scratch
        self._run_id = run_id

    def position(self) -> BinlogPosition:
        """The server's binlog position now, on a connection of its own, closed at once: a table asks while it
        holds its share of the connection budget, so a connection kept between tables would be one the budget
        (and a server's max_user_connections) does not know about."""
        with MySQLSource.connect(self._source) as source:
            return source.binlog_position(self._server)

    def read_to(self, position: BinlogPosition) -> None:
        """Reads the binlog up to `position` (the high watermark, once every table is loaded)."""
        self.log.read_to(position)

    def close(self) -> None:
        """Closes the change log."""
        self.log.close()

    def changed_definition(self, table: TableName) -> DefinitionChanged | None:
        """Why reading a table may have failed: a statement other than TRUNCATE that changed it since the low
        watermark (a dropped column, a dropped or renamed table), or None."""
        try:
            now = self.position()
            self.log.read_to(now)
        except CdcMigrateError:
            return None
        blocking = next((s for s in self.log.statements(table, self._low, now) if s.kind != TRUNCATE), None)
        return definition_changed(table, blocking) if blocking else None

    def changes_table(self, plan: TablePlan, since: BinlogPosition, upto: BinlogPosition) -> bool:
        """Whether bringing a table from `since` to `upto` (read already) would write to it: rows or statements."""
        table = plan.source.name
        return bool(self.log.statements(table, since, upto)) or self.log.count(table, since, upto) > 0

    def make_exact(
        self, spark: SparkSession, identifier: str, plan: TablePlan, pushed: Callable[[], StructType]
    ) -> Exactness:
        """Makes a table just written exact at a position taken now, after its commit.

        Every row the table holds was read before its commit, so before this position; a key that changed since
        the low watermark gets its image at the position (or goes, if deleted there) in one MERGE, and a key
        that did not change is the same at every point in between. Nothing is materialised on the executors,
        and a table that did not change (the common case) takes no second commit.
        """
        high = self.position()
        self.log.read_to(high)
        return self.catch_up(spark, identifier, plan, pushed, self._low, high)

    def catch_up(
        self,
        spark: SparkSession,
        identifier: str,
        plan: TablePlan,
        pushed: Callable[[], StructType],
        since: BinlogPosition,
        upto: BinlogPosition,
    ) -> Exactness:
        """Brings a table that is the source at `since` (or was planned after it) to `upto` (read already) in
        one commit: the keys changed in between merged in, after the last TRUNCATE in between onto an empty
        table. Raises DefinitionChanged where another statement changed the table in between.

        `pushed` gives the schema of the load's pushed SELECT (asked only when there are changes to convert)."""
        table = plan.source.name
        statements = self.log.statements(table, since, upto)
        blocking = next((s for s in statements if s.kind != TRUNCATE), None)
        if blocking is not None:
            raise definition_changed(table, blocking)
        truncated = [s for s in statements if s.kind == TRUNCATE]
        after = truncated[-1].position if truncated else since
        if not plan.mapping.identifier:
            return keyless(table, upto, self.log.count(table, after, upto))
        changed = self.log.count(table, after, upto)
        applied = tuple(str(s) for s in truncated)
        if not changed and not truncated:
            return Exactness(upto)
        started = time.monotonic()
        changes = None
        if changed:
            changes = changes_frames(spark, plan.mapping, pushed(), self.log.changes(table, after, upto), self._scratch)
        converted = time.monotonic() - started
        if truncated:
            replace_rows(spark, identifier, changes, self._run_id)
            logger.info("%s: %s applied, then %d keys changed after it merged in", table, truncated[-1], changed)
        elif changes is not None:
            merge(spark, identifier, changes, plan.mapping, self._run_id)
            logger.info(
                "%s: %d keys changed after its load; merged in, exact at %s (%.1f s to convert them, %.1f s to merge)",
                table,
                changes.count,
                upto,
                converted,
                time.monotonic() - started - converted,
            )
        return Exactness(upto, changed, applied=applied, seconds=round(time.monotonic() - started, 3))
