"""Where CDC starts: replica and clone positions, preconditions, watermarks (recorded server answers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cdc_migrate.aws.rds import clone_recovery_position
from cdc_migrate.config.model import Options
from cdc_migrate.errors import BinlogError, ConfigError
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.handoff.position import snapshot_record
from cdc_migrate.source.binlog import (
    BinlogPosition,
    ServerInfo,
    read_replica_status,
    recovery_position,
    replica_status_statement,
    server_info_from_variables,
)
from cdc_migrate.source.preconditions import binlog_findings, retention_findings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def server(**variables: str) -> ServerInfo:
    return server_info_from_variables(
        {"version": "8.0.36", "log_bin": "ON", "binlog_row_metadata": "FULL", **variables}
    )


def answers(rows: dict[str, list[dict[str, Any]]]) -> Any:
    return lambda sql: next(v for k, v in rows.items() if sql.startswith(k))


# ---- a stopped replica --------------------------------------------------------------------------------

MYSQL_84_REPLICA = {
    "Replica_IO_State": "",
    "Source_Host": "primary.internal",
    "Source_Log_File": "binlog.000010",
    "Read_Source_Log_Pos": 9000,
    "Relay_Source_Log_File": "binlog.000010",
    "Exec_Source_Log_Pos": 8800,
    "Replica_IO_Running": "No",
    "Replica_SQL_Running": "No",
    "Executed_Gtid_Set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-99,\n4a5b6c7d-0000-11ee-8888-0242ac120003:1-7",
}
MYSQL_57_SLAVE = {
    "Master_Host": "primary.internal",
    "Relay_Master_Log_File": "mysql-bin.000123",
    "Exec_Master_Log_Pos": 4567,
    "Slave_IO_Running": "Yes",
    "Slave_SQL_Running": "Yes",
    "Executed_Gtid_Set": "",
}


@pytest.mark.parametrize(
    ("version", "row", "statement", "expected", "running"),
    [
        (
            "8.4.3",
            MYSQL_84_REPLICA,
            "SHOW REPLICA STATUS",
            (
                "binlog.000010",
                8800,
                "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-99,4a5b6c7d-0000-11ee-8888-0242ac120003:1-7",
            ),
            False,
        ),
        ("5.7.44-log", MYSQL_57_SLAVE, "SHOW SLAVE STATUS", ("mysql-bin.000123", 4567, ""), True),
    ],
    ids=["mysql-8.4", "mysql-5.7"],
)
def test_a_replica_reports_its_position_in_the_sources_binlog(
    version: str, row: dict[str, Any], statement: str, expected: tuple[str, int, str], running: bool
) -> None:
    info = server(version=version)
    asked: list[str] = []

    def query(sql: str) -> list[dict[str, Any]]:
        asked.append(sql)
        return [row]

    status = read_replica_status(query, info, now=lambda: NOW)

    assert asked == [statement]
    assert (status.position.file, status.position.position, status.position.gtid_set) == expected
    assert status.sql_running is running
    assert status.source_host == "primary.internal"


def test_mariadb_replicas_take_their_gtid_position_from_gtid_slave_pos() -> None:
    info = server_info_from_variables({"version": "10.11.19-MariaDB", "log_bin": "ON"})
    query = answers(
        {
            "SHOW REPLICA STATUS": [
                {
                    "Relay_Master_Log_File": "binlog.000002",
                    "Exec_Master_Log_Pos": 777,
                    "Slave_SQL_Running": "No",
                    "Master_Host": "src",
                }
            ],
            "SELECT @@global.gtid_slave_pos": [{"gtid": "0-1-42"}],
        }
    )

    status = read_replica_status(query, info)

    assert (status.position.file, status.position.position, status.position.gtid_set) == (
        "binlog.000002",
        777,
        "0-1-42",
    )
    assert replica_status_statement(server_info_from_variables({"version": "10.4.3-MariaDB"})) == "SHOW SLAVE STATUS"


def test_a_server_that_is_not_a_replica_is_refused_with_the_fix() -> None:
    with pytest.raises(BinlogError, match='not a replica.*snapshot.kind = "live"'):
        read_replica_status(lambda sql: [], server(version="8.0.36"))


# ---- an Aurora clone ----------------------------------------------------------------------------------


def test_the_recovery_event_gives_file_and_position() -> None:
    assert recovery_position("Binlog position from crash recovery is mysql-bin-changelog.000003 4278") == (
        "mysql-bin-changelog.000003",
        4278,
    )
    assert recovery_position("DB instance restarted") is None


def _stubbed_rds(events_by_type: dict[str, list[dict[str, Any]]]) -> Any:
    client = boto3.client("rds", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for source_type in ("db-instance", "db-cluster"):
        stub.add_response(
            "describe_events",
            {"Events": events_by_type.get(source_type, [])},
            {"SourceIdentifier": "clone-1", "SourceType": source_type, "Duration": 20160},
        )
    stub.activate()
    return client


def test_the_newest_recovery_event_of_a_clone_is_used() -> None:
    client = _stubbed_rds(
        {
            "db-instance": [
                {
                    "Message": "Binlog position from crash recovery is mysql-bin-changelog.000002 100",
                    "Date": datetime(2026, 11, 1, tzinfo=UTC),
                },
                {"Message": "DB instance created", "Date": datetime(2026, 11, 2, tzinfo=UTC)},
            ],
            "db-cluster": [
                {
                    "Message": "Binlog position from crash recovery is mysql-bin-changelog.000003 4278",
                    "Date": datetime(2026, 11, 3, tzinfo=UTC),
                },
            ],
        }
    )

    assert clone_recovery_position("clone-1", client=client) == ("mysql-bin-changelog.000003", 4278)


def test_no_recovery_event_names_the_settings_to_give_instead() -> None:
    with pytest.raises(BinlogError, match="snapshot.binlog_file and snapshot.binlog_position"):
        clone_recovery_position("clone-1", client=_stubbed_rds({}))


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [
        ({"kind": "frozen"}, "snapshot.kind = 'frozen' is unknown"),
        ({"kind": "clone"}, "needs the position"),
        ({"kind": "clone", "binlog_file": "f"}, "together"),
        ({"kind": "live", "binlog_file": "f", "binlog_position": 4}, "only used with snapshot.kind = 'clone'"),
    ],
)
def test_snapshot_options_are_checked(snapshot: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Options.from_mapping({"snapshot": snapshot})


# ---- preconditions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "setting"),
    [
        ({"log_bin": "OFF"}, "log_bin"),
        ({"binlog_format": "STATEMENT"}, "binlog_format"),
        ({"binlog_format": "MIXED"}, "binlog_format"),
        ({"binlog_row_image": "MINIMAL"}, "binlog_row_image"),
    ],
)
def test_binlog_settings_cdc_cannot_work_with_are_errors_naming_the_fix(
    variables: dict[str, str], setting: str
) -> None:
    errors = [f for f in binlog_findings(server(**variables)) if f.level == "error"]

    assert [f.setting for f in errors] == [setting]
    assert f"{setting} = " in errors[0].message or "turn on log_bin" in errors[0].message
    assert "parameter group" in errors[0].message


@pytest.mark.parametrize(("metadata", "now"), [("NO_LOG", "is NO_LOG"), (None, "does not exist")])
def test_a_live_load_needs_row_metadata_to_read_its_changes(metadata: str | None, now: str) -> None:
    info = server_info_from_variables({"version": "8.0.36", "log_bin": "ON", "binlog_row_metadata": metadata or ""})

    [error] = [f for f in binlog_findings(info, "live") if f.level == "error"]

    assert error.setting == "binlog_row_metadata" and now in error.message
    assert "binlog_row_metadata = MINIMAL or FULL" in error.message and "snapshot.kind = 'replica'" in error.message
    assert not [f for f in binlog_findings(info, "replica") if f.level == "error"]


def test_minimal_row_metadata_mysql_8s_default_is_enough_for_a_live_load() -> None:
    info = server_info_from_variables({"version": "8.0.36", "log_bin": "ON", "binlog_row_metadata": "MINIMAL"})

    findings = binlog_findings(info, "live")

    assert not [f for f in findings if f.level == "error"]
    [note] = [f for f in findings if f.setting == "binlog_row_metadata"]
    assert note.level == "info" and "by position" in note.message and "FULL also names them" in note.message


def test_gtid_mode_is_reported() -> None:
    assert [(f.level, f.message) for f in binlog_findings(server(binlog_format="ROW", gtid_mode="ON"))] == [
        ("info", "GTID mode: ON")
    ]


@pytest.mark.parametrize(
    ("rds", "hours", "expire", "rows", "warns"),
    [
        (True, None, None, 0, "not set"),
        (True, "2", None, 0, "is 2 h, shorter"),
        (True, "168", None, 10_000_000, None),
        (True, "24", None, 50_000 * 3600 * 20, "shorter"),  # 20 h of rows
        (False, None, "3600", 0, "expire after 1 h"),
        (False, None, "2592000", 10_000_000, None),
        (False, None, None, 10_000_000, None),  # kept until purged by hand
    ],
    ids=["rds-null", "rds-short", "rds-ok", "rds-long-load", "expire-short", "expire-ok", "no-expiry"],
)
def test_retention_is_compared_with_the_estimated_load(
    rds: bool, hours: str | None, expire: str | None, rows: int, warns: str | None
) -> None:
    info = server(**({"binlog_expire_logs_seconds": expire} if expire else {}))

    findings = retention_findings(info, rds, hours, rows)

    if warns is None:
        assert findings == []
    else:
        [finding] = findings
        assert finding.level == "warning" and warns in finding.message


# ---- watermarks ----------------------------------------------------------------------------------------

LOW = BinlogPosition("binlog.000001", 100, "0-1-5", "t0")


HIGH = BinlogPosition("binlog.000001", 900, "0-1-9", "t1")


def claiming(source: str, at: BinlogPosition | None, changes: int = 0) -> TableResult:
    return TableResult(source, source, "loaded", primary_key=("id",), exact_at=at, changes=changes or None)


def test_a_live_load_folded_to_the_high_watermark_is_exact_there() -> None:
    section = snapshot_record("live", LOW, HIGH, [claiming("shop.a", HIGH, 12), claiming("shop.b", HIGH)])

    assert section.exact is True and section.changes == 12
    assert section.low_watermark.position == 100 and section.high_watermark.position == 900
    assert "exactly the source at the high watermark, where CDC starts" in section.note
    assert "12 keys" in section.note


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (TableResult("shop.b", None, "failed", error="boom"), "shop.b: failed"),
        (TableResult("shop.b", None, "skipped"), "shop.b: skipped"),
        (replace(claiming("shop.b", None, 906), not_exact="it has no primary key"), "shop.b: it has no primary key"),
        (claiming("shop.b", LOW), f"shop.b: exact at {LOW}, not at {HIGH}"),
    ],
    ids=["failed", "skipped", "keyless", "elsewhere"],
)
def test_a_load_with_any_table_not_exact_where_cdc_starts_is_not_exact(other: TableResult, why: str) -> None:
    section = snapshot_record("live", LOW, HIGH, [claiming("shop.a", HIGH, 12), other])

    assert section.exact is False and why in section.note
    assert section.changes == 12  # the keys merged into tables that claim a position, no others


def test_a_replica_is_exact_only_when_it_did_not_move() -> None:
    same = BinlogPosition("binlog.000001", 100, "0-1-5", "t1")
    assert snapshot_record("replica", LOW, same, [claiming("shop.a", LOW)]).exact is True
    moved = snapshot_record("replica", LOW, HIGH, [claiming("shop.a", LOW)])
    assert moved.exact is False and "STOP REPLICA SQL_THREAD" in moved.note
    failed = snapshot_record("replica", LOW, same, [claiming("shop.a", LOW), TableResult("shop.b", None, "failed")])
    assert failed.exact is False


def test_a_clone_is_exact_where_every_table_claims_its_position_and_no_position_is_no_claim() -> None:
    assert snapshot_record("clone", LOW, None, [claiming("shop.a", LOW)]).exact is True
    assert (
        snapshot_record("clone", LOW, None, [claiming("shop.a", LOW), TableResult("x.y", None, "failed")]).exact
        is False
    )
    assert snapshot_record("clone", LOW, None).exact is None  # under way
    assert snapshot_record("live", None, None).exact is None
