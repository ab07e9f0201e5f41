"""How fast the change log reads the binlog (part 9 of `make bench`): row changes of a narrow table and of a
1000-column one, written by a writer going flat out meanwhile, read by source/changelog.py with the compiled row
readers and with python-mysql-replication's own decoding (`ChangeLog(compiled=False)`), the same window each
time. Also on its own: `python bench/binlog_speed.py`.

A benchmark, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.naming import TableName
from cdc_migrate.source.changelog import ChangeLog
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.testing.server import ThrowawayServer

NARROW = (
    "id BIGINT PRIMARY KEY, a INT NOT NULL, s VARCHAR(40), d DECIMAL(12,2) NOT NULL, ts DATETIME(6), c CHAR(4), "
    "x DOUBLE"
)


@dataclass(frozen=True)
class Speed:
    table: str
    design: str
    events: int
    megabytes: float
    seconds: float


def _wide_columns(n: int) -> str:
    kinds = ("INT", "VARCHAR(8)", "DECIMAL(10,2)")
    return "id INT PRIMARY KEY, " + ", ".join(f"c{i} {kinds[i % 3]}" for i in range(n))


def _wide_row(i: int, n: int) -> str:
    values = [str(i)] + [str(i) if k % 3 == 0 else f"'{i % 10**7}'" if k % 3 == 1 else f"{k}.5" for k in range(n)]
    return f"({','.join(values)})"


def _write_narrow(server: ThrowawayServer, rows: int) -> None:
    with server.connect(autocommit=True) as conn, conn.cursor() as cur:
        for lo in range(0, rows, 1000):
            values = ",".join(
                f"({i},{i % 1000},'name {i}',{i % 10000}.25,'2024-01-02 03:04:05.{i % 999999:06d}','abcd',{i}.5)"
                for i in range(lo, lo + 1000)
            )
            cur.execute(f"INSERT INTO bench_binlog.narrow VALUES {values}")
        cur.execute("UPDATE bench_binlog.narrow SET a = a + 1")


def _write_wide(server: ThrowawayServer, rows: int, columns: int) -> None:
    with server.connect(autocommit=True) as conn, conn.cursor() as cur:  # a row per transaction, as a busy OLTP app
        for i in range(rows):
            cur.execute(f"INSERT INTO bench_binlog.wide VALUES {_wide_row(i, columns)}")


def _busy(server: ThrowawayServer, stop: threading.Event) -> None:
    """A writer going flat out on another table while the binlog is read."""
    with server.connect(autocommit=True) as conn, conn.cursor() as cur:
        i = 0
        while not stop.is_set():
            cur.execute(f"INSERT INTO bench_binlog.noise VALUES {','.join(f'({i + k}, {k})' for k in range(200))}")
            i += 200


def measure(
    server: ThrowawayServer, narrow_rows: int = 200_000, wide_rows: int = 2_000, columns: int = 1000
) -> list[Speed]:
    server.execute(
        "CREATE DATABASE bench_binlog",
        f"CREATE TABLE bench_binlog.narrow ({NARROW}) CHARSET utf8mb4",
        f"CREATE TABLE bench_binlog.wide ({_wide_columns(columns)}) CHARSET latin1",
        "CREATE TABLE bench_binlog.noise (id BIGINT PRIMARY KEY, v INT)",
    )
    options = Options.from_mapping(
        {
            "source": {
                "host": server.host,
                "port": server.port,
                "user": server.user,
                "password": Secret(server.password or ""),
            }
        }
    ).require_source()
    speeds = []
    for table, write in (
        ("narrow", lambda: _write_narrow(server, narrow_rows)),
        ("wide", lambda: _write_wide(server, wide_rows, columns)),
    ):
        name = TableName("bench_binlog", table)
        with MySQLSource.connect(options) as source:
            info = source.server_info()
            described = source.describe([name])
            start = source.binlog_position(info)
            write()
            end = source.binlog_position(info)
        megabytes = (end.position - start.position) / 1e6 if end.file == start.file else 0.0
        stop = threading.Event()
        writer = threading.Thread(target=_busy, args=(server, stop), daemon=True)
        writer.start()
        try:
            for compiled in (False, True):
                with ChangeLog(options, start, described, compiled=compiled) as log:
                    began = time.monotonic()
                    log.read_to(end)
                    took = time.monotonic() - began
                    design = "compiled row readers" if compiled else "python-mysql-replication's decoding"
                    speeds.append(
                        Speed(f"{table} ({len(described[name].columns)} columns)", design, log.events, megabytes, took)
                    )
        finally:
            stop.set()
            writer.join()
    return speeds


def report(speeds: list[Speed]) -> list[str]:
    lines = [
        "| table | design | row changes | binlog MB | seconds | row changes/s | MB/s | vs python-mysql-replication |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = {s.table: s.seconds for s in speeds if not s.design.startswith("compiled")}
    for s in speeds:
        lines.append(
            f"| {s.table} | {s.design} | {s.events:,} | {s.megabytes:.1f} | {s.seconds:.2f} | "
            f"{s.events / s.seconds:,.0f} | {s.megabytes / s.seconds:.1f} | {base[s.table] / s.seconds:.1f}x |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--narrow", type=int, default=200_000)
    parser.add_argument("--wide", type=int, default=2_000)
    args = parser.parse_args()
    with ThrowawayServer() as server:
        print("\n".join(report(measure(server, args.narrow, args.wide))))


if __name__ == "__main__":
    main()
