"""`cdc-migrate validate` on a live source that keeps changing, against the real server: the binlog from each
table's exact position tells a key that changed since the load (counted: CDC applies it) from a load error (a
mismatch naming the key); a table truncated or altered since is said so; a binlog that cannot be read says why;
and the user's grants are checked as a run checks them, before anything is read."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError, SourceError
from cdc_migrate.handoff.manifest import Manifest, read_manifest
from cdc_migrate.load.runner import run
from cdc_migrate.target.lineage import SINK_COMMIT_PROPERTY
from cdc_migrate.validation.validator import validate
from tests.manifest_schema import schema_problems

from .conftest import OptionsFactory

UNTOUCHED = 999  # a key no writer touches


class Writer(threading.Thread):
    """Updates, inserts and deletes rows of `ints` (keys below 500 and new ones) and `codes` while it runs."""

    def __init__(self, server: Any, database: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.server, self.db, self.rnd = server, database, random.Random(seed)
        self.stop, self.done = threading.Event(), 0

    def run(self) -> None:
        conn = self.server.connect()
        try:
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    self.step(cur)
                    self.done += 1
                    time.sleep(0.002)
        finally:
            conn.close()

    def step(self, cur: Any) -> None:
        db, r, i = f"`{self.db}`", self.rnd.random(), self.rnd.randrange(1, 500)
        if r < 0.4:
            cur.execute(f"UPDATE {db}.ints SET v = CONCAT('w', %s) WHERE id = %s", (self.done, i))
        elif r < 0.55:
            cur.execute(f"DELETE FROM {db}.ints WHERE id = %s", (i,))
        elif r < 0.7:
            cur.execute(f"INSERT IGNORE INTO {db}.ints VALUES (%s, 'new')", (10_000 + self.done,))
        else:
            cur.execute(f"UPDATE {db}.codes SET n = n + 1 WHERE code = %s", (f"K{i:04d}",))


@pytest.fixture
def live(server: Any, database: str) -> Iterator[str]:
    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.ints (id INT PRIMARY KEY, v VARCHAR(20))",
        f"INSERT INTO {db}.ints SELECT seq, CONCAT('v', seq) FROM {db}.seq_1_to_3000",
        f"CREATE TABLE {db}.codes (code VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, n INT)",
        f"INSERT INTO {db}.codes SELECT CONCAT('K', LPAD(seq, 4, '0')), seq FROM {db}.seq_0_to_599",
        f"ANALYZE TABLE {db}.ints, {db}.codes",
    )
    yield database


def _load_while_writing(
    make_options: OptionsFactory, spark: Any, server: Any, database: str
) -> tuple[Any, Manifest, int]:
    options = make_options([f"{database}.*"], tables={"rows_per_partition": 500})
    writer = Writer(server, database, seed=5)
    writer.start()
    try:
        manifest = run(options, spark=spark)
        time.sleep(0.5)  # and after the load
    finally:
        writer.stop.set()
        writer.join()
    assert writer.done > 50 and manifest.snapshot.exact is True, [t.error for t in manifest.tables]
    return options, manifest, writer.done


def test_writes_during_and_after_the_load_are_changes_and_a_row_lost_in_iceberg_is_a_mismatch(
    server: Any,
    spark: Any,
    live: str,
    make_options: OptionsFactory,
    iceberg: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options, _, writes = _load_while_writing(make_options, spark, server, live)
    server.execute(f"UPDATE `{live}`.ints SET v = 'after' WHERE id < 20")  # and more after it
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)

    code = main(["validate", "--manifest", str(options.run.manifest)])

    out = capsys.readouterr().out
    tables = {t.source: t.validation for t in read_manifest(options.run.manifest).tables}
    changed = sum(v.changed_since or 0 for v in tables.values() if v)
    assert code == 0, out
    assert all(v and v.status == "match" and v.mismatched_chunk_count == 0 for v in tables.values()), out
    assert changed > 20 and f"2/2 tables match the source ({changed:,} keys changed since the load" in out
    assert schema_problems(json.loads(Path(options.run.manifest).read_text())) == []  # validation records too
    with capsys.disabled():
        print(f"\nlive validate: {writes} writes, 0 mismatches, {changed} keys changed since the load")

    from pyiceberg.expressions import EqualTo

    # A row lost in Iceberg by a commit of the sink's (its claim holds: the sink's commits follow it) is a mismatch
    # naming the key, while every other difference is still a change since the load.
    iceberg(f"{live}.ints").delete(EqualTo("id", UNTOUCHED), snapshot_properties={SINK_COMMIT_PROPERTY: "c-1"})

    code = main(["validate", "--manifest", str(options.run.manifest)])

    out = capsys.readouterr().out
    ints = next(t.validation for t in read_manifest(options.run.manifest).tables if t.source.endswith(".ints"))
    assert code == 1
    assert ints and ints.status == "mismatch" and ints.mismatched_chunk_count == 1
    assert [c.first_differences for c in ints.mismatched_chunks or ()] == [(f"missing from Iceberg: {UNTOUCHED}",)]
    assert f"missing from Iceberg: {UNTOUCHED}" in out and "1/2 tables match the source" in out

    # A write of anyone else's voids the claim: the differences are then not explained away as changes since.
    iceberg(f"{live}.ints").delete(EqualTo("id", UNTOUCHED + 1))

    code = main(["validate", "--manifest", str(options.run.manifest)])

    out = capsys.readouterr().out
    ints = next(t.validation for t in read_manifest(options.run.manifest).tables if t.source.endswith(".ints"))
    assert code == 1 and ints and ints.status == "mismatch" and ints.changed_since is None
    assert ints.exact is False and "its claim no longer holds" in (ints.note or "")


def test_a_table_truncated_or_altered_since_the_load_is_said_so(
    server: Any, spark: Any, live: str, make_options: OptionsFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    options = make_options([f"{live}.*"])
    run(options, spark=spark)
    server.execute(f"TRUNCATE `{live}`.codes", f"ALTER TABLE `{live}`.ints ADD COLUMN c INT")

    manifest = validate(options, options.run.manifest, spark=spark)

    codes, ints = (t.validation for t in sorted(manifest.tables, key=lambda t: t.source))
    assert codes and codes.status == "mismatch" and codes.statements_since
    assert "TRUNCATE" in codes.statements_since[0] and codes.changed_since == 0
    assert (
        ints
        and ints.status == "error"
        and "changed other than by rows since the load (`ALTER TABLE" in (ints.error or "")
    )
    from cdc_migrate.load.report import run_summary

    summary = run_summary(manifest)
    assert f"{live}.codes: truncated since the load (`TRUNCATE" in summary and "load the table again" in summary


PASSWORD = "etlpw-validate-1"


@pytest.fixture
def user(server: Any) -> Iterator[Any]:
    made: list[str] = []

    def make(*grants: str) -> str:
        name = f"val_{uuid.uuid4().hex[:8]}"
        made.append(name)
        server.execute(
            f"CREATE USER '{name}'@'%' IDENTIFIED BY '{PASSWORD}'", *(g.format(user=f"'{name}'@'%'") for g in grants)
        )
        return name

    yield make
    for name in made:
        server.execute(f"DROP USER IF EXISTS '{name}'@'%'")


def test_validate_checks_the_grants_a_run_checks_before_reading(
    server: Any, spark: Any, live: str, make_options: OptionsFactory, user: Any
) -> None:
    options = make_options([f"{live}.*"])
    run(options, spark=spark)
    spark.sql(f"UPDATE local.`{live}`.ints SET v = 'tampered' WHERE id = 5")
    validate(options, options.run.manifest, spark=spark)
    before = Path(str(options.run.manifest)).read_text()
    columns = user(f"GRANT SELECT (id) ON `{live}`.ints TO {{user}}", f"GRANT SELECT ON `{live}`.codes TO {{user}}")
    as_columns = make_options([f"{live}.*"], source={"user": columns, "password": Secret(PASSWORD)})

    with pytest.raises(SourceError, match=rf"may read only the columns id of {live}\.ints.*GRANT SELECT ON "):
        validate(as_columns, options.run.manifest, spark=spark)
    partial = user(f"GRANT SELECT ON `{live}`.codes TO {{user}}")
    as_partial = make_options([f"{live}.ints"], source={"user": partial, "password": Secret(PASSWORD)})
    with pytest.raises(ConfigError, match=rf"table '{live}.ints' does not exist.*or '{partial}'@'%' may not read it"):
        validate(as_partial, options.run.manifest, spark=spark)

    assert Path(str(options.run.manifest)).read_text() == before  # the stored mismatch is kept


def test_a_binlog_that_cannot_be_read_leaves_changes_and_errors_apart_said(
    server: Any, spark: Any, live: str, make_options: OptionsFactory, user: Any
) -> None:
    options = make_options([f"{live}.*"])
    run(options, spark=spark)
    server.execute(f"UPDATE `{live}`.ints SET v = 'later' WHERE id = 7")
    reader = user(f"GRANT SELECT ON `{live}`.* TO {{user}}", "GRANT REPLICATION CLIENT ON *.* TO {user}")
    as_reader = make_options([f"{live}.*"], source={"user": reader, "password": Secret(PASSWORD)})

    manifest = validate(as_reader, options.run.manifest, spark=spark)

    ints = next(t.validation for t in manifest.tables if t.source.endswith(".ints"))
    assert ints and ints.status == "mismatch" and ints.changed_since is None and ints.drift is True
    assert ints.note and "cannot be read" in ints.note and "REPLICATION SLAVE" in ints.note
