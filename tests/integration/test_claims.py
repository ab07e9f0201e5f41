"""A claim ("this table is exactly the source at P") is bound to the snapshot it was made of, and every command that
relies on one checks it: a `run --force` killed with SIGKILL after it replaced a claimed table, an old manifest
whose table was loaded again since, keyless tables on a live source and failed tables never leave `exact` where it
is false; the sink's own commits on top of a claimed snapshot keep it."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.handoff.manifest import SCHEMA_PATH, read_manifest
from cdc_migrate.load.runner import run
from cdc_migrate.target.pyiceberg import open_table
from cdc_migrate.validation.validator import validate
from tests.claimed import sink_commit

from .conftest import CDC_MIGRATE, OptionsFactory, clean_env
from .glue_standins import glue_argv, write_config


class Updates(threading.Thread):
    """Updates rows of a table (keys 1..n) while it runs."""

    def __init__(self, server: Any, table: str, keys: int) -> None:
        super().__init__(daemon=True)
        self.server, self.table, self.keys = server, table, keys
        self.stop, self.done, self.rnd = threading.Event(), 0, random.Random(5)

    def run(self) -> None:
        conn = self.server.connect()
        try:
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    cur.execute(f"UPDATE {self.table} SET v = v + 1 WHERE id = %s", (self.rnd.randrange(1, self.keys),))
                    self.done += 1
                    time.sleep(0.002)
        finally:
            conn.close()

    def __enter__(self) -> Updates:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


def _current_snapshot(warehouse: Path, name: str) -> int | None:
    try:
        return open_table(CatalogOptions(kind="local", warehouse=str(warehouse)), name).metadata.current_snapshot_id
    except Exception:
        return None


def _kill_when_replaced(argv: list[str], env: dict[str, str], warehouse: Path, name: str, claimed: int) -> None:
    """Runs `argv` and kills it and its JVM with SIGKILL as soon as the table's main is no longer `claimed`."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 240
    while _current_snapshot(warehouse, name) == claimed and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _current_snapshot(warehouse, name) != claimed, "the run ended before it replaced the table"


def _source_rows(server: Any, table: str) -> list[tuple[int, int]]:
    return [(r["id"], r["v"]) for r in server.execute(f"SELECT id, v FROM {table} ORDER BY id")]


def _iceberg_rows(iceberg: Any, name: str) -> list[tuple[int, int]]:
    rows = iceberg(name).scan().to_arrow().sort_by("id").to_pylist()
    return [(r["id"], r["v"]) for r in rows]


def _connectors(manifest: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["connectors", "--manifest", str(manifest), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_killed_forced_reload_and_an_old_manifest_leave_no_claim_any_command_trusts(
    server: Any,
    spark: Any,
    database: str,
    make_options: OptionsFactory,
    warehouse: Path,
    iceberg: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table, name = f"`{database}`.t", f"{database}.t"
    server.execute(
        f"CREATE TABLE {table} (id INT PRIMARY KEY, v INT NOT NULL)",
        f"INSERT INTO {table} SELECT seq, 0 FROM `{database}`.seq_1_to_100000",
        f"ANALYZE TABLE {table}",
    )
    options = make_options([f"{database}.*"])
    manifest = Path(options.run.manifest or "")
    first = run(options, spark=spark)
    [loaded] = first.tables
    assert first.snapshot.exact is True and loaded.exact_at == first.binlog
    assert iceberg(name).properties["cdc-migrate.exact-snapshot-id"] == str(loaded.snapshot_id)  # bound
    old = tmp_path / "old-manifest.json"
    shutil.copy(manifest, old)  # a claim of snapshot S1 at P1, kept aside

    server.execute(f"INSERT INTO {table} SELECT seq, 1 FROM `{database}`.seq_100001_to_101000")  # after P1
    argv = [CDC_MIGRATE, "run", "--source", server.url, "--tables", f"{database}.*", "--warehouse", str(warehouse)]
    argv += ["--manifest", str(manifest), "--force", "--conf", "spark.ui.enabled=false"]
    with Updates(server, table, 100_000):
        _kill_when_replaced(argv, clean_env(server.password), warehouse, name, loaded.snapshot_id or 0)

    # The manifest the killed run left claims nothing: it said so before it replaced the table.
    killed = read_manifest(manifest)
    assert [t.source for t in killed.tables if t.exact_at is not None] == []
    assert killed.snapshot is None or killed.snapshot.exact is not True
    code, said = _connectors(manifest, tmp_path / "cdc-killed", capsys)
    assert code == 2 and "no table of this load is exactly the source" in said
    with pytest.raises(ConfigError, match="no loaded table of"):
        validate(options, str(manifest), spark=spark)

    # The manifest kept aside claims S1 at P1; main is the killed run's snapshot: every command sees through it.
    code, said = _connectors(old, tmp_path / "cdc-old", capsys)
    assert code == 2 and "its claim no longer holds" in said and "does not descend from the claimed snapshot" in said
    assert not (tmp_path / "cdc-old").exists()
    checked = validate(options, str(old), spark=spark)
    [validation] = [t.validation for t in checked.tables]
    assert (
        validation is not None and validation.exact is False and "its claim no longer holds" in (validation.note or "")
    )
    assert validation.changed_since is None  # not explained away as changes since the load
    assert checked.snapshot.exact is False and checked.tables[0].exact_at is None  # the file says so now too

    resumed = run(make_options([f"{database}.*"], run={"manifest": str(old)}), spark=spark)
    [again] = resumed.tables
    assert again.snapshot_id != loaded.snapshot_id  # loaded again, not kept
    assert resumed.snapshot.exact is True and again.exact_at == resumed.binlog
    assert _iceberg_rows(iceberg, name) == _source_rows(server, table)

    # The sink's commits on top of the claimed snapshot keep the claim; anyone else's voids it.
    sink_commit(iceberg(name), [{"id": 200_001, "v": 7}])  # inserts CDC delivered after the position
    sink_commit(iceberg(name), [{"id": 200_002, "v": 7}])
    code, said = _connectors(old, tmp_path / "cdc-sink", capsys)
    assert code == 0 and f"CDC continues 1 table(s): {name}" in said
    iceberg(name).delete(f"id = {1}")  # a write that is not the sink's
    code, said = _connectors(old, tmp_path / "cdc-other", capsys)
    assert code == 2 and "was written by a writer other than the sink" in said


def test_keyless_tables_on_a_live_source_never_claim_a_position_and_the_glue_job_fails(
    server: Any,
    spark: Any,
    database: str,
    warehouse: Path,
    tmp_path: Path,
    capsys: Any,
    glue_entry: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.keyed (id INT PRIMARY KEY, v INT NOT NULL)",
        f"CREATE TABLE {db}.uniq (id INT NOT NULL UNIQUE, v INT NOT NULL)",
        f"CREATE TABLE {db}.heap (id INT NOT NULL, v INT NOT NULL)",
        f"CREATE TABLE {db}.quiet (id INT NOT NULL, v INT NOT NULL)",  # no key, nothing writes to it
        *(f"INSERT INTO {db}.{t} SELECT seq, 0 FROM {db}.seq_1_to_20000" for t in ("keyed", "uniq", "heap", "quiet")),
    )
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    config = write_config(tmp_path, server, warehouse, f"{database}.*")
    path = tmp_path / "manifest.json"

    keyed, uniq, heap = (Updates(server, f"{db}.{t}", 20_000) for t in ("keyed", "uniq", "heap"))
    with keyed, uniq, heap, pytest.raises(RuntimeError, match="not ready for CDC"):
        glue_entry.main(glue_argv(config))  # the Glue job's result relies on the claims: it fails
    assert keyed.done and uniq.done and heap.done
    from .glue_standins import CALLS

    assert ("commit", None) not in CALLS

    manifest = read_manifest(path)
    by = {t.source.split(".")[1]: t for t in manifest.tables}
    assert [t.status for t in manifest.tables] == ["loaded"] * 4
    assert manifest.snapshot.exact is False and json.loads(path.read_text())["snapshot"]["exact"] is False
    for keyless in ("heap", "quiet", "uniq"):
        assert by[keyless].exact_at is None and "no primary key" in (by[keyless].not_exact or "")
        assert not by[keyless].changes  # nothing was merged into it
        assert f"{database}.{keyless}: it has no primary key" in manifest.snapshot.note
    assert by["keyed"].exact_at == manifest.binlog
    assert manifest.snapshot.changes == by["keyed"].changes  # the keyed table's merged keys, no others

    code, said = _connectors(path, tmp_path / "cdc", capsys)
    assert code == 0 and f"CDC continues 1 table(s): {database}.keyed" in said
    assert f"left out {database}.heap: it has no primary key" in said


def test_failed_tables_make_the_load_not_exact(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"`{database}`"
    server.execute(
        *(f"CREATE TABLE {db}.ok{i} (id INT PRIMARY KEY)" for i in range(2)),
        *(f"INSERT INTO {db}.ok{i} VALUES (1)" for i in range(2)),
        *(f"CREATE TABLE {db}.bad{i} (id INT PRIMARY KEY, t TIME NOT NULL)" for i in range(3)),
        *(f"INSERT INTO {db}.bad{i} VALUES (1, '30:00:00')" for i in range(3)),  # outside a day: the load stops
    )
    options = make_options([f"{database}.*"])

    manifest = run(options, spark=spark)

    assert sorted(t.status for t in manifest.tables) == ["failed"] * 3 + ["loaded"] * 2
    assert manifest.snapshot.exact is False
    assert all(f"{database}.bad{i}: failed" in manifest.snapshot.note for i in range(3))
    assert manifest.snapshot.note.startswith("not every table is exactly the source where CDC starts")
    schema = json.loads(SCHEMA_PATH.read_text())
    exact = schema["$defs"]["SnapshotRecord"]["properties"]["exact"]["description"]
    assert "true only when every table the load selected is `loaded`" in exact and "failed" in exact

    code = main(["report", "--manifest", options.run.manifest or ""])
    assert code == 0 and "CDC starts at" not in capsys.readouterr().out


def test_a_catch_up_branch_a_killed_run_left_is_removed_by_the_next_load_of_its_table(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")
    first = run(make_options([f"{database}.*"]), spark=spark)
    table = iceberg(f"{database}.t")
    table.manage_snapshots().create_branch(first.tables[0].snapshot_id, "cdc_migrate_merge_0123456789ab").commit()
    assert "cdc_migrate_merge_0123456789ab" in iceberg(f"{database}.t").metadata.refs  # pins the killed run's files

    again = run(make_options([f"{database}.*"], run={"force": True}), spark=spark)  # nothing to merge this time

    assert again.snapshot.exact is True
    assert sorted(iceberg(f"{database}.t").metadata.refs) == ["main"]
