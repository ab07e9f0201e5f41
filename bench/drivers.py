"""`make bench` (second part): how MySQL Connector/J 8.0.33 (Glue's driver) should stream a partition.

One table of 2,000,000 rows (about 200 bytes each) in 4 partitions, loaded three ways in one SparkSession:
Connector/J with a server-side cursor (useCursorFetch=true, fetch size 10,000: what cdc_migrate did), with row
streaming (fetch size Integer.MIN_VALUE, no cursor: what it does now), and MariaDB Connector/J (fetch size
10,000, which it streams). Measured per load: wall time, the peak memory of the process tree (the JVM is the
executor), and on the source the peak bytes in its temporary directory and the temporary tables it created
(Created_tmp_disk_tables). Prints a Markdown table; a measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from measure import tree_rss  # bench/measure.py

from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.load.runner import run
from cdc_migrate.spark import jdbc
from cdc_migrate.spark.session import build_session
from cdc_migrate.testing.server import ThrowawayServer

MODES: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "Connector/J, server-side cursor (useCursorFetch)": ("mysql", {"useCursorFetch": "true"}, {"fetchsize": "10000"}),
    "Connector/J, row streaming (chosen)": ("mysql", {}, {}),
    "MariaDB Connector/J (fetch size 10,000)": ("mariadb", {}, {}),
}


def connector_j() -> str:
    import importlib.util

    spec = importlib.util.find_spec("wbjdbc")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs PyPI wbjdbc==2.4.0 (the dev extra): it ships mysql-connector-j-8.0.33.jar")
    return str(Path(spec.submodule_search_locations[0]) / "resources/maven/mysql/mysql-connector-j-8.0.33.jar")


def peaks(tmpdir: str, fn: Callable[[], Any]) -> tuple[Any, float, int, int]:
    """fn's result, seconds, the process tree's peak RSS and the source temp directory's peak bytes."""
    me, peak, stop = psutil.Process(), [0, 0], threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            with contextlib.suppress(psutil.Error):
                peak[0] = max(peak[0], tree_rss([me, *me.children(recursive=True)]))
            files = [os.path.join(tmpdir, f) for f in os.listdir(tmpdir)]
            peak[1] = max(peak[1], sum(os.path.getsize(f) for f in files if os.path.isfile(f)))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        result = fn()
    finally:
        stop.set()
        thread.join()
    return result, time.monotonic() - started, peak[0], peak[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=2, help="the first round warms the JVM up; the last is kept")
    args = parser.parse_args()
    tmpdir = tempfile.mkdtemp(prefix="cdc-migrate-bench-tmp-")
    work = tempfile.mkdtemp(prefix="cdc-migrate-bench-drivers-")
    with ThrowawayServer(extra_args=[f"--tmpdir={tmpdir}"]) as server:
        server.execute(
            "CREATE DATABASE d",
            "CREATE TABLE d.t (id INT PRIMARY KEY, a BIGINT, b VARCHAR(200), c DECIMAL(12,2), d DATETIME(6))",
        )
        for lo in range(0, args.rows, 200_000):
            hi = min(lo + 200_000, args.rows)
            server.execute(
                f"INSERT INTO d.t SELECT seq, seq * 3, REPEAT(CHAR(65 + seq % 26), 150), seq / 7, "
                f"'2024-01-01' + INTERVAL seq SECOND FROM d.seq_{lo + 1}_to_{hi}"
            )
        server.execute("ANALYZE TABLE d.t")
        base: dict[str, Any] = {
            "source": {
                "host": server.host,
                "port": server.port,
                "user": server.user,
                "password": Secret(server.password),
                "jdbc_driver_jar": connector_j(),
                "reader": "jdbc",  # the drivers compared: the JDBC path (the Arrow path reads with ConnectorX)
            },
            "tables": {"include": ["d.t"], "rows_per_partition": args.rows // 4},
            "catalog": {"kind": "local", "warehouse": f"{work}/wh"},
            "snapshot": {"kind": "clone", "binlog_file": "binlog.000001", "binlog_position": 4},
            "spark": {"master": "local[2]", "conf": {"spark.ui.enabled": "false"}},
        }
        spark = build_session(Options.from_mapping(base))
        url_flags = dict(jdbc.URL_FLAGS["mysql"])
        rows: dict[str, str] = {}
        for _ in range(args.rounds):
            for name, (driver, flags, props) in MODES.items():
                jdbc.URL_FLAGS["mysql"] = {**url_flags, **flags}
                status = {
                    r["Variable_name"]: int(r["Value"])
                    for r in server.execute("SHOW GLOBAL STATUS LIKE 'Created_tmp_disk_tables'")
                }
                source = {**base["source"], "jdbc_driver": driver, "jdbc_properties": props}
                options = Options.from_mapping(
                    {**base, "source": source, "run": {"manifest": f"{work}/m.json", "force": True}}
                )
                manifest, seconds, rss, temp = peaks(tmpdir, lambda o=options: run(o, spark=spark))
                after = int(server.execute("SHOW GLOBAL STATUS LIKE 'Created_tmp_disk_tables'")[0]["Value"])
                [table] = manifest.tables
                assert table.status == "loaded" and table.rows == args.rows, table.error
                rows[name] = (
                    f"| {name} | {seconds:.1f} s | {args.rows / seconds:,.0f} | {rss / 2**20:,.0f} MiB | "
                    f"{temp / 2**20:,.1f} MiB | {after - status['Created_tmp_disk_tables']} |"
                )
        jdbc.URL_FLAGS["mysql"] = url_flags
    print(f"\n{args.rows:,} rows in 4 partitions, local[2], the last of {args.rounds} rounds\n")
    print(
        "| driver and mode | load | rows/s | peak memory (process tree) | source temp files (peak) | "
        "on-disk temp tables created |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows.values()))


if __name__ == "__main__":
    main()
