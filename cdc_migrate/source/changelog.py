"""The binlog between two positions, for the tables being loaded: row changes read with python-mysql-replication
(connected as a replica, by file and position) and kept on local disk in SQLite, so that memory stays bounded
however many changes a load sees; and, per table, the last image of every key that changed in a window.

Values are kept as the text protocol would return the column (`canonical_value`): DATE/DATETIME/TIME as
MySQL's text, TIMESTAMP as UNIX_TIMESTAMP, BIT as its number, SET as 'a,c'. The type contract then turns
them into what the load's pushed SELECT returns (ColumnMapping.binlog), and Spark converts both alike.
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import BinlogError
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.source.schema import Column, Key, SourceTable
from cdc_migrate.target.naming import TableName

logger = logging.getLogger(__name__)

Image = tuple[Any, ...]

_INT_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}
_ZERO_SOURCES = ("out of date range", "out of datetime range", "out of datetime2 range")
_SET_VALUES = re.compile(r"'((?:[^']|'')*)'")
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class KeyChange:
    """The last state of one key in a window of the binlog: its row image, or None where it was deleted."""

    key: Key
    image: Image | None


# ---- values -------------------------------------------------------------------------------------------


def _set_text(column: Column, value: Any) -> str:
    """A SET's members in the column's definition order, joined by commas, as MySQL shows them."""
    members = set(value) if not isinstance(value, str) else set(value.split(",")) - {""}
    order = [m.replace("''", "'") for m in _SET_VALUES.findall(column.column_type)]
    return ",".join(m for m in order if m in members)


def _fraction(micros: int, digits: int) -> str:
    return f".{micros:06d}"[: digits + 1] if digits else ""


def _datetime_text(value: datetime, digits: int) -> str:
    return f"{value.year:04d}-{value:%m-%d %H:%M:%S}{_fraction(value.microsecond, digits)}"


def _time_text(value: timedelta, digits: int) -> str:
    total = value.days * 86_400_000_000 + value.seconds * 1_000_000 + value.microseconds
    sign, total = ("-" if total < 0 else ""), abs(total)
    seconds, micros = divmod(total, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{_fraction(micros, digits)}"


def _json_text(value: Any) -> str:
    """MySQL 8's binary JSON as decoded by python-mysql-replication, back to text (MySQL's spacing)."""
    import json

    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return v.decode("utf-8")
        if isinstance(v, dict):
            return {plain(k): plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), ensure_ascii=False)


def canonical_value(column: Column, value: Any, none_source: str | None = None) -> Any:
    """A binlog row image's value (as python-mysql-replication decodes it) as the text protocol gives it.

    A zero DATE/DATETIME (the decoder gives None, "out of date range") becomes MySQL's zero text, an empty SET
    (None, "empty set") the empty string, so that the contract's rules see what the load sees.
    """
    kind = column.data_type
    if value is None:
        if none_source in _ZERO_SOURCES:
            return "0000-00-00" if kind == "date" else "0000-00-00 00:00:00"
        if none_source == "empty set":
            return ""
        return None
    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        return value + (1 << bits) if column.unsigned and value < 0 else int(value)
    if kind == "bit":
        return int(value, 2) if isinstance(value, str) else int(value)
    if kind == "set":
        return _set_text(column, value)
    if kind == "json" and not isinstance(value, str | bytes):
        return _json_text(value)
    if kind in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob") or kind in _GEOMETRY:
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if kind == "binary":  # BINARY(n) is padded with zero bytes, which the row image leaves out
            width = int(re.sub(r"\D", "", column.column_type) or len(data))
            data = data.ljust(width, b"\x00")
        return data
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    digits = column.datetime_precision or 0
    if kind == "date" and isinstance(value, date):
        return f"{value.year:04d}-{value:%m-%d}"
    if kind == "datetime" and isinstance(value, datetime):
        return _datetime_text(value, digits)
    if kind == "timestamp" and isinstance(value, datetime):
        # The decoder gives the stored UTC instant as a naive datetime; the load reads UNIX_TIMESTAMP().
        delta = value.replace(tzinfo=None) - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        seconds = Decimal(micros).scaleb(-6).quantize(Decimal(1).scaleb(-digits))
        return int(seconds) if digits == 0 else seconds
    if kind == "time" and isinstance(value, timedelta):
        return _time_text(value, digits)
    return value


_GEOMETRY = (
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
)


def canonical_row(table: SourceTable, values: Mapping[str, Any], none_sources: Mapping[str, str]) -> Image:
    """A row image in the table's column order, by position (names from the image's own order)."""
    raw = list(values.items())
    if len(raw) != len(table.columns):
        raise BinlogError(
            f"a binlog row of {table.name} has {len(raw)} columns where the table has {len(table.columns)}: its "
            "definition changed during the load (DDL). Load the table again once no DDL runs"
        )
    return tuple(
        canonical_value(column, value, none_sources.get(name))
        for column, (name, value) in zip(table.columns, raw, strict=True)
    )


def key_of(table: SourceTable, image: Image) -> Key:
    index = {c.name.lower(): i for i, c in enumerate(table.columns)}
    return tuple(image[index[k.lower()]] for k in table.primary_key)


# ---- the log ------------------------------------------------------------------------------------------


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
        directory: where the spool file goes (a temporary directory by default).
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
        self._dir = tempfile.mkdtemp(prefix="cdc-migrate-changes-", dir=directory)
        self._path = os.path.join(self._dir, "changes.sqlite")
        self._lock = threading.Lock()
        self._read_to = start
        self.events = 0
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(
                "CREATE TABLE change (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, "
                "file TEXT NOT NULL, pos INTEGER NOT NULL, key_values BLOB NOT NULL, image BLOB)"
            )
            db.execute("CREATE INDEX change_by_key ON change (tbl, key, seq)")
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=60)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

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
            self._read(target)
            self._read_to = target

    def _read(self, target: BinlogPosition, probe: bool = False, busy_until: float | None = None) -> None:
        from pymysqlreplication import BinLogStreamReader
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        here = self._read_to
        busy_until = busy_until or time.monotonic() + 10
        stream = BinLogStreamReader(
            connection_settings={
                "host": self._source.host,
                "port": self._source.port,
                "user": self._source.user,
                "password": self._source.password.reveal() if self._source.password else "",
                "connect_timeout": self._source.connect_timeout,
            },
            server_id=random.randint(2**20, 2**31 - 1),
            log_file=here.file,
            log_pos=here.position,
            resume_stream=True,
            blocking=False,  # the server ends the stream at the end of its binlog; target is never beyond it
            only_schemas=sorted({db for db, _ in self._tables}),
            enable_logging=False,
        )
        rows: list[tuple[str, str, str, int, bytes, bytes | None]] = []
        reached = False
        try:
            for event in stream:
                if probe:
                    return
                at = (stream.log_file, stream.log_pos)
                if isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                    table = self._tables.get((event.schema, event.table))
                    if table is not None:
                        rows += self._changes(table, event, at)
                if len(rows) >= 10_000:
                    self._store(rows)
                    rows = []
                if at >= target.key():
                    reached = True
                    break
        except Exception as e:
            if isinstance(e, BinlogError):
                raise
            if _busy(e) and not rows and busy_until and time.monotonic() < busy_until:
                time.sleep(0.2)  # a connection of this budget that just closed may not have ended yet
                stream.close()
                return self._read(target, probe, busy_until)
            raise BinlogError(
                f"reading the binlog of {self._source.address} from {here.file}:{here.position} failed: {e}. The "
                "user needs REPLICATION SLAVE and REPLICATION CLIENT (GRANT REPLICATION SLAVE, REPLICATION CLIENT "
                f"ON *.* TO '{self._source.user}'), and the binlogs must still be there"
            ) from e
        finally:
            stream.close()
        self._store(rows)
        # Events the reader skips (other tables, unknown kinds) still move its position.
        if not reached and (stream.log_file, stream.log_pos) < target.key():
            raise BinlogError(
                f"the binlog of {self._source.address} ended at {stream.log_file}:{stream.log_pos}, before "
                f"{target.file}:{target.position}; was it purged or reset during the load?"
            )

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

    def _store(self, rows: list[Any]) -> None:
        if rows:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO change (tbl, key, file, pos, key_values, image) VALUES (?, ?, ?, ?, ?, ?)", rows
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
                "SELECT c.key_values, c.image FROM change c JOIN (SELECT MAX(seq) AS seq FROM change "
                "WHERE tbl = ? AND (file > ? OR (file = ? AND pos > ?)) AND (file < ? OR (file = ? AND pos <= ?)) "
                "GROUP BY key) last USING (seq) ORDER BY c.seq",
                (str(table), lo.file, lo.file, lo.position, upto.file, upto.file, upto.position),
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
                "SELECT COUNT(DISTINCT key) FROM change WHERE tbl = ? AND (file > ? OR (file = ? AND pos > ?)) "
                "AND (file < ? OR (file = ? AND pos <= ?))",
                (str(table), lo.file, lo.file, lo.position, upto.file, upto.file, upto.position),
            ).fetchall()
        return int(n)
