"""Where CDC starts: the low and high watermarks around the load, for a live server, a stopped replica or
an Aurora clone (I/O at the edge, decisions in pure functions)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from cdc_migrate.binlog import BinlogPosition, ServerInfo, read_replica_status, same_position
from cdc_migrate.config import SnapshotOptions
from cdc_migrate.errors import BinlogError
from cdc_migrate.preconditions import Finding, binlog_findings
from cdc_migrate.source import MySQLSource

logger = logging.getLogger(__name__)


def check_binlog(server: ServerInfo) -> list[Finding]:
    """The binlog preconditions; errors stop the run with every failed setting and its fix."""
    findings = binlog_findings(server)
    errors = [f.message for f in findings if f.level == "error"]
    if errors:
        raise BinlogError(
            "CDC cannot continue from this source: "
            + "; ".join(errors)
            + ". Or load without a position with --no-binlog-position (run.record_binlog_position = false)"
        )
    return findings


def take_position(
    source: MySQLSource, server: ServerInfo, snapshot: SnapshotOptions
) -> tuple[BinlogPosition, list[Finding]]:
    """The current position CDC would start from, by the kind of snapshot source."""
    if snapshot.kind == "replica":
        status = read_replica_status(source.query, server)
        findings = []
        if status.sql_running:
            findings.append(
                Finding(
                    "warning",
                    "replica SQL thread",
                    "the replica's SQL thread is running, so the snapshot is not frozen: rows may change while "
                    "they are read (the high watermark will show it). Stop it first: STOP REPLICA SQL_THREAD "
                    "(RDS: CALL mysql.rds_stop_replication)",
                )
            )
        return status.position, findings
    if snapshot.kind == "clone":
        return clone_position(source, server, snapshot), []
    return source.binlog_position(server), []


def clone_position(source: MySQLSource, server: ServerInfo, snapshot: SnapshotOptions) -> BinlogPosition:
    """An Aurora clone's start position: given, or from its RDS crash-recovery event; the GTID set given, or
    the clone's own executed set (the transactions the clone holds)."""
    if snapshot.binlog_file and snapshot.binlog_position is not None:
        file, pos = snapshot.binlog_file, snapshot.binlog_position
    elif snapshot.rds_source:
        from cdc_migrate.rds import clone_recovery_position

        file, pos = clone_recovery_position(snapshot.rds_source, snapshot.region)
    else:  # SnapshotOptions.check refuses this
        raise BinlogError("snapshot.kind = 'clone' needs snapshot.binlog_file/binlog_position or snapshot.rds_source")
    gtids = snapshot.gtid_set
    if gtids is None and server.flavor != "mariadb" and (server.gtid_mode or "").upper() == "ON":
        rows = source.query("SELECT @@global.gtid_executed AS gtids")
        gtids = str(rows[0]["gtids"] or "") if rows else ""
    return BinlogPosition(file, int(pos), (gtids or "").replace("\n", ""), _now())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot_section(kind: str, low: BinlogPosition | None, high: BinlogPosition | None) -> dict[str, Any]:
    """The manifest's `snapshot`: the source kind, the high watermark, and what CDC must do (pure).

    Equal watermarks: the tables are exactly the source at the low watermark. Different: the source
    changed while it was read; CDC must start at the low watermark with upserts (at least once, converging).
    """
    if low is None:
        return {"kind": kind, "high_watermark": None, "exact": None, "note": "no binlog position was recorded"}
    if kind == "clone":
        return {
            "kind": kind,
            "high_watermark": None,
            "exact": True,
            "note": "an Aurora clone is frozen at its position: start CDC at the binlog position",
        }
    exact = high is not None and same_position(low, high)
    note = (
        "the source did not change while it was read: the tables are exactly the source at the binlog position"
        if exact
        else "the source changed while it was read: start CDC at the binlog position (the low watermark) with "
        "upserts by primary key; changes up to the high watermark are replayed and converge"
    )
    return {"kind": kind, "high_watermark": _position_dict(high), "exact": exact, "note": note}


def _position_dict(position: BinlogPosition | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"file": position.file, "position": position.position, "gtid_set": position.gtid_set,
            "taken_at": position.taken_at}  # fmt: skip
