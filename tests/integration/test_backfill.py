"""Statements without row events in a live load's window, against the real server: a TRUNCATE is applied (the
table emptied there, the rows written after it merged in), whether it ran before the table was read or after its
commit; DROP, RENAME, ALTER and index DDL fail the table with the statement named, qualified or under the event's
default database, one table or several; statements that change nothing leave the load exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.handoff.manifest import Manifest, TableResult
from cdc_migrate.load.progress import LogProgress, NullProgress
from cdc_migrate.load.runner import run
from cdc_migrate.planning.partitions import TablePlan

from .conftest import OptionsFactory, run_argv


class Statements(NullProgress):
    """Runs statements on the server when the load reaches a table: before its read starts ("before") or once it
    is loaded and exact, while the other table still loads ("after")."""

    def __init__(self, server: Any, table: str, when: str, *statements: str) -> None:
        self.server, self.table, self.when, self.statements = server, table, when, statements

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        if self.when == "before" and str(plan.source.name) == self.table:
            self.server.execute(*self.statements)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        if self.when == "after" and result.source == self.table:
            self.server.execute(*self.statements)


def _tables(server: Any, db: str, rows: int = 100) -> None:
    """`a` with `rows` rows (loaded first: the larger), `b` with one (loaded second)."""
    server.execute(
        f"CREATE TABLE `{db}`.a (id INT PRIMARY KEY, v VARCHAR(20))",
        f"INSERT INTO `{db}`.a SELECT seq, CONCAT('v', seq) FROM `{db}`.seq_1_to_{rows}",
        f"CREATE TABLE `{db}`.b (id INT PRIMARY KEY)",
        f"INSERT INTO `{db}`.b VALUES (1)",
        f"ANALYZE TABLE `{db}`.a, `{db}`.b",
    )


def _load(make_options: OptionsFactory, spark: Any, db: str, progress: NullProgress) -> Manifest:
    return run(make_options([f"{db}.*"], run={"parallel_tables": 1}), spark=spark, progress=progress)


def warehouse_has(iceberg: Any, name: str) -> bool:
    from pyiceberg.exceptions import NoSuchTableError

    try:
        iceberg(name)
    except NoSuchTableError:
        return False
    return True


def _result(manifest: Manifest, name: str) -> TableResult:
    return next(t for t in manifest.tables if t.source.endswith(f".{name}"))


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_truncate_in_the_window_is_applied_and_the_rows_after_it_merged(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any, when: str
) -> None:
    _tables(server, database)
    statements = Statements(
        server,
        f"{database}.a",
        when,
        f"UPDATE `{database}`.a SET v = 'gone' WHERE id = 1",  # before the TRUNCATE: undone by it
        f"TRUNCATE TABLE `{database}`.a",
        f"INSERT INTO `{database}`.a VALUES (7, 'after'), (8, 'x')",
        f"DELETE FROM `{database}`.a WHERE id = 8",
    )

    manifest = _load(make_options, spark, database, statements)

    a = _result(manifest, "a")
    assert manifest.snapshot.exact is True and a.exact_at == manifest.binlog
    assert a.applied and "TRUNCATE TABLE" in a.applied[0] and a.rows == 1
    assert iceberg(f"{database}.a").scan().to_arrow().to_pylist() == [{"id": 7, "v": "after"}]


def test_a_truncate_after_the_commit_as_a_user_runs_it(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    """The issue's case: 200,000 rows read and committed, then TRUNCATE before the high watermark."""
    _tables(server, database, rows=200_000)

    manifest = _load(
        make_options, spark, database, Statements(server, f"{database}.a", "after", f"USE `{database}`", "TRUNCATE a")
    )

    assert manifest.snapshot.exact is True
    assert _result(manifest, "a").rows == 0 and len(iceberg(f"{database}.a").scan().to_arrow()) == 0
    assert iceberg(f"{database}.a").properties["cdc-migrate.binlog-position"] == str(manifest.binlog.position)


# (statement as run under `USE <db>` where it is unqualified, the words the table's error carries)
CHANGES = [
    ("ALTER TABLE a ADD COLUMN c INT", "changed its definition"),
    ("ALTER TABLE {db}.a DROP COLUMN v", "changed its definition"),
    ("CREATE INDEX a_v ON a (v)", "changed its definition"),
    ("RENAME TABLE a TO a_old, a_new TO a", "was renamed"),
    ("DROP TABLE a", "was dropped"),
]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("statement", "says"), CHANGES, ids=[c[0] for c in CHANGES])
def test_another_statement_in_the_window_fails_the_table_naming_it(
    server: Any,
    spark: Any,
    database: str,
    make_options: OptionsFactory,
    iceberg: Any,
    when: str,
    statement: str,
    says: str,
) -> None:
    _tables(server, database)
    server.execute(f"CREATE TABLE `{database}`.a_new LIKE `{database}`.a")
    sql = statement.format(db=f"`{database}`")
    # Unqualified names resolve under the event's default database; a qualified one from another.
    use = f"USE `{database}`" if "{db}" not in statement else "USE mysql"
    progress = Statements(server, f"{database}.a", when, use, sql)

    manifest = run(
        make_options([f"{database}.a", f"{database}.b"], run={"parallel_tables": 1}), spark=spark, progress=progress
    )

    a = _result(manifest, "a")
    assert a.status == "failed" and says in a.error and sql.split(" ")[0] in a.error, a.error
    assert "run again" in a.error or "--exclude" in a.error
    if warehouse_has(iceberg, f"{database}.a"):  # the table its replace left in Iceberg is named
        assert f"Iceberg table {database}.a" in a.error and "exact nowhere" in a.error, a.error
    assert _result(manifest, "b").status == "loaded" and _result(manifest, "b").exact_at == manifest.binlog


def test_one_statement_naming_two_loaded_tables_fails_both(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    _tables(server, database)
    server.execute(f"CREATE TABLE `{database}`.c (id INT PRIMARY KEY)")
    db = f"`{database}`"
    progress = Statements(server, f"{database}.a", "after", f"RENAME TABLE {db}.a TO {db}.x, {db}.b TO {db}.y")

    manifest = run(
        make_options([f"{database}.a", f"{database}.b", f"{database}.c"], run={"parallel_tables": 1}),
        spark=spark,
        progress=progress,
    )

    assert {t.source.split(".")[1]: t.status for t in manifest.tables} == {"a": "failed", "b": "failed", "c": "loaded"}


def test_statements_that_change_nothing_leave_the_load_exact(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    _tables(server, database)
    server.execute(f"CREATE TABLE `{database}`.unloaded (id INT PRIMARY KEY)")
    progress = Statements(
        server,
        f"{database}.a",
        "after",
        f"USE `{database}`",
        "ANALYZE TABLE a",
        "OPTIMIZE TABLE a",
        "CREATE TABLE IF NOT EXISTS a (id INT PRIMARY KEY)",
        "ALTER TABLE unloaded ADD COLUMN c INT",
        "TRUNCATE unloaded",
    )

    manifest = run(
        make_options([f"{database}.a", f"{database}.b"], run={"parallel_tables": 1}), spark=spark, progress=progress
    )

    assert manifest.snapshot.exact is True and [t.status for t in manifest.tables] == ["loaded", "loaded"]
    assert _result(manifest, "a").applied is None and _result(manifest, "a").rows == 100


def test_the_cli_does_not_announce_a_cdc_start_after_an_alter_without_row_changes(
    server: Any, database: str, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The issue's case, as a user runs it: ALTER ... ADD COLUMN after the table's commit, no row change after."""
    _tables(server, database)

    class AlterAfterA(LogProgress, Statements):
        def __init__(self) -> None:
            LogProgress.__init__(self)
            Statements.__init__(self, server, f"{database}.a", "after", f"ALTER TABLE `{database}`.a ADD c INT")

        def table_finished(self, index: int, total: int, result: TableResult) -> None:
            Statements.table_finished(self, index, total, result)
            LogProgress.table_finished(self, index, total, result)

    monkeypatch.setattr("cdc_migrate.cli.live.LogProgress", AlterAfterA)
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    argv = run_argv(server, database, warehouse, "--manifest", str(tmp_path / "m.json"), "--parallel-tables", "1")

    code = main(argv[1:])

    out = capsys.readouterr().out
    assert code == 1
    assert "CDC starts at" not in out and "not ready for CDC" in out
    assert "changed its definition while it was loaded (`ALTER TABLE" in out
