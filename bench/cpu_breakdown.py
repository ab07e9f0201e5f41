"""Where the CPU of one large load goes: `cdc-migrate run` of part 1's large table from a cold start, with the JVM's
flight recorder on (JFR, in the JDK) and the JVM's threads' CPU read from /proc while it runs. The executor
threads' CPU is shared out by what their JFR samples were doing; the JIT's and GC's own threads are counted
whole. Run by `make bench` (its table goes into BENCHMARKS.md); also on its own:
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


def run_profiled(server: ThrowawayServer, work: Path) -> tuple[float, dict[str, float], Path]:
    """Runs the load with JFR on; returns its wall time, the JVM's CPU by thread group and the recording."""
    recording = work / "load.jfr"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
    env["CDC_MIGRATE_SOURCE_PASSWORD"] = server.password or ""
    env["JDK_JAVA_OPTIONS"] = f"-XX:StartFlightRecording=filename={recording},settings=profile"
    argv = [str(BIN / "cdc-migrate"), "run", "--source", server.url, "--tables", f"{DB}.big"]
    argv += ["--warehouse", str(work / "warehouse"), "--manifest", str(work / "manifest.json")]
    seen: dict[tuple[int, str], tuple[str, float]] = {}
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            try:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    if "java" in child.name():
                        _threads(child.pid, seen)
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
    return wall, dict(groups), recording


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


def profile(rows: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="cdc-migrate-profile-"))
    with ThrowawayServer(extra_args=["--innodb-buffer-pool-size=6G"]) as server:
        build(server, rows)
        wall, groups, recording = run_profiled(server, work)
        shares = executor_shares(recording)
    executor = groups.pop("executor", 0.0)
    table = [(name, executor * share) for name, share in sorted(shares.items(), key=lambda kv: -kv[1])]
    table += sorted(groups.items(), key=lambda kv: -kv[1])
    total = sum(cpu for _, cpu in table) or 1.0
    lines = [
        f"`cdc-migrate run` of {rows:,} rows of part 1's large table from a cold start: {wall:.1f} s, "
        f"{total:.0f} CPU seconds in the JVM.",
        "",
        "| where | CPU s | share |",
        "|---|---|---|",
        *(f"| {name} | {cpu:.1f} | {cpu / total:.0%} |" for name, cpu in table),
    ]
    shutil.rmtree(work, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    args = parser.parse_args()
    print("\n".join(profile(args.rows)))


if __name__ == "__main__":
    main()
