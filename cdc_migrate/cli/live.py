"""Progress on a terminal: a live display (rich) with a line per table being loaded and one for the run; elsewhere
(Glue, CI, a pipe) the log lines of LogProgress."""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

from cdc_migrate.load.progress import LogProgress, NullProgress, Progress, pace

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cdc_migrate.handoff.manifest import Manifest, TableResult
    from cdc_migrate.planning.partitions import TablePlan


class LiveProgress(NullProgress):
    """A live display: per table being loaded its tasks, rows, rows/s and time left, and the run's; a line above it
    for each table that finished. Thread-safe (tables report from their own threads)."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        from rich.console import Console
        from rich.live import Live

        self._clock = clock
        self._lock = threading.Lock()
        self.console = Console(file=stream, highlight=False)
        self._tables: dict[str, tuple[TablePlan, float, int, int, int]] = {}  # plan, started, done, total, rows
        self._read: dict[str, int] = {}
        self._run = (0, 0, clock())  # tables, estimated rows, started
        self._finished = 0
        # Last: Live renders once as it is made.
        self._live = Live(console=self.console, refresh_per_second=4, transient=True, get_renderable=self._render)

    def __enter__(self) -> LiveProgress:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def run_started(self, tables: int, rows: int = 0) -> None:
        with self._lock:
            self._run = (tables, rows, self._clock())

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        with self._lock:
            self._tables[str(plan.source.name)] = (plan, self._clock(), 0, plan.partitions, 0)

    def partitions_done(self, plan: TablePlan, done: int, total: int, rows: int = 0) -> None:
        name = str(plan.source.name)
        with self._lock:
            if name in self._tables:
                _, started, *_ = self._tables[name]
                self._tables[name] = (plan, started, done, total, rows)
                self._read[name] = rows

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        with self._lock:
            self._tables.pop(result.source, None)
            self._read[result.source] = result.rows or 0
            self._finished += 1
        if result.status == "loaded":
            rows = f"{result.rows:,}" if result.rows is not None else "?"
            self.console.print(f"[{index}/{total}] {result.source}: loaded {rows} rows in {result.seconds:.1f}s")
        else:
            self.console.print(f"[{index}/{total}] {result.source}: {result.status.upper()}: {result.error}")

    def run_finished(self, manifest: Manifest) -> None:
        self._live.stop()

    def _render(self) -> RenderableType:
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        now = self._clock()
        with self._lock:
            for name, (plan, started, done, total, rows) in sorted(self._tables.items()):
                grid.add_row(name, f"{done}/{total} tasks", pace(rows, plan.source.estimated_rows, now - started))
            tables, estimated, started = self._run
            whole = pace(sum(self._read.values()), estimated, now - started)
            grid.add_row(f"all {tables} tables", f"{self._finished} done", whole)
        return grid


@contextlib.contextmanager
def progress_for(stream: IO[str]) -> Iterator[Progress]:
    """A live display where `stream` is a terminal (and rich, of the `local` extra, is there), else LogProgress's
    log lines."""
    if not stream.isatty() or importlib.util.find_spec("rich") is None:
        yield LogProgress()
        return
    with LiveProgress(stream) as live:
        yield live
