"""The binlog between two positions, for the tables being loaded, read with python-mysql-replication (connected
as a replica, by file and position) and kept on local disk in SQLite, so that memory stays bounded however many
changes a load sees: per table, the last image of every key that changed in a window, and the statements that
changed it other than by rows (TRUNCATE, DROP, RENAME, ALTER: source/ddl.py).

Values are kept as the text protocol would return the column (source/rowimage.py); the type contract then turns
them into what the load's pushed SELECT returns (ColumnMapping.binlog), and Spark converts both alike.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import BinlogError, BinlogGone
from cdc_migrate.naming import TableName
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.source.charsets import BYTES_AS_TEXT, decoded_by_java
from cdc_migrate.source.ddl import schema_change
from cdc_migrate.source.rowimage import Image, canonical_row, key_of, labels, logged_as
from cdc_migrate.source.schema import Key, SourceTable
from cdc_migrate.source.spool import Spool
from cdc_migrate.source.tls import pymysql_tls

logger = logging.getLogger(__name__)

DEFINITION = "definition"  # a row event whose columns are not the table's as planned


class _QuietReader(logging.Filter):
    """python-mysql-replication warns on every stream, on stderr, that binlog_row_metadata is not FULL: the load
    reads MINIMAL metadata by position (and reports it as a finding), so that goes to this module's debug log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "BINLOG_ROW_METADATA" in record.getMessage():
            logger.debug("python-mysql-replication: %s", " ".join(record.getMessage().split()))
            return False
        return True


logging.getLogger("pymysqlreplication").addFilter(_QuietReader())


@dataclass(frozen=True)
class KeyChange:
    """The last state of one key in a window of the binlog: its row image, or None where it was deleted."""

    key: Key
    image: Image | None


@dataclass(frozen=True)
class TableStatement:
    """What changed a table other than by rows (source/ddl.py's kinds, or DEFINITION), and where its event ends."""

    kind: str
    statement: str
    position: BinlogPosition

    def __str__(self) -> str:
        return f"`{self.statement}` at {self.position}"


# The part of a window's query that bounds it: after (file, pos) and up to (file, pos).
_WINDOW = "tbl = ? AND (file > ? OR (file = ? AND pos > ?)) AND (file < ? OR (file = ? AND pos <= ?))"


def _window(table: TableName, after: BinlogPosition, upto: BinlogPosition) -> tuple[Any, ...]:
    return (str(table), after.file, after.file, after.position, upto.file, upto.file, upto.position)


def _purged(e: BaseException) -> bool:
    """The server no longer has the binlog file asked for (ER_MASTER_FATAL_ERROR_READING_BINLOG, 1236, for a file
    not in its index)."""
    args: tuple[Any, ...] = tuple(getattr(e, "args", ()))
    text = " ".join(str(a) for a in args).lower()
    return (len(args) > 0 and args[0] == 1236) or "could not find first log file" in text or "purged" in text


def _busy(e: BaseException) -> bool:
    """The server refused a connection at its limit (too many connections, max_user_connections)."""
    args: tuple[Any, ...] = tuple(getattr(e, "args", ()))
    return len(args) > 0 and args[0] in (1040, 1203)


class ChangeLog:
    """Row changes of `tables` from `start` on, read up to a position on demand (thread-safe).

    Args:
        source: the server to read the binlog of (a user with REPLICATION SLAVE and REPLICATION CLIENT).
        start: where reading begins (the load's low watermark, or earlier).
        tables: the tables whose changes are kept, with their columns (for the values' types).
        directory: the spool root the log's own directory goes under (source/spool.py; the system's temporary
            directory by default); directories there that a killed run left are removed first.
    """

    def __init__(
        self,
        source: SourceOptions,
        start: BinlogPosition,
        tables: Mapping[TableName, SourceTable],
        directory: str | None = None,
    ) -> None:
        self._source = source
        self.start = start
        self._tables = {(t.namespace, t.name): st for t, st in tables.items()}
        self._spool = Spool(directory)
        self._dir = self._spool.directory
        self._path = os.path.join(self._dir, "changes.sqlite")
        self._lock = threading.Lock()
        self._read_to = start
        self._gone = False  # the server no longer has a binlog file this log needs: every later read fails at once
        self.events = 0
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(
                "CREATE TABLE change (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, "
                "file TEXT NOT NULL, pos INTEGER NOT NULL, key_values BLOB NOT NULL, image BLOB)"
            )
            db.execute("CREATE INDEX change_by_key ON change (tbl, key, seq)")
            db.execute(
                "CREATE TABLE statement (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, file TEXT NOT NULL, "
                "pos INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL)"
            )
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=60)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self._spool.close()

    def __enter__(self) -> ChangeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def directory(self) -> str:
        """The log's own temporary directory on local disk (removed on close)."""
        return self._dir

    @property
    def position(self) -> BinlogPosition:
        """How far the binlog has been read."""
        return self._read_to

    def check(self) -> None:
        """Connects as a replica at the start position and reads its first event: fails early, with the grant
        to add, where this user may not read the binlog or the binlog from there is gone."""
        with self._lock:
            self._read(self.start, probe=True)

    def read_to(self, target: BinlogPosition) -> None:
        """Reads (once) every row change up to `target`, a position SHOW MASTER STATUS reported."""
        with self._lock:
            if target.key() <= self._read_to.key():
                return
            if self._gone:
                raise BinlogGone(f"the binlog of {self._source.address} from {self._read_to} is gone (purged)")
            self._read(target)
            self._read_to = target

    def _stream(self, here: BinlogPosition) -> Any:
        """A replica's stream of the binlog from `here`: row events of the loaded databases, every statement."""
        from pymysqlreplication import BinLogStreamReader

        return BinLogStreamReader(
            connection_settings={
                "host": self._source.host,
                "port": self._source.port,
                "user": self._source.user,
                "password": self._source.password.reveal() if self._source.password else "",
                "connect_timeout": self._source.connect_timeout,
                **pymysql_tls(self._source),
            },
            server_id=random.randint(2**20, 2**31 - 1),
            log_file=here.file,
            log_pos=here.position,
            resume_stream=True,
            blocking=False,  # the server ends the stream at the end of its binlog; target is never beyond it
            only_schemas=sorted({db for db, _ in self._tables}),
            enable_logging=False,
        )

    def _read(self, target: BinlogPosition, probe: bool = False, busy_until: float | None = None) -> None:
        from pymysqlreplication.event import QueryEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, TableMapEvent, UpdateRowsEvent, WriteRowsEvent

        here = self._read_to
        busy_until = busy_until or time.monotonic() + 10
        stream = self._stream(here)
        rows: list[tuple[str, str, str, int, bytes, bytes | None]] = []
        statements: list[tuple[str, str, int, str, str]] = []
        reached = False
        try:
            for event in stream:
                if probe:
                    return
                at = (stream.log_file, stream.log_pos)
                if isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                    table = self._tables.get((event.schema, event.table))
                    if table is not None and self._same_definition(table, event, at, statements):
                        rows += self._changes(table, event, at)
                elif isinstance(event, QueryEvent):
                    statements += self._statements(event, at)
                elif isinstance(event, TableMapEvent):
                    self._labelled(event)
                if len(rows) >= 10_000 or statements:
                    self._store(rows, statements)
                    rows, statements = [], []
                if at >= target.key():
                    reached = True
                    break
        except Exception as e:
            if isinstance(e, BinlogError):
                raise
            if _busy(e) and not rows and not statements and busy_until and time.monotonic() < busy_until:
                time.sleep(0.2)  # a connection of this budget that just closed may not have ended yet
                stream.close()
                return self._read(target, probe, busy_until)
            if _purged(e):
                self._gone = True
                raise BinlogGone(
                    f"the binlog file {here.file} is gone from {self._source.address} (purged while it was needed): "
                    "retention must cover the whole load, so raise binlog_expire_logs_seconds (expire_logs_days on "
                    "MariaDB and MySQL 5.7; on RDS and Aurora: CALL mysql.rds_set_configuration('binlog retention "
                    f"hours', 24)) and load again ({e})"
                ) from e
            raise BinlogError(
                f"reading the binlog of {self._source.address} from {here.file}:{here.position} failed: {e}. The "
                "user needs REPLICATION SLAVE and REPLICATION CLIENT (GRANT REPLICATION SLAVE, REPLICATION CLIENT "
                f"ON *.* TO '{self._source.user}'), and the binlogs must still be there"
            ) from e
        finally:
            stream.close()
        self._store(rows, statements)
        # Events the reader skips (other tables, unknown kinds) still move its position.
        if not reached and (stream.log_file, stream.log_pos) < target.key():
            raise BinlogError(
                f"the binlog of {self._source.address} ended at {stream.log_file}:{stream.log_pos}, before "
                f"{target.file}:{target.position}; was it purged or reset during the load?"
            )

    def _statements(self, event: Any, at: tuple[str, int]) -> list[tuple[str, str, int, str, str]]:
        """A QUERY event's statement, once for each loaded table it changes other than by rows."""
        default = event.schema.decode("utf-8", "replace") if isinstance(event.schema, bytes) else str(event.schema)
        change = schema_change(event.query, default)
        if change is None:
            return []
        named = [t for t in self._tables.values() if change.touches(t.name)]
        return [(str(t.name), at[0], at[1], change.kind, change.statement) for t in named]

    def _labelled(self, event: Any) -> None:
        """A table map without names and ENUM and SET labels (binlog_row_metadata=MINIMAL) gets the planned
        table's, by position, so that their values decode (the reader drops labels it lacks, and keys why a value is
        None, a zero date or an empty SET, by a name it may not find), and each column's character set
        from its collation (python-mysql-replication 1.0's TableMapEvent sets one only from FULL's metadata, and
        decodes a string without one as UTF-8: a VARBINARY's bytes fail); the rows' own check (below) refuses an
        event whose columns are not the planned ones."""
        table = self._tables.get((event.schema, event.table))
        if table is None or len(event.columns) != len(table.columns):
            return
        for logged, column in zip(event.columns, table.columns, strict=True):
            if not logged.name:  # by position: the reader keys a value's None reason (a zero date) by name
                logged.name = column.name
            if decoded_by_java(column.character_set):  # its bytes, decoded as the load decodes them (charsets.py)
                logged.character_set_name = BYTES_AS_TEXT
            elif column.character_set:
                logged.character_set_name = "utf8mb4"
            elif getattr(logged, "character_set_name", None) is None:  # else the reader decodes bytes as UTF-8
                logged.character_set_name = "binary"
            if column.data_type == "enum" and not logged.enum_values:
                logged.enum_values = ["", *labels(column)]
            elif column.data_type == "set" and not logged.set_values:
                logged.set_values = labels(column)

    @staticmethod
    def _same_definition(table: SourceTable, event: Any, at: tuple[str, int], statements: list[Any]) -> bool:
        """Whether a row event's columns are the table's as planned, by count and, position by position, by
        logged type; if not, that is noted as a definition change (a DDL the statement reader did not
        recognise) and the event's rows are not read. Columns are matched by position (without
        binlog_row_metadata=FULL the event has no names)."""
        columns = len(event.columns)
        note = None
        if columns != len(table.columns):
            note = f"a row event with {columns} columns where the table had {len(table.columns)} when it was planned"
        else:
            for logged, column in zip(event.columns, table.columns, strict=True):
                codes = logged_as(column)
                if codes is not None and logged.type not in codes:
                    note = (
                        f"a row event whose column {column.name} is logged as type {logged.type}, not as the "
                        f"planned {column.column_type}"
                    )
                    break
        if note is None:
            return True
        statements.append((str(table.name), at[0], at[1], DEFINITION, note))
        return False

    def _changes(self, table: SourceTable, event: Any, at: tuple[str, int]) -> list[Any]:
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent

        name = str(table.name)
        out = []
        for row in event.rows:
            if isinstance(event, UpdateRowsEvent):
                before = canonical_row(table, row["before_values"], row["before_none_sources"])
                after = canonical_row(table, row["after_values"], row["after_none_sources"])
                if table.primary_key and key_of(table, before) != key_of(table, after):
                    out.append(self._row(name, table, before, None, at))  # a key change: the old key is gone
                out.append(self._row(name, table, after, after, at))
            else:
                image = canonical_row(table, row["values"], row["none_sources"])
                out.append(self._row(name, table, image, None if isinstance(event, DeleteRowsEvent) else image, at))
        self.events += len(event.rows)
        return out

    @staticmethod
    def _row(name: str, table: SourceTable, row: Image, image: Image | None, at: tuple[str, int]) -> Any:
        key = key_of(table, row) if table.primary_key else row
        return (name, repr(key), at[0], at[1], pickle.dumps(key), None if image is None else pickle.dumps(image))

    def _store(self, rows: list[Any], statements: list[Any]) -> None:
        if rows or statements:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO change (tbl, key, file, pos, key_values, image) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
            self._db.executemany(
                "INSERT INTO statement (tbl, file, pos, kind, text) VALUES (?, ?, ?, ?, ?)", statements
            )
            self._db.execute("COMMIT")

    def changes(
        self, table: TableName, after: BinlogPosition | None, upto: BinlogPosition, batch: int = 5_000
    ) -> Iterator[KeyChange]:
        """The last state of every key of `table` that changed after `after` (the start when None) up to `upto`.

        `upto` must have been read (read_to); the changes stream from disk `batch` at a time.
        """
        if upto.key() > self._read_to.key():
            raise ValueError(f"the change log has been read to {self._read_to}, not {upto}")
        lo = after or self.start
        db = self._connect()
        try:
            cursor = db.execute(
                f"SELECT c.key_values, c.image FROM change c JOIN (SELECT MAX(seq) AS seq FROM change WHERE {_WINDOW} "
                "GROUP BY key) last USING (seq) ORDER BY c.seq",
                _window(table, lo, upto),
            )
            while chunk := cursor.fetchmany(batch):
                for key, image in chunk:
                    yield KeyChange(pickle.loads(key), None if image is None else pickle.loads(image))
        finally:
            db.close()

    def count(self, table: TableName, after: BinlogPosition | None, upto: BinlogPosition) -> int:
        """How many keys of `table` changed in the window (0: the table is the same at both ends)."""
        lo = after or self.start
        with self._lock:
            [(n,)] = self._db.execute(
                f"SELECT COUNT(DISTINCT key) FROM change WHERE {_WINDOW}", _window(table, lo, upto)
            ).fetchall()
        return int(n)

    def statements(self, table: TableName, after: BinlogPosition | None, upto: BinlogPosition) -> list[TableStatement]:
        """The statements that changed `table` other than by rows after `after` (the start when None) up to `upto`
        (read already), in binlog order."""
        lo = after or self.start
        with self._lock:
            rows = self._db.execute(
                f"SELECT kind, text, file, pos FROM statement WHERE {_WINDOW} ORDER BY seq", _window(table, lo, upto)
            ).fetchall()
        return [TableStatement(kind, text, BinlogPosition(file, int(pos))) for kind, text, file, pos in rows]
