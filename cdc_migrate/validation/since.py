"""What changed in a live source after each table's exact position, read from the binlog (the MySQL and Spark
edge): the source keeps changing after a load and CDC applies those changes, so a validation tells them apart
from load errors by the keys that changed since, and names the statements (TRUNCATE, ALTER) that did."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.naming import TableName
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.source.changelog import ChangeLog, TableStatement
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.schema import SourceTable
from cdc_migrate.spark.merge import changes_frames

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    from cdc_migrate.contract.mapping import TableMapping

logger = logging.getLogger(__name__)


class SinceLoad:
    """The binlog from the earliest exact position of the tables validated on, read up to now on demand.

    Args:
        source: the server (a user with REPLICATION SLAVE, as the live load had).
        server: what the server is.
        start: the earliest position a validated table is exact at.
        tables: the tables, as the source describes them now.
        scratch: where many changed keys go as Parquet on their way to Spark (a directory every executor reads).
        local: whether Spark runs in this process (then the change log's own directory serves as scratch).
        spool: the spool root of the change log (source/spool.py).
    """

    def __init__(
        self,
        source: SourceOptions,
        server: ServerInfo,
        start: BinlogPosition,
        tables: Mapping[TableName, SourceTable],
        scratch: str | None = None,
        local: bool = True,
        spool: str | None = None,
    ) -> None:
        self.source, self._server = source, server
        self.log = ChangeLog(source, start, tables, spool)
        self._scratch = scratch or (self.log.directory if local else None)
        try:
            self.log.check()
        except BaseException:
            self.log.close()
            raise

    def close(self) -> None:
        self.log.close()

    def read_now(self) -> BinlogPosition:
        """Reads the binlog up to the server's position now, and returns it."""
        with MySQLSource.connect(self.source) as source:
            now = source.binlog_position(self._server)
        self.log.read_to(now)
        return now

    @property
    def read_to(self) -> BinlogPosition:
        return self.log.position

    def statements(self, table: TableName, exact_at: BinlogPosition) -> list[TableStatement]:
        """The statements that changed `table` other than by rows after its exact position, as far as read."""
        return self.log.statements(table, exact_at, self.log.position)

    def changed_keys(
        self,
        spark: SparkSession,
        table: TableName,
        mapping: TableMapping,
        pushed: StructType,
        exact_at: BinlogPosition,
        spark_key: str,
    ) -> set[str]:
        """The key texts (`spark_key`, the validation's canonical key over Iceberg's columns) of every key of
        `table` that changed after `exact_at`, as far as read: its rows converted exactly as loaded rows are."""
        count = self.log.count(table, exact_at, self.log.position)
        if count == 0:
            return set()
        changes = changes_frames(
            spark, mapping, pushed, self.log.changes(table, exact_at, self.log.position), self._scratch
        )
        keys = {str(r["k"]) for r in changes.keys.selectExpr(f"{spark_key} AS k").toLocalIterator()}
        logger.info("%s: %d keys changed since its exact position %s", table, len(keys), exact_at)
        return keys
