"""Progress in a notebook: one display in the running cell that updates in place, a line per table (loading: its
tasks, rows and rows/s; then how it ended) and one for the run, as the terminal's live display has. The default of
run() and validate() under an IPython kernel (a validation's line per table: its chunks, then its verdict and the
source's rows); updated at most four times a second, and at every table's start and end and the run's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cdc_migrate.load.progress import NullProgress
from cdc_migrate.views import html_table

if TYPE_CHECKING:
    from cdc_migrate.handoff.manifest import Manifest, TableResult
    from cdc_migrate.planning.partitions import TablePlan

HEADERS = ("table", "status", "tasks", "rows", "rows/s", "seconds")
VALIDATION_HEADERS = ("table", "status", "chunks", "source rows", "rows/s", "seconds")


def in_kernel() -> bool:
    """Whether this runs in an IPython kernel (a notebook), where a display can update in place."""
    try:
        import IPython
    except ImportError:
        return False
    shell = getattr(IPython, "get_ipython", lambda: None)()
    return shell is not None and hasattr(shell, "kernel")


class NotebookProgress(NullProgress):
    """The run's (or a validation's) progress as one display that updates in place. Thread-safe (tables report
    from their threads)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, every: float = 0.25, validating: bool = False
    ) -> None:
        from IPython import display as ipython

        shows: Any = ipython  # (IPython's display functions are not typed)
        self._html, self._clock, self._every = shows.HTML, clock, every
        self._validating = validating
        self._lock = threading.Lock()
        self._rows: dict[str, list[Any]] = {}  # table -> [status, tasks, rows, started, seconds]
        self._run = [0, 0, clock()]  # tables, rows estimated, started
        self._shown = 0.0
        self._handle = shows.display(self._html(self._render()), display_id=True)

    def run_started(self, tables: int, rows: int = 0) -> None:
        with self._lock:
            self._run = [tables, rows, self._clock()]
        self._update(force=True)

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        with self._lock:
            doing = "validating" if self._validating else "loading"
            self._rows[str(plan.source.name)] = [doing, f"0/{plan.partitions}", 0, self._clock(), None]
        self._update(force=True)  # (a table validated has nothing to report before its end)

    def partitions_done(self, plan: TablePlan, done: int, total: int, rows: int = 0) -> None:
        with self._lock:
            row = self._rows.get(str(plan.source.name))
            if row is not None:
                row[1], row[2] = f"{done}/{total}", rows
        self._update()

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        with self._lock:
            row = self._rows.setdefault(result.source, ["", "", 0, self._clock(), None])
            if self._validating:
                checked = result.validation
                row[0] = checked.status if checked else result.status
                row[1] = f"{checked.chunks}/{checked.chunks}" if checked and checked.chunks else row[1]
                row[2], row[4] = (checked.source_rows if checked else None) or 0, self._clock() - row[3]
            else:
                row[0], row[2], row[4] = result.status, result.rows or 0, result.seconds
                if result.partitions is not None and result.status == "loaded":
                    row[1] = f"{result.partitions}/{result.partitions}"
        self._update(force=True)

    def run_finished(self, manifest: Manifest) -> None:
        self._update(force=True)

    def _update(self, force: bool = False) -> None:
        now = self._clock()
        with self._lock:
            if not force and now - self._shown < self._every:
                return
            self._shown = now
            text = self._render()
        if self._handle is not None:
            self._handle.update(self._html(text))

    def _render(self) -> str:
        now = self._clock()
        rows, done, read = [], 0, 0
        for name, (status, tasks, count, started, seconds) in self._rows.items():
            took = seconds if seconds is not None else now - started
            rate = f"{count / took:,.0f}" if count and took else ""
            rows.append([name, status, tasks, f"{count:,}", rate, f"{took:.1f}"])
            done += status not in ("loading", "validating")
            read += count
        tables, estimated, started = self._run
        elapsed = now - started
        if self._validating:
            run = f"{done}/{len(self._rows)} tables validated, {read:,} source rows, {elapsed:.1f}s"
            return html_table("cdc_migrate validate", VALIDATION_HEADERS, rows, note=run)
        run = f"{done}/{tables} tables, {read:,} of ~{estimated:,} rows, {elapsed:.1f}s"
        return html_table("cdc_migrate run", HEADERS, rows, note=run)
