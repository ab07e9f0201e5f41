"""The binlog position for each server flavor, from recorded server answers (MariaDB runs for real in
tests/integration/test_source.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymysql
import pytest

from cdc_migrate.errors import BinlogError
from cdc_migrate.source.binlog import read_position, read_server_info

NOW = datetime(2026, 11, 24, 12, 0, 0, 123000, tzinfo=UTC)


def variables(**values: str) -> list[dict[str, Any]]:
    return [{"Variable_name": k, "Value": v} for k, v in values.items()]


# What each server answered (pymysql DictCursor rows).
MYSQL_57 = {
    "SHOW GLOBAL VARIABLES": variables(
        version="5.7.44-log",
        version_comment="MySQL Community Server (GPL)",
        server_id="1001",
        server_uuid="5e9d6f7a-0b1c-11ef-a1b2-0242ac120002",
        log_bin="ON",
        gtid_mode="ON",
        binlog_format="ROW",
        binlog_row_image="FULL",
    ),
    "SHOW MASTER STATUS": [
        {
            "File": "mysql-bin.000042",
            "Position": 154,
            "Binlog_Do_DB": "",
            "Binlog_Ignore_DB": "",
            "Executed_Gtid_Set": "5e9d6f7a-0b1c-11ef-a1b2-0242ac120002:1-1234",
        }
    ],
}
MYSQL_80 = {
    "SHOW GLOBAL VARIABLES": variables(
        version="8.0.36",
        version_comment="MySQL Community Server - GPL",
        server_id="1",
        server_uuid="3e11fa47-71ca-11e1-9e33-c80aa9429562",
        log_bin="ON",
        gtid_mode="ON",
    ),
    "SHOW MASTER STATUS": [
        {
            "File": "binlog.000003",
            "Position": 197,
            "Binlog_Do_DB": "",
            "Binlog_Ignore_DB": "",
            "Executed_Gtid_Set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57,\ne2a3a0b4-8c5d-11ee-b9d1-0242ac120003:1-4",
        }
    ],
}
AURORA_3 = {
    "SHOW GLOBAL VARIABLES": variables(
        version="8.0.mysql_aurora.3.05.2",
        version_comment="Source distribution",
        aurora_version="3.05.2",
        server_id="1450223091",
        server_uuid="d1fd3bb8-7d5e-3b7c-a0a6-7c5a3c1e2f30",
        log_bin="ON",
        gtid_mode="OFF_PERMISSIVE",
    ),
    "SHOW MASTER STATUS": [
        {
            "File": "mysql-bin-changelog.000123",
            "Position": 4567,
            "Binlog_Do_DB": "",
            "Binlog_Ignore_DB": "",
            "Executed_Gtid_Set": "",
        }
    ],
}
MYSQL_84 = {
    "SHOW GLOBAL VARIABLES": variables(
        version="8.4.3",
        version_comment="MySQL Community Server - GPL",
        server_id="2",
        server_uuid="0b5b3e0c-9d6e-11ef-8a2c-0242ac120004",
        log_bin="ON",
        gtid_mode="ON",
    ),
    # 8.4 removed SHOW MASTER STATUS; only the new form answers.
    "SHOW MASTER STATUS": pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax"),
    "SHOW BINARY LOG STATUS": [
        {
            "File": "binlog.000007",
            "Position": 1520,
            "Binlog_Do_DB": "",
            "Binlog_Ignore_DB": "",
            "Executed_Gtid_Set": "0b5b3e0c-9d6e-11ef-8a2c-0242ac120004:1-88",
        }
    ],
}
MYSQL_80_BINLOG_OFF = {
    "SHOW GLOBAL VARIABLES": variables(version="8.0.36", server_id="1", log_bin="OFF"),
    "SHOW MASTER STATUS": [],
}


def server(answers: dict[str, Any]) -> Any:
    asked: list[str] = []

    def query(sql: str) -> list[dict[str, Any]]:
        asked.append(sql)
        for prefix, answer in answers.items():
            if sql.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                return list(answer)
        raise AssertionError(f"unexpected statement {sql}")

    query.asked = asked  # type: ignore[attr-defined]
    return query


@pytest.mark.parametrize(
    ("answers", "flavor", "file", "position", "gtids", "statement"),
    [
        (
            MYSQL_57,
            "mysql",
            "mysql-bin.000042",
            154,
            "5e9d6f7a-0b1c-11ef-a1b2-0242ac120002:1-1234",
            "SHOW MASTER STATUS",
        ),
        (
            MYSQL_80,
            "mysql",
            "binlog.000003",
            197,
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57,e2a3a0b4-8c5d-11ee-b9d1-0242ac120003:1-4",
            "SHOW MASTER STATUS",
        ),
        (AURORA_3, "aurora-mysql", "mysql-bin-changelog.000123", 4567, "", "SHOW MASTER STATUS"),
        (
            MYSQL_84,
            "mysql",
            "binlog.000007",
            1520,
            "0b5b3e0c-9d6e-11ef-8a2c-0242ac120004:1-88",
            "SHOW BINARY LOG STATUS",
        ),
    ],
    ids=["mysql-5.7", "mysql-8.0", "aurora-3", "mysql-8.4"],
)
def test_position_per_mysql_variant(
    answers: dict[str, Any], flavor: str, file: str, position: int, gtids: str, statement: str
) -> None:
    query = server(answers)

    info = read_server_info(query)
    pos = read_position(query, info, now=lambda: NOW)

    assert info.flavor == flavor
    assert (pos.file, pos.position, pos.gtid_set) == (file, position, gtids)
    assert pos.taken_at == "2026-11-24T12:00:00.123Z"
    assert query.asked[-1] == statement


def test_server_identity_is_recorded() -> None:
    info = read_server_info(server(MYSQL_80))

    assert (info.version, info.server_id, info.server_uuid, info.gtid_mode, info.log_bin) == (
        "8.0.36",
        1,
        "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "ON",
        True,
    )
    assert info.version_tuple == (8, 0, 36)


def test_binary_logging_off_is_a_clear_error_with_both_fixes() -> None:
    query = server(MYSQL_80_BINLOG_OFF)

    with pytest.raises(BinlogError, match=r"binary logging is off.*log_bin.*--no-binlog-position"):
        read_position(query, read_server_info(query))


def test_mariadb_takes_the_gtid_position_of_exactly_that_file_and_offset() -> None:
    answers = {
        "SHOW GLOBAL VARIABLES": variables(version="10.11.19-MariaDB-0+deb12u1-log", server_id="1", log_bin="ON"),
        "SHOW MASTER STATUS": [
            {"File": "binlog.000001", "Position": 2655427, "Binlog_Do_DB": "", "Binlog_Ignore_DB": ""}
        ],
        "SELECT COALESCE(BINLOG_GTID_POS('binlog.000001', 2655427)": [{"gtid": "0-1-43"}],
    }
    query = server(answers)

    info = read_server_info(query)
    pos = read_position(query, info, now=lambda: NOW)

    assert info.flavor == "mariadb"
    assert (pos.file, pos.position, pos.gtid_set) == ("binlog.000001", 2655427, "0-1-43")
