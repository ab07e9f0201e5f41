"""Where the time of a small table goes: one run of many small tables in this process, each step of a table's
load timed, the Spark jobs counted and the CPU of every thread summed. Run by `make bench` (part 2's breakdown,
one table at a time so that the steps add up to a table's time); also on its own:
`python bench/per_table.py --tables 120 [--parallel 4]`.

The steps are timed by wrapping the functions the load calls (nothing in cdc_migrate changes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import MANY, build_many
from measure import thread_cpu

from cdc_migrate.testing.server import ThrowawayServer

# (module, attribute, what it is) in the order a table's load calls them (patched where they are called from)
STEPS = [
    ("cdc_migrate.load.runner", "plan_tables", "planning (all tables, information_schema)"),
    ("cdc_migrate.handoff.exactness", "load_arrow", "the Arrow path: transaction, tasks, commit (the Spark job)"),
    ("cdc_migrate.handoff.exactness", "read_table", "the JDBC reader (its schema query)"),
    ("cdc_migrate.handoff.exactness", "convert", "the type contract's projection (Catalyst analysis)"),
    ("cdc_migrate.handoff.exactness", "write_table", "read, convert, write, commit (the Spark job)"),
    ("cdc_migrate.handoff.exactness", "iceberg_table", "loading the table from the catalog"),
    ("cdc_migrate.handoff.exactness", "table_outcome", "rows and files of the snapshot"),
    ("cdc_migrate.handoff.exactness", "_partition_seconds", "task times from Spark's status store"),
    ("cdc_migrate.handoff.backfill.Backfill", "position", "the binlog position after the commit"),
    ("cdc_migrate.source.changelog.ChangeLog", "read_to", "reading the binlog up to it"),
    ("cdc_migrate.source.changelog.ChangeLog", "count", "counting the table's changes"),
    ("cdc_migrate.handoff.exactness", "finish_table", "the metadata commit (required, identifier, position)"),
    ("cdc_migrate.load.recorder.Recorder", "finished", "the manifest written"),
]
# within a step above (not added again): the Arrow path's commit of its files
WITHIN = [("cdc_migrate.spark.arrow", "_commit", "- of which the commit of its files (one transaction)")]
# the run around the tables, timed but not a step of a table
AROUND = [
    ("cdc_migrate.load.runner", "_start", "the run's start: server, privileges, position, plans"),
    ("cdc_migrate.load.runner", "_backfill", "the change log opened and checked"),
    ("cdc_migrate.load.parallel", "create_namespaces", "target namespaces created"),
    ("cdc_migrate.load.runner", "_finish", "the run's end: the high watermark, the handoff"),
    ("cdc_migrate.load.parallel", "load_one", "a table in all"),
]


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.seconds[name] += time.perf_counter() - started
                    self.calls[name] += 1

        return timed


def _owner(path: str) -> Any:
    import importlib

    module, _, cls = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module), cls)


def instrument(timer: Timer, groups: list[str]) -> None:
    import cdc_migrate.handoff.exactness as exactness

    for path, attribute, _ in STEPS + WITHIN + AROUND:
        owner = _owner(path)
        setattr(owner, attribute, timer.wrap(attribute, getattr(owner, attribute)))
    job_group = exactness.job_group

    @contextmanager
    def recorded(spark: Any, description: str) -> Iterator[str]:
        with job_group(spark, description) as group:
            groups.append(group)
            yield group

    exactness.job_group = recorded  # type: ignore[assignment]


def thread_cpu_by_name(pid: int) -> dict[str, float]:
    """CPU seconds of a process's threads, grouped by name with the numbers taken out (Linux /proc)."""
    import re

    groups: dict[str, float] = defaultdict(float)
    for name, seconds in thread_cpu(pid).values():
        groups[re.sub(r"[-_ #]*\d+$", "", name) or name] += seconds
    return dict(groups)


def _python_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def profile(server: ThrowawayServer, tables: int, parallel: int | None) -> list[str]:
    from cdc_migrate.config.model import Options
    from cdc_migrate.load.runner import run
    from cdc_migrate.spark.session import build_session
    from cdc_migrate.spark.settings import Workload

    counts = build_many(server, tables)
    work = Path(tempfile.mkdtemp(prefix="cdc-migrate-per-table-"))
    options = Options.from_mapping(
        {
            "source": {"url": server.url},
            "tables": {"include": [f"{MANY}.*"]},
            "catalog": {"warehouse": str(work / "warehouse")},
            "run": {"manifest": str(work / "manifest.json")} | ({"parallel_tables": parallel} if parallel else {}),
            "spark": {"conf": {"spark.ui.retainedJobs": "100000"}},
        }
    )
    spark = build_session(options, workload=Workload(tables, 0))  # as a run of them starts it (no JDBC rows: C1)
    timer, groups = Timer(), []
    instrument(timer, groups)
    started = time.perf_counter()
    manifest = run(options, spark)
    wall = time.perf_counter() - started
    loaded = [t for t in manifest.tables if t.status == "loaded"]
    if len(loaded) != len(counts) or sum(t.rows or 0 for t in loaded) != sum(counts.values()):
        return [f"(not every table loaded: {len(loaded)} of {len(counts)}; no figures)"]
    cpu = thread_cpu_by_name(spark.sparkContext._gateway.proc.pid) | {"python (driver process)": _python_cpu()}
    tracker = spark.sparkContext.statusTracker()
    jobs = sum(len(tracker.getJobIdsForGroup(g)) for g in groups)
    spark.stop()
    at_a_time = parallel or "by the capacity rule"
    lines = [
        f"{tables} tables, {sum(counts.values()):,} rows, {at_a_time} at a time, in one process (the session "
        f"built before): {wall:.1f} s, {wall / tables * 1000:.0f} ms per table; {jobs / tables:.1f} Spark jobs "
        "per table.",
        "",
        "| step | calls per table | ms per table | share of the run |",
        "|---|---|---|---|",
    ]
    for _, attribute, what in STEPS:
        seconds, calls = timer.seconds[attribute], timer.calls[attribute]
        if not calls:
            continue  # (the other path's step)
        lines.append(
            f"| {what} (`{attribute}`) | {calls / tables:.1f} | {seconds / tables * 1000:.1f} | {seconds / wall:.1%} |"
        )
        if attribute in ("write_table", "load_arrow"):
            task = sum(sum(t.partition_seconds or ()) for t in loaded)
            lines.append(
                f"| - of which the read partitions' tasks (read, convert, Parquet write) | | "
                f"{task / tables * 1000:.1f} | {task / wall:.1%} |"
            )
        for _, within, what_within in WITHIN if attribute == "load_arrow" else []:
            inner = timer.seconds[within]
            lines.append(f"| {what_within} (`{within}`) | | {inner / tables * 1000:.1f} | {inner / wall:.1%} |")
    inside = sum(timer.seconds[a] for _, a, _ in STEPS if a != "plan_tables")
    rest = timer.seconds["load_one"] - inside
    lines.append(
        f"| the rest of a table (threads, its result, progress) | | {rest / tables * 1000:.1f} | {rest / wall:.1%} |"
    )
    lines += ["", "CPU seconds by thread (the JVM's threads grouped by name, and this Python process):", ""]
    lines += ["| threads | CPU s | per table (ms) |", "|---|---|---|"]
    for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"| {name} | {seconds:.1f} | {seconds / tables * 1000:.0f} |")
    lines += ["", "Around the tables, once per run:", "", "| step | seconds |", "|---|---|"]
    for _, attribute, what in AROUND[:-1]:
        lines.append(f"| {what} (`{attribute}`) | {timer.seconds[attribute]:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=60)
    parser.add_argument("--parallel", type=int, default=None, help="tables at a time (default: the capacity rule)")
    args = parser.parse_args()
    with ThrowawayServer() as server:
        print("\n".join(profile(server, args.tables, args.parallel)))


if __name__ == "__main__":
    main()
