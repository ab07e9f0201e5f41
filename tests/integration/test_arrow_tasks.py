"""The Arrow path's read tasks say what went wrong, and nothing of a failed table stays behind: a value the contract
refuses fails the table with its one-line reason and is not retried (the task returns it rather than failing), a
reader's panic (a BaseException) becomes such a reason too, a chunk whose file does not hold the rows read is an
error, each attempt writes a file of its own, and a failed table leaves no file in the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import cdc_migrate.handoff.exactness as exactness
import cdc_migrate.spark.arrow as arrow
from cdc_migrate.contract.arrow import arrow_columns, arrow_select
from cdc_migrate.load.runner import plan, run
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.target.files import ParquetSettings, schema_json

from .conftest import OptionsFactory

ROWS = 4_000


def test_a_refused_value_fails_its_table_once_with_its_reason_and_leaves_no_file(
    server: Any,
    database: str,
    make_options: OptionsFactory,
    spark: Any,
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Chunks of 1,000 rows; one in the middle holds a BIGINT UNSIGNED above 2^63-1 (refused without an override).
    server.execute(
        f"CREATE TABLE `{database}`.u (id INT PRIMARY KEY, v BIGINT UNSIGNED)",
        f"INSERT INTO `{database}`.u SELECT seq, seq FROM `{database}`.seq_1_to_{ROWS}",
        f"UPDATE `{database}`.u SET v = 18446744073709551615 WHERE id = {ROWS * 5 // 8}",
        f"ANALYZE TABLE `{database}`.u",
    )
    namespace = f"{database}_tasks"
    options = make_options(
        [f"{database}.u"],
        source={"reader": "arrow"},
        tables={"rows_per_partition": ROWS // 4},
        catalog={"namespace": namespace},
    )
    [planned] = plan(options)
    assert planned.plan is not None and planned.plan.partitions > 2
    groups: list[str] = []
    grouped = exactness.job_group

    @contextmanager
    def recorded(session: Any, description: str) -> Iterator[str]:
        with grouped(session, description) as group:
            groups.append(group)
            yield group

    monkeypatch.setattr(exactness, "job_group", recorded)

    [result] = run(options, spark=spark).tables

    assert result.status == "failed" and result.reader == "arrow"
    assert "BIGINT UNSIGNED value 18446744073709551615 is above 2^63-1" in (result.error or "")
    assert len((result.error or "").splitlines()) == 1
    tracker = spark.sparkContext.statusTracker()
    stages = [
        tracker.getStageInfo(stage)
        for group in groups
        for job in tracker.getJobIdsForGroup(group)
        for stage in (tracker.getJobInfo(job).stageIds if tracker.getJobInfo(job) else [])
    ]
    assert stages and sum(s.numTasks for s in stages) == planned.plan.partitions  # one attempt per chunk
    assert sum(s.numFailedTasks for s in stages) == 0  # returned, not raised: a cluster would not retry it
    assert list((warehouse / namespace).rglob("*.parquet")) == []  # the other chunks' files removed


@pytest.fixture
def zero_dates(server: Any, database: str) -> str:
    server.execute(
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE `{database}`.z (id INT PRIMARY KEY, d DATETIME NOT NULL)",
        f"INSERT INTO `{database}`.z VALUES (1, '2024-01-02 03:04:05'), (2, '0000-00-00 00:00:00')",
    )
    return database


def _planned(make_options: OptionsFactory, database: str) -> TablePlan:
    [planned] = plan(make_options([f"{database}.z"], source={"reader": "arrow"}))
    assert planned.plan is not None
    return planned.plan


def _chunk(table: TablePlan, query: str, path: Path) -> arrow.Chunk:
    columns = arrow_columns(table.mapping)
    schema = schema_json(arrow._fields(table), table.mapping.identifier)
    return arrow.Chunk(0, query, str(path), columns, schema, ParquetSettings())


def _url(server: Any, database: str) -> str:
    return f"mysql://{server.user}:{server.password}@{server.host}:{server.port}/{database}"


def test_a_reader_panic_is_the_chunks_one_line_reason(
    server: Any, zero_dates: str, make_options: OptionsFactory, tmp_path: Path
) -> None:
    table = _planned(make_options, zero_dates)
    raw = f"SELECT id, d FROM `{zero_dates}`.z"  # the zero date not replaced by the server: ConnectorX panics on it

    written = arrow.write_chunk(_chunk(table, raw, tmp_path / "z.parquet"), _url(server, zero_dates))

    assert written.path is None and written.error is not None
    assert written.error.startswith("the Arrow reader failed on this chunk (") and "\n" not in written.error
    guarded = arrow_select(arrow_columns(table.mapping), table.source.name, None)  # what the path really sends
    assert arrow.write_chunk(_chunk(table, guarded, tmp_path / "z.parquet"), _url(server, zero_dates)).rows == 2


def test_a_file_that_does_not_hold_the_rows_read_is_an_error(
    server: Any, zero_dates: str, make_options: OptionsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _planned(make_options, zero_dates)
    query = arrow_select(arrow_columns(table.mapping), table.source.name, None)
    write = arrow._write_parquet
    monkeypatch.setattr(arrow, "_write_parquet", lambda *a: write(*a) - 1)  # a writer that lost a row

    written = arrow.write_chunk(_chunk(table, query, tmp_path / "z.parquet"), _url(server, zero_dates))

    assert written.error == "chunk 0: 2 rows read, 1 in its file"


def test_each_attempt_of_a_task_writes_a_file_of_its_own() -> None:
    paths = {arrow.attempt_path("file:/wh/db/t/data/run-00003.parquet", attempt) for attempt in range(4)}

    assert len(paths) == 4 and all(p.endswith(".parquet") for p in paths)
    assert arrow.attempt_path("s3://b/t/data/x-00001.parquet", 2) == "s3://b/t/data/x-00001-a2.parquet"
