"""Where CDC starts: the low and high watermarks around the load, for a live server, a stopped replica or
an Aurora clone (I/O at the edge, decisions in pure functions)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import SnapshotOptions
from cdc_migrate.errors import BinlogError
from cdc_migrate.handoff.claims import exact_everywhere, not_exact_tables
from cdc_migrate.handoff.manifest import SnapshotRecord, TableResult
from cdc_migrate.source.binlog import (
    BinlogPosition,
    ReplicaStatus,
    ServerInfo,
    read_replica_status,
    same_position,
)
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.source.preconditions import Finding, binlog_findings

logger = logging.getLogger(__name__)


def preflight(source: MySQLSource, server: ServerInfo, options: Options) -> list[Finding]:
    """Everything about the binlog a run checks before it reads a row, for `plan` and `run` alike: the binlog
    settings, a replica that still applies changes, and for a live source a user that may read the binlog.
    Errors raise BinlogError with every failed check and its fix; the findings are returned."""
    if not options.run.record_binlog_position:
        return []
    kind = options.snapshot.kind
    findings = binlog_findings(server, kind)
    if kind == "replica":
        findings += _replica_findings(read_replica_status(source.query, server))
    if kind == "live" and server.log_bin:
        grants = source.grants()
        if not grants.replication:
            findings.append(
                Finding(
                    "error",
                    "REPLICATION SLAVE",
                    f"{grants.user} may not read the binlog, which a live load does to merge in the changes made "
                    f"while it runs: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {grants.user}",
                )
            )
    errors = [f.message for f in findings if f.level == "error"]
    if errors:
        raise BinlogError(
            "CDC cannot continue exactly from this source: "
            + "; ".join(errors)
            + ". Or load without a position with --no-binlog-position (run.record_binlog_position = false)"
        )
    return findings


def _replica_findings(status: ReplicaStatus) -> list[Finding]:
    if not status.sql_running:
        return []
    return [
        Finding(
            "error",
            "replica SQL thread",
            "the replica's SQL thread is running, so the snapshot is not frozen: rows may change while they are "
            "read, and the tables would be exact at no single position. Stop it first: STOP REPLICA SQL_THREAD "
            "(RDS: CALL mysql.rds_stop_replication)",
        )
    ]


def take_position(
    source: MySQLSource, server: ServerInfo, snapshot: SnapshotOptions
) -> tuple[BinlogPosition, list[Finding]]:
    """The current position CDC would start from, by the kind of snapshot source."""
    if snapshot.kind == "replica":
        status = read_replica_status(source.query, server)
        return status.position, _replica_findings(status)
    if snapshot.kind == "clone":
        return clone_position(source, server, snapshot), []
    return source.binlog_position(server), []


def replica_origin(source: MySQLSource, server: ServerInfo) -> tuple[str, int] | None:
    """The server a replica replicates from (host, port): its binlog is the one CDC reads."""
    status = read_replica_status(source.query, server)
    if not status.source_host:
        return None
    return status.source_host, status.source_port or 3306


def clone_position(source: MySQLSource, server: ServerInfo, snapshot: SnapshotOptions) -> BinlogPosition:
    """An Aurora clone's start position: given, or from its RDS crash-recovery event; the GTID set given, or
    the clone's own executed set (the transactions the clone holds)."""
    if snapshot.binlog_file and snapshot.binlog_position is not None:
        file, pos = snapshot.binlog_file, snapshot.binlog_position
    elif snapshot.rds_source:
        from cdc_migrate.aws.rds import clone_recovery_position

        file, pos = clone_recovery_position(snapshot.rds_source, snapshot.region)
    else:  # SnapshotOptions.check refuses this
        raise BinlogError("snapshot.kind = 'clone' needs snapshot.binlog_file/binlog_position or snapshot.rds_source")
    gtids = snapshot.gtid_set
    if gtids is None and server.flavor != "mariadb" and (server.gtid_mode or "").upper() == "ON":
        rows = source.query("SELECT @@global.gtid_executed AS gtids")
        gtids = str(rows[0]["gtids"] or "") if rows else ""
    return BinlogPosition(file, int(pos), (gtids or "").replace("\n", ""), utc_text())


def snapshot_record(
    kind: str,
    low: BinlogPosition | None,
    high: BinlogPosition | None,
    tables: Sequence[TableResult] | None = None,
) -> SnapshotRecord:
    """The manifest's `snapshot`: the source kind, the watermarks, whether every table is exact at the position
    CDC starts from (`tables`: the load's tables; None while it runs), and what that means (pure).

    live: each table was made exact at a position taken after its read, then all were brought to the high
    watermark, where CDC starts. replica: the tables are the source at its position when the replica applied
    nothing during the load (the watermarks are equal). clone: frozen at its position. In each case the load is
    exact only where every selected table is loaded and claims that position.
    """
    if low is None:
        note = "no binlog position was recorded: CDC cannot start exactly after it"
        return SnapshotRecord(kind, low, high, None, note=note)
    start = high if kind == "live" else low
    if tables is None:
        return SnapshotRecord(kind, low, high, None, note="the load is under way: no table is claimed exact yet")
    changes = sum(t.changes or 0 for t in tables if t.exact_at is not None) if kind == "live" else None
    if kind == "replica" and (high is None or not same_position(low, high)):
        note = (
            "the replica applied changes while it was read (its SQL thread ran), so the tables are exact at "
            "no single position: stop the SQL thread (STOP REPLICA SQL_THREAD) and load again"
        )
        return SnapshotRecord(kind, low, high, False, note=note)
    if not exact_everywhere(tables, start):
        why = "; ".join(not_exact_tables(tables, start)) or "no table was loaded"
        note = f"not every table is exactly the source where CDC starts, so CDC cannot continue all of them ({why})"
        return SnapshotRecord(kind, low, high, False, changes, note)
    if kind == "clone":
        note = "an Aurora clone is frozen at its position: every table is exactly the source there, where CDC starts"
    elif kind == "replica":
        note = (
            "the replica applied nothing while it was read: every table is exactly the source at its position, "
            "where CDC starts"
        )
    elif changes:
        note = (
            f"every table is exactly the source at the high watermark, where CDC starts: the {changes} keys that "
            "changed while the tables were read were merged in from the binlog"
        )
    else:
        note = (
            "the tables did not change while they were read: every table is exactly the source at the high "
            "watermark, where CDC starts"
        )
    return SnapshotRecord(kind, low, high, True, changes, note)
