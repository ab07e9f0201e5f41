"""The handoff to CDC against real servers: preconditions, watermarks, a stopped replica, and the proof with the
real Debezium 3.6.3: the load, then every change Debezium sends from the generated offsets written as the
Iceberg sink writes them (tests/integration/sink.py), equals the source's final state row for row and value for
value, for a live source under concurrent writes, for a stopped replica, and for a source connector that ran
before the load (the seed's workflow)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.config.layers import merge
from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.errors import BinlogError
from cdc_migrate.handoff.connectors import topic_name
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.handoff.sink_offsets import sink_offsets
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.runner import run
from cdc_migrate.target.pyiceberg import open_table
from cdc_migrate.testing.server import ThrowawayServer

from . import debezium
from .conftest import EXTERNAL_URL, OptionsFactory
from .sink import SinkTable, apply_events, differences
from .test_types import COLUMNS as EVERY_TYPE_COLUMNS
from .test_types import ROWS as EVERY_TYPE_ROWS

# ---- preconditions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("binlog_format", "STATEMENT", "binlog_format is STATEMENT"),
        ("binlog_row_image", "MINIMAL", "binlog_row_image is MINIMAL"),
        ("binlog_row_metadata", "NO_LOG", "binlog_row_metadata is NO_LOG"),
    ],
)
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


def test_a_live_load_needs_a_user_that_may_read_the_binlog(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, tmp_path: Path
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)",
        "CREATE USER IF NOT EXISTS 'no_repl'@'%' IDENTIFIED BY 'pw-no-repl'",
        f"GRANT SELECT ON `{database}`.* TO 'no_repl'@'%'",
        "GRANT REPLICATION CLIENT ON *.* TO 'no_repl'@'%'",
    )
    options = make_options([f"{database}.*"], source={"user": "no_repl", "password": Secret("pw-no-repl")})

    with pytest.raises(BinlogError, match=r"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO 'no_repl'"):
        run(options, spark=spark)
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

    [warning] = [p for p in manifest.preconditions if p.level == "warning"]
    assert warning.setting == "binlog retention hours"
    assert "CALL mysql.rds_set_configuration('binlog retention hours', 24)" in warning.message
    assert manifest.source.binlog_format == "ROW" and manifest.source.gtid_mode


# ---- watermarks ----------------------------------------------------------------------------------------


class ChangeAfterRead(NullProgress):
    """Changes rows once the load has finished a table, before the load ends."""

    def __init__(self, server: Any, table: str, *statements: str) -> None:
        self.server, self.table, self.statements = server, table, statements

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        if result.source == self.table:
            self.server.execute(*self.statements)


def test_no_change_during_the_load_means_the_watermarks_meet(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")

    manifest = run(make_options([f"{database}.*"]), spark=spark)

    assert manifest.snapshot.exact is True and manifest.snapshot.changes == 0
    assert manifest.binlog == manifest.snapshot.high_watermark == manifest.tables[0].exact_at
    assert manifest.binlog.position == manifest.snapshot.low_watermark.position


def test_a_table_changed_after_its_load_is_brought_to_the_high_watermark(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY, v INT)",
        f"INSERT INTO `{database}`.a VALUES (1, 1), (2, 2)",
        f"CREATE TABLE `{database}`.b (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.b VALUES (1)",
    )
    # a is loaded first (the larger), then a changes while b loads: a is exact at an earlier position than b.
    server.execute(f"ANALYZE TABLE `{database}`.a, `{database}`.b")
    progress = ChangeAfterRead(
        server,
        f"{database}.a",
        f"UPDATE `{database}`.a SET v = 10 WHERE id = 1",
        f"INSERT INTO `{database}`.a VALUES (3, 3)",
        f"DELETE FROM `{database}`.a WHERE id = 2",
    )

    manifest = run(make_options([f"{database}.*"], run={"parallel_tables": 1}), spark=spark, progress=progress)

    assert manifest.snapshot.exact is True
    assert [t.exact_at for t in manifest.tables] == [manifest.binlog, manifest.binlog]
    a = next(t for t in manifest.tables if t.source.endswith(".a"))
    assert a.changes == 3 and a.rows == 2
    rows = iceberg(f"{database}.a").scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [{"id": 1, "v": 10}, {"id": 3, "v": 3}]
    properties = iceberg(f"{database}.a").properties
    assert properties["cdc-migrate.binlog-position"] == str(manifest.binlog.position)


@pytest.mark.parametrize("branches", [True, False], ids=["on-a-branch", "catalog-without-branches"])
def test_the_catch_up_is_one_change_on_main_and_leaves_no_branch(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any, monkeypatch: Any, branches: bool
) -> None:
    """The changes of a table's window are deleted and appended on a branch of its own, then main fast-forwarded:
    main moves once (readers never see the keys deleted without their new images); where the catalog takes no
    branch, one MERGE does the same. A branch a stopped run left is removed."""
    import cdc_migrate.spark.merge as merging

    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.a (k1 INT, k2 VARCHAR(5), v INT, PRIMARY KEY (k1, k2))",
        f"INSERT INTO {db}.a VALUES (1, 'x', 1), (2, 'y', 2), (3, 'z', 3)",
        f"CREATE TABLE {db}.b (id INT PRIMARY KEY)",
        f"INSERT INTO {db}.b VALUES (1)",
        f"ANALYZE TABLE {db}.a, {db}.b",
    )
    progress = ChangeAfterRead(
        server,
        f"{database}.a",
        f"UPDATE {db}.a SET v = 10 WHERE k1 = 1",
        f"UPDATE {db}.a SET k2 = 'w' WHERE k1 = 2",  # a key change: (2, 'y') goes, (2, 'w') comes
        f"DELETE FROM {db}.a WHERE k1 = 3",
        f"INSERT INTO {db}.a VALUES (4, 'q', 4)",
    )
    if not branches:
        monkeypatch.setattr(merging, "_branch", lambda *a: (_ for _ in ()).throw(RuntimeError("no branches here")))
    else:  # a branch a stopped run left behind
        created = merging._branch
        monkeypatch.setattr(merging, "_branch", lambda iceberg: (created(iceberg), created(iceberg))[1])

    manifest = run(make_options([f"{database}.*"], run={"parallel_tables": 1}), spark=spark, progress=progress)

    a = next(t for t in manifest.tables if t.source.endswith(".a"))
    table = iceberg(f"{database}.a")
    rows = table.scan().to_arrow().sort_by([("k1", "ascending"), ("k2", "ascending")]).to_pylist()
    assert manifest.snapshot.exact is True and a.changes == 5 and a.exact_at == manifest.binlog  # (2, "y") too
    assert rows == [{"k1": 1, "k2": "x", "v": 10}, {"k1": 2, "k2": "w", "v": 2}, {"k1": 4, "k2": "q", "v": 4}]
    assert set(table.metadata.refs) == {"main"}, table.metadata.refs
    assert len(table.metadata.snapshot_log) == 2  # main was the load, then the table exact: never in between
    operations = [table.snapshot_by_id(s.snapshot_id).summary.operation.value for s in table.snapshots()]
    assert operations[1:] == (["delete", "append"] if branches else ["overwrite"]), operations  # after the load's


# ---- the proof with the real Debezium ---------------------------------------------------------------------

ACCOUNTS = "id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(12,2) NOT NULL"
ENTRIES = "account_id INT NOT NULL, seq INT NOT NULL, amount BIGINT, memo VARCHAR(20), PRIMARY KEY (account_id, seq)"
# The contract's every type, plus NOT NULL columns with literal defaults (Debezium sends the default in place
# of a value it cannot convert) and every BIGINT UNSIGNED loaded alike (one connector-wide mode).
EVERY_TYPE = (
    EVERY_TYPE_COLUMNS
    + ", dd DATE NOT NULL DEFAULT '2001-02-03', dtd DATETIME(3) NOT NULL DEFAULT '2000-01-01 00:00:00.250', "
    "tmd TIME NOT NULL DEFAULT '01:00:00', tsd TIMESTAMP(3) NOT NULL DEFAULT '2001-01-01 00:00:00.500'"
)
EVERY_TYPE_OVERRIDES = {"bi_u": {"type": "decimal(20,0)"}, "bi_u_big": {"type": "decimal(20,0)"}}
# Changes that reach every rule of the contract, edge values included.
EVERY_TYPE_CHANGES = [
    "d = '0000-00-00', d_nn = '2020-00-15', dt_nn = '0000-00-00 00:00:00', dd = '2000-00-01'",
    "dtd = '0000-00-00 00:00:00', tsd = '0000-00-00 00:00:00', tmd = '-05:00:00'",
    "tm = '838:59:59', tm0 = '24:00:00'",
    "tm = '-00:00:01.5', tm0 = '23:59:59'",
    "y = 0",
    "y = 1999, d = '0005-06-07', dt6 = '0069-01-01 10:00:00.123456'",
    "g = ST_GeomFromText('POINT(1 2)'), p = ST_GeomFromText('POINT(5 6)', 4326)",
    "g = ST_GeomFromText('LINESTRING(0 0, 1 1)', 3857), p = NULL",
    "bi_u = 18446744073709551615, bi_u_big = 9223372036854775808, bi = -1",
    "f = f + 0.1, f72 = 3.14, dbl = 1e-300, d12 = -0.01, d38 = 12345678901234567890.0123456789",
    "vc = 'grüße 😀', st = 'b,c', en = 'small', js = '{\"a\": [1, 2.5, {\"b\": null}]}', ch = 'x  '",
    "st = '', tx = NULL, ch = ''",
    "b1 = 1, b3 = b'111', b16 = b'1000000000000001', b64 = b'" + "10" * 32 + "'",
    "bn = 'z', vb = X'00ff', bl = REPEAT('x', 300)",
    "ts6 = '2030-05-06 07:08:09.123456', dt6 = '2030-05-06 07:08:09.999999', tsd = '2038-01-19 03:14:07.999'",
    "ti = -1, ti_u = 200, si_u = 60000, mi_u = 16000000, i_u = 4000000000, flag = 3",
]


def _every_type_columns() -> list[str]:
    names = []
    for part in EVERY_TYPE.replace("\n", " ").split(","):
        word = part.strip().split(" ")[0] if part.strip() else ""
        if word and word.isidentifier() and word.upper() not in ("PRIMARY", "KEY"):
            names.append(word)
    return names


class Writer(threading.Thread):
    """Inserts, updates (primary keys too) and deletes rows of every table while it runs."""

    def __init__(self, server: Any, database: str, every_type: bool = True, seed: int = 42) -> None:
        super().__init__(daemon=True)
        self.server, self.db, self.every_type = server, database, every_type
        self.stop, self.done, self.rnd = threading.Event(), 0, random.Random(seed)
        self.columns = [c for c in _every_type_columns() if c != "id"]

    def run(self) -> None:
        conn = self.server.connect(init_command="SET time_zone = '+00:00', sql_mode = ''")
        next_id = 100_000
        try:
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    next_id += 1
                    self.step(cur, next_id)
                    self.done += 1
                    time.sleep(0.002)
        finally:
            conn.close()

    def step(self, cur: Any, new_id: int) -> None:
        r, i = self.rnd.random(), self.rnd.randrange(1, 3001)
        db = f"`{self.db}`"
        if self.every_type and r < 0.25:
            j = self.rnd.randrange(1, 200)
            s = self.rnd.random()
            if s < 0.6:
                change = self.rnd.choice(EVERY_TYPE_CHANGES)
                cur.execute(f"UPDATE {db}.every_type SET {change} WHERE id = %s", (j,))
            elif s < 0.75:
                cols = ", ".join(self.columns)
                cur.execute(
                    f"INSERT INTO {db}.every_type (id, {cols}) SELECT %s, {cols} FROM {db}.every_type WHERE id = %s",
                    (new_id, j),
                )
            elif s < 0.9:
                cur.execute(f"UPDATE {db}.every_type SET id = %s WHERE id = %s", (new_id, j))
            else:
                cur.execute(f"DELETE FROM {db}.every_type WHERE id = %s", (j,))
        elif r < 0.45:
            cur.execute(f"UPDATE {db}.accounts SET balance = balance + 1 WHERE id = %s", (i,))
        elif r < 0.55:
            cur.execute(f"UPDATE {db}.accounts SET id = %s WHERE id = %s", (new_id, i))  # a primary-key change
        elif r < 0.65:
            cur.execute(f"DELETE FROM {db}.accounts WHERE id = %s", (i,))
        elif r < 0.75:
            cur.execute(f"INSERT INTO {db}.accounts VALUES (%s, 'new', 1.00)", (new_id,))
        elif r < 0.85:
            cur.execute(f"DELETE FROM {db}.accounts WHERE id = %s", (new_id - 1,))  # an insert deleted at once
            cur.execute(
                f"INSERT INTO {db}.accounts VALUES (%s, 'again', 2.00) ON DUPLICATE KEY UPDATE owner = 'again'",
                (new_id - 1,),
            )
        else:
            cur.execute(
                f"UPDATE {db}.entries SET memo = 'changed', seq = seq + 100000 WHERE account_id = %s AND "
                "seq < 100000 LIMIT 1",
                (i % 300,),
            )


def _seed(server: Any, database: str, every_type: bool = True) -> list[str]:
    db = f"`{database}`"
    statements = [
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE {db}.accounts ({ACCOUNTS})",
        f"CREATE TABLE {db}.entries ({ENTRIES})",
        f"INSERT INTO {db}.accounts VALUES " + ", ".join(f"({i}, 'owner{i}', {i * 10}.50)" for i in range(1, 3001)),
        f"INSERT INTO {db}.entries VALUES "
        + ", ".join(f"({i % 300}, {i}, {i * 3}, 'm{i % 7}')" for i in range(1, 3001)),
        f"CREATE TABLE {db}.{debezium.MARKER_TABLE} (id INT AUTO_INCREMENT PRIMARY KEY)",
    ]
    tables = ["accounts", "entries"]
    if every_type:
        statements += [
            f"CREATE TABLE {db}.every_type ({EVERY_TYPE}) DEFAULT CHARSET utf8mb4",
            # the contract's rows, then copies of them with every id up to 199
            f"INSERT INTO {db}.every_type ({', '.join(_every_type_columns()[:-4])}) "
            f"VALUES {', '.join(EVERY_TYPE_ROWS)}",
        ]
        cols = ", ".join(c for c in _every_type_columns() if c != "id")
        statements += [
            f"INSERT INTO {db}.every_type (id, {cols}) SELECT id + {k * 3}, {cols} FROM {db}.every_type WHERE id <= 3"
            for k in range(1, 66)
        ]
        tables.append("every_type")
    server.execute(*statements, f"ANALYZE TABLE {', '.join(f'{db}.{t}' for t in tables)}")
    return tables


def _options(server: Any, include: list[str], warehouse: Path, manifest: Path, **sections: Any) -> Options:
    base = {
        "source": {"host": server.host, "port": server.port, "user": server.user, "password": Secret(server.password)},
        "tables": {"include": include, "rows_per_partition": 500},
        "catalog": {"kind": "local", "warehouse": str(warehouse)},
        "run": {"manifest": str(manifest), "parallel_tables": 2},
    }
    return Options.from_mapping(merge(base, sections))


def _connectors(manifest_path: Path, out: Path) -> dict[str, Any]:
    assert main(["connectors", "--manifest", str(manifest_path), "--out", str(out)]) == 0
    return {name: json.loads((out / f"{name}.json").read_text()) for name in ("debezium-source", "offsets")}


def _reference(
    server: Any, spark: Any, database: str, tables: list[str], warehouse: Path, tmp_path: Path
) -> dict[str, list[dict[str, Any]]]:
    """The source's final state, loaded by cdc_migrate into its own namespace (the source is quiet now)."""
    namespace = f"ref_{database}"[:60]
    options = _options(
        server,
        [f"{database}.{t}" for t in tables],
        warehouse,
        tmp_path / "reference.json",
        catalog={"namespace": namespace},
        tables={"overrides": _overrides(database, tables)},
    )
    manifest = run(options, spark=spark)
    assert all(t.status == "loaded" for t in manifest.tables), [t.error for t in manifest.tables]
    catalog = CatalogOptions(kind="local", warehouse=str(warehouse))
    return {t: open_table(catalog, f"{namespace}.{t}").scan().to_arrow().to_pylist() for t in tables}


def _overrides(database: str, tables: list[str] | None = None) -> dict[str, Any]:
    if tables is not None and "every_type" not in tables:
        return {}
    return {f"{database}.every_type": {"columns": EVERY_TYPE_OVERRIDES}}


def _sink_tables(warehouse: Path, database: str, tables: list[str]) -> dict[str, SinkTable]:
    catalog = CatalogOptions(kind="local", warehouse=str(warehouse))
    return {f"{database}.{t}": SinkTable.loaded(open_table(catalog, f"{database}.{t}")) for t in tables}


def _compare(sink: dict[str, SinkTable], reference: dict[str, list[dict[str, Any]]], database: str) -> dict[str, Any]:
    out = {}
    for table, rows in reference.items():
        s = sink[f"{database}.{table}"]
        diff = differences(rows, s.live(), s.identifier)
        out[table] = {k: v for k, v in diff.items() if v}
    return {t: d for t, d in out.items() if d}


def _mark(server: Any, database: str) -> None:
    server.execute(f"INSERT INTO `{database}`.{debezium.MARKER_TABLE} VALUES ()")


@pytest.fixture
def dbz_database(dbz_server: ThrowawayServer) -> Iterator[str]:
    name = f"h_{random.randrange(16**8):08x}"
    dbz_server.execute(f"CREATE DATABASE `{name}` DEFAULT CHARSET utf8mb4")
    yield name
    dbz_server.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_a_live_load_then_debezium_from_its_offsets_is_the_source_row_for_row(
    dbz_server: ThrowawayServer, dbz_database: str, spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    db, server = dbz_database, dbz_server
    tables = _seed(server, db)
    writer = Writer(server, db)
    options = _options(
        server,
        [f"{db}.{t}" for t in tables if t != debezium.MARKER_TABLE],
        warehouse,
        tmp_path / "manifest.json",
        tables={"overrides": _overrides(db)},
    )
    started = time.monotonic()
    writer.start()
    try:
        manifest = run(options, spark=spark)
        time.sleep(1.0)  # changes after the load too, for CDC to carry
    finally:
        writer.stop.set()
        writer.join()
    assert writer.done > 300, "the writer barely ran during the load"
    assert [t.status for t in manifest.tables] == ["loaded"] * 3, [t.error for t in manifest.tables]
    assert manifest.snapshot.exact is True and manifest.snapshot.changes > 50
    assert manifest.binlog == manifest.snapshot.high_watermark
    generated = _connectors(tmp_path / "manifest.json", tmp_path / "cdc")
    offset = generated["offsets"]["offsets"][0]["offset"]
    assert (offset["file"], offset["pos"]) == (manifest.binlog.file, manifest.binlog.position)

    # The real Debezium, from the generated offsets with the generated settings (and HANDOFF.md's recovery).
    engine = debezium.start(
        generated["debezium-source"]["config"], server.password, offset, db, {"snapshot.mode": "recovery"}
    )
    _mark(server, db)
    topic = debezium.without_marker(engine.wait(debezium.until_marker))
    events = [v for v in topic.values() if v is not None]
    assert len(events) > 100
    assert set(topic.topics()) == {topic_name("cdc", f"{db}.{t}") for t in tables}

    sink = _sink_tables(warehouse, db, tables)
    written = apply_events(sink, events, commit_every=7)
    reference = _reference(server, spark, db, tables, warehouse, tmp_path)

    assert _compare(sink, reference, db) == {}
    assert all(s.evolutions == {"add column _cdc"} for s in sink.values()), {t: s.evolutions for t, s in sink.items()}
    rows = sum(len(r) for r in reference.values())
    print(
        f"\nlive proof: {len(tables)} tables, {rows} rows, {writer.done} writes, {manifest.snapshot.changes} "
        f"keys folded, {written} CDC events, 0 differences, {time.monotonic() - started:.1f} s"
    )

    # The control: the same load with CDC from the low watermark (what the handoff did before) duplicates.
    low = manifest.snapshot.low_watermark
    engine = debezium.start(
        generated["debezium-source"]["config"],
        server.password,
        {"file": low.file, "pos": low.position},
        db,
        {"snapshot.mode": "recovery"},
    )
    _mark(server, db)
    overlap = debezium.without_marker(engine.wait(debezium.until_marker))
    control = _sink_tables(warehouse, db, tables)
    apply_events(control, [v for v in overlap.values() if v is not None], commit_every=7)
    found = _compare(control, reference, db)
    assert any(d.get("duplicated") for d in found.values()), found


def test_a_truncate_in_a_live_load_then_debezium_from_its_offsets_is_the_source_row_for_row(
    dbz_server: ThrowawayServer, dbz_database: str, spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    """A TRUNCATE carries no row events: a load that merged row events alone kept every truncated row, and CDC,
    starting after the TRUNCATE, never removed them (the sink appends and deletes by key only)."""
    db, server = dbz_database, dbz_server
    tables = _seed(server, db, every_type=False)
    truncate = ChangeAfterRead(
        server,
        f"{db}.accounts",
        f"TRUNCATE TABLE `{db}`.accounts",
        f"INSERT INTO `{db}`.accounts VALUES (1, 'after truncate', 5.00), (2, 'gone', 1.00)",
        f"DELETE FROM `{db}`.accounts WHERE id = 2",
    )
    writer = Writer(server, db, every_type=False, seed=11)
    options = _options(
        server, [f"{db}.{t}" for t in tables], warehouse, tmp_path / "m.json", run={"parallel_tables": 1}
    )
    writer.start()
    try:
        manifest = run(options, spark=spark, progress=truncate)
        time.sleep(0.5)
    finally:
        writer.stop.set()
        writer.join()
    accounts = next(t for t in manifest.tables if t.source.endswith(".accounts"))
    assert manifest.snapshot.exact is True and accounts.applied and accounts.exact_at == manifest.binlog
    _connectors(tmp_path / "m.json", tmp_path / "cdc")

    events = debezium.sent_since(server, tmp_path / "cdc", db)
    sink = _sink_tables(warehouse, db, tables)
    apply_events(sink, events, commit_every=5)
    reference = _reference(server, spark, db, tables, warehouse, tmp_path)

    assert _compare(sink, reference, db) == {}
    assert len(reference["accounts"]) < 3000  # truncated: what is there came after it


@pytest.fixture(scope="module")
def replica_pair() -> Iterator[tuple[ThrowawayServer, ThrowawayServer]]:
    if os.environ.get(EXTERNAL_URL):
        pytest.skip("needs two throwaway servers")
    with (
        ThrowawayServer(server_id=11, extra_args=[debezium.MARIADB_AS_MYSQL]) as primary,
        ThrowawayServer(server_id=12, extra_args=["--log-slave-updates"]) as replica,
    ):
        status = primary.execute("SHOW MASTER STATUS")[0]
        replica.execute(
            f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, MASTER_USER='root', "
            f"MASTER_PASSWORD='', MASTER_LOG_FILE='{status['File']}', MASTER_LOG_POS={status['Position']}, "
            "MASTER_USE_GTID=no",
            "START SLAVE",
        )
        yield primary, replica
        replica.execute("STOP SLAVE")


def _wait_applied(replica: ThrowawayServer, source: ThrowawayServer) -> None:
    target = source.execute("SHOW MASTER STATUS")[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = replica.execute("SHOW SLAVE STATUS")[0]
        if (status["Relay_Master_Log_File"], status["Exec_Master_Log_Pos"]) == (target["File"], target["Position"]):
            return
        time.sleep(0.1)
    raise AssertionError("the replica did not catch up")


@contextlib.contextmanager
def _sql_thread_stopped(replica: ThrowawayServer) -> Iterator[None]:
    replica.execute("STOP SLAVE SQL_THREAD")
    try:
        yield
    finally:
        replica.execute("START SLAVE SQL_THREAD")


def test_a_running_replica_is_refused_before_anything_is_read(
    replica_pair: tuple[ThrowawayServer, ThrowawayServer], tmp_path: Path, warehouse: Path
) -> None:
    _, replica = replica_pair
    options = _options(replica, ["mysql.user"], warehouse, tmp_path / "m.json", snapshot={"kind": "replica"})

    with pytest.raises(BinlogError, match="SQL thread is running.*STOP REPLICA SQL_THREAD"):
        run(options)
    assert not (tmp_path / "m.json").exists()


def test_a_stopped_replica_then_debezium_on_its_source_is_the_source_row_for_row(
    replica_pair: tuple[ThrowawayServer, ThrowawayServer], spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    primary, replica = replica_pair
    db = f"r_{random.randrange(16**8):08x}"
    primary.execute(f"CREATE DATABASE `{db}` DEFAULT CHARSET utf8mb4")
    tables = _seed(primary, db, every_type=False)
    _wait_applied(replica, primary)
    writer = Writer(primary, db, every_type=False, seed=7)
    with _sql_thread_stopped(replica):
        at_stop = primary.execute("SHOW MASTER STATUS")[0]
        writer.start()  # the primary keeps taking writes while the replica is read
        try:
            options = _options(
                replica,
                [f"{db}.{t}" for t in tables],
                warehouse,
                tmp_path / "manifest.json",
                snapshot={"kind": "replica"},
            )
            manifest = run(options, spark=spark)
        finally:
            writer.stop.set()
            writer.join()
    assert writer.done > 100
    assert (manifest.binlog.file, manifest.binlog.position) == (at_stop["File"], at_stop["Position"])
    assert manifest.snapshot.kind == "replica" and manifest.snapshot.exact is True
    assert (manifest.source.cdc_host, manifest.source.cdc_port) == ("127.0.0.1", primary.port)
    generated = _connectors(tmp_path / "manifest.json", tmp_path / "cdc")
    assert generated["debezium-source"]["config"]["database.port"] == str(primary.port)

    events = debezium.sent_since(primary, tmp_path / "cdc", db)
    sink = _sink_tables(warehouse, db, tables)
    written = apply_events(sink, events, commit_every=5)
    _wait_applied(replica, primary)
    reference = _reference(primary, spark, db, tables, warehouse, tmp_path)

    assert written > 50
    assert _compare(sink, reference, db) == {}
    print(
        f"\nreplica proof: {len(tables)} tables, {sum(map(len, reference.values()))} rows, {writer.done} writes "
        f"on the primary, {written} CDC events, 0 differences"
    )
    primary.execute(f"DROP DATABASE `{db}`")


def test_a_source_connector_running_before_the_load_with_the_sink_started_after_it(
    dbz_server: ThrowawayServer, dbz_database: str, spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    """The seed's workflow: the table is added to a running source connector first, then loaded, then its topic is
    added to the sink, which starts in each topic at the offsets `cdc-migrate sink-offsets` gives."""
    db, server = dbz_database, dbz_server
    tables = _seed(server, db, every_type=False)
    seed_connector = {  # the seed document's source connector, with the settings the contract needs
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "tasks.max": "1",
        "database.hostname": server.host,
        "database.port": str(server.port),
        "database.user": server.user,
        "database.server.id": "10000001",
        "topic.prefix": "cdc",
        "table.include.list": ",".join(f"{db}\\.{t}" for t in tables),
        "snapshot.mode": "no_data",
        "snapshot.locking.mode": "none",
        "time.precision.mode": "connect",
        "enable.time.adjuster": "false",
    }
    engine = debezium.start(seed_connector, server.password, None, db)
    time.sleep(3)  # the connector runs before the load starts
    writer = Writer(server, db, every_type=False, seed=3)
    writer.start()
    try:
        manifest = run(_options(server, [f"{db}.{t}" for t in tables], warehouse, tmp_path / "m.json"), spark=spark)
        time.sleep(0.5)
    finally:
        writer.stop.set()
        writer.join()
    _mark(server, db)
    topic = debezium.without_marker(engine.wait(debezium.until_marker))
    records = [(t, 0, n, v) for t in topic.topics() for n, v in enumerate(topic.values(t))]
    reference = _reference(server, spark, db, tables, warehouse, tmp_path)

    dump = tmp_path / "topics.tsv"
    dump.write_text("".join(f"{t}\t{p}\t{o}\t{json.dumps(v) if v else ''}\n" for t, p, o, v in records))
    body = sink_offsets(manifest, records)
    assert main(["sink-offsets", "--manifest", str(tmp_path / "m.json"), "--topics", str(dump)]) == 0
    start = {o["partition"]["kafka_topic"]: o["offset"]["kafka_offset"] for o in body["offsets"]}
    assert all(0 < start[t] < len(topic.values(t)) for t in topic.topics())

    sink = _sink_tables(warehouse, db, tables)
    apply_events(sink, [v for t in topic.topics() for v in topic.values(t)[start[t] :] if v is not None], 9)
    assert _compare(sink, reference, db) == {}

    # The control, the seed's claim: the whole topic, from before the load, duplicates rows.
    control = _sink_tables(warehouse, db, tables)
    apply_events(control, [v for t in topic.topics() for v in topic.values(t) if v is not None], 9)
    assert any(d.get("duplicated") for d in _compare(control, reference, db).values())


def test_the_sink_reads_the_topics_debezium_writes_and_routes_their_tables(
    dbz_server: ThrowawayServer, dbz_database: str, spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    """Debezium sanitises topic names (a space or a non-ASCII letter becomes `_`, one per UTF-16 unit); the sink
    config must subscribe to those topics and route each to its table by the unsanitised source name."""
    db, server = dbz_database, dbz_server
    names = ["my table-x ü", "café.2", "plain"]
    server.execute(
        *(f"CREATE TABLE `{db}`.`{n}` (id INT PRIMARY KEY, v INT)" for n in names),
        f"CREATE TABLE `{db}`.{debezium.MARKER_TABLE} (id INT AUTO_INCREMENT PRIMARY KEY)",
    )
    options = _options(
        server, [f"{db}.*"], warehouse, tmp_path / "m.json", tables={"exclude": [f"{db}.{debezium.MARKER_TABLE}"]}
    )
    manifest = run(options, spark=spark)
    assert [t.status for t in manifest.tables] == ["loaded"] * 3, [t.error for t in manifest.tables]
    generated = _connectors(tmp_path / "m.json", tmp_path / "cdc")
    sink = json.loads((tmp_path / "cdc" / "iceberg-sink.json").read_text())["config"]

    offset = generated["offsets"]["offsets"][0]["offset"]
    engine = debezium.start(
        generated["debezium-source"]["config"], server.password, offset, db, {"snapshot.mode": "recovery"}
    )
    server.execute(*(f"INSERT INTO `{db}`.`{n}` VALUES (1, 1)" for n in names))
    _mark(server, db)
    topic = debezium.without_marker(engine.wait(debezium.until_marker))

    assert sorted(sink["topics"].split(",")) == topic.topics()
    assert "cdc." + db + ".my_table-x__" in topic.topics()
    routes = {k: v for k, v in sink.items() if k.endswith(".route-regex")}
    for value in topic.values():
        source = f"{value['payload']['source']['db']}.{value['payload']['source']['table']}"  # the sink's _cdc.source
        assert sum(bool(re.match(r, source)) for r in routes.values()) == 1, source
