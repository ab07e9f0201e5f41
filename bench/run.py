"""`make bench`: cdc_migrate against the seed recipe, ConnectorX + PyIceberg and the client floor, in one run.

On a throwaway MariaDB, each contender runs from a cold start in its own process, into a fresh warehouse, and
its loaded rows are counted afterwards (a run short of a row gives no figure). Its parts, each printed as
ratios and written to BENCHMARKS.md:

1. the whole benchmark database (a large table, a skewed one, a composite-key one, 50 small ones);
2. many tables: 300 small tables of mixed types, cdc_migrate against the seed recipe (tables in turn);
3. planning a big table: planning time against load time on 20M-row skewed and composite-key tables;
4. a cluster projection of those loads on 8, 64 and 320 task slots, our plan against the seed recipe's;
5. one large table at 10M and 20M rows, and a narrow one of 3M: rows/s per core and memory against ConnectorX +
   PyIceberg and the floor;
6. a hot table: a live load of 5M rows, 1% of whose keys are updated while it is read: its merge against its load;
7. where the CPU of the 20M-row load goes, on each path (bench/cpu_breakdown.py);
8. Spark's start alone, with the class-data archive and without;
9. the change log's reading speed (bench/binlog_speed.py), narrow and wide tables, a writer going flat out.

Parts 2 and 5 run cdc_migrate on both of its paths: the Arrow path (its default) and the JDBC path (`--reader jdbc`).

A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import DB, MANY, SCALE, build_hot, build_main, build_many, build_narrow, build_scale, grow_big, keys_of
from measure import Repeated, Result, iceberg_rows, measure, repeat

from cdc_migrate.testing.server import ThrowawayServer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DRIVER_MEMORY = "8g"  # the seed recipe's heap: it holds whole partitions in memory
_runs = itertools.count()


class Contenders:
    """The ways to move some tables of one database, each a command for a fresh process into a fresh warehouse."""

    def __init__(self, server: ThrowawayServer, work: Path, database: str, counts: dict[str, int]) -> None:
        self.server, self.work, self.database, self.counts = server, work, database, counts
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
        self.env |= {"PATH": f"{BIN}:{self.env['PATH']}", "PYSPARK_PYTHON": sys.executable}
        self.env["CDC_MIGRATE_SOURCE_PASSWORD"] = server.password or ""

    def _fresh(self, letter: str) -> Path:
        return self.work / f"{letter}-{next(_runs)}"

    def _names(self, tables: list[str]) -> list[str]:
        return [f"{self.database}.{t}" for t in tables]

    def cdc(self, tables: list[str], extra: tuple[str, ...] = (), name: str = "(a) cdc_migrate") -> Result:
        out = self._fresh("a")
        argv = [str(BIN / "cdc-migrate"), "run", "--source", self.server.url, "--warehouse", str(out)]
        argv += ["--manifest", f"{out}.json", *[a for t in tables for a in ("--tables", f"{self.database}.{t}")]]
        rows = sum(self.counts[t] for t in tables)
        count = lambda: iceberg_rows(str(out), "local", self._names(tables))  # noqa: E731
        return measure(name, [*argv, *extra], rows, self.env, loaded=count, server_pid=self.server.pid)

    def jdbc(self, tables: list[str]) -> Result:
        """cdc_migrate on its JDBC path (the rows through the JVM), the design before the Arrow path."""
        return self.cdc(tables, ("--reader", "jdbc"), name="(a') cdc_migrate, JDBC path")

    def seed(self, tables: list[str]) -> Result:
        return self._python("(b) seed recipe", "seed_recipe.py", "b", "s3tablesbucket", tables)

    def cx(self, tables: list[str]) -> Result:
        return self._python("(c) ConnectorX + PyIceberg", "connectorx_pyiceberg.py", "c", "cx", tables)

    def _python(self, name: str, script: str, letter: str, catalog: str, tables: list[str]) -> Result:
        out = self._fresh(letter)
        cfg = {
            "host": self.server.host,
            "port": self.server.port,
            "user": self.server.user,
            "password": self.server.password,
            "database": self.database,
            "driver_memory": DRIVER_MEMORY,
            "tables": [(t, keys_of(t)) for t in tables],
            "row_counts": self.counts,
            "warehouse": str(out),
        }
        config = out.with_suffix(".json")
        config.write_text(json.dumps(cfg))
        rows = sum(self.counts[t] for t in tables)
        count = lambda: iceberg_rows(str(out), catalog, self._names(tables))  # noqa: E731
        argv = [sys.executable, str(ROOT / "bench" / script), str(config)]
        return measure(name, argv, rows, self.env, loaded=count, server_pid=self.server.pid)

    def floor(self, tables: list[str]) -> Result:
        client = shutil.which("mariadb") or "mariadb"
        login = f"-h {self.server.host} -P {self.server.port} -u {self.server.user}"
        reads = "; ".join(
            f"{client} --quick --skip-column-names {login} -e 'SELECT * FROM {self.database}.{t}'" for t in tables
        )
        lines = self._fresh("d").with_suffix(".count")
        command = f"{{ {reads}; }} | wc -l > {lines}"
        rows = sum(self.counts[t] for t in tables)
        count = lambda: int(lines.read_text().strip() or 0)  # noqa: E731
        return measure("(d) mariadb --quick", command, rows, self.env, shell=True, loaded=count)


# ---- reporting -----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    version = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    import pyspark

    return (
        f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, PySpark {pyspark.__version__}, "
        f"{version}, MariaDB 10.11 (a throwaway server)"
    )


def figure(r: Result, text: str) -> str:
    return text if r.ok else f"(failed: {r.note})"


def whole_table(results: list[Result], base: Result) -> str:
    lines = [
        "| contender | wall time | rows/s | peak memory (process tree) | time vs (a) | memory vs (a) |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {figure(r, f'{r.seconds:.1f} s')} | {figure(r, f'{r.rows_per_second:,.0f}')} | "
            f"{r.peak_rss / 2**20:,.0f} MiB | {figure(r, f'{r.seconds / base.seconds:.2f}x')} | "
            f"{r.peak_rss / base.peak_rss:.2f}x |"
        )
    return "\n".join(lines)


def part_whole(server: ThrowawayServer, work: Path, counts: dict[str, int]) -> list[str]:
    tables = list(counts)
    run = Contenders(server, work, DB, counts)
    print("warming the buffer pool (untimed)", flush=True)
    run.floor(tables)
    print("1. the whole database, each from a cold start:", flush=True)
    a, b, c, d = run.cdc(tables), run.seed(tables), run.cx(tables), run.floor(tables)
    return ["## 1. The whole database", "", whole_table([a, b, c, d], a), ""]


def part_many(server: ThrowawayServer, work: Path, counts: dict[str, int]) -> tuple[list[str], float, float]:
    tables = list(counts)
    run = Contenders(server, work, MANY, counts)
    run.floor(tables)
    print(f"2. {len(tables)} small tables:", flush=True)
    mine, jdbc, theirs = [], [], []
    for _ in range(2):  # interleaved, so that all see the machine alike
        mine.append(run.cdc(tables))
        jdbc.append(run.jdbc(tables))
        theirs.append(run.seed(tables))
    a, j, b = Repeated(mine), Repeated(jdbc), Repeated(theirs)
    ratio = b.seconds / a.seconds if a.ok and b.ok else 0.0
    cpu_ratio = a.cpu / len(tables) * 1000 if a.ok else 0.0  # CPU ms per table
    rows = sum(counts.values())
    n = len(tables)
    lines = [
        f"## 2. Many tables: {n} small tables, {rows:,} rows",
        "",
        "Two cold runs of each, interleaved (medians).",
        "",
        "| contender | wall time | rows/s | CPU s (process tree) | CPU ms per table | peak memory (process tree) | "
        "time vs (a) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in (("(a) cdc_migrate", a), ("(a') cdc_migrate, JDBC path", j), ("(b) seed recipe", b)):
        lines.append(
            f"| {label} | {r.seconds:.1f} s | {rows / r.seconds:,.0f} | {r.cpu:.0f} | {r.cpu / n * 1000:.0f} | "
            f"{r.peaks[-1] / 2**20:,.0f} MiB | {r.seconds / a.seconds:.2f}x |"
        )
    lines += [
        "",
        f"The seed recipe takes **{ratio:.2f}x** as long as cdc_migrate (target: at least 2.5x; 3x the aim), the "
        f"JDBC path {b.seconds / j.seconds:.2f}x; CPU per table **{cpu_ratio:.0f} ms** (target: at most 100 ms), "
        f"the JDBC path's {j.cpu / n * 1000:.0f} ms and the recipe's {b.cpu / n * 1000:.0f} ms.",
        "",
        "Where a small table's time goes (`bench/per_table.py`: its own throwaway server, one table at a time "
        "so that the steps add up; a session built in the process with the JVM options a run of these tables gets):",
        "",
    ]
    profiled = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "per_table.py"), "--tables", "120", "--parallel", "1"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")},
    )
    lines += [*(profiled.stdout.strip() or f"(failed: {profiled.stderr.strip()[-300:]})").splitlines(), ""]
    return lines, ratio, cpu_ratio


def _plan_seconds(server: ThrowawayServer, table: str, walk: bool) -> float:
    """Planning one table in a fresh process (`cdc-migrate plan`), with the estimates or walking the index."""
    code = (
        "import sys, time; "
        + ("import cdc_migrate.planning.planner as p; p._estimated_plan = lambda *a, **k: None; " if walk else "")
        + "from cdc_migrate.config.model import Options; from cdc_migrate.load.runner import plan; "
        f"o = Options.from_mapping({{'source': {{'url': {server.url!r}}}, "
        f"'tables': {{'include': ['{SCALE}.{table}']}}}}); "
        "t = time.perf_counter(); [r] = plan(o); assert r.plan is not None, r.error; "
        "print(time.perf_counter() - t, r.plan.partitions)"
    )
    env = {**os.environ, "CDC_MIGRATE_SOURCE_PASSWORD": server.password or ""}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.split()[0])


def part_scale(server: ThrowawayServer, work: Path, counts: dict[str, int]) -> tuple[list[str], dict[str, float], str]:
    run = Contenders(server, work, SCALE, counts)
    lines = ["## 3. Planning a big table", ""]
    lines += [
        "| table | rows | planning (estimates) | planning (walking the index) | load (cdc_migrate, cold) | "
        "planning / load |",
        "|---|---|---|---|---|---|",
    ]
    shares: dict[str, float] = {}
    manifest = ""
    for table in counts:
        run.floor([table])  # the table in the buffer pool, as the others find it
        estimated, walked = _plan_seconds(server, table, False), _plan_seconds(server, table, True)
        load = run.cdc([table])
        manifest = max(work.glob("a-*.json"), key=lambda p: p.stat().st_mtime).read_text()
        shares[table] = estimated / load.seconds if load.ok else 0.0
        took = figure(load, f"{load.seconds:.1f} s")
        lines.append(
            f"| {table} | {counts[table]:,} | {estimated:.2f} s | {walked:.2f} s | {took} | {shares[table]:.1%} |"
        )
        (work / f"manifest-{table}.json").write_text(manifest)
    return [*lines, ""], shares, manifest


def part_projection(server: ThrowawayServer, work: Path, counts: dict[str, int]) -> tuple[list[str], dict[str, float]]:
    from projection import seed_rows  # bench/projection.py

    from cdc_migrate.handoff.manifest import read_manifest
    from cdc_migrate.load.projection import ours, seeds, table_cost

    lines = [
        "## 4. On a cluster: the loads above projected on N task slots",
        "",
        "| table | N | cdc_migrate's plan | the seed recipe's plan | seed / ours |",
        "|---|---|---|---|---|",
    ]
    ratios: dict[str, float] = {}
    for table in counts:
        manifest = read_manifest(work / f"manifest-{table}.json")
        cost = table_cost(manifest.tables[0])
        if cost is None:
            lines.append(f"| {table} | - | (no partition times recorded) | | |")
            continue
        rows = {cost.name: seed_rows(server, SCALE, table, keys_of(table))}
        for n in (8, 64, 320):
            mine, theirs = ours([cost], n), seeds([cost], rows, n)
            ratios[f"{table}@{n}"] = theirs / mine
            lines.append(f"| {table} | {n} | {mine:,.1f} s | {theirs:,.1f} s | {theirs / mine:.1f}x |")
    return [*lines, ""], ratios


def _large_rows(label: str, size: int, r: Repeated, versus: float, growth: str) -> str:
    cores = os.cpu_count() or 1
    peaks = " / ".join(f"{p / 2**20:,.0f}" for p in r.peaks)
    speed = f"{size / r.seconds:,.0f}" if r.ok else "(failed)"
    per_core = f"{size / r.seconds / cores:,.0f}" if r.ok else ""
    server_cpu = sum(x.server_cpu for x in r.runs) / len(r.runs)
    return (
        f"| {label} | {size:,} | {r.seconds:.1f} s | {speed} | {per_core} | {r.cpu:.0f} | {server_cpu:.0f} | "
        f"{peaks} MiB | {growth} | {versus:.2f}x |"
    )


LARGE_HEADER = [
    "| contender | rows | wall time | rows/s | rows/s per core | CPU s (tree) | source CPU s | peak memory of "
    "the runs | growth when doubled | time vs ConnectorX |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
CONTENDERS = (
    ("cdc", "(a) cdc_migrate"),
    ("jdbc", "(a') cdc_migrate, JDBC path"),
    ("cx", "(c) ConnectorX + PyIceberg"),
    ("floor", "(d) floor"),
)


def _three(run: Contenders, table: str) -> dict[str, Repeated]:
    run.floor([table])
    return {
        "cdc": repeat(lambda: run.cdc([table])),
        "jdbc": repeat(lambda: run.jdbc([table])),
        "cx": repeat(lambda: run.cx([table])),
        "floor": Repeated([run.floor([table])]),
    }


def part_large(
    server: ThrowawayServer, work: Path, counts: dict[str, int], big: int, narrow: int
) -> tuple[list[str], dict[str, float]]:
    lines = [
        f"## 5. One large table, {big:,} rows and doubled; a narrow one of {narrow:,} rows",
        "",
        "Three cold runs of cdc_migrate and ConnectorX at each size (median wall time; peak memory lowest / median / "
        "highest; CPU seconds of the process tree), one of the floor. The narrow table has the columns of the "
        "issue that set the target (a BIGINT key, INT, VARCHAR(40), DECIMAL(12,2), DATETIME(6), CHAR(4), DOUBLE).",
        "",
        *LARGE_HEADER,
    ]
    by_size: dict[int, dict[str, Repeated]] = {}
    for size in (big, 2 * big):
        if size != counts["big"]:
            grow_big(server, counts["big"], size)
            counts = counts | {"big": size}
        print(f"5. the large table, {size:,} rows:", flush=True)
        by_size[size] = _three(Contenders(server, work, DB, counts), "big")
    ratios: dict[str, float] = {}
    for size, results in by_size.items():
        for key, label in CONTENDERS:
            r, growth = results[key], ""
            if size == 2 * big:
                first = by_size[big][key]
                median = r.peaks[len(r.peaks) // 2] / first.peaks[len(first.peaks) // 2]
                growth = f"{r.peaks[-1] / first.peaks[-1]:.2f}x (medians {median:.2f}x)"
                if key == "cdc":
                    ratios["memory"] = r.peaks[-1] / first.peaks[-1]
            versus = r.seconds / results["cx"].seconds
            if key == "cdc":
                ratios[f"large@{size}"] = versus
            lines.append(_large_rows(label, size, r, versus, growth))
    cdc_added = by_size[2 * big]["cdc"].seconds - by_size[big]["cdc"].seconds
    cx_added = by_size[2 * big]["cx"].seconds - by_size[big]["cx"].seconds
    ratios["per_row"] = cdc_added / cx_added if cx_added > 0 else 0.0
    per_row = {k: (by_size[2 * big][k].cpu - by_size[big][k].cpu) / big * 1e6 for k in ("cdc", "jdbc", "cx")}
    lines += [
        "",
        f"Per row (the time the doubling added): cdc_migrate {cdc_added:.1f} s against ConnectorX's {cx_added:.1f} s, "
        f"**{ratios['per_row']:.2f}x** (target: at most 1.1x). CPU per million rows (the doubling's): cdc_migrate "
        f"{per_row['cdc']:.2f} s, its JDBC path {per_row['jdbc']:.2f} s, ConnectorX {per_row['cx']:.2f} s.",
        "",
        *LARGE_HEADER,
    ]
    print(f"5. the narrow table, {narrow:,} rows:", flush=True)
    narrow_counts = build_narrow(server, narrow)
    results = _three(Contenders(server, work, DB, narrow_counts), "narrow")
    for key, label in CONTENDERS:
        versus = results[key].seconds / results["cx"].seconds
        if key == "cdc":
            ratios[f"narrow@{narrow}"] = versus
        lines.append(_large_rows(f"{label}, narrow", narrow, results[key], versus, ""))
    return [*lines, ""], ratios


def part_hot(server: ThrowawayServer, work: Path, rows: int) -> tuple[list[str], float]:
    """A live load of a table 1% of whose keys are updated while it is read: the catch-up MERGE against the load."""
    import random
    import threading

    counts = build_hot(server, rows)
    run = Contenders(server, work, DB, counts)
    run.floor(["hot"])
    keys = random.Random(7).sample(range(1, rows + 1), rows // 100)
    stop = threading.Event()

    def write() -> None:  # once the JVM has started and the table is being read
        if stop.wait(6.0):
            return
        with server.connect() as conn, conn.cursor() as cur:
            for i in range(0, len(keys), 500):
                if stop.is_set():
                    return
                cur.execute(f"UPDATE {DB}.hot SET qty = qty + 1 WHERE id IN ({','.join(map(str, keys[i : i + 500]))})")
                time.sleep(0.05)

    print(f"6. a live load of {rows:,} rows, {len(keys):,} keys updated while it runs:", flush=True)
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = run.cdc(["hot"])
    stop.set()
    writer.join()
    manifest = max(work.glob("a-*.json"), key=lambda p: p.stat().st_mtime)
    table = json.loads(manifest.read_text())["tables"][0]
    merge, total, changed = table.get("merge_seconds") or 0.0, table.get("seconds") or 0.0, table.get("changes") or 0
    load = total - merge
    share = merge / load if load else 0.0
    lines = [
        f"## 6. A hot table: {rows:,} rows, {len(keys):,} keys (1%) updated while it is read",
        "",
        "| run | the table | its load | the merge of its changes | keys merged | merge / load |",
        "|---|---|---|---|---|---|",
        f"| {figure(result, f'{result.seconds:.1f} s')} | {total:.1f} s | {load:.1f} s | {merge:.1f} s | {changed:,} | "
        f"{share:.0%} |",
        "",
    ]
    return lines, share


def part_profile(rows: int) -> list[str]:
    """Where the CPU of a large load goes (bench/cpu_breakdown.py: JFR and the JVM's threads), in its own process."""
    print(f"7. where the CPU of a {rows:,}-row load goes:", flush=True)
    profiled = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cpu_breakdown.py"), "--rows", str(rows)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")},
    )
    body = profiled.stdout.strip() or f"(failed: {profiled.stderr.strip()[-300:]})"
    return [f"## 7. Where the CPU of a {rows:,}-row load goes", "", *body.splitlines(), ""]


START = (
    "import sys, time; t = time.monotonic(); "
    "from cdc_migrate.config.model import Options; from cdc_migrate.spark.session import build_session; "
    "from cdc_migrate.spark.write import ensure_namespaces; "
    "o = Options.from_mapping({'catalog': {'kind': 'local', 'warehouse': sys.argv[1]}, "
    "'spark': {'conf': {'spark.ui.enabled': 'false'}}}); "
    "s = build_session(o); a = time.monotonic(); ensure_namespaces(s, 'local', {'x'}); b = time.monotonic(); "
    "s.sparkContext.parallelize(range(2), 2).map(lambda x: x).collect(); c = time.monotonic(); "
    "print(a - t, b - a, c - b)"
)


def part_start(work: Path) -> list[str]:
    """Spark's start alone: the session, the catalog's first use and the first Python job, with the class-data
    archive `cdc-migrate prepare` made and without it (an empty cache), three of each interleaved."""
    print("8. Spark's start:", flush=True)
    empty = work / "no-archive"
    empty.mkdir(exist_ok=True)
    runs: dict[str, list[list[float]]] = {"with the archive": [], "without it": []}
    for i in range(3):
        for label, env in (("with the archive", {}), ("without it", {"CDC_MIGRATE_CACHE": str(empty)})):
            done = subprocess.run(
                [sys.executable, "-c", START, str(work / f"start-{i}-{len(env)}")],
                capture_output=True,
                text=True,
                env={**os.environ, **env, "PYSPARK_PYTHON": sys.executable},
            )
            if done.returncode == 0:
                runs[label].append([float(x) for x in done.stdout.split()[-3:]])
    lines = [
        "## 8. Spark's start",
        "",
        "A session built by cdc_migrate in a fresh process, its catalog's first use (a namespace) and the first "
        "Python job, medians of three; the class-data archive is the one `cdc-migrate prepare` (`make setup`) makes.",
        "",
        "| JVM | session | catalog | first Python job | together |",
        "|---|---|---|---|---|",
    ]
    for label, times in runs.items():
        if not times:
            lines.append(f"| {label} | (failed) | | | |")
            continue
        med = [statistics.median(t[k] for t in times) for k in range(3)]
        lines.append(f"| {label} | {med[0]:.2f} s | {med[1]:.2f} s | {med[2]:.2f} s | {sum(med):.2f} s |")
    return [*lines, ""]


def part_binlog(server: ThrowawayServer) -> tuple[list[str], float]:
    """The change log's reading speed (bench/binlog_speed.py), the compiled readers against the library's."""
    from binlog_speed import measure as binlog_measure
    from binlog_speed import report as binlog_report

    print("9. the change log's reading speed:", flush=True)
    speeds = binlog_measure(server)
    base = {x.table: x.seconds for x in speeds if not x.design.startswith("compiled")}
    least = min((base[x.table] / x.seconds for x in speeds if x.design.startswith("compiled")), default=0.0)
    lines = [
        "## 9. The change log's reading speed",
        "",
        "Row changes of a narrow table (200,000: inserts and an update of every row) and of a 1000-column one (a row "
        "per transaction), read from the binlog by the change log while a writer inserts into another table flat "
        "out; the same window with each decoding (`bench/binlog_speed.py`).",
        "",
        *binlog_report(speeds),
        "",
    ]
    return lines, least


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=5_000_000, help="rows of the large table in part 1")
    parser.add_argument("--large", type=int, default=10_000_000, help="rows of the large table in part 5 (doubled)")
    parser.add_argument("--scale", type=int, default=20_000_000, help="rows of the skewed and composite tables of 3")
    parser.add_argument("--many", type=int, default=300, help="small tables in part 2")
    parser.add_argument("--narrow", type=int, default=3_000_000, help="rows of the narrow table in part 5")
    parser.add_argument("--hot", type=int, default=5_000_000, help="rows of the hot table in part 6")
    parser.add_argument("--parts", default="1,2,3,4,5,6,7,8,9", help="which parts to run")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    work = Path(tempfile.mkdtemp(prefix="cdc-migrate-bench-"))
    print(f"benchmark work directory {work}", flush=True)
    report = [
        "# Benchmarks",
        "",
        f"Run with `make bench` on {time.strftime('%Y-%m-%d')}: {machine()}. Every contender runs in a fresh "
        "process into a fresh warehouse against the same throwaway MariaDB (buffer pool warm), and its loaded rows "
        "are counted in the catalog afterwards: a run that did not load every row shows no figure. Peak memory is "
        "the resident memory of the whole process tree (Python and JVM), sampled every 50 ms.",
        "",
        "- (a) cdc_migrate with its defaults (`cdc-migrate run`: Spark local[*], the limits of the capacity rule, the "
        "Arrow path); (a') the same on its JDBC path (`--reader jdbc`).",
        "- (b) the seed recipe: MIN/MAX stride with the seed's formula (1,000,000 rows per partition, 1..200 "
        f"partitions), Spark's default fetch size, tables one after another (same Spark and jars; a {DRIVER_MEMORY} "
        "driver heap, since it holds whole partitions in memory).",
        "- (c) ConnectorX into Arrow (partitioned on the key, one reader per core) and PyIceberg, in one process.",
        "- (d) the floor: every table through `mariadb --quick` into `wc -l`.",
        "",
    ]
    summary: list[str] = []
    with ThrowawayServer(extra_args=["--innodb-buffer-pool-size=6G", "--max-allowed-packet=256M"]) as server:
        started = time.monotonic()
        counts = build_main(server, args.big) if parts & {"1", "5"} else {}
        print(f"built {DB}: {sum(counts.values()):,} rows in {time.monotonic() - started:.0f}s", flush=True)
        if "1" in parts:
            report += part_whole(server, work, counts)
        if "2" in parts:
            many = build_many(server, args.many)
            lines, ratio, cpu_ratio = part_many(server, work, many)
            report += lines
            summary.append(f"many tables: seed / cdc_migrate {ratio:.2f}x (target >= 2.5x, aim 3x)")
            summary.append(f"many tables, CPU per table: {cpu_ratio:.0f} ms (target <= 100 ms)")
        if "3" in parts or "4" in parts:
            scale = build_scale(server, args.scale)
            lines, shares, _ = part_scale(server, work, scale)
            report += lines
            summary += [f"planning / load, {t}: {s:.1%} (target <= 10%)" for t, s in shares.items()]
            if "4" in parts:
                lines, ratios = part_projection(server, work, scale)
                report += lines
                summary += [f"projection seed / ours, {k}: {v:.1f}x" for k, v in ratios.items()]
        if "5" in parts:
            lines, ratios = part_large(server, work, {"big": counts["big"]}, args.large, args.narrow)
            report += lines
            summary.append(
                f"large table at {2 * args.large:,} rows: cdc_migrate / ConnectorX "
                f"{ratios[f'large@{2 * args.large}']:.2f}x (target <= 1.25x)"
            )
            summary.append(f"large table, per row (the doubling's time): {ratios['per_row']:.2f}x (target <= 1.1x)")
            summary.append(
                f"narrow table at {args.narrow:,} rows: cdc_migrate / ConnectorX "
                f"{ratios[f'narrow@{args.narrow}']:.2f}x (target <= 2.5x, aim 2x)"
            )
            summary.append(f"peak memory when the large table doubles: {ratios['memory']:.2f}x (target <= 1.2x)")
        if "6" in parts:
            lines, share = part_hot(server, work, args.hot)
            report += lines
            summary.append(f"hot table: merge / load {share:.0%} (target <= 20%)")
        binlog: list[str] = []  # (printed after parts 7 and 8, which need no server)
        if "9" in parts:
            binlog, least = part_binlog(server)
            summary.append(
                f"the change log's reading, compiled / the library's decoding: at least {least:.1f}x (target >= 5x)"
            )
    if "7" in parts:
        report += part_profile(2 * args.large)
    if "8" in parts:
        report += part_start(work)
    report += binlog
    report += ["## Ratios against the targets", "", *[f"- {line}" for line in summary], ""]
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
