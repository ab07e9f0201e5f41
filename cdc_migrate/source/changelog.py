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
from cdc_migrate.source.ddl import schema_change
from cdc_migrate.source.rowevents import RowEvents
from cdc_migrate.source.rowimage import Image, unpacked
from cdc_migrate.source.schema import Key, SourceTable
from cdc_migrate.source.spool import Spool
from cdc_migrate.source.tls import pymysql_tls

logger = logging.getLogger(__name__)


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
    """What changed a table other than by rows (source/ddl.py's kinds, or rowevents.DEFINITION), and where its
    event ends."""

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
        compiled: row images read by source/rowdecode.py's compiled readers where they can (python-mysql-
            replication's own decoding otherwise; False for all, as the tests and the bench compare them).
    """

    def __init__(
        self,
        source: SourceOptions,
        start: BinlogPosition,
        tables: Mapping[TableName, SourceTable],
        directory: str | None = None,
        compiled: bool = True,
    ) -> None:
        self._source = source
        self.start = start
        self._tables = {(t.namespace, t.name): st for t, st in tables.items()}
        self._rows = RowEvents(self._tables, compiled)
        self._spool = Spool(directory)
        self._dir = self._spool.directory
        self._path = os.path.join(self._dir, "changes.sqlite")
        self._lock = threading.Lock()
        self._read_to = start
        self._gone = False  # the server no longer has a binlog file this log needs: every later read fails at once
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(
                "CREATE TABLE change (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, "
                "file TEXT NOT NULL, pos INTEGER NOT NULL, key_values BLOB, image BLOB)"
            )
            db.execute("CREATE INDEX change_by_key ON change (tbl, key, seq)")
            db.execute(
                "CREATE TABLE statement (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, file TEXT NOT NULL, "
                "pos INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL)"
            )
        self._db = self._connect()
        # The spool lives and dies with this log (a killed run's is removed by the next): no fsync at each commit.
        self._db.execute("PRAGMA synchronous = OFF")

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
    def compiled(self) -> set[str]:
        """The tables whose row images the compiled readers have read (the others' python-mysql-replication)."""
        return self._rows.compiled

    @property
    def events(self) -> int:
        """How many row changes of the planned tables have been read."""
        return self._rows.events

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
            only_tables=sorted({name for _, name in self._tables}),  # other tables' maps skipped after their names
            # A table map is parsed once per table id (python-mysql-replication's parse of a 1000-column map took
            # 26 ms, once per transaction: 85% of reading a busy wide table's binlog). An id names one definition
            # for as long as the server runs (a DDL gives the table a new one); the map is cleared at each file's
            # start, which a restart always is (`_read`), as the reader clears it at each rotation.
            freeze_schema=True,
            enable_logging=False,
        )

    def _read(self, target: BinlogPosition, probe: bool = False, busy_until: float | None = None) -> None:
        from pymysqlreplication.event import FormatDescriptionEvent, QueryEvent
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
                    if table is not None and self._rows.same_definition(table, event, at, statements):
                        rows += self._rows.changes(table, event, at)
                elif isinstance(event, QueryEvent):
                    statements += self._statements(event, at)
                elif isinstance(event, TableMapEvent):
                    self._rows.labelled(event)
                elif isinstance(event, FormatDescriptionEvent):
                    stream.table_map.clear()  # a new file: perhaps a restarted server, whose ids start again
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
            positions = self._rows.key_positions(str(table))
            decimals = self._rows.decimal_positions(str(table))
            while chunk := cursor.fetchmany(batch):
                for key, image in chunk:
                    if image is None:
                        yield KeyChange(pickle.loads(key), None)
                    else:
                        row = unpacked(image, decimals)
                        yield KeyChange(tuple(row[i] for i in positions) if positions else row, row)
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
