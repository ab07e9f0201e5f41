"""The handoff to CDC against real servers: preconditions, watermarks, a stopped replica, connector files,
and the proof: replaying the binlog from the low watermark makes the tables equal the source."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli import main
from cdc_migrate.errors import BinlogError
from cdc_migrate.manifest import TableResult
from cdc_migrate.progress import NullProgress
from cdc_migrate.runner import run
from cdc_migrate.testing.server import ThrowawayServer

from .conftest import EXTERNAL_URL, OptionsFactory
from .replay import differences, replay


def is_mariadb(server: Any) -> bool:
    return "MariaDB" in str(server.execute("SELECT VERSION() AS v")[0]["v"])


# ---- preconditions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [("binlog_format", "STATEMENT", "binlog_format is STATEMENT"), ("binlog_row_image", "MINIMAL",
                                                                     "binlog_row_image is MINIMAL")],
)  # fmt: skip
def test_binlog_settings_cdc_cannot_use_stop_the_run_before_any_read(
    server: Any, database: str, make_options: OptionsFactory, tmp_path: Path, variable: str, value: str, message: str
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)")
    before = server.execute(f"SELECT @@global.{variable} AS v")[0]["v"]
    server.execute(f"SET GLOBAL {variable} = '{value}'")
    try:
        with pytest.raises(BinlogError, match=f"{message}.*Set {variable} = "):
            run(make_options([f"{database}.*"]))
    finally:
        server.execute(f"SET GLOBAL {variable} = '{before}'")
    assert not (tmp_path / "manifest.json").exists()


def test_rds_binlog_retention_unset_is_a_warning_with_the_fix(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    if os.environ.get(EXTERNAL_URL):
        pytest.skip("creates a procedure in the mysql schema of the throwaway server")
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")
    # What RDS answers when 'binlog retention hours' was never set.
    server.execute(
        "CREATE PROCEDURE mysql.rds_show_configuration() SELECT 'binlog retention hours' AS name, NULL AS value, "
        "'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.' "
        "AS description"
    )
    try:
        manifest = run(make_options([f"{database}.*"]), spark=spark)
    finally:
        server.execute("DROP PROCEDURE mysql.rds_show_configuration")

    [warning] = [p for p in manifest.preconditions if p["level"] == "warning"]
    assert warning["setting"] == "binlog retention hours"
    assert "CALL mysql.rds_set_configuration('binlog retention hours', 24)" in warning["message"]
    assert manifest.source["binlog_format"] == "ROW" and manifest.source["gtid_mode"]


# ---- watermarks ----------------------------------------------------------------------------------------


class ChangeAfterRead(NullProgress):
    """Changes a row of a table once the load has finished reading it, before the load ends."""

    def __init__(self, server: Any, table: str, statement: str) -> None:
        self.server, self.table, self.statement = server, table, statement

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        if result.source == self.table:
            self.server.execute(self.statement)


def test_no_change_during_the_load_means_an_exact_snapshot(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")

    manifest = run(make_options([f"{database}.*"]), spark=spark)

    assert manifest.snapshot["exact"] is True
    assert manifest.snapshot["high_watermark"]["position"] == manifest.binlog["position"]


def test_a_change_during_the_load_moves_the_high_watermark(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.a VALUES (1), (2)",
        f"CREATE TABLE `{database}`.b (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.b VALUES (1)",
    )  # fmt: skip
    progress = ChangeAfterRead(server, f"{database}.a", f"UPDATE `{database}`.b SET id = 5")

    manifest = run(make_options([f"{database}.*"], run={"parallel_tables": 1}), spark=spark, progress=progress)

    assert manifest.snapshot["exact"] is False
    assert manifest.snapshot["high_watermark"]["position"] > manifest.binlog["position"]
    assert "start CDC at the binlog position (the low watermark) with upserts" in manifest.snapshot["note"]


# ---- a stopped replica -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replica_pair() -> Iterator[tuple[ThrowawayServer, ThrowawayServer]]:
    if os.environ.get(EXTERNAL_URL):
        pytest.skip("needs two throwaway servers")
    with ThrowawayServer(server_id=11) as source, ThrowawayServer(server_id=12) as replica:
        source.execute("CREATE DATABASE rep", "CREATE TABLE rep.t (id INT PRIMARY KEY, v INT)",
                       "INSERT INTO rep.t VALUES (1, 1), (2, 2)")  # fmt: skip
        status = source.execute("SHOW MASTER STATUS")[0]
        replica.execute("CREATE DATABASE rep", "CREATE TABLE rep.t (id INT PRIMARY KEY, v INT)",
                        "INSERT INTO rep.t VALUES (1, 1), (2, 2)")  # fmt: skip
        replica.execute(
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={source.port}, MASTER_USER='root', "
            f"MASTER_PASSWORD='', MASTER_LOG_FILE='{status['File']}', MASTER_LOG_POS={status['Position']}, "
            "MASTER_USE_GTID=no",
            "START SLAVE",
        )
        yield source, replica
        replica.execute("STOP SLAVE")


def _wait_applied(replica: ThrowawayServer, source: ThrowawayServer) -> None:
    target = source.execute("SHOW MASTER STATUS")[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = replica.execute("SHOW SLAVE STATUS")[0]
        if (status["Relay_Master_Log_File"], status["Exec_Master_Log_Pos"]) == (target["File"], target["Position"]):
            return
        time.sleep(0.1)
    raise AssertionError("the replica did not catch up")


def test_a_stopped_replica_gives_its_position_in_the_sources_binlog(
    replica_pair: tuple[ThrowawayServer, ThrowawayServer], spark: Any, make_options: OptionsFactory
) -> None:
    source, replica = replica_pair
    source.execute("INSERT INTO rep.t VALUES (3, 3)", "UPDATE rep.t SET v = 10 WHERE id = 1")
    _wait_applied(replica, source)
    replica.execute("STOP SLAVE SQL_THREAD")
    at_stop = source.execute("SHOW MASTER STATUS")[0]
    applied_gtids = replica.execute("SELECT @@global.gtid_slave_pos AS g")[0]["g"]
    source.execute("INSERT INTO rep.t VALUES (4, 4)")  # after the stop: not in the snapshot, CDC brings it
    try:
        options = make_options(["rep.*"], source={"port": replica.port}, snapshot={"kind": "replica"})
        manifest = run(options, spark=spark)
    finally:
        replica.execute("START SLAVE SQL_THREAD")

    assert (manifest.binlog["file"], manifest.binlog["position"]) == (at_stop["File"], at_stop["Position"])
    assert (
        manifest.binlog["gtid_set"]
        == applied_gtids
        == source.execute(f"SELECT BINLOG_GTID_POS('{at_stop['File']}', {at_stop['Position']}) AS g")[0]["g"]
    )
    assert manifest.snapshot["kind"] == "replica" and manifest.snapshot["exact"] is True
    assert manifest.tables[0].rows == 3
    assert not [p for p in manifest.preconditions if p["setting"] == "replica SQL thread"]


def test_a_running_replica_is_a_warning_that_the_snapshot_is_not_frozen(
    replica_pair: tuple[ThrowawayServer, ThrowawayServer], make_options: OptionsFactory
) -> None:
    _, replica = replica_pair
    options = make_options(["rep.*"], source={"port": replica.port}, snapshot={"kind": "replica"})

    from cdc_migrate.position import take_position
    from cdc_migrate.source import MySQLSource

    with MySQLSource.connect(options.source) as source:
        _, findings = take_position(source, source.server_info(), options.snapshot)

    [warning] = findings
    assert "SQL thread is running, so the snapshot is not frozen" in warning.message
    assert "STOP REPLICA SQL_THREAD" in warning.message


# ---- the connectors and the proof ----------------------------------------------------------------------

SCHEMA = {
    "accounts": ("id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL", ["id"]),
    "entries": ("account_id INT NOT NULL, seq INT NOT NULL, amount BIGINT, memo VARCHAR(20), "
                "PRIMARY KEY (account_id, seq)", ["account_id", "seq"]),
}  # fmt: skip


def _seed(server: Any, database: str) -> None:
    for table, (columns, _) in SCHEMA.items():
        server.execute(f"CREATE TABLE `{database}`.{table} ({columns})")
    server.execute(
        f"INSERT INTO `{database}`.accounts VALUES "
        + ", ".join(f"({i}, 'owner{i}', {i * 10}.50)" for i in range(1, 6001)),
        f"INSERT INTO `{database}`.entries VALUES "
        + ", ".join(f"({i % 500}, {i}, {i * 3}, 'm{i % 7}')" for i in range(1, 6001)),
        f"ANALYZE TABLE `{database}`.accounts, `{database}`.entries",
    )


class Writer(threading.Thread):
    """Inserts, updates (primary keys too) and deletes rows while the load runs; never touches account 1."""

    def __init__(self, server: Any, database: str) -> None:
        super().__init__(daemon=True)
        self.server, self.db, self.stop, self.done = server, database, threading.Event(), 0
        self.rnd = random.Random(42)

    def run(self) -> None:
        conn = self.server.connect()
        try:
            with conn.cursor() as cur:
                next_id = 100_000
                while not self.stop.is_set():
                    r, i = self.rnd.random(), self.rnd.randrange(2, 6001)
                    if r < 0.3:
                        cur.execute(f"UPDATE `{self.db}`.accounts SET balance = balance + 1 WHERE id = %s", (i,))
                    elif r < 0.45:
                        next_id += 1  # a primary-key change
                        cur.execute(f"UPDATE `{self.db}`.accounts SET id = %s WHERE id = %s", (next_id, i))
                    elif r < 0.6:
                        cur.execute(f"DELETE FROM `{self.db}`.accounts WHERE id = %s", (i,))
                    elif r < 0.8:
                        next_id += 1
                        cur.execute(f"INSERT INTO `{self.db}`.accounts VALUES (%s, 'new', 1.00)", (next_id,))
                    else:
                        cur.execute(f"UPDATE `{self.db}`.entries SET memo = 'changed', seq = seq + 100000 "
                                    "WHERE account_id = %s AND seq < 100000 LIMIT 1", (i % 500,))  # fmt: skip
                    self.done += 1
                    time.sleep(0.002)
        finally:
            conn.close()


def _compare(server: Any, iceberg: Any, database: str) -> list[str]:
    out = []
    for table, (_, key) in SCHEMA.items():
        source = server.execute(f"SELECT * FROM `{database}`.{table}")
        loaded = iceberg(f"{database}.{table}").scan().to_arrow().to_pylist()
        out += [f"{table}: {d}" for d in differences(source, loaded, key)]
    return out


def test_replaying_the_binlog_from_the_low_watermark_makes_the_tables_equal_the_source(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any, tmp_path: Path
) -> None:
    _seed(server, database)
    writer = Writer(server, database)
    # The control: a change that lands after its row was read and before the load ends.
    control = ChangeAfterRead(server, f"{database}.accounts",
                              f"UPDATE `{database}`.accounts SET balance = 999999.99 WHERE id = 1")  # fmt: skip
    options = make_options([f"{database}.*"], tables={"rows_per_partition": 1000}, run={"parallel_tables": 1})
    writer.start()
    try:
        manifest = run(options, spark=spark, progress=control)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.done > 50, "the writer barely ran during the load"
    assert [t.status for t in manifest.tables] == ["loaded", "loaded"]
    low, high = manifest.binlog, manifest.snapshot["high_watermark"]
    assert manifest.snapshot["exact"] is False
    assert _compare(server, iceberg, database), "the load alone already equals the source: nothing to prove"
    mariadb = is_mariadb(server)
    keys = {t: k for t, (_, k) in SCHEMA.items()}

    # The control first: from the high watermark, the change to account 1 is lost.
    replay(server, spark, database, keys, high, mariadb)
    missed = _compare(server, iceberg, database)
    assert any(d.startswith("accounts: different (1,)") for d in missed), missed

    # Then the proof, from the tables as loaded: the load, and everything from the low watermark on,
    # gives exactly the source.
    for result in manifest.tables:
        spark.sql(f"CALL local.system.rollback_to_snapshot(table => '{result.target}', "
                  f"snapshot_id => {result.snapshot_id})")  # fmt: skip
    replayed = replay(server, spark, database, keys, low, mariadb)
    assert sum(replayed.values()) > writer.done / 2
    assert _compare(server, iceberg, database) == []
    assert iceberg(f"{database}.accounts").scan(row_filter="id = 1").to_arrow().to_pylist()[0]["balance"] == Decimal(
        "999999.99"
    )

    # And the connector files that would do it for real start exactly there.
    assert main(["connectors", "--manifest", str(options.run.manifest), "--out", str(tmp_path / "cdc")]) == 0
    offsets = json.loads((tmp_path / "cdc" / "offsets.json").read_text())["offsets"][0]["offset"]
    assert (offsets["file"], offsets["pos"]) == (low["file"], low["position"])
    sink = json.loads((tmp_path / "cdc" / "iceberg-sink.json").read_text())["config"]
    assert sink[f"iceberg.table.{database}.entries.id-columns"] == "account_id,seq"
    assert (tmp_path / "cdc" / "HANDOFF.md").read_text().count("recovery") >= 1
