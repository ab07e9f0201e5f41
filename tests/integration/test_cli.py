"""The `cdc-migrate` command as a user runs it: no config file, password from the environment."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.handoff.manifest import read_manifest
from cdc_migrate.target.pyiceberg import open_table
from cdc_migrate.testing.server import free_port

from .conftest import clean_env, run_argv

VENV_BIN = Path(sys.executable).parent
PASSWORD = "etlpw-cli-7f3a"


@pytest.fixture
def etl_user(server: Any, database: str) -> str:
    """A user with a password that may read the test database."""
    server.execute(
        f"CREATE USER IF NOT EXISTS 'etl_cli'@'%' IDENTIFIED BY '{PASSWORD}'",
        f"GRANT SELECT ON `{database}`.* TO 'etl_cli'@'%'",
        "GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'etl_cli'@'%'",
    )
    return "etl_cli"


def test_run_needs_no_file_and_keeps_the_password_out_of_everything(
    server: Any, database: str, etl_user: str, tmp_path: Path
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.items (id INT PRIMARY KEY, name VARCHAR(20))",
        f"INSERT INTO `{database}`.items VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        f"CREATE TABLE `{database}`.times (id INT PRIMARY KEY, t TIME NOT NULL)",
        f"INSERT INTO `{database}`.times VALUES (1, '25:00:00')",
    )
    warehouse, manifest = tmp_path / "wh", tmp_path / "out" / "manifest.json"
    env = clean_env(PASSWORD)

    proc = subprocess.run(
        [
            str(VENV_BIN / "cdc-migrate"),
            "run",
            "--source",
            f"mysql://{etl_user}@{server.host}:{server.port}",
            "--tables",
            f"{database}.*",
            "--catalog",
            "local",
            "--warehouse",
            str(warehouse),
            "--manifest",
            str(manifest),
            "--conf",
            "spark.ui.enabled=false",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )

    assert proc.returncode == 1, proc.stderr  # one table failed
    # progress while loading (the two tables load at once: either may be counted first)
    assert re.search(rf"\[[12]/2\] {database}\.items -> {database}\.items", proc.stderr), proc.stderr
    assert f"{database}.times: FAILED: {database}.times -> {database}.times: {database}.times.t: TIME 25:00:00" in (
        proc.stderr
    )
    assert "1/2 tables loaded" in proc.stdout
    data = json.loads(manifest.read_text())
    assert [(t["source"], t["status"], t["rows"]) for t in data["tables"]] == [
        (f"{database}.items", "loaded", 3),
        (f"{database}.times", "failed", None),
    ]
    table = open_table(CatalogOptions(kind="local", warehouse=str(warehouse)), f"{database}.items")
    assert table.scan().to_arrow().sort_by("id").to_pylist() == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b"},
        {"id": 3, "name": "c"},
    ]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(PASSWORD.encode() not in p.read_bytes() for p in written)
    assert PASSWORD not in proc.stdout + proc.stderr


def test_plan_prints_each_tables_plan(
    server: Any, database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    server.execute(
        f"CREATE TABLE `{database}`.nums (id BIGINT PRIMARY KEY)",
        f"INSERT INTO `{database}`.nums VALUES " + ", ".join(f"({i})" for i in range(10, 3011)),
        f"ANALYZE TABLE `{database}`.nums",
    )

    code = main(
        ["plan", "--source", server.url, "--tables", f"{database}.nums", "--rows-per-partition", "1000", "--json"]
    )

    assert code == 0
    [row] = json.loads(capsys.readouterr().out)
    assert {k: row[k] for k in ("source", "split_column", "min", "max", "partitions", "strategy")} == {
        "source": f"{database}.nums",
        "split_column": "id",
        "min": 10,
        "max": 3010,
        "partitions": 3,
        "strategy": "stride",
    }
    assert row["estimated_rows_per_partition"] == -(-row["estimated_rows"] // 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "mysql://etl_cli:wrong@{host}:{port}", "--tables", "{db}.*"], "access denied"),
        (["--source", "mysql://x@127.0.0.1:{free}", "--tables", "{db}.*"], "cannot reach MySQL at 127.0.0.1:"),
        (
            ["--source", "mysql://root@{host}:{port}", "--tables", "{db}.missing"],
            "table '{db}.missing' does not exist",
        ),
    ],
    ids=["wrong-password", "unreachable", "unknown-table"],
)
def test_errors_are_one_readable_line(
    argv: list[str],
    message: str,
    server: Any,
    database: str,
    etl_user: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    fill = {"host": server.host, "port": server.port, "db": database, "free": free_port()}

    code = main(["plan", *(a.format(**fill) for a in argv)])

    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1
    assert err.startswith("cdc-migrate: error: ") and message.format(**fill) in err
    assert "wrong" not in err


def test_loading_again_into_a_warehouse_that_holds_the_tables_works_in_parallel(
    server: Any, database: str, tmp_path: Path
) -> None:
    # The local catalog is SQLite: a fresh JVM committing tables in parallel into a catalog that already holds
    # them failed with SQLITE_BUSY on every table (and still announced a CDC start).
    server.execute(
        *(f"CREATE TABLE `{database}`.t{i} (id INT PRIMARY KEY)" for i in range(6)),
        *(f"INSERT INTO `{database}`.t{i} VALUES (1), (2)" for i in range(6)),
    )
    env = clean_env(server.password)
    argv = run_argv(server, database, tmp_path / "wh", "--parallel-tables", "4")

    runs = [
        subprocess.run(
            [*argv, "--manifest", str(tmp_path / "m.json"), *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        for extra in ([], ["--force"])
    ]

    for proc in runs:
        assert proc.returncode == 0, proc.stderr[-1500:]
        assert "6/6 tables loaded; CDC starts at binlog" in proc.stdout


@pytest.mark.parametrize(
    ("manifest", "message"),
    [("{tmp}", "is a directory; give a file in it"), ("/proc/cdc-migrate/m.json", "cannot write the manifest")],
    ids=["a-directory", "unwritable"],
)
def test_an_unwritable_manifest_is_refused_before_any_table_is_written(
    server: Any,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    manifest: str,
    message: str,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)")

    code = main(
        [
            "run",
            "--source",
            server.url,
            "--tables",
            f"{database}.*",
            "--warehouse",
            str(tmp_path / "wh"),
            "--manifest",
            manifest.format(tmp=tmp_path),
        ]
    )

    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "wh").exists()


def test_views_left_out_and_a_table_without_key_are_each_said_once(
    server: Any,
    database: str,
    spark: Any,
    warehouse: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    server.execute(
        f"CREATE TABLE `{database}`.nokey (v INT)",
        f"INSERT INTO `{database}`.nokey VALUES (1)",
        f"CREATE VIEW `{database}`.v_nokey AS SELECT v FROM `{database}`.nokey",
    )

    code = main(
        [
            "run",
            "--source",
            server.url,
            "--tables",
            f"{database}.*",
            "--warehouse",
            str(warehouse),
            "--manifest",
            str(tmp_path / "m.json"),
            "--validate",
        ]
    )

    captured = capsys.readouterr()
    err, out = captured.err, captured.out
    assert code == 1, err  # a keyless table of a live source is exact nowhere: the load is not ready for CDC
    assert err.count(f"left out 1 view(s) the patterns match (only base tables are loaded): {database}.v_nokey") == 1
    assert err.count(f"{database}.nokey has no primary key") == 1
    assert f"left out 1 the patterns match (a view: only base tables are loaded): {database}.v_nokey" in out
    assert [(x.source, x.why) for x in read_manifest(tmp_path / "m.json").left_out] == [
        (f"{database}.v_nokey", "a view: only base tables are loaded")
    ]


def test_two_runs_at_once_on_one_manifest_and_warehouse_one_is_refused_naming_the_other(
    server: Any, database: str, tmp_path: Path
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")
    argv = run_argv(server, database, tmp_path / "wh", "--manifest", str(tmp_path / "m.json"))
    env = clean_env(server.password)

    both = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
    ended = [(p.pid, p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in both if p.stdout and p.stderr]

    codes = sorted(code for _, code, _, _ in ended)
    assert codes == [0, 1], ended
    [(winner, _, out, _)] = [e for e in ended if e[1] == 0]
    [(_, _, _, refused)] = [e for e in ended if e[1] == 1]
    assert f"is in use by cdc-migrate run on {socket.gethostname()}, pid {winner}, started " in refused, refused
    assert "one run at a time" in refused and len(refused.strip().splitlines()) == 1
    assert "CDC starts at" in out and json.loads((tmp_path / "m.json").read_text())["tables"][0]["status"] == "loaded"


def test_in_a_terminal_a_live_display_and_sigterm_ends_the_run_as_ctrl_c_with_its_summary(
    server: Any, database: str, tmp_path: Path
) -> None:
    """stderr on a pseudo-terminal: rich's live display, no log lines; SIGTERM (timeout, systemd, a stopped Glue
    job) once a table has loaded: exit 143, the tables not loaded recorded as interrupted, the summary printed."""
    import os
    import pty
    import select
    import signal
    import time

    for i in range(40):
        server.execute(
            f"CREATE TABLE `{database}`.t{i:02d} (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t{i:02d} VALUES (1)"
        )
    manifest = tmp_path / "m.json"
    argv = run_argv(server, database, tmp_path / "wh", "--manifest", str(manifest), "--parallel-tables", "1")
    leader, follower = pty.openpty()
    env = {**clean_env(server.password), "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    shown, deadline = b"", time.monotonic() + 300
    with contextlib.suppress(OSError):  # EIO once the process has closed the terminal
        while b"loaded 1 rows" not in shown and time.monotonic() < deadline and proc.poll() is None:
            if select.select([leader], [], [], 1)[0]:
                shown += os.read(leader, 65536)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    with contextlib.suppress(OSError):
        while select.select([leader], [], [], 0.5)[0]:
            shown += os.read(leader, 65536)
    os.close(leader)
    screen = shown.decode("utf-8", "replace")

    assert proc.returncode == 143, (out, screen)
    assert "\x1b[" in screen and "rows/s" in screen and " INFO " not in screen, screen  # drawn, not logged
    assert "terminated (SIGTERM)" in screen
    record = json.loads(manifest.read_text())
    statuses = [t["status"] for t in record["tables"]]
    assert "loaded" in statuses and "skipped" in statuses, statuses
    assert (
        "the run was interrupted" in {t.get("error") or "" for t in record["tables"] if t["status"] == "skipped"}.pop()
    )
    assert "the run stopped; the manifest" in out and "run again to go on" in out, out
