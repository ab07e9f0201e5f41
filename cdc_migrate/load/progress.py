"""Progress reporting: a small interface, a no-op default and one that logs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cdc_migrate.handoff.manifest import Manifest, TableResult
    from cdc_migrate.planning.partitions import TablePlan

logger = logging.getLogger("cdc_migrate.progress")


class Progress(Protocol):
    """What a run reports as it goes; implement any subset by subclassing NullProgress."""

    def run_started(self, tables: int, rows: int = 0) -> None: ...
    def table_started(self, index: int, total: int, plan: TablePlan) -> None: ...
    def partitions_done(self, plan: TablePlan, done: int, total: int, rows: int = 0) -> None: ...
    def table_finished(self, index: int, total: int, result: TableResult) -> None: ...
    def run_finished(self, manifest: Manifest) -> None: ...


class NullProgress:
    """Reports nothing."""

    def run_started(self, tables: int, rows: int = 0) -> None:
        pass

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        pass

    def partitions_done(self, plan: TablePlan, done: int, total: int, rows: int = 0) -> None:
        pass

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass

    def run_finished(self, manifest: Manifest) -> None:
        pass


class LogProgress(NullProgress):
    """Reports through the `cdc_migrate.progress` logger at INFO (the CLI shows it on stderr): per table the
    partitions done, rows read, rows/s and the time left, and the same for the whole run."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._run_started = clock()
        self._run_rows = 0
        self._started: dict[str, float] = {}
        self._read: dict[str, int] = {}  # rows read so far, per table (all of them once it finished)

    def run_started(self, tables: int, rows: int = 0) -> None:
        with self._lock:
            self._run_started, self._run_rows = self._clock(), rows
        logger.info("loading %d table%s%s", tables, "" if tables == 1 else "s", f", ~{rows:,} rows" if rows else "")

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        with self._lock:
            self._started[str(plan.source.name)] = self._clock()
        logger.info(
            "[%d/%d] %s -> %s: ~%s rows, %s, %d partition%s%s",
            index,
            total,
            plan.source.name,
            plan.target,
            f"{plan.source.estimated_rows:,}",
            plan.strategy,
            plan.partitions,
            "" if plan.partitions == 1 else "s",
            f" of ~{plan.estimated_rows_per_partition:,} rows on {plan.split_column}" if plan.partitions > 1 else "",
        )

    def partitions_done(self, plan: TablePlan, done: int, total: int, rows: int = 0) -> None:
        name = str(plan.source.name)
        with self._lock:
            now = self._clock()
            self._read[name] = rows
            table = pace(rows, plan.source.estimated_rows, now - self._started.get(name, now))
            everything = pace(sum(self._read.values()), self._run_rows, now - self._run_started)
        logger.info("      %s: %d/%d tasks, %s; all tables: %s", name, done, total, table, everything)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        with self._lock:
            self._read[result.source] = result.rows or 0
        if result.status == "loaded":
            logger.info(
                "[%d/%d] %s: loaded %s rows in %.1fs",
                index,
                total,
                result.source,
                f"{result.rows:,}",
                result.seconds,
            )
        else:
            logger.info("[%d/%d] %s: %s: %s", index, total, result.source, result.status.upper(), result.error)


# Before this many seconds, or this share of the rows, a rate says little about the time left.
ESTIMATE_AFTER_SECONDS = 5.0
ESTIMATE_AFTER_SHARE = 0.01


def pace(rows: int, estimated: int, seconds: float) -> str:
    """`1,234,567 rows, 45,678 rows/s, ~1m 05s left`: no rate before a second has passed, no time left before a
    few seconds and a percent of the rows (the first rows of a run say little about its end)."""
    text = f"{rows:,} rows"
    if seconds < 1 or rows <= 0:
        return text
    rate = rows / seconds
    text += f", {rate:,.0f} rows/s"
    if estimated > rows and seconds >= ESTIMATE_AFTER_SECONDS and rows >= estimated * ESTIMATE_AFTER_SHARE:
        left = int((estimated - rows) / rate)
        text += f", ~{left // 3600}h {left % 3600 // 60:02d}m left" if left >= 3600 else ""
        text += f", ~{left // 60}m {left % 60:02d}s left" if 60 <= left < 3600 else ""
        text += f", ~{left}s left" if left < 60 else ""
    return text
