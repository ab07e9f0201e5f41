"""Progress in rows (pure): the pace of a table and of the run, and what the task records of Spark's status store
say about a table's read partitions."""

from __future__ import annotations

import logging

import pytest

from cdc_migrate.contract.mapping import map_table
from cdc_migrate.load.progress import LogProgress, pace
from cdc_migrate.naming import TableName
from cdc_migrate.planning.partitions import Partitioning, TablePlan
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.spark.status import TaskRecord, partition_seconds, rows_read


@pytest.mark.parametrize(
    ("rows", "estimated", "seconds", "text"),
    [
        (0, 1_000, 5.0, "0 rows"),
        (500, 1_000, 0.5, "500 rows"),  # no rate before a second has passed
        (1_000_000, 4_000_000, 10.0, "1,000,000 rows, 100,000 rows/s, ~30s left"),
        (1_000_000, 10_000_000, 10.0, "1,000,000 rows, 100,000 rows/s, ~1m 30s left"),
        (2_000, 1_000, 2.0, "2,000 rows, 1,000 rows/s"),  # past the estimate: no time left to say
        (3, 100_000_000, 1.0, "3 rows, 3 rows/s"),  # the "~100614m left" after 3 rows: none yet
        (5_000_000, 100_000_000, 4.0, "5,000,000 rows, 1,250,000 rows/s"),  # before 5 s
        (500_000, 100_000_000, 60.0, "500,000 rows, 8,333 rows/s"),  # before 1% of the rows
        (2_000_000, 100_000_000, 60.0, "2,000,000 rows, 33,333 rows/s, ~49m 00s left"),
        (2_000_000, 100_000_000, 20.0, "2,000,000 rows, 100,000 rows/s, ~16m 20s left"),
        (10_000_000, 1_000_000_000, 60.0, "10,000,000 rows, 166,667 rows/s, ~1h 39m left"),
    ],
)
def test_pace(rows: int, estimated: int, seconds: float, text: str) -> None:
    assert pace(rows, estimated, seconds) == text


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plan_of(name: str, rows: int) -> TablePlan:
    database, table = name.split(".")
    source = SourceTable(TableName(database, table), (Column("id", "bigint", "bigint", False),), ("id",), rows)
    return TablePlan(source, TableName(database, table), map_table(source), Partitioning(250_000, 1, 200))


def test_log_progress_says_rows_rate_and_time_left_per_table_and_in_all(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = LogProgress(clock)
    big, small = plan_of("db.big", 9_000_000), plan_of("db.small", 1_000_000)
    with caplog.at_level(logging.INFO, logger="cdc_migrate.progress"):
        progress.run_started(2, 10_000_000)
        progress.table_started(1, 2, big)
        progress.table_started(2, 2, small)
        clock.now = 10.0
        progress.partitions_done(big, 3, 36, 3_000_000)
    line = caplog.messages[-1]
    assert "db.big: 3/36 tasks, 3,000,000 rows, 300,000 rows/s, ~20s left" in line
    assert "all tables: 3,000,000 rows, 300,000 rows/s, ~23s left" in line


def _task(stage: int, index: int, seconds: float, rows: int, done: bool = True) -> TaskRecord:
    return TaskRecord(stage, index, seconds, rows, done)


def test_partition_seconds_come_from_the_stage_that_read_every_partition() -> None:
    tasks = [
        _task(3, 0, 1.5, 100),
        _task(3, 2, 0.5, 90),
        _task(3, 1, 2.0, 80),
        _task(4, 0, 9.0, 270),  # a later stage of the same group (a commit, a count) with one task
    ]
    assert partition_seconds(tasks, 3) == (1.5, 2.0, 0.5)
    assert partition_seconds(tasks, 4) is None  # no stage with a task per partition: nothing made up
    unfinished = [*tasks[:2], _task(3, 1, 2.0, 80, done=False)]
    assert partition_seconds(unfinished, 3) is None
    empty_range = [*tasks[:2], _task(3, 1, 0.1, 0)]  # a key range that held no rows still took its time
    assert partition_seconds(empty_range, 3) == (1.5, 0.1, 0.5)


def test_rows_read_are_the_reading_stages_not_the_sum_of_stages() -> None:
    tasks = [_task(3, 0, 1.0, 100), _task(3, 1, 1.0, 50, done=False), _task(4, 0, 1.0, 150)]
    assert rows_read(tasks) == 150
    assert rows_read([]) == 0


class Shown:
    """IPython's display (stand-in: a kernel's display handle), recording each update's HTML."""

    def __init__(self) -> None:
        self.html: list[str] = []

    def display(self, obj: object, display_id: bool = False) -> Shown:
        self.html.append(str(obj))
        return self

    def update(self, obj: object) -> None:
        self.html.append(str(obj))


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> Shown:
    from IPython import display as ipython

    screen = Shown()
    monkeypatch.setattr(ipython, "display", screen.display)
    monkeypatch.setattr(ipython, "HTML", lambda text: text)
    return screen


def test_the_notebook_display_shows_each_table_then_how_it_ended(shown: Shown) -> None:
    from cdc_migrate.handoff.manifest import TableResult
    from cdc_migrate.load.notebook import NotebookProgress

    clock = Clock()
    progress = NotebookProgress(clock)
    progress.run_started(1, 1_000)
    progress.table_started(1, 1, plan_of("db.t", 1_000))
    assert "cdc_migrate run" in shown.html[-1] and "loading" in shown.html[-1]
    clock.now = 2.0
    progress.table_finished(1, 1, TableResult("db.t", "db.t", "loaded", rows=1_000, seconds=2.0, partitions=1))
    assert "loaded" in shown.html[-1] and "1/1 tables, 1,000 of ~1,000 rows" in shown.html[-1]


def test_the_notebook_display_of_a_validation_shows_chunks_and_verdicts(shown: Shown) -> None:
    from cdc_migrate.handoff.manifest import TableResult, Validation
    from cdc_migrate.load.notebook import NotebookProgress

    clock = Clock()
    progress = NotebookProgress(clock, validating=True)
    progress.table_started(1, 2, plan_of("db.a", 1_000))
    progress.table_started(2, 2, plan_of("db.b", 1_000))
    assert "cdc_migrate validate" in shown.html[-1] and shown.html[-1].count("validating") == 2
    assert "chunks" in shown.html[-1] and "0/2 tables validated" in shown.html[-1]
    clock.now = 3.0
    checked = Validation("2026-12-07T00:00:00Z", status="match", source_rows=1_000, iceberg_rows=1_000, chunks=4)
    progress.table_finished(1, 2, TableResult("db.a", "db.a", "loaded", validation=checked))
    last = shown.html[-1]
    assert "match" in last and "4/4" in last and "1,000" in last and "1/2 tables validated" in last
