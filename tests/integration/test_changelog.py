"""The change log against the real server: the last state of every changed key in a window of the binlog
(primary-key changes, deletes, several rows per event, a rotated binlog), and the same changes merged into
Spark rows whether they travel in the plan or through a scratch directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import ColumnOverride, SourceOptions
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.errors import BinlogError
from cdc_migrate.naming import TableName
from cdc_migrate.source.changelog import ChangeLog
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.spark.merge import changes_frames


def _source(server: Any) -> SourceOptions:
    return SourceOptions(host=server.host, port=server.port, user=server.user, password=Secret(server.password))


def _window(server: Any, options: SourceOptions, names: list[TableName], *statements: str) -> tuple[Any, Any, Any]:
    """The tables as planned, the binlog position before `statements` and the position after them."""
    with MySQLSource.connect(options) as source:
        info = source.server_info()
        tables = source.describe(names)
        start = source.binlog_position(info)
        server.execute(*statements)
        return tables, start, source.binlog_position(info)


def _pushed(spark: Any, options: SourceOptions, table: Any, mapping: Any) -> Any:
    """The schema of the load's pushed SELECT of `table` (what changes are converted from), over JDBC."""
    from cdc_migrate.planning.partitions import Partitioning, plan_table
    from cdc_migrate.spark.jdbc import read_spec

    plan = plan_table(table, table.name, mapping, Partitioning(250_000, 1, 1), None)
    spec = read_spec(plan, options, "mariadb")
    return spark.read.jdbc(spec.url, spec.table, properties=spec.properties).schema


def test_the_log_keeps_the_last_state_of_each_changed_key_in_a_window(server: Any, database: str) -> None:
    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(10))",
        f"CREATE TABLE {db}.other (id INT PRIMARY KEY)",
        f"INSERT INTO {db}.t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    options = _source(server)
    with MySQLSource.connect(options) as source:
        server_info = source.server_info()
        table = source.describe([TableName(database, "t")])[TableName(database, "t")]
        start = source.binlog_position(server_info)
        server.execute(
            f"UPDATE {db}.t SET v = 'a2' WHERE id = 1",
            f"UPDATE {db}.t SET id = 20 WHERE id = 2",  # a key change: 2 is gone, 20 is there
            f"INSERT INTO {db}.t VALUES (4, 'd'), (5, 'e')",  # one event, two rows
            f"INSERT INTO {db}.other VALUES (1)",
        )
        middle = source.binlog_position(server_info)
        server.execute(
            "FLUSH BINARY LOGS",
            f"DELETE FROM {db}.t WHERE id IN (4, 3)",
            f"INSERT INTO {db}.t VALUES (3, 'c again')",
            f"UPDATE {db}.t SET v = 'last' WHERE id = 5",
        )
        end = source.binlog_position(server_info)

    with ChangeLog(options, start, {table.name: table}) as log:
        log.check()
        log.read_to(end)
        first = {c.key: c.image for c in log.changes(table.name, None, middle)}
        second = {c.key: c.image for c in log.changes(table.name, middle, end)}
        whole = {c.key: c.image for c in log.changes(table.name, None, end)}

        assert log.count(table.name, None, middle) == 5 and end.file != middle.file
    assert first == {(1,): (1, "a2"), (2,): None, (20,): (20, "b"), (4,): (4, "d"), (5,): (5, "e")}
    assert second == {(4,): None, (3,): (3, "c again"), (5,): (5, "last")}
    assert whole == {(1,): (1, "a2"), (2,): None, (20,): (20, "b"), (3,): (3, "c again"), (4,): None, (5,): (5, "last")}


def test_many_changes_merge_the_same_through_a_scratch_directory(
    server: Any, database: str, spark: Any, tmp_path: Path
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY, d DATETIME(6), v DECIMAL(8,2) NOT NULL)",
    )
    options = _source(server)
    name = TableName(database, "t")
    tables, start, end = _window(
        server,
        options,
        [name],
        f"INSERT INTO `{database}`.t VALUES "
        + ", ".join(f"({i}, '2020-01-01 00:00:0{i % 10}.123456', {i}.5)" for i in range(1, 101)),
        f"DELETE FROM `{database}`.t WHERE id > 90",
    )
    table = tables[name]
    mapping = map_table(table)
    pushed = _pushed(spark, options, table, mapping)

    with ChangeLog(options, start, {name: table}) as log:
        log.read_to(end)
        in_plan = changes_frames(spark, mapping, pushed, log.changes(name, None, end))
        spilled = changes_frames(spark, mapping, pushed, log.changes(name, None, end), str(tmp_path / "s"), 7, 10)

        assert (in_plan.count, in_plan.small, spilled.small) == (100, True, False)
        assert sorted(spilled.keys.collect()) == sorted(in_plan.keys.collect())
        assert sorted(spilled.upserts.collect()) == sorted(in_plan.upserts.collect())
        assert in_plan.upserts.count() == 90
        assert any((tmp_path / "s").rglob("*.parquet"))


def test_statements_and_rows_of_another_definition_are_kept_apart_from_other_tables_changes(
    server: Any, database: str
) -> None:
    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v VARCHAR(10))",
        f"CREATE TABLE {db}.other (id INT PRIMARY KEY)",
    )
    options = _source(server)
    names = [TableName(database, "t"), TableName(database, "other")]
    tables, start, end = _window(
        server,
        options,
        names,
        f"INSERT INTO {db}.t VALUES (1, 'a')",
        f"TRUNCATE {db}.t",
        f"ALTER TABLE {db}.t ADD COLUMN c INT",  # a DDL, then rows the planned columns do not describe
        f"INSERT INTO {db}.t VALUES (2, 'b', 3)",
        f"INSERT INTO {db}.other VALUES (1)",
    )

    with ChangeLog(options, start, tables) as log:
        log.read_to(end)
        statements = log.statements(names[0], None, end)
        other = [c.key for c in log.changes(names[1], None, end)]
        changed = {c.key: c.image for c in log.changes(names[0], None, end)}

    assert [s.kind for s in statements] == ["truncate", "alter", "definition"]
    assert statements[1].statement == f"ALTER TABLE {db}.t ADD COLUMN c INT"
    assert "3 columns where the table had 2" in statements[2].statement
    assert statements[0].position.key() < statements[1].position.key() < statements[2].position.key() <= end.key()
    assert changed == {(1,): (1, "a")} and other == [(1,)]


def test_every_type_merges_the_same_through_parquet_as_through_the_plan(
    server: Any, database: str, spark: Any, tmp_path: Path
) -> None:
    from .test_types import COLUMNS, ROWS

    db = f"`{database}`"
    server.execute(f"CREATE TABLE {db}.t ({COLUMNS})")
    options = _source(server)
    name = TableName(database, "t")
    tables, start, end = _window(
        server, options, [name], "SET SESSION sql_mode = ''", f"INSERT INTO {db}.t VALUES {', '.join(ROWS)}"
    )
    table = tables[name]
    mapping = map_table(table, {"bi_u_big": ColumnOverride("decimal(20,0)")})
    pushed = _pushed(spark, options, table, mapping)

    with ChangeLog(options, start, {name: table}) as log:
        log.read_to(end)
        in_plan = changes_frames(spark, mapping, pushed, log.changes(name, None, end))
        parquet = changes_frames(spark, mapping, pushed, log.changes(name, None, end), str(tmp_path / "s"), in_plan=0)

        assert (in_plan.small, parquet.small, in_plan.count) == (True, False, len(ROWS))
        assert sorted(parquet.upserts.collect()) == sorted(in_plan.upserts.collect())
        assert sorted(parquet.keys.collect()) == sorted(in_plan.keys.collect())


@pytest.fixture
def row_metadata(server: Any) -> Iterator[Callable[[str], None]]:
    """Sets the server's binlog_row_metadata (MINIMAL: MySQL 8's and Aurora 3's default) for the test."""
    before = server.execute("SELECT @@global.binlog_row_metadata AS v")[0]["v"]

    def set_to(value: str) -> None:
        server.execute(f"SET GLOBAL binlog_row_metadata = '{value}'")

    yield set_to
    set_to(before)


def _every_type_window(server: Any, options: Any, name: TableName, *more: str) -> Any:
    """The contract's every-type table (its NOT NULL columns after them) made once, then emptied, filled with
    every type's rows and updated in a binlog window (then `more`): _window's tables, start and end."""
    from .test_handoff import EVERY_TYPE, EVERY_TYPE_CHANGES, EVERY_TYPE_COLUMNS
    from .test_types import ROWS

    table = f"`{name.namespace}`.`{name.name}`"
    server.execute(f"CREATE TABLE IF NOT EXISTS {table} ({EVERY_TYPE})")
    columns = ", ".join(
        p.strip().split(" ")[0] for p in EVERY_TYPE_COLUMNS.replace("\n", " ").split(",") if p.strip()[:1].islower()
    )
    return _window(
        server,
        options,
        [name],
        "SET SESSION sql_mode = ''",
        f"DELETE FROM {table}",
        f"INSERT INTO {table} ({columns}) VALUES {', '.join(ROWS)}",
        *(f"UPDATE {table} SET {change} WHERE id = {1 + i % 3}" for i, change in enumerate(EVERY_TYPE_CHANGES)),
        *more,
    )


def test_minimal_row_metadata_gives_the_same_changes_as_full_by_position(
    server: Any, database: str, row_metadata: Callable[[str], None], caplog: pytest.LogCaptureFixture
) -> None:
    """Without column names (nor ENUM and SET labels) in the binlog, every type decodes by position alike; the
    binlog library's banner about it goes to the debug log, not to stderr."""
    options, name = _source(server), TableName(database, "t")
    read: dict[str, dict[Any, Any]] = {}
    for metadata in ("FULL", "MINIMAL"):
        row_metadata(metadata)
        tables, start, end = _every_type_window(server, options, name)
        table = tables[name]
        with ChangeLog(options, start, {name: table}) as log:
            log.read_to(end)
            assert log.statements(name, None, end) == []
            read[metadata] = {c.key: c.image for c in log.changes(name, None, end)}

    differ = [
        (key, i, full, minimal)
        for key in read["FULL"]
        for i, (full, minimal) in enumerate(zip(read["FULL"][key] or (), read["MINIMAL"].get(key) or (), strict=False))
        if full != minimal
    ]
    assert not differ and read["MINIMAL"].keys() == read["FULL"].keys() and len(read["FULL"]) == 3
    assert {image[25] for image in read["MINIMAL"].values() if image} <= {"small", "large", None}  # ENUM labels
    assert [r for r in caplog.records if r.levelno >= logging.WARNING and "BINLOG_ROW_METADATA" in r.getMessage()] == []


def test_a_type_change_in_the_window_is_seen_by_position_too(
    server: Any, database: str, row_metadata: Callable[[str], None]
) -> None:
    """The table map's types catch a definition change even where no statement names the table (here one the
    statement reader would see too: the row events are checked on their own)."""
    db = f"`{database}`"
    server.execute(f"CREATE TABLE {db}.t (id INT PRIMARY KEY, v INT)")
    row_metadata("MINIMAL")
    options = _source(server)
    name = TableName(database, "t")
    tables, start, end = _window(
        server, options, [name], f"ALTER TABLE {db}.t MODIFY v VARCHAR(10)", f"INSERT INTO {db}.t VALUES (1, 'x')"
    )
    table = tables[name]

    with ChangeLog(options, start, {name: table}) as log:
        log.read_to(end)
        statements = log.statements(name, None, end)

    assert [s.kind for s in statements] == ["alter", "definition"]
    assert "column v is logged as type 15, not as the planned int" in statements[1].statement


def test_a_binlog_file_gone_from_the_server_is_said_so_with_the_retention_to_set(
    server: Any, database: str, tmp_path: Path
) -> None:
    """What a load whose binlog was purged meets: the server no longer has the file (error 1236)."""
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)")
    options = _source(server)
    with MySQLSource.connect(options) as source:
        table = source.describe([TableName(database, "t")])[TableName(database, "t")]
        now = source.binlog_position(source.server_info())
    gone = replace(now, file=now.file.rsplit(".", 1)[0] + ".000000")

    with ChangeLog(options, gone, {table.name: table}, str(tmp_path / "spool")) as log:
        assert os.path.dirname(log.directory) == str(tmp_path / "spool")  # the run's own spool root
        with pytest.raises(BinlogError) as raised:
            log.read_to(now)

    message = str(raised.value)
    assert message.startswith(
        f"the binlog file {gone.file} is gone from {options.address} (purged while it was needed)"
    )
    assert "binlog_expire_logs_seconds" in message and "binlog retention hours" in message
    assert not (tmp_path / "spool").exists()  # the log's directory is removed when it closes, the root with it


def test_the_compiled_row_readers_give_exactly_what_the_binlog_library_gives(
    server: Any, database: str, row_metadata: Callable[[str], None]
) -> None:
    """Every type (zero and partial dates, negative and fractional TIME, BIT, SET, ENUM, GEOMETRY, JSON, DECIMAL
    at every width, unsigned integers at their maxima), inserted, updated (a key too) and deleted, read from the
    binlog by source/rowdecode.py's compiled readers and by python-mysql-replication: the same keys, the same
    values of the same types, with full row metadata and with MINIMAL."""
    options, name = _source(server), TableName(database, "t")
    for metadata in ("FULL", "MINIMAL"):
        row_metadata(metadata)
        tables, start, end = _every_type_window(
            server,
            options,
            name,
            f"UPDATE `{database}`.t SET id = id + 100 WHERE id = 2",
            f"DELETE FROM `{database}`.t WHERE id = 3",
        )
        read = {}
        for compiled in (True, False):
            with ChangeLog(options, start, {name: tables[name]}, compiled=compiled) as log:
                log.read_to(end)
                assert log.compiled == ({str(name)} if compiled else set())
                read[compiled] = [(repr(c.key), repr(c.image)) for c in log.changes(name, None, end)]

        assert read[True] == read[False] and len(read[True]) >= 4, metadata
