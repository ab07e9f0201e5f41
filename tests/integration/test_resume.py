"""Re-running a load with its manifest: nothing twice, failures retried, and a run killed with SIGKILL in
the middle of a table completed correctly."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.handoff.manifest import read_manifest
from cdc_migrate.load.runner import run

from .conftest import OptionsFactory, clean_env, run_argv


def snapshots(manifest: Any) -> dict[str, int | None]:
    return {t.source.split(".")[1]: t.snapshot_id for t in manifest.tables}


def test_a_rerun_after_success_loads_nothing_unless_settings_changed_or_forced(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.a VALUES (1), (2)",
        f"CREATE TABLE `{database}`.b (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.b VALUES (3)",
    )
    options = make_options([f"{database}.*"])
    first = run(options, spark=spark)

    a = first.tables[0]  # the figures of the report, in the manifest
    assert a.bytes == sum(iceberg(f"{database}.a").inspect.files()["file_size_in_bytes"].to_pylist()) > 0
    assert a.seconds and a.rows_per_second == round(2 / a.seconds)

    again = run(options, spark=spark)

    assert snapshots(again) == snapshots(first)  # nothing was written
    assert iceberg(f"{database}.a").metadata.current_snapshot_id == first.tables[0].snapshot_id
    assert len(again.runs) == 2 and again.binlog == first.binlog

    overrides = {f"{database}.a": {"columns": {"id": {"name": "a_id"}}}}
    changed = run(make_options([f"{database}.*"], tables={"overrides": overrides}), spark=spark)

    assert snapshots(changed)["b"] == snapshots(first)["b"]  # loaded with the same settings: kept
    assert snapshots(changed)["a"] != snapshots(first)["a"]  # loaded with other settings: loaded again
    assert iceberg(f"{database}.a").schema().find_field("a_id").required

    forced = run(make_options([f"{database}.*"], run={"force": True}), spark=spark)

    reloaded = zip(snapshots(forced).values(), snapshots(first).values(), strict=True)
    assert all(forced_id != first_id for forced_id, first_id in reloaded)
    assert len(forced.runs) == 1


def test_a_failed_table_is_retried_and_the_loaded_ones_kept(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.good (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.good VALUES (1)",
        f"CREATE TABLE `{database}`.bad (id INT PRIMARY KEY, t TIME NOT NULL)",
        f"INSERT INTO `{database}`.bad VALUES (1, '30:00:00')",
    )
    options = make_options([f"{database}.*"])
    first = run(options, spark=spark)
    server.execute(f"UPDATE `{database}`.bad SET t = '06:00:00'")

    second = run(options, spark=spark)

    assert [(t.source.split(".")[1], t.status) for t in first.tables] == [("bad", "failed"), ("good", "loaded")]
    assert [(t.source.split(".")[1], t.status) for t in second.tables] == [("bad", "loaded"), ("good", "loaded")]
    assert snapshots(second)["good"] == snapshots(first)["good"]
    # good is exact where the first run left it and nothing changed it since: it is brought, unchanged, to where
    # bad is exact, which is where CDC starts.
    assert second.binlog.position > first.binlog.position
    assert [t.exact_at for t in second.tables] == [second.binlog, second.binlog]
    assert iceberg(f"{database}.bad").scan().to_arrow().num_rows == 1


def test_a_run_killed_in_the_middle_of_a_table_is_completed_by_the_next(
    server: Any, database: str, tmp_path: Path, iceberg: Any, warehouse: Path
) -> None:
    for name, n in (("a", 120_000), ("b", 100_000), ("c", 10)):
        server.execute(
            f"CREATE TABLE `{database}`.{name} (id INT PRIMARY KEY, pad VARCHAR(100))",
            f"INSERT INTO `{database}`.{name} VALUES " + ", ".join(f"({i}, REPEAT('x', 100))" for i in range(1, n + 1)),
            f"ANALYZE TABLE `{database}`.{name}",
        )
    manifest = tmp_path / "m.json"
    flags = ["--manifest", str(manifest), "--parallel-tables", "1", "--rows-per-partition", "2000"]
    argv = run_argv(server, database, tmp_path / "wh", *flags)
    env = clean_env(server.password)

    # Largest first: a loads, then b starts; kill everything (Python and the JVM) while b's 50 partitions
    # are being read and written.
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, start_new_session=True
    )
    assert proc.stderr is not None
    line, deadline = "", time.monotonic() + 240
    while not line.startswith(f"[2/3] {database}.b -> ") and time.monotonic() < deadline:
        line = proc.stderr.readline()
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = json.loads(manifest.read_text())
    assert [(t["source"].split(".")[1], t["status"]) for t in killed["tables"]] == [("a", "loaded")]

    resumed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)

    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stderr and "1 of 3 tables already loaded" in resumed.stderr
    final = read_manifest(manifest)
    assert [(t.source.split(".")[1], t.status, t.rows) for t in final.tables] == [
        ("a", "loaded", 120000),
        ("b", "loaded", 100000),
        ("c", "loaded", 10),
    ]
    assert final.tables[0].snapshot_id == killed["tables"][0]["snapshot_id"]  # a was not loaded twice
    from cdc_migrate.config.sections import CatalogOptions
    from cdc_migrate.target.pyiceberg import open_table

    for t in final.tables:
        table = open_table(CatalogOptions(kind="local", warehouse=str(tmp_path / "wh")), t.target or "")
        ids = table.scan(selected_fields=("id",)).to_arrow().column("id").to_pylist()
        assert sorted(ids) == list(range(1, (t.rows or 0) + 1))  # every row once
        assert table.metadata.current_snapshot_id == t.snapshot_id


def test_ctrl_c_leaves_the_table_being_loaded_skipped_and_the_next_run_loads_it(
    server: Any, database: str, tmp_path: Path
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY, pad VARCHAR(100))",
        f"INSERT INTO `{database}`.a SELECT seq, REPEAT('x', 100) FROM `{database}`.seq_1_to_150000",
        f"ANALYZE TABLE `{database}`.a",
    )
    manifest = tmp_path / "m.json"
    argv = run_argv(server, database, tmp_path / "wh", "--manifest", str(manifest), "--rows-per-partition", "2000")
    env = clean_env(server.password)
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    line, deadline = "", time.monotonic() + 240
    while not line.startswith(f"[1/1] {database}.a -> ") and time.monotonic() < deadline:
        line = proc.stderr.readline()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # Ctrl-C

    assert proc.wait(timeout=120) == 130
    [table] = read_manifest(manifest).tables
    assert (table.status, table.error) == ("skipped", "the run was interrupted before this table finished")
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-1500:]
    assert [(t.status, t.rows) for t in read_manifest(manifest).tables] == [("loaded", 150000)]


def reads(statement: str | None, table: str) -> bool:
    """Whether a statement is a load's read of `table` (the JDBC path's or the Arrow path's)."""
    text = statement or ""
    return text.startswith("SELECT") and f"FROM {table}" in text and "PROCESSLIST" not in text


class KillARead(threading.Thread):
    """Kills, from the server's side, the first connection reading the table (KILL <id>) once it streams."""

    def __init__(self, server: Any, table: str) -> None:
        super().__init__(daemon=True)
        self.server, self.table = server, table
        self.killed: list[int] = []

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while not self.killed and time.monotonic() < deadline:
            rows = self.server.execute("SELECT ID, INFO FROM information_schema.PROCESSLIST")
            reading = [r["ID"] for r in rows if reads(r["INFO"], self.table)]
            if reading:
                time.sleep(0.2)  # mid-stream
                try:
                    self.server.execute(f"KILL {reading[0]}")
                    self.killed.append(reading[0])
                except Exception:
                    continue
            time.sleep(0.02)


def test_a_connection_killed_mid_table_is_tried_again_after_a_wait_and_the_table_loads(
    server: Any,
    spark: Any,
    database: str,
    make_options: OptionsFactory,
    iceberg: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.big (id INT PRIMARY KEY, pad VARCHAR(200))",
        f"INSERT INTO `{database}`.big SELECT seq, REPEAT('x', 200) FROM `{database}`.seq_1_to_600000",
        f"CREATE TABLE `{database}`.small (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.small VALUES (1)",
        f"ANALYZE TABLE `{database}`.big",
    )
    options = make_options([f"{database}.*"], tables={"rows_per_partition": 300_000})
    killer = KillARead(server, f"`{database}`.`big`")
    killer.start()

    with caplog.at_level(logging.WARNING, logger="cdc_migrate"):
        first = run(options, spark=spark)
    killer.join()

    assert killer.killed
    tries = [r.getMessage() for r in caplog.records if "trying again in 2 s (try 2 of 6)" in r.getMessage()]
    assert len(tries) == 1 and f"{database}.big: the source dropped or refused a connection" in tries[0]
    assert [(t.source.split(".")[1], t.status, t.rows) for t in first.tables] == [
        ("big", "loaded", 600000),
        ("small", "loaded", 1),
    ]
    assert first.snapshot.exact is True
    assert iceberg(f"{database}.big").scan(selected_fields=("id",)).to_arrow().num_rows == 600000


def test_a_server_restarting_mid_table_is_waited_for(
    spark: Any, warehouse: Path, tmp_path: Path, iceberg: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from cdc_migrate.config.model import Options
    from cdc_migrate.config.secret import Secret
    from cdc_migrate.testing.server import ThrowawayServer

    with ThrowawayServer(server_id=33) as own:
        own.execute(
            "CREATE DATABASE f",
            "CREATE TABLE f.t (id INT PRIMARY KEY, pad VARCHAR(200))",
            "INSERT INTO f.t SELECT seq, REPEAT('x', 200) FROM f.seq_1_to_400000",
            "ANALYZE TABLE f.t",
        )
        options = Options.from_mapping(
            {
                # The JDBC path: its reads last long enough for the restart to land in them (the Arrow path reads
                # these 400,000 rows in a fraction of a second; a dropped connection is tried again on both).
                "source": {
                    "host": own.host,
                    "port": own.port,
                    "user": own.user,
                    "password": Secret(own.password),
                    "reader": "jdbc",
                },
                "tables": {"include": ["f.*"], "rows_per_partition": 100_000},
                "catalog": {"kind": "local", "warehouse": str(warehouse)},
                "run": {"manifest": str(tmp_path / "m.json")},
            }
        )

        restarted: list[float] = []

        def restart_once_reading() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                rows = own.execute("SELECT INFO FROM information_schema.PROCESSLIST")
                if any(reads(r["INFO"], "`f`.`t`") for r in rows):
                    own.restart()  # a failover's gap: the reads' connections drop, new ones are refused meanwhile
                    restarted.append(time.monotonic())
                    return
                time.sleep(0.02)

        failover = threading.Thread(target=restart_once_reading, daemon=True)
        failover.start()
        with caplog.at_level(logging.WARNING, logger="cdc_migrate"):
            manifest = run(options, spark=spark)
        failover.join()

    [t] = manifest.tables
    assert restarted, "the server was not restarted while the table was read"
    assert (t.status, t.rows) == ("loaded", 400000) and manifest.snapshot.exact is True, t.error
    assert any("f.t: the source dropped or refused a connection" in r.getMessage() for r in caplog.records)
    assert iceberg("f.t").scan(selected_fields=("id",)).to_arrow().num_rows == 400000


def test_a_server_restarted_between_runs_is_survived_by_resume(
    spark: Any, make_options: OptionsFactory, warehouse: Path, tmp_path: Path, iceberg: Any
) -> None:
    from cdc_migrate.config.model import Options
    from cdc_migrate.config.secret import Secret
    from cdc_migrate.testing.server import ThrowawayServer

    with ThrowawayServer(server_id=31) as own:
        own.execute(
            "CREATE DATABASE r",
            "CREATE TABLE r.a (id INT PRIMARY KEY, v INT)",
            "INSERT INTO r.a VALUES (1, 1), (2, 2)",
            "CREATE TABLE r.b (id INT PRIMARY KEY, t TIME NOT NULL)",
            "INSERT INTO r.b VALUES (1, '30:00:00')",
        )
        options = Options.from_mapping(
            {
                "source": {"host": own.host, "port": own.port, "user": own.user, "password": Secret(own.password)},
                "tables": {"include": ["r.*"]},
                "catalog": {"kind": "local", "warehouse": str(warehouse)},
                "run": {"manifest": str(tmp_path / "m.json")},
            }
        )
        first = run(options, spark=spark)  # a loads, b fails
        own.restart()  # a new binlog file; a must be brought from where it is exact across it
        own.execute("UPDATE r.b SET t = '10:00:00'", "UPDATE r.a SET v = 20 WHERE id = 2")

        second = run(options, spark=spark)

    assert [(t.source, t.status) for t in first.tables] == [("r.a", "loaded"), ("r.b", "failed")]
    assert [(t.source, t.status) for t in second.tables] == [("r.a", "loaded"), ("r.b", "loaded")]
    assert second.binlog.file != first.binlog.file and second.snapshot.exact is True
    assert iceberg("r.a").scan().to_arrow().sort_by("id").to_pylist() == [{"id": 1, "v": 1}, {"id": 2, "v": 20}]


def test_a_resume_reloads_the_tables_whose_binlog_is_gone_and_a_run_stops_once_it_is_gone(
    spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    from cdc_migrate.config.model import Options
    from cdc_migrate.config.secret import Secret
    from cdc_migrate.handoff.manifest import TableResult
    from cdc_migrate.load.progress import NullProgress
    from cdc_migrate.planning.partitions import TablePlan
    from cdc_migrate.testing.server import ThrowawayServer

    def purge(server: Any) -> None:
        server.execute("FLUSH BINARY LOGS")
        [current] = server.execute("SHOW MASTER STATUS")
        deadline = time.monotonic() + 10
        while len(server.execute("SHOW BINARY LOGS")) > 1 and time.monotonic() < deadline:
            server.execute(f"PURGE BINARY LOGS TO '{current['File']}'")  # not while a reader still holds one
            time.sleep(0.1)
        assert len(server.execute("SHOW BINARY LOGS")) == 1

    class PurgeOnFirstTable(NullProgress):
        def __init__(self, server: Any) -> None:
            self.server, self.done = server, False

        def table_started(self, index: int, total: int, plan: TablePlan) -> None:
            if not self.done:
                self.done = True
                purge(self.server)

        def table_finished(self, index: int, total: int, result: TableResult) -> None:
            pass

    with ThrowawayServer(server_id=32) as own:
        own.execute(
            "CREATE DATABASE p",
            "CREATE TABLE p.a (id INT PRIMARY KEY, v INT)",
            "INSERT INTO p.a SELECT seq, seq FROM p.seq_1_to_5000",
            "CREATE TABLE p.b (id INT PRIMARY KEY, t TIME NOT NULL)",
            "INSERT INTO p.b VALUES (1, '30:00:00')",
            "ANALYZE TABLE p.a, p.b",
        )
        options = Options.from_mapping(
            {
                "source": {"host": own.host, "port": own.port, "user": own.user, "password": Secret(own.password)},
                "tables": {"include": ["p.*"]},
                "catalog": {"kind": "local", "warehouse": str(warehouse)},
                "run": {"manifest": str(tmp_path / "m.json"), "parallel_tables": 1},
            }
        )
        first = run(options, spark=spark)  # a loads, exact at P; b fails
        purge(own)  # P's binlog file is gone
        own.execute("UPDATE p.b SET t = '10:00:00'", "UPDATE p.a SET v = 0 WHERE id = 1")

        second = run(options, spark=spark)

        # Mid-run: the binlog goes before the first (largest) table is made exact; the others are not read.
        own.execute("CREATE TABLE p.c (id INT PRIMARY KEY)", "INSERT INTO p.c VALUES (1)")
        forced = replace(options, run=replace(options.run, force=True))
        third = run(forced, spark=spark, progress=PurgeOnFirstTable(own))

    assert [(t.source, t.status) for t in first.tables] == [("p.a", "loaded"), ("p.b", "failed")]
    a = second.tables[0]
    assert [(t.source, t.status) for t in second.tables] == [("p.a", "loaded"), ("p.b", "loaded")]
    assert a.snapshot_id != first.tables[0].snapshot_id and second.snapshot.exact is True  # a loaded again
    gone = {t.source: t for t in third.tables}
    assert gone["p.a"].status == "failed" and "is gone" in (gone["p.a"].error or "")
    for name in ("p.b", "p.c"):  # not read: stopped as soon as the binlog was known to be gone
        assert (gone[name].error or "").startswith("not loaded: the binlog file binlog.000002 is gone")
        assert gone[name].partitions is None and gone[name].seconds is None
    assert third.snapshot.exact is False
