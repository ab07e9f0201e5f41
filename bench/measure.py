"""Measuring one contender of `make bench`: a command from a cold start, its wall time, the peak memory and the CPU
seconds of its whole process tree, and the rows it really loaded (a run that did not load every row gives no
figure)."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil


@dataclass
class Result:
    name: str
    seconds: float
    peak_rss: int
    rows: int  # what it had to load
    ok: bool
    note: str = ""
    cpu: float = 0.0  # CPU seconds of its process tree
    server_cpu: float = 0.0  # CPU seconds of the source server meanwhile

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds of each thread of a process by thread id, with its name (Linux /proc; a thread that ended while
    read is left out)."""
    import os
    from pathlib import Path

    tick = os.sysconf("SC_CLK_TCK")
    threads: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        threads[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return threads


def tree_rss(tree: list[psutil.Process]) -> int:
    """The resident memory of a process tree, a process that shares its parent's memory left out.

    A process the JVM spawns (Hadoop's `chmod` of every file it writes locally) shares the JVM's memory until it
    execs (posix_spawn clones the address space), and was seen doing so for 0.9 s: counted then, the JVM counted
    twice. Until it execs, such a child shows its parent's executable and command line.
    """
    seen: dict[int, tuple[str, list[str]]] = {}
    total = 0
    for p in tree:
        with contextlib.suppress(psutil.Error):
            seen[p.pid] = (p.exe(), p.cmdline())
            if seen.get(p.ppid()) == seen[p.pid]:
                continue  # a clone of its parent that has not exec'd yet
            total += p.memory_info().rss
    return total


def measure(
    name: str,
    argv: list[str] | str,
    rows: int,
    env: dict[str, str] | None = None,
    shell: bool = False,
    loaded: Callable[[], int] | None = None,
    server_pid: int | None = None,
) -> Result:
    """Runs a command from a cold start. `loaded` counts the rows it wrote: a run short of `rows` fails."""
    server = psutil.Process(server_pid) if server_pid else None
    server_before = sum(server.cpu_times()[:2]) if server else 0.0
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, shell=shell, text=True)
    peak, cpu_by_pid = 0, {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, tree_rss(tree))
                for p in tree:
                    cpu_by_pid[p.pid] = sum(p.cpu_times()[:2])
            except psutil.Error:
                pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    ok = proc.returncode == 0
    note = "" if ok else output.strip().splitlines()[-1][:200] if output.strip() else f"exit {proc.returncode}"
    if ok and loaded is not None:
        got = loaded()
        if got != rows:
            ok, note = False, f"loaded {got:,} of {rows:,} rows"
    server_cpu = sum(server.cpu_times()[:2]) - server_before if server else 0.0
    result = Result(name, seconds, peak, rows, ok, note, sum(cpu_by_pid.values()), server_cpu)
    print(f"  {name}: {seconds:.1f}s, peak {peak / 2**20:,.0f} MiB{'' if ok else ' FAILED: ' + note}", flush=True)
    return result


@dataclass
class Repeated:
    """Several cold runs of one contender: a JVM's resident size varies from run to run (how far G1 grows
    the heap towards its cap), so one run says little about how memory depends on the data."""

    runs: list[Result]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peaks(self) -> list[int]:
        return sorted(r.peak_rss for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rows(self) -> int:
        return self.runs[0].rows


def repeat(run: Callable[[], Result], times: int = 3) -> Repeated:
    return Repeated([run() for _ in range(times)])


def iceberg_rows(warehouse: str, catalog: str, tables: list[str]) -> int:
    """The rows of `namespace.table`s in a local SQLite-backed Iceberg catalog, from each current snapshot."""
    from pyiceberg.catalog.sql import SqlCatalog

    opened = SqlCatalog(catalog, uri=f"sqlite:///{warehouse}/catalog.db", warehouse=f"file://{warehouse}")
    total = 0
    for name in tables:
        try:
            snapshot = opened.load_table(name).current_snapshot()
        except Exception:
            continue
        if snapshot is not None and snapshot.summary is not None:
            summary = snapshot.summary
            total += int(summary.get("total-records", 0)) - int(summary.get("total-position-deletes", 0))
    return total
