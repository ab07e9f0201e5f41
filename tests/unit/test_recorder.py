"""The manifest as a run writes it: at most once a second while tables finish, what came in since written by a
timer, and always at the end."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cdc_migrate.config.model import Options
from cdc_migrate.handoff.manifest import Manifest, TableResult
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.recorder import Recorder


def _recorder(tmp_path: Path, every: float, clock: list[float] | None = None) -> tuple[Recorder, Path]:
    path = tmp_path / "manifest.json"
    options = Options.from_mapping({"tables": {"include": ["shop.*"]}, "run": {"manifest": str(path)}})
    now = (lambda: clock[0]) if clock is not None else time.monotonic
    recorder = Recorder(options, Manifest(started_at="t"), ["s3cret"], NullProgress(), 300, every=every, clock=now)
    return recorder, path


def _loaded(i: int) -> TableResult:
    return TableResult(f"shop.t{i:03d}", f"shop.t{i:03d}", "loaded", rows=i, error=None)


def _tables(path: Path) -> list[str]:
    return [t["source"] for t in json.loads(path.read_text())["tables"]]


def test_three_hundred_tables_finishing_within_a_second_write_the_file_twice(tmp_path: Path) -> None:
    clock = [0.0]
    recorder, path = _recorder(tmp_path, every=3600.0, clock=clock)  # the timer never fires in this test

    for i in range(300):
        recorder.finished(i + 1, _loaded(i))
        clock[0] += 0.001
    assert recorder.writes == 1 and _tables(path) == ["shop.t000"]  # the first at once, the rest wait

    recorder.finish()

    assert recorder.writes == 2 and len(_tables(path)) == 300
    assert json.loads(path.read_text())["finished_at"]


def test_a_result_reaches_the_file_within_the_interval_without_another_table_finishing(tmp_path: Path) -> None:
    recorder, path = _recorder(tmp_path, every=0.2)
    recorder.finished(1, _loaded(1))
    recorder.finished(2, _loaded(2))  # within 0.2 s of the first write: waits for the timer
    assert _tables(path) == ["shop.t001"]

    deadline = time.monotonic() + 5
    while (_tables(path) != ["shop.t001", "shop.t002"] or recorder.writes < 2) and time.monotonic() < deadline:
        time.sleep(0.02)  # the file is replaced a moment before the write is counted

    assert _tables(path) == ["shop.t001", "shop.t002"] and recorder.writes == 2
    recorder.finish()
    assert recorder.writes == 3


def test_an_error_is_scrubbed_of_secrets_before_it_is_kept(tmp_path: Path) -> None:
    recorder, path = _recorder(tmp_path, every=0.0)
    recorder.finished(1, TableResult("shop.a", "shop.a", "failed", error="Access denied for s3cret"))
    assert "s3cret" not in path.read_text() and "Access denied for ***" in path.read_text()
