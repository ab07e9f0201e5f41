"""The MySQL edge: connect with PyMySQL, read information_schema, split-key bounds and the binlog position."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import pymysql
import pymysql.cursors

from cdc_migrate.config.layers import PASSWORD_ENV
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import SourceError
from cdc_migrate.naming import TableName
from cdc_migrate.source.access import Grants, parse_grants
from cdc_migrate.source.access import merge as merge_grants
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo, read_position, read_server_info
from cdc_migrate.source.schema import Column, Key, SourceTable
from cdc_migrate.source.tls import pymysql_tls
from cdc_migrate.sqltext import quote_ident, quote_table

logger = logging.getLogger(__name__)

_ACCESS_DENIED = 1045
_UNREACHABLE = (2003, 2005, 2006, 2013)
_BUSY = (1040, 1203)  # too many connections, max_user_connections
_BUSY_SECONDS = 10.0


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection with one TLS context per process for its preferred (unverified) TLS: PyMySQL 1.2
    builds a new one on every connect, loading the system's CA certificates it then does not verify with (17 ms
    of CPU, nearly all of a connection's cost: a live load connects once per table for its position)."""

    _preferred: Any = None
    _lock = threading.Lock()

    def _create_ssl_ctx(self, sslp: Any) -> Any:
        build = super()._create_ssl_ctx  # type: ignore[misc]
        if sslp != {}:  # TLS the caller asked for: as PyMySQL makes it
            return build(sslp)
        with _Connection._lock:
            if _Connection._preferred is None:
                _Connection._preferred = build(sslp)
            return _Connection._preferred


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


class MySQLSource:
    """One PyMySQL connection to the source, in autocommit mode with the session time zone UTC."""

    def __init__(self, connection: pymysql.connections.Connection[Any], options: SourceOptions) -> None:
        self._conn = connection
        self.options = options

    @classmethod
    def connect(cls, options: SourceOptions) -> MySQLSource:
        """Connects, turning the driver's failures into one clear SourceError.

        A server at its connection limit is asked again for a few seconds: a connection just closed (a read's,
        within the same budget) may not have ended on the server yet.
        """
        deadline = time.monotonic() + _BUSY_SECONDS
        while True:
            try:
                conn = _Connection(
                    host=options.host,
                    port=options.port,
                    user=options.user,
                    password=options.password.reveal() if options.password else "",
                    connect_timeout=options.connect_timeout,
                    charset="utf8mb4",
                    autocommit=True,
                    cursorclass=pymysql.cursors.DictCursor,
                    init_command="SET time_zone = '+00:00'",
                    **pymysql_tls(options),
                )
                return cls(conn, options)
            except pymysql.err.OperationalError as e:
                if (e.args[0] if e.args else None) in _BUSY and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise _connect_error(options, e) from None

    def __enter__(self) -> MySQLSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(pymysql.err.Error):
            self._conn.close()

    def query(self, sql: str, args: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Runs one statement and returns its rows as dicts."""
        try:
            with self._conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.err.Error as e:
            raise SourceError(f"query on {self.options.address} failed: {_reason(e)} -- {sql[:200]}") from e

    # ---- the server ---------------------------------------------------------------------------------

    def server_info(self) -> ServerInfo:
        return read_server_info(self.query)

    def user_connections(self) -> tuple[str, int, int]:
        """The current user, the connections it may open (the session's max_user_connections: the account's own
        limit where it has one, else the server's; 0 is none) and how many it has open, this one included."""
        [row] = self.query("SELECT CURRENT_USER() AS u, @@session.max_user_connections AS n")
        name, _, host = _text(row["u"]).rpartition("@")
        [count] = self.query("SELECT COUNT(*) AS c FROM information_schema.PROCESSLIST WHERE USER = %s", [name])
        return f"'{name}'@'{host}'", int(row["n"] or 0), int(count["c"])

    def encrypted(self) -> bool:
        """Whether this connection uses TLS (what `source.tls = preferred` settled on with this server)."""
        rows = self.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return bool(rows and _text(rows[0].get("Value") or ""))

    def binlog_position(self, server: ServerInfo) -> BinlogPosition:
        return read_position(self.query, server)

    def binlog_files(self) -> set[str]:
        """The binlog files the server still has (SHOW BINARY LOGS: REPLICATION CLIENT, MariaDB's BINLOG MONITOR)."""
        return {_text(r["Log_name"]) for r in self.query("SHOW BINARY LOGS")}

    def rds_configuration(self) -> dict[str, str | None] | None:
        """RDS/Aurora's `CALL mysql.rds_show_configuration` as name -> value, or None where it does not exist."""
        try:
            with self._conn.cursor() as cur:
                cur.execute("CALL mysql.rds_show_configuration")
                rows = list(cur.fetchall())
                while cur.nextset():
                    pass
        except pymysql.err.Error:
            return None
        return {_text(r["name"]): (None if r.get("value") is None else _text(r["value"])) for r in rows}

    def grants(self) -> Grants:
        """The current user's grants, with those of the roles granted to it (best effort)."""
        [row] = self.query("SELECT CURRENT_USER() AS u")
        name, _, host = _text(row["u"]).rpartition("@")
        user = f"'{name}'@'{host}'"
        found = [parse_grants(user, (_text(next(iter(r.values()))) for r in self.query("SHOW GRANTS")))]
        seen: set[str] = set()
        while pending := [r for g in found for r in g.roles if r not in seen]:
            for role in pending:
                seen.add(role)
                quoted = "'" + role.replace("'", "''") + "'"
                try:
                    rows = self.query(f"SHOW GRANTS FOR {quoted}")
                except SourceError:
                    continue
                found.append(parse_grants(user, (_text(next(iter(r.values()))) for r in rows)))
        return merge_grants(found)

    def readable_columns(self, table: TableName) -> list[str] | str:
        """The columns `SELECT *` returns to this user, or why it may not (a column it may not read)."""
        try:
            with self._conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {quote_table(table)} LIMIT 0")
                return [d[0] for d in cur.description or ()]
        except pymysql.err.Error as e:
            return _reason(e)

    # ---- the catalog of tables ------------------------------------------------------------------------

    def list_tables(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Base tables and views per database, every database listed (even an empty one)."""
        tables: dict[str, list[str]] = {
            _text(r["name"]): [] for r in self.query("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA")
        }
        views: dict[str, list[str]] = defaultdict(list)
        for r in self.query(
            "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS kind FROM information_schema.TABLES"
        ):
            db, name = _text(r["db"]), _text(r["name"])
            if _text(r["kind"]) == "BASE TABLE":
                tables.setdefault(db, []).append(name)
            else:
                views[db].append(name)
        return tables, dict(views)

    def describe(self, names: Iterable[TableName]) -> dict[TableName, SourceTable]:
        """Columns, primary key and row estimate of each table, in three queries whatever their number."""
        wanted = set(names)
        if not wanted:
            return {}
        dbs = sorted({n.namespace for n in wanted})
        marks = ", ".join(["%s"] * len(dbs))
        columns: dict[TableName, list[Column]] = defaultdict(list)
        # A TIMESTAMP's DEFAULT shows in the session's zone; Debezium reads it in the server's and takes it as
        # UTC (seen with Debezium 3.6.3 on a +09:00 server), so read it in the server's zone too.
        self.query("SET time_zone = @@global.time_zone")
        try:
            rows = self.query(
                "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS data_type, "
                "COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable, NUMERIC_PRECISION AS num_precision, "
                "NUMERIC_SCALE AS num_scale, DATETIME_PRECISION AS dt_precision, "
                "CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, COLUMN_DEFAULT AS dflt "
                f"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({marks}) "
                "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
                dbs,
            )
        finally:
            self.query("SET time_zone = '+00:00'")
        for r in rows:
            key = TableName(_text(r["db"]), _text(r["tbl"]))
            if key in wanted:
                columns[key].append(column_from_row(r))
        keys: dict[TableName, list[str]] = defaultdict(list)
        for r in self.query(
            "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name "
            f"FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA IN ({marks}) "
            "AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
            dbs,
        ):
            keys[TableName(_text(r["db"]), _text(r["tbl"]))].append(_text(r["name"]))
        estimates = {
            TableName(_text(r["db"]), _text(r["tbl"])): int(r["est"] or 0)
            for r in self.query(
                "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, TABLE_ROWS AS est "
                f"FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({marks})",
                dbs,
            )
        }
        return {
            name: SourceTable(
                name=name,
                columns=tuple(columns[name]),
                primary_key=tuple(keys.get(name, ())),
                estimated_rows=estimates.get(name, 0),
            )
            for name in sorted(wanted)
            if columns.get(name)
        }

    def bounds(self, table: TableName, key: Sequence[str]) -> tuple[Key | None, Key | None]:
        """The smallest and largest key (None for an empty table, or one with only NULL keys).

        One integer column: MIN and MAX. Otherwise the first and last key in key order, from its index.
        """
        cols = [quote_ident(k) for k in key]
        if len(key) == 1:
            [row] = self.query(f"SELECT MIN({cols[0]}) AS lo, MAX({cols[0]}) AS hi FROM {quote_table(table)}")
            return (None, None) if row["lo"] is None else ((row["lo"],), (row["hi"],))
        not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        ends = []
        for direction in ("ASC", "DESC"):
            order = ", ".join(f"{c} {direction}" for c in cols)
            rows = self.query(
                f"SELECT {', '.join(cols)} FROM {quote_table(table)} WHERE {not_null} ORDER BY {order} LIMIT 1",
            )
            ends.append(tuple(rows[0][k] for k in key) if rows else None)
        return ends[0], ends[1]

    def estimate_rows(self, table: TableName, column: str, lo: int, hi: int) -> int:
        """The optimizer's estimate of the rows with lo <= column < hi, from dives into the primary key (whose
        leading column `column` is): a few index pages, whatever the range."""
        q = quote_ident(column)
        where = f"{q} >= {int(lo)} AND {q} < {int(hi)}"
        rows = self.query(f"EXPLAIN SELECT 1 FROM {quote_table(table)} FORCE INDEX (PRIMARY) WHERE {where}")
        return sum(int(r.get("rows") or 0) for r in rows)

    def key_boundaries(
        self,
        table: TableName,
        key: Sequence[str],
        where_after: Callable[[Key], str],
        step: int,
        limit: int,
        first_where: str,
    ) -> list[Key]:
        """Every `step`-th key in key order, found by MySQL in the key's index (at most `limit` of them).

        Each boundary comes from one query that skips `step` keys after the previous boundary, so the
        server walks the index once in all and only the boundaries travel to this process.
        """
        cols = ", ".join(quote_ident(k) for k in key)
        boundaries: list[Key] = []
        while len(boundaries) < limit:
            after = where_after(boundaries[-1]) if boundaries else first_where
            skip = step - 1 if boundaries else step
            rows = self.query(
                f"SELECT {cols} FROM {quote_table(table)} WHERE {after} ORDER BY {cols} LIMIT 1 OFFSET {skip}"
            )
            if not rows:
                break
            boundaries.append(tuple(rows[0][k] for k in key))
        return boundaries


def column_from_row(r: Mapping[str, Any]) -> Column:
    """A column from its information_schema.COLUMNS row (as describe selects it)."""
    return Column(
        name=_text(r["name"]),
        data_type=_text(r["data_type"]).lower(),
        column_type=_text(r["column_type"]),
        nullable=_text(r["nullable"]) == "YES",
        numeric_precision=_int_or_none(r["num_precision"]),
        numeric_scale=_int_or_none(r["num_scale"]),
        datetime_precision=_int_or_none(r["dt_precision"]),
        character_set=_text_or_none(r["charset"]),
        collation=_text_or_none(r["collation"]),
        default=literal_default(_text_or_none(r["dflt"])),
    )


def literal_default(raw: str | None) -> str | None:
    """A COLUMN_DEFAULT as its literal text, or None for no default, a NULL default or an expression.

    MariaDB (10.2.7+) quotes literal defaults ('2001-02-03') and writes NULL and expressions
    (current_timestamp()) bare; MySQL writes literals bare and expressions as CURRENT_TIMESTAMP.
    """
    if raw is None or raw.upper() == "NULL":
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'").replace("\\\\", "\\")
    if "(" in raw or raw.upper().startswith("CURRENT_TIMESTAMP") or raw.upper() in ("NOW", "LOCALTIME"):
        return None
    return raw


def _connect_error(options: SourceOptions, e: pymysql.err.OperationalError) -> SourceError:
    code = e.args[0] if e.args else None
    where = f"MySQL at {options.address}"
    if code == _ACCESS_DENIED:
        tls = ", and source.tls (disabled: a user created REQUIRE SSL needs TLS)" if options.tls == "disabled" else ""
        return SourceError(
            f"{where} refused user {options.user!r}: access denied. Check the password "
            f"({PASSWORD_ENV}, or the source URL) and that the user may connect from this host{tls}"
        )
    if "CERTIFICATE_VERIFY_FAILED" in str(e) or "certificate verify failed" in str(e):
        return SourceError(
            f"{where} presented a certificate that source.tls = {options.tls!r} does not accept ({_reason(e)}): "
            f"check that source.tls_ca = {options.tls_ca} holds the CA that signed it and that the host name "
            "is the one in it (source.tls = required encrypts without checking)"
        )
    if code in _UNREACHABLE:
        return SourceError(
            f"cannot reach {where} within {options.connect_timeout}s: {_reason(e)}. Check the host and "
            "port, that the server runs, and that a firewall or security group lets this machine in"
        )
    return SourceError(f"cannot connect to {where} as {options.user!r}: {_reason(e)}")


def _text_or_none(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _reason(e: BaseException) -> str:
    """The driver's message without its error-code tuple."""
    args: tuple[Any, ...] = tuple(getattr(e, "args", ()))
    return str(args[1]) if len(args) >= 2 else str(e)
