"""The server's identity and the binlog position CDC starts from, for MySQL 5.7-8.4, Aurora and MariaDB."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cdc_migrate.clock import utc_text
from cdc_migrate.errors import BinlogError
from cdc_migrate.records import Record

QueryFn = Callable[[str], list[dict[str, Any]]]

SERVER_VARIABLES = (
    "version",
    "max_connections",
    "version_comment",
    "aurora_version",
    "server_id",
    "server_uuid",
    "log_bin",
    "gtid_mode",
    "gtid_strict_mode",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "binlog_expire_logs_seconds",
    "expire_logs_days",
)


@dataclass(frozen=True)
class ServerInfo:
    """Who the source server is: flavor (`mysql`, `aurora-mysql`, `mariadb`), version and identity."""

    flavor: str
    version: str
    server_id: int | None
    server_uuid: str | None
    log_bin: bool
    gtid_mode: str | None
    binlog_format: str | None = None
    binlog_row_image: str | None = None
    binlog_row_metadata: str | None = None
    # How long the server keeps binlogs itself (0 or None: until purged by hand or, on RDS, by RDS).
    binlog_retention_seconds: int | None = None
    max_connections: int | None = None  # the connections the server allows

    @property
    def version_tuple(self) -> tuple[int, ...]:
        m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", self.version)
        return tuple(int(g) for g in m.groups() if g is not None) if m else (0,)

    def binlog_status_statement(self) -> str:
        """The statement that shows the current binlog file and position on this server."""
        if self.flavor == "mysql" and self.version_tuple >= (8, 2):
            return "SHOW BINARY LOG STATUS"
        return "SHOW MASTER STATUS"


@dataclass(frozen=True)
class BinlogPosition(Record):
    """A point in the source's binlog: file and byte position, the GTID set, and when it was taken (UTC)."""

    file: str
    position: int
    gtid_set: str = ""
    taken_at: str = ""

    def __str__(self) -> str:
        """file:position, and the GTID set where the server has one (what CDC can start from either way)."""
        return f"{self.file}:{self.position}" + (f" (GTID set {self.gtid_set})" if self.gtid_set else "")

    def key(self) -> tuple[str, int]:
        """What orders positions in one server's binlog (file names sort in sequence)."""
        return (self.file, self.position)


def server_info_from_variables(variables: Mapping[str, Any]) -> ServerInfo:
    """Builds ServerInfo from `SHOW GLOBAL VARIABLES` rows turned into a name -> value mapping."""
    v = {k.lower(): ("" if val is None else str(val)) for k, val in variables.items()}
    version = v.get("version", "")
    if "mariadb" in version.lower() or "mariadb" in v.get("version_comment", "").lower():
        flavor = "mariadb"
    elif v.get("aurora_version") or "aurora" in version.lower():
        flavor = "aurora-mysql"
    else:
        flavor = "mysql"
    server_id = v.get("server_id", "")
    retention = _number(v.get("binlog_expire_logs_seconds"))
    if not retention and _number(v.get("expire_logs_days")):
        retention = int(float(v["expire_logs_days"]) * 86400)
    gtid_mode = v.get("gtid_mode") or None
    if flavor == "mariadb":  # MariaDB always writes GTIDs; report whether replicas must follow them strictly
        gtid_mode = f"ON (gtid_strict_mode={v.get('gtid_strict_mode') or 'OFF'})"
    return ServerInfo(
        flavor=flavor,
        version=version,
        server_id=int(server_id) if server_id.isdigit() else None,
        server_uuid=v.get("server_uuid") or None,
        log_bin=v.get("log_bin", "").upper() in ("ON", "1"),
        gtid_mode=gtid_mode,
        binlog_format=v.get("binlog_format") or None,
        binlog_row_image=v.get("binlog_row_image") or None,
        binlog_row_metadata=v.get("binlog_row_metadata") or None,
        binlog_retention_seconds=retention or None,
        max_connections=_number(v.get("max_connections")),
    )


def _number(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def read_server_info(query: QueryFn) -> ServerInfo:
    """Asks the server who it is (one SHOW GLOBAL VARIABLES; variables a flavor lacks are simply absent)."""
    names = ", ".join(f"'{n}'" for n in SERVER_VARIABLES)
    rows = query(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})")
    return server_info_from_variables({r["Variable_name"]: r["Value"] for r in rows})


def position_from_status(
    server: ServerInfo, status: Mapping[str, Any] | None, gtid_set: str | None, taken_at: datetime
) -> BinlogPosition:
    """Builds the position from the binlog status row; no row means binary logging is off."""
    if not status or not status.get("File"):
        raise BinlogError(
            f"binary logging is off on this {server.flavor} {server.version} server, so there is no binlog "
            "position for CDC to start from. Turn it on (log_bin, binlog_format=ROW; on RDS/Aurora a backup "
            "retention period above 0 and binlog_format=ROW in the cluster parameter group), or load without "
            "a position with --no-binlog-position (run.record_binlog_position = false)"
        )
    gtids = gtid_set if gtid_set is not None else str(status.get("Executed_Gtid_Set") or "")
    return BinlogPosition(
        file=str(status["File"]),
        position=int(status["Position"]),
        gtid_set=re.sub(r"\s+", "", gtids),
        taken_at=utc_text(taken_at),
    )


def read_position(query: QueryFn, server: ServerInfo, now: Callable[[], datetime] | None = None) -> BinlogPosition:
    """Reads the current binlog position with the statement this server flavor and version understand.

    MariaDB has no Executed_Gtid_Set column: its GTID position for exactly this file and offset comes
    from BINLOG_GTID_POS(file, pos), falling back to @@global.gtid_binlog_pos.
    """
    taken_at = (now or (lambda: datetime.now(UTC)))()
    rows = query(server.binlog_status_statement())
    status = rows[0] if rows else None
    gtid_set: str | None = None
    if server.flavor == "mariadb" and status and status.get("File"):
        file, pos = str(status["File"]).replace("'", "''"), int(status["Position"])
        answer = query(f"SELECT COALESCE(BINLOG_GTID_POS('{file}', {pos}), @@global.gtid_binlog_pos) AS gtid")
        gtid_set = str(answer[0]["gtid"] or "") if answer else ""
    return position_from_status(server, status, gtid_set, taken_at)


# ---- a stopped replica ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaStatus:
    """Where a replica's SQL thread stopped in its source's binlog, and whether it is still applying."""

    position: BinlogPosition
    sql_running: bool
    source_host: str | None
    source_port: int | None = None


def replica_status_statement(server: ServerInfo) -> str:
    """`SHOW REPLICA STATUS` on MySQL 8.0.22+ and MariaDB 10.5.1+, `SHOW SLAVE STATUS` before."""
    new = (8, 0, 22) if server.flavor != "mariadb" else (10, 5, 1)
    return "SHOW REPLICA STATUS" if server.version_tuple >= new else "SHOW SLAVE STATUS"


def _field(row: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


def replica_position(
    server: ServerInfo, status: Mapping[str, Any] | None, gtid_set: str | None, taken_at: datetime
) -> ReplicaStatus:
    """The position in the SOURCE's binlog up to which a replica has applied events.

    MySQL: Relay_Source_Log_File / Exec_Source_Log_Pos (Relay_Master_Log_File / Exec_Master_Log_Pos
    before 8.0.22) and the replica's Executed_Gtid_Set; MariaDB: the same old names and @@gtid_slave_pos.
    """
    if not status:
        raise BinlogError(
            'the snapshot source is not a replica (SHOW REPLICA STATUS is empty); set snapshot.kind = "live" '
            'for a server that is not replicating, or "clone" for an Aurora clone'
        )
    file = _field(status, "Relay_Source_Log_File", "Relay_Master_Log_File")
    pos = _field(status, "Exec_Source_Log_Pos", "Exec_Master_Log_Pos")
    running = str(_field(status, "Replica_SQL_Running", "Slave_SQL_Running") or "").lower() == "yes"
    gtids = gtid_set if gtid_set is not None else str(status.get("Executed_Gtid_Set") or "")
    position = BinlogPosition(
        file=str(file),
        position=int(pos),
        gtid_set=re.sub(r"\s+", "", gtids),
        taken_at=utc_text(taken_at),
    )
    host = _field(status, "Source_Host", "Master_Host")
    port = _field(status, "Source_Port", "Master_Port")
    return ReplicaStatus(position, running, str(host) if host else None, int(port) if port else None)


def read_replica_status(query: QueryFn, server: ServerInfo, now: Callable[[], datetime] | None = None) -> ReplicaStatus:
    """Reads a replica's applied position in its source's binlog."""
    taken_at = (now or (lambda: datetime.now(UTC)))()
    rows = query(replica_status_statement(server))
    gtid_set = None
    if server.flavor == "mariadb" and rows:
        answer = query("SELECT @@global.gtid_slave_pos AS gtid")
        gtid_set = str(answer[0]["gtid"] or "") if answer else ""
    return replica_position(server, rows[0] if rows else None, gtid_set, taken_at)


# ---- an Aurora clone -------------------------------------------------------------------------------------

_RECOVERY = re.compile(r"Binlog position from crash recovery is (\S+) (\d+)")


def recovery_position(message: str) -> tuple[str, int] | None:
    """The (file, position) in an RDS event "Binlog position from crash recovery is <file> <pos>"."""
    m = _RECOVERY.search(message)
    return (m.group(1), int(m.group(2))) if m else None


def same_position(a: BinlogPosition, b: BinlogPosition) -> bool:
    """Whether two positions are the same point in the binlog (file, offset and GTID set)."""
    return (a.file, a.position, a.gtid_set) == (b.file, b.position, b.gtid_set)


@dataclass(frozen=True)
class Exactness:
    """Where a loaded table equals its source table, how many changed keys it took to get there, and the
    statements applied on the way (a TRUNCATE: the table was emptied there, the keys changed after it merged).

    exact is False for a table without a primary key on a live source (no key to merge its changes by), `why`
    saying so.
    """

    position: BinlogPosition
    changes: int = 0
    exact: bool = True
    applied: tuple[str, ...] = ()
    seconds: float = 0.0  # the merge's time, where there was one
    why: str | None = None
