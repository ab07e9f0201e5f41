"""Where the CPU of one large load goes, on each path: `cdc-migrate run` of part 1's large table from a cold start,
the JVM's threads' CPU read from /proc while it runs, and the Python processes' and the source server's. On the
JDBC path the JVM's flight recorder (JFR, in the JDK) is on and the executor threads' CPU is shared out by what
their samples were doing; on the Arrow path the read tasks' CPU is shared out by the phases they time themselves
(reading, converting, writing: the load's debug log). The JIT's and GC's own threads are counted whole. Run by
`make bench` (its table goes into BENCHMARKS.md); also on its own:
`python bench/cpu_breakdown.py --rows 20000000`.

A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import BIG_COLUMNS, DB, _insert_big
from measure import thread_cpu

from cdc_migrate.testing.server import ThrowawayServer

BIN = Path(sys.executable).parent

# What an executor thread's sample was doing, by the frames on its stack, first match wins.
CATEGORIES = [
    ("Parquet writer (Iceberg's, with its dictionary and statistics)", ("ParquetWriter.add", "SparkParquetWriters")),
    ("JDBC: reading and decoding rows", ("JdbcUtils$$anon$1.getNext", "org.mariadb.jdbc", "com.mysql.cj")),
    ("the contract's expressions (Spark's generated projection)", ("GeneratedIteratorForCodegenStage",)),
    ("commits and the catalog", ("SnapshotProducer", "TableOperations", "JdbcCatalog", "commit")),
]


def build(server: ThrowawayServer, rows: int) -> None:
    server.execute(
        "SET SESSION sql_log_bin = 0",
        f"CREATE DATABASE IF NOT EXISTS {DB}",
        f"USE {DB}",
        "DROP TABLE IF EXISTS big",
        f"CREATE TABLE big ({BIG_COLUMNS})",
        *_insert_big("big", 1, rows),
        "ANALYZE TABLE big",
    )


def _threads(pid: int, into: dict[tuple[int, str], tuple[str, float]]) -> None:
    for tid, named in thread_cpu(pid).items():
        into[(pid, str(tid))] = named


def run_profiled(server: ThrowawayServer, work: Path, reader: str) -> tuple[float, dict[str, float], Path, str]:
    """Runs the load (JFR on for the JDBC path); returns its wall time, CPU by thread group (the JVM's) and by
    process (the Python workers', the driver's, the source server's), the recording and the load's debug log."""
    recording = work / "load.jfr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
    env["CDC_MIGRATE_SOURCE_PASSWORD"] = server.password or ""
    env["PYSPARK_PYTHON"] = sys.executable
    if reader == "jdbc":
        env["JDK_JAVA_OPTIONS"] = f"-XX:StartFlightRecording=filename={recording},settings=profile"
    argv = [str(BIN / "cdc-migrate"), "-v", "run", "--source", server.url, "--tables", f"{DB}.big"]
    argv += ["--warehouse", str(work / "warehouse"), "--manifest", str(work / "manifest.json"), "--reader", reader]
    seen: dict[tuple[int, str], tuple[str, float]] = {}
    workers: dict[int, float] = {}
    server_process = psutil.Process(server.pid) if server.pid else None
    server_before = sum(server_process.cpu_times()[:2]) if server_process else 0.0
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    driver = [0.0]

    def sample() -> None:
        while not stop.wait(0.2):
            try:
                driver[0] = sum(psutil.Process(proc.pid).cpu_times()[:2])
                for child in psutil.Process(proc.pid).children(recursive=True):
                    if "java" in child.name():
                        _threads(child.pid, seen)
                    elif "pyspark" in " ".join(child.cmdline()):
                        workers[child.pid] = sum(child.cpu_times()[:2])
            except (psutil.Error, OSError):
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"the load failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}")
    groups: dict[str, float] = collections.defaultdict(float)
    for name, cpu in seen.values():
        groups[_group(name)] += cpu
    groups["Python workers (the Arrow path's read tasks)"] = sum(workers.values())
    groups["the driver's Python"] = driver[0]
    groups["source server (MariaDB)"] = sum(server_process.cpu_times()[:2]) - server_before if server_process else 0
    return wall, dict(groups), recording, err


def _group(thread: str) -> str:
    if "CompilerThre" in thread:
        return "JIT compiler threads"
    if thread.startswith(("GC Thread", "G1 ", "VM Thread")):
        return "garbage collector"
    if thread.startswith("Executor task"):
        return "executor"
    return "driver and the rest"


def executor_shares(recording: Path) -> dict[str, float]:
    """The share of the executor threads' JFR samples in each category."""
    text = subprocess.run(
        ["jfr", "print", "--stack-depth", "200", "--events", "jdk.ExecutionSample", str(recording)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: dict[str, int] = collections.Counter()
    for event in text.split("jdk.ExecutionSample")[1:]:
        thread = re.search(r'sampledThread = "([^"]*)"', event)
        if not thread or not thread.group(1).startswith("Executor task"):
            continue
        what = next((name for name, marks in CATEGORIES if any(m in event for m in marks)), "other executor work")
        counts[what] += 1
    total = sum(counts.values()) or 1
    return {name: n / total for name, n in counts.items()}


# The Arrow path's debug line for a table: its tasks' CPU by phase (spark/arrow.py's _log_times).
PHASES = re.compile(r"CPU ([\d.]+) s: reading ([\d.]+), converting ([\d.]+), writing ([\d.]+)")


def profile(rows: int) -> list[str]:
    """Both paths' loads of the same table, their CPU side by side."""
    work = Path(tempfile.mkdtemp(prefix="cdc-migrate-profile-"))
    columns: dict[str, dict[str, float]] = {}
    walls: dict[str, float] = {}
    with ThrowawayServer(extra_args=["--innodb-buffer-pool-size=6G"]) as server:
        build(server, rows)
        for reader in ("jdbc", "arrow"):
            shutil.rmtree(work / "warehouse", ignore_errors=True)
            wall, groups, recording, log = run_profiled(server, work, reader)
            executor = groups.pop("executor", 0.0)
            if reader == "jdbc":
                for name, share in executor_shares(recording).items():
                    groups[name] = executor * share
            else:
                tasks = [tuple(map(float, m.groups())) for m in PHASES.finditer(log)]
                if tasks:
                    _, read, convert, write = (sum(t[i] for t in tasks) for i in range(4))
                    worker = groups.pop("Python workers (the Arrow path's read tasks)")
                    groups["ConnectorX: reading and decoding rows (Python workers)"] = read
                    groups["the contract in Arrow (pyarrow.compute)"] = convert
                    groups["Parquet writer (pyarrow)"] = write
                    groups["the Python workers' start and PySpark's own work"] = max(
                        0.0, worker - read - convert - write
                    )
            columns[reader], walls[reader] = groups, wall
    names = sorted({n for g in columns.values() for n in g}, key=lambda n: -max(g.get(n, 0) for g in columns.values()))
    totals = {k: sum(g.values()) for k, g in columns.items()}
    lines = [
        f"`cdc-migrate run` of {rows:,} rows of part 1's large table from a cold start, each path: the JDBC path "
        f"{walls['jdbc']:.1f} s and {totals['jdbc']:.0f} CPU s, the Arrow path {walls['arrow']:.1f} s and "
        f"{totals['arrow']:.0f} CPU s (the whole process tree and the source server).",
        "",
        "| where | JDBC path CPU s | share | Arrow path CPU s | share |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        j, a = columns["jdbc"].get(name, 0.0), columns["arrow"].get(name, 0.0)
        if j or a:
            lines.append(f"| {name} | {j:.1f} | {j / totals['jdbc']:.0%} | {a:.1f} | {a / totals['arrow']:.0%} |")
    shutil.rmtree(work, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    args = parser.parse_args()
    print("\n".join(profile(args.rows)))


if __name__ == "__main__":
    main()
