"""An interrupted run (Ctrl-C, a notebook's stop, any error of the run) stops everything it started before it goes
on: its own Spark jobs cancelled by their tag (not the session's others), every loader thread joined however
often the interruption comes again, then the manifest's skipped tables (the real kernel's case is in
tests/integration/test_notebook.py)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from cdc_migrate import threads
from cdc_migrate.load import parallel
from cdc_migrate.load.table import Halt


class Recorder:
    def __init__(self) -> None:
        self.interrupted = False
        self.finished: list[Any] = []
        self.done_names: set[str] = set()

    def interrupt(self) -> None:
        self.interrupted = True

    def done(self) -> set[str]:
        return self.done_names

    def finish(self, skipped: list[Any]) -> None:
        self.finished = skipped


def test_the_tables_being_loaded_are_cancelled_and_joined_before_the_interruption_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancelled: list[str] = []
    shared = SimpleNamespace(
        options=SimpleNamespace(run=SimpleNamespace(parallel_tables=2)),
        recorder=Recorder(),
        halt=Halt(),
        run_id="r1",
        spark=SimpleNamespace(
            sparkContext=SimpleNamespace(
                cancelJobsWithTag=cancelled.append, cancelAllJobs=lambda: cancelled.append("*")
            )
        ),
    )
    ended: dict[str, float] = {}

    def load_one(run: Any, outcome: Any) -> None:  # a table that takes a while to stop once cancelled
        run.halt.wait(30)
        time.sleep(0.5)
        ended[outcome.source] = time.monotonic()

    calls = []
    real_wait = parallel.wait

    def interrupted_wait(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:  # the first wait is interrupted, and so is the first wait for the threads
            time.sleep(0.2)
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(parallel, "load_one", load_one)
    monkeypatch.setattr(parallel, "wait", interrupted_wait)
    monkeypatch.setattr(threads, "wait", interrupted_wait)  # (the join: threads.stop_all)
    outcomes = [SimpleNamespace(source=f"db.t{i}", target=f"db.t{i}") for i in range(4)]

    with pytest.raises(KeyboardInterrupt):
        parallel._load_tables(shared, outcomes)  # type: ignore[arg-type]
    returned = time.monotonic()

    assert cancelled == ["cdc-migrate-run-r1"]  # the run's jobs, by its tag: not every job of the session
    assert sorted(ended) == ["db.t0", "db.t1"] and max(ended.values()) <= returned  # both joined, none abandoned
    assert not [t for t in threading.enumerate() if t.name.startswith("cdc-migrate")]
    assert shared.recorder.interrupted and [r.source for r in shared.recorder.finished] == [
        f"db.t{i}" for i in range(4)
    ]
