"""The manifest as a run writes it: table results collected from the worker threads, the file rewritten at most
once a second while tables finish (each write is a whole JSON document, a PUT on S3: 300 small tables rewrote it
300 times, 2.6 s of the driver's CPU) and always when the run ends or is interrupted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from cdc_migrate.clock import utc_text
from cdc_migrate.config.model import Options
from cdc_migrate.handoff.manifest import Manifest, SnapshotRecord, TableResult, write_manifest
from cdc_migrate.load.progress import Progress
from cdc_migrate.planning.planner import PlanOutcome
from cdc_migrate.source.binlog import BinlogPosition

INTERRUPTED = "the run was interrupted before this table finished"
WRITE_EVERY = 1.0  # seconds: the most a table's result waits to reach the manifest file while the run goes on


class Recorder:
    """Collects table results from the worker threads and rewrites the manifest with them, at most every
    `every` seconds (a timer writes what came in since) and at the end; secrets are scrubbed from every error
    before it is kept."""

    def __init__(
        self,
        options: Options,
        manifest: Manifest,
        secrets: list[str],
        progress: Progress,
        total: int,
        every: float = WRITE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._options = options
        self._every, self._clock = every, clock
        self._written_at: float | None = None
        self._timer: threading.Timer | None = None
        self.writes = 0
        self._manifest = manifest
        self._secrets = [s for s in secrets if s]
        self._progress = progress
        self._total = total
        self._started = 0
        self._results: dict[str, TableResult] = {t.source: t for t in manifest.tables}
        self._lock = threading.Lock()
        self._interrupted = False

    def interrupt(self) -> None:
        """From now on a table that ends failing was cut off by the interruption: it is `skipped`, not `failed`."""
        with self._lock:
            self._interrupted = True

    def started(self, outcome: PlanOutcome) -> int:
        with self._lock:
            self._started += 1
            index = self._started
        if outcome.plan is not None:
            self._progress.table_started(index, self._total, outcome.plan)
        return index

    def finished(self, index: int, result: TableResult) -> None:
        result = replace(result, error=self._scrub(result.error))
        with self._lock:
            if self._interrupted and result.status == "failed":
                result = replace(result, status="skipped", error=INTERRUPTED)
            self._results[result.source] = result
            self._save(finished=False)
        self._progress.table_finished(index, self._total, result)

    def set_handoff(self, cdc_start: BinlogPosition | None, snapshot: SnapshotRecord) -> None:
        """Where CDC starts and what the snapshot is; the last run's high watermark."""
        with self._lock:
            runs = self._manifest.runs
            if runs:
                runs = (*runs[:-1], replace(runs[-1], high_watermark=snapshot.high_watermark))
            self._manifest = replace(self._manifest, binlog=cdc_start, snapshot=snapshot, runs=runs)

    def results(self) -> list[TableResult]:
        with self._lock:
            return sorted(self._results.values(), key=lambda r: r.source)

    def update(self, result: TableResult) -> None:
        with self._lock:
            self._results[result.source] = result
            self._save(finished=False)

    def checkpoint(self) -> Manifest:
        """Writes the manifest now (before the run touches a table: what it says must already hold then)."""
        with self._lock:
            return self._save(finished=False, at_once=True)

    def withdraw(self, source: str, why: str) -> TableResult:
        """Withdraws a table's claim and writes the manifest at once, before the run changes the table (were it
        stopped then, the manifest must not claim a position the table may no longer be at)."""
        with self._lock:
            table = replace(self._results[source], exact_at=None, not_exact=why)
            self._results[source] = table
            self._save(finished=False, at_once=True)
        return table

    def done(self) -> set[str]:
        with self._lock:
            return set(self._results)

    def finish(self, extra: list[TableResult] | None = None) -> Manifest:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for result in extra or []:
                self._results.setdefault(result.source, result)
            return self._save(finished=True)

    def _save(self, finished: bool, at_once: bool = False) -> Manifest:
        tables = tuple(sorted(self._results.values(), key=lambda r: r.source))
        runs = self._manifest.runs
        now = utc_text()
        if finished and runs:
            runs = (*runs[:-1], replace(runs[-1], finished_at=now))
        self._manifest = replace(self._manifest, tables=tables, runs=runs, finished_at=now if finished else None)
        if not self._options.run.manifest:
            return self._manifest
        due = self._written_at is None or self._clock() - self._written_at >= self._every
        if finished or at_once or due:
            self._write()
        elif self._timer is None:  # written a moment ago: what came in since goes with the next write
            wait = self._every - (self._clock() - (self._written_at or 0.0))
            self._timer = threading.Timer(max(0.0, wait), self._flush)
            self._timer.daemon = True
            self._timer.start()
        return self._manifest

    def _write(self) -> None:
        assert self._options.run.manifest
        write_manifest(self._options.run.manifest, self._manifest)
        self._written_at = self._clock()
        self.writes += 1

    def _flush(self) -> None:
        with self._lock:
            if self._timer is not None:  # not cancelled by finish()
                self._timer = None
                self._write()

    def _scrub(self, text: str | None) -> str | None:
        for secret in self._secrets:
            text = text.replace(secret, "***") if text else text
        return text
