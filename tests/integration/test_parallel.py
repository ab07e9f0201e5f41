"""Several tables at once, within the source connection limit (enforced by the server itself)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import SourceError
from cdc_migrate.load.runner import run

from .conftest import OptionsFactory


@pytest.fixture
def limited_user(server: Any, database: str) -> Any:
    """A user the server allows only N connections at once."""

    def make(limit: int) -> str:
        name = f"lim_{uuid.uuid4().hex[:8]}"
        server.execute(
            f"CREATE USER '{name}'@'%' IDENTIFIED BY 'etlpw-limited' WITH MAX_USER_CONNECTIONS {limit}",
            f"GRANT SELECT ON `{database}`.* TO '{name}'@'%'",
            f"GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO '{name}'@'%'",
        )
        return name

    return make


def tables(server: Any, database: str) -> None:
    rows = ", ".join(f"({i}, REPEAT('x', 200))" for i in range(1, 20001))
    for name in ("big1", "big2"):
        server.execute(
            f"CREATE TABLE `{database}`.{name} (id INT PRIMARY KEY, pad VARCHAR(200))",
            f"INSERT INTO `{database}`.{name} VALUES {rows}",
        )
    for i in range(4):
        server.execute(
            f"CREATE TABLE `{database}`.small{i} (id INT PRIMARY KEY)",
            f"INSERT INTO `{database}`.small{i} VALUES (1), (2), (3)",
        )
    server.execute(f"ANALYZE TABLE `{database}`.big1, `{database}`.big2")


def options_for(
    make_options: OptionsFactory, database: str, user: str, max_connections: int, position: bool = True
) -> Any:
    return make_options(
        [f"{database}.*"],
        source={"user": user, "password": Secret("etlpw-limited"), "max_connections": max_connections},
        tables={"rows_per_partition": 2000, "max_partitions": 10},
        run={"parallel_tables": 4, "record_binlog_position": position},
    )


def test_tables_load_in_parallel_within_the_connection_limit(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, limited_user: Any
) -> None:
    tables(server, database)
    user = limited_user(4)  # two reads at once, and a live load's binlog reader (two); the server refuses a fifth

    manifest = run(options_for(make_options, database, user, max_connections=2), spark=spark)

    assert [(t.source.split(".")[1], t.status, t.rows) for t in manifest.tables] == [
        ("big1", "loaded", 20000),
        ("big2", "loaded", 20000),
        *[(f"small{i}", "loaded", 3) for i in range(4)],
    ]
    spans = [
        (datetime.fromisoformat(t.started_at[:-1]), datetime.fromisoformat(t.finished_at[:-1]))  # type: ignore[index]
        for t in manifest.tables
    ]
    overlapping = any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])
    assert overlapping, "no two tables loaded at the same time"


def test_the_limit_check_can_fail(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, limited_user: Any, monkeypatch: Any
) -> None:
    # Control: with the preflight's check off, reads beyond what the server allows the user fail the table.
    server.execute(
        f"CREATE TABLE `{database}`.big (id INT PRIMARY KEY, pad VARCHAR(200))",
        f"INSERT INTO `{database}`.big VALUES " + ", ".join(f"({i}, REPEAT('x', 200))" for i in range(1, 40001)),
        f"ANALYZE TABLE `{database}`.big",
    )
    user = limited_user(1)  # one connection at once (no binlog position: no binlog reader); two tasks on local[2]

    import cdc_migrate.planning.capacity as capacity

    unchecked = capacity.UserLimit("'x'@'%'", 0, 0, 0)
    monkeypatch.setattr("cdc_migrate.load.runner.user_limit", lambda source, options: unchecked)
    # Over JDBC (ConnectorX's pool waits for a connection the user may open, up to 30 s, where JDBC fails at once).
    over_options = options_for(make_options, database, user, 2, position=False)
    over_options = replace(over_options, source=replace(over_options.require_source(), reader="jdbc"))
    over = run(over_options, spark=spark).tables[0]
    monkeypatch.undo()
    deadline = time.monotonic() + 30  # the failed job's other read lets go of its connection
    while server.execute(f"SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = '{user}'")[0]["n"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    within = run(options_for(make_options, database, user, 1, position=False), spark=spark).tables[0]

    assert over.status == "failed" and "max_user_connections" in (over.error or "")
    assert (within.status, within.rows, within.partitions) == ("loaded", 40000, 1)  # ranges merged to one


def test_a_user_allowed_too_few_connections_is_refused_before_anything_is_read(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, limited_user: Any, tmp_path: Any
) -> None:
    """The issue's case: seven tables, a user allowed two connections. Refused with what to set, or loaded whole
    within what the user may open."""
    tables(server, database)
    server.execute(f"CREATE TABLE `{database}`.small9 (id INT PRIMARY KEY)")
    two, five = limited_user(2), limited_user(5)
    few = make_options([f"{database}.*"], source={"user": two, "password": Secret("etlpw-limited")})

    with pytest.raises(SourceError, match=rf"'{two}'@'%' may open 2 connections .*MAX_USER_CONNECTIONS"):
        run(few, spark=spark)
    assert not (tmp_path / "manifest.json").exists()
    manifest = run(replace(few, source=replace(few.source, user=five)), spark=spark)

    assert [t.status for t in manifest.tables] == ["loaded"] * 7, [t.error for t in manifest.tables]
