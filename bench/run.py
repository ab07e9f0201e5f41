"""`make bench`: cdc_migrate against the seed recipe, ConnectorX + PyIceberg and the client floor, in one run.

Builds a deterministic benchmark database on a throwaway MariaDB (one large table with uniform ids, one
skewed table, one composite-key table, 50 small tables), runs each contender from a cold start in its own
process, measures wall time and the peak memory of its whole process tree (JVM included), prints the
ratios, then doubles the large table and repeats cdc_migrate and ConnectorX on it to show how memory
grows. Writes BENCHMARKS.md. A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from cdc_migrate.testing.server import ThrowawayServer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DB = "benchdb"
SMALL_TABLES = 50
DRIVER_MEMORY = "8g"  # the seed recipe's heap: it holds whole partitions in memory


# ---- the dataset ---------------------------------------------------------------------------------------

BIG_COLUMNS = """
    id BIGINT NOT NULL PRIMARY KEY,
    customer_id INT NOT NULL,
    sku VARCHAR(32) NOT NULL,
    status ENUM('new','paid','shipped','cancelled') NOT NULL,
    qty SMALLINT NOT NULL,
    price DECIMAL(10,2) NOT NULL,
    discount FLOAT NULL,
    weight DOUBLE NULL,
    created_at DATETIME(3) NOT NULL,
    updated_at TIMESTAMP(6) NULL DEFAULT NULL,
    note VARCHAR(100) NULL,
    is_gift TINYINT(1) NOT NULL
"""


def big_rows(first: int, count: int) -> str:
    """An INSERT ... SELECT of `count` deterministic rows with ids first..first+count-1 (MariaDB's SEQUENCE)."""
    s = f"(seq + {first - 1})"
    return f"""SELECT {s}, ({s} * 7919) % 100000, CONCAT('SKU-', LPAD(({s} * 31) % 50000, 6, '0')),
        ELT(1 + {s} % 4, 'new', 'paid', 'shipped', 'cancelled'), 1 + {s} % 9, (({s} * 13) % 100000) / 100,
        IF({s} % 5 = 0, NULL, ({s} % 100) / 100), ({s} % 1000) * 0.137,
        TIMESTAMP'2020-01-01 00:00:00' + INTERVAL ({s} * 17) SECOND + INTERVAL ({s} % 1000) * 1000 MICROSECOND,
        IF({s} % 3 = 0, NULL, TIMESTAMP'2021-01-01 00:00:00' + INTERVAL ({s} * 7) SECOND),
        IF({s} % 2 = 0, NULL, CONCAT('note ', {s} % 977)), {s} % 2
        FROM seq_1_to_{count}"""


def build(server: ThrowawayServer, big: int, skewed: int, composite: int, small: int) -> dict[str, int]:
    """Creates the benchmark database; returns rows per table. Not written to the binlog (bulk set-up)."""
    stmts = ["SET SESSION sql_log_bin = 0", f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB}", f"USE {DB}"]
    stmts.append(f"CREATE TABLE big ({BIG_COLUMNS})")
    chunk = 500_000
    for first in range(1, big + 1, chunk):
        stmts.append(f"INSERT INTO big {big_rows(first, min(chunk, big - first + 1))}")
    stmts += [
        "CREATE TABLE skewed (id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2) NOT NULL, "
        "at DATETIME NOT NULL)",
        f"INSERT INTO skewed SELECT seq, seq % 5000, (seq * 37 % 100000) / 100, "
        f"TIMESTAMP'2022-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_{skewed}",
        # a sparse tail: a thousand ids spread up to 10^12
        "INSERT INTO skewed SELECT 1000000000 * seq, seq, 1, TIMESTAMP'2023-01-01 00:00:00' FROM seq_1_to_1000",
        "CREATE TABLE composite (tenant_id INT NOT NULL, order_no INT NOT NULL, total DECIMAL(12,2) NOT NULL, "
        "state VARCHAR(16) NOT NULL, PRIMARY KEY (tenant_id, order_no))",
        f"INSERT INTO composite SELECT seq % 100, seq DIV 100, (seq % 99999) / 100, "
        f"ELT(1 + seq % 3, 'open', 'closed', 'void') FROM seq_1_to_{composite}",
    ]
    for i in range(SMALL_TABLES):
        stmts += [
            f"CREATE TABLE small_{i:02d} (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, v DOUBLE)",
            f"INSERT INTO small_{i:02d} SELECT seq, CONCAT('row ', seq, ' of ', {i}), seq / 7 FROM seq_1_to_{small}",
        ]
    stmts.append(f"ANALYZE TABLE big, skewed, composite, {', '.join(f'small_{i:02d}' for i in range(SMALL_TABLES))}")
    server.execute(*stmts)
    counts = {"big": big, "skewed": skewed + 1000, "composite": composite}
    counts |= {f"small_{i:02d}": small for i in range(SMALL_TABLES)}
    return counts


def tables_with_keys(counts: dict[str, int]) -> list[tuple[str, str]]:
    keys = {"big": "id", "skewed": "id", "composite": "tenant_id"}
    return [(t, keys.get(t, "id")) for t in counts]


# ---- measuring -------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    seconds: float
    peak_rss: int
    rows: int
    ok: bool
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure(
    name: str, argv: list[str] | str, rows: int, env: dict[str, str] | None = None, shell: bool = False
) -> Result:
    """Runs a command from a cold start; wall time and the peak RSS of its whole process tree."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, shell=shell, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
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
    print(f"  {name}: {seconds:.1f}s, peak {peak / 2**20:,.0f} MiB{'' if ok else ' FAILED: ' + note}", flush=True)
    return Result(name, seconds, peak, rows, ok, note)


@dataclass
class Repeated:
    """Several cold runs of one contender: a JVM's resident size varies from run to run (how far G1 grows
    the heap towards its cap), so one run says little about how memory depends on the data."""

    runs: list[Result]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peaks(self) -> list[int]:
        return sorted(r.peak_rss for r in self.runs)

    @property
    def rows(self) -> int:
        return self.runs[0].rows


def repeat(run: Callable[[], Result], times: int = 3) -> Repeated:
    return Repeated([run() for _ in range(times)])


def contenders(server: ThrowawayServer, work: Path, counts: dict[str, int], only: list[str] | None, tag: str):  # type: ignore[no-untyped-def]
    """The four ways to move the tables, each a command for a fresh process."""
    tables = [t for t in counts if only is None or t in only]
    rows = sum(counts[t] for t in tables)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
    env |= {"PATH": f"{BIN}:{env['PATH']}", "PYSPARK_PYTHON": sys.executable, "CDC_MIGRATE_SOURCE_PASSWORD": ""}
    cfg = {
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": DB,
        "driver_memory": DRIVER_MEMORY,
        "tables": [tk for tk in tables_with_keys(counts) if tk[0] in tables],
        "row_counts": counts,
    }
    cdc = [
        str(BIN / "cdc-migrate"),
        "run",
        "--source",
        server.url,
        "--warehouse",
        str(work / f"a-{tag}"),
        "--manifest",
        str(work / f"a-{tag}.json"),
        *[arg for t in tables for arg in ("--tables", f"{DB}.{t}")],
    ]
    seed_cfg = work / f"b-{tag}.json"
    seed_cfg.write_text(json.dumps(cfg | {"warehouse": str(work / f"b-{tag}")}))
    cx_cfg = work / f"c-{tag}.json"
    cx_cfg.write_text(json.dumps(cfg | {"warehouse": str(work / f"c-{tag}")}))
    client = shutil.which("mariadb") or "mariadb"
    floor = " && ".join(
        f"{client} --quick -h {server.host} -P {server.port} -u {server.user} -e 'SELECT * FROM {DB}.{t}' > /dev/null"
        for t in tables
    )
    return rows, {
        "floor": lambda: measure("(d) mariadb --quick > /dev/null", floor, rows, env, shell=True),
        "seed": lambda: measure(
            "(b) seed recipe", [sys.executable, str(ROOT / "bench" / "seed_recipe.py"), str(seed_cfg)], rows, env
        ),
        "cdc": lambda: measure("(a) cdc_migrate", cdc, rows, env),
        "cx": lambda: measure(
            "(c) ConnectorX + PyIceberg",
            [sys.executable, str(ROOT / "bench" / "connectorx_pyiceberg.py"), str(cx_cfg)],
            rows,
            env,
        ),
    }


# ---- reporting -----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    import pyspark

    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, PySpark {pyspark.__version__}, "
        f"{version}, MariaDB {ThrowawayServer.__name__} (10.11)"
    )


def table(results: list[Result], base: Result) -> str:
    lines = [
        "| contender | wall time | rows/s | peak memory (process tree) | time vs (a) | memory vs (a) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        status = "" if r.ok else f" (failed: {r.note})"
        lines.append(
            f"| {r.name}{status} | {r.seconds:.1f} s | {r.rows_per_second:,.0f} | {r.peak_rss / 2**20:,.0f} MiB | "
            f"{r.seconds / base.seconds:.2f}x | {r.peak_rss / base.peak_rss:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=5_000_000, help="rows of the large table (doubled later)")
    parser.add_argument(
        "--skewed",
        type=int,
        default=5_000_000,
        help="dense ids of the skewed table (the issue's example: 1..5M plus a few ids near 10^12)",
    )
    parser.add_argument("--composite", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=2_000, help="rows of each of the 50 small tables")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cdc-migrate-bench-"))
    print(f"benchmark work directory {work}", flush=True)
    with ThrowawayServer(extra_args=["--innodb-buffer-pool-size=4G", "--max-allowed-packet=256M"]) as server:
        started = time.monotonic()
        counts = build(server, args.big, args.skewed, args.composite, args.small)
        print(
            f"built {DB}: {sum(counts.values()):,} rows in {len(counts)} tables in {time.monotonic() - started:.0f}s",
            flush=True,
        )
        rows, run = contenders(server, work, counts, None, "all")
        print("warming the buffer pool (untimed)", flush=True)
        run["floor"]()
        print("the whole database, each from a cold start:", flush=True)
        whole = {name: run[name]() for name in ("floor", "seed", "cdc", "cx")}

        print(f"the large table alone, {args.big:,} rows, then doubled:", flush=True)
        _, single = contenders(server, work, counts, ["big"], "big1")
        big1 = {name: repeat(single[name]) for name in ("cdc", "cx")}
        more = f"INSERT INTO big {big_rows(args.big + 1, args.big)}"
        server.execute("SET SESSION sql_log_bin = 0", f"USE {DB}", more, f"ANALYZE TABLE {DB}.big")
        doubled = counts | {"big": 2 * args.big}
        _, double = contenders(server, work, doubled, ["big"], "big2")
        big2 = {name: repeat(double[name]) for name in ("cdc", "cx")}

    order = [whole["cdc"], whole["seed"], whole["cx"], whole["floor"]]
    report = [
        "# Benchmarks",
        "",
        f"Run with `make bench` on {time.strftime('%Y-%m-%d')}: {machine()}.",
        "",
        f"Database: `big` {counts['big']:,} rows with uniform ids and 12 columns; `skewed` {counts['skewed']:,} rows "
        f"(ids 1..{args.skewed:,} plus 1,000 ids up to 10^12); `composite` {counts['composite']:,} rows with a "
        f"two-column key; {SMALL_TABLES} small tables of {args.small:,} rows; {rows:,} rows in all. "
        "Every contender runs in a fresh process against the same throwaway MariaDB (buffer pool warm), "
        "writing a local Iceberg catalog. Peak memory is the resident memory of the whole process tree "
        "(Python and JVM), sampled every 50 ms.",
        "",
        "- (a) cdc_migrate with its defaults (`cdc-migrate run`: Spark local[*], the default 1 GiB driver heap, "
        "250,000 rows per partition, 4 tables at a time).",
        "- (b) the seed recipe: MIN/MAX stride with the seed's formula (1,000,000 rows per partition, 1..200 "
        f"partitions), Spark's default fetch size, tables one after another (same Spark and jars; a {DRIVER_MEMORY} "
        "driver heap, since it holds whole partitions in memory).",
        "- (c) ConnectorX into Arrow (partitioned on the key, one reader per core) and PyIceberg, in one process.",
        "- (d) the floor: every table through `mariadb --quick` to /dev/null.",
        "",
        "## The whole database",
        "",
        table(order, whole["cdc"]),
        "",
        f"## The large table, {args.big:,} rows and doubled",
        "",
        "Three cold runs at each size: the median wall time, and the peak memory of each run (lowest, median,",
        "highest). Growth compares the highest peaks (and the medians).",
        "",
        "| contender | rows | wall time (median) | rows/s | peak memory of 3 runs | growth when doubled |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("cdc", "(a) cdc_migrate"), ("cx", "(c) ConnectorX + PyIceberg")):
        for r, n in ((big1[name], args.big), (big2[name], 2 * args.big)):
            growth = ""
            if r is big2[name]:
                high = big2[name].peaks[-1] / big1[name].peaks[-1]
                mid = statistics.median(big2[name].peaks) / statistics.median(big1[name].peaks)
                growth = f"{high:.2f}x (medians {mid:.2f}x)"
            peaks = " / ".join(f"{p / 2**20:,.0f}" for p in r.peaks)
            report.append(f"| {label} | {n:,} | {r.seconds:.1f} s | {n / r.seconds:,.0f} | {peaks} MiB | {growth} |")
    text = "\n".join(report) + "\n"
    print("\n" + text)
    marker = "<!-- measured: keep the analysis below when regenerating -->"
    existing = Path(args.out).read_text() if Path(args.out).exists() else ""
    analysis = existing.split(marker, 1)[1] if marker in existing else "\n"
    Path(args.out).write_text(text + "\n" + marker + analysis)
    print(f"written to {args.out}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
