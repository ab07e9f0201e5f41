"""What CDC needs from the source before the load starts: binary logging in ROW format with full row
images, binlogs kept long enough, GTIDs reported (pure checks over server facts)."""

from __future__ import annotations

from dataclasses import dataclass

from cdc_migrate.records import Record
from cdc_migrate.source.binlog import ServerInfo

# A conservative load rate for the retention estimate, and the margin CDC needs to start and catch up.
ESTIMATED_ROWS_PER_SECOND = 50_000
RETENTION_MARGIN_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Finding(Record):
    """One precondition result: `error` stops the run, `warning` is reported, `info` is recorded."""

    level: str
    setting: str
    message: str


def binlog_findings(server: ServerInfo, kind: str = "live") -> list[Finding]:
    """Binary logging on, ROW format, FULL row images (a live source: row metadata, MINIMAL or FULL); the GTID mode."""
    where = f"on this {server.flavor} {server.version} server"
    params = "(RDS/Aurora: in the DB cluster parameter group, then reboot)"
    out: list[Finding] = []
    if not server.log_bin:
        out.append(Finding("error", "log_bin", f"binary logging is off {where}; turn on log_bin {params}"))
    if server.binlog_format and server.binlog_format.upper() != "ROW":
        out.append(
            Finding(
                "error",
                "binlog_format",
                f"binlog_format is {server.binlog_format} {where}; Debezium reads row events only. Set "
                f"binlog_format = ROW {params}",
            )
        )
    if server.binlog_row_image and server.binlog_row_image.upper() != "FULL":
        out.append(
            Finding(
                "error",
                "binlog_row_image",
                f"binlog_row_image is {server.binlog_row_image} {where}; Debezium and the upserting sink need "
                f"every column of every changed row. Set binlog_row_image = FULL {params}",
            )
        )
    metadata = (server.binlog_row_metadata or "").upper()
    if kind == "live" and server.log_bin and metadata == "MINIMAL":
        out.append(
            Finding(
                "info",
                "binlog_row_metadata",
                "binlog_row_metadata is MINIMAL (MySQL 8's and Aurora 3's default): the changes made while the load "
                "runs are matched to the table's columns by position, every row event checked against the table's "
                "column count and types; FULL also names them and is recommended",
            )
        )
    elif kind == "live" and server.log_bin and metadata != "FULL":
        now = f"is {server.binlog_row_metadata}" if server.binlog_row_metadata else "does not exist"
        out.append(
            Finding(
                "error",
                "binlog_row_metadata",
                f"binlog_row_metadata {now} {where}; a live load reads the changes made while it runs from the "
                "binlog and needs each row's signs and charsets in it. Set binlog_row_metadata = MINIMAL or FULL "
                f"(SET GLOBAL, MySQL 8.0.1+ and MariaDB 10.5+; FULL recommended) {params}; on MySQL 5.7 load from a "
                "stopped replica (snapshot.kind = 'replica') or a clone",
            )
        )
    if server.gtid_mode:
        out.append(Finding("info", "gtid_mode", f"GTID mode: {server.gtid_mode}"))
    return out


def estimated_load_seconds(rows: int) -> int:
    """A conservative guess of how long the load takes, for the retention check."""
    return rows // ESTIMATED_ROWS_PER_SECOND


def retention_findings(
    server: ServerInfo, rds_configured: bool, rds_retention_hours: str | None, rows: int
) -> list[Finding]:
    """Warns when binlogs may be purged before CDC starts reading from the load's position.

    Args:
        server: the server's settings (binlog_expire_logs_seconds / expire_logs_days).
        rds_configured: whether `mysql.rds_show_configuration` exists (RDS, Aurora).
        rds_retention_hours: its 'binlog retention hours' value (None: NULL, i.e. unset).
        rows: the estimated rows to load.
    """
    needed = estimated_load_seconds(rows) + RETENTION_MARGIN_SECONDS
    hours = -(-needed // 3600)
    if rds_configured:
        fix = f"CALL mysql.rds_set_configuration('binlog retention hours', {max(hours, 24)})"
        if rds_retention_hours is None or str(rds_retention_hours).upper() in ("", "NULL"):
            return [
                Finding(
                    "warning",
                    "binlog retention hours",
                    f"binlog retention is not set on this RDS/Aurora server, so RDS purges binlogs soon and CDC "
                    f"could not start from this load's position; run {fix}",
                )
            ]
        if float(rds_retention_hours) * 3600 < needed:
            return [
                Finding(
                    "warning",
                    "binlog retention hours",
                    f"binlog retention is {rds_retention_hours} h, shorter than the estimated load time plus a "
                    f"{RETENTION_MARGIN_SECONDS // 3600} h margin ({hours} h); run {fix}",
                )
            ]
        return []
    retention = server.binlog_retention_seconds
    if retention and retention < needed:
        return [
            Finding(
                "warning",
                "binlog_expire_logs_seconds",
                f"binlogs expire after {retention // 3600} h, shorter than the estimated load time plus a "
                f"{RETENTION_MARGIN_SECONDS // 3600} h margin ({hours} h); raise binlog_expire_logs_seconds "
                "(expire_logs_days on older servers)",
            )
        ]
    return []
