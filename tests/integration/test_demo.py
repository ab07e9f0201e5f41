"""`make demo`'s command: a throwaway server, the sample database, the load, and the server always stopped."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from .conftest import CDC_MIGRATE, clean_env

ROOT = Path(__file__).resolve().parents[2]
SERVER_LINE = re.compile(r"throwaway server on 127\.0\.0\.1:(\d+) \((\S+)\)")


def assert_server_gone(stderr: str) -> None:
    port, datadir = SERVER_LINE.search(stderr).groups()  # type: ignore[union-attr]
    assert not Path(datadir).exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", int(port))) != 0


def test_demo_loads_the_sample_database_and_reads_it_back(tmp_path: Path) -> None:
    proc = subprocess.run(
        [CDC_MIGRATE, "demo", "--config", str(ROOT / "conf" / "demo.toml"), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=600,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "5/5 tables loaded; CDC starts at binlog binlog.000001:" in proc.stdout
    assert "shop.orders read back with PyIceberg (format version 2, first 5 rows)" in proc.stdout
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {t["source"]: t["rows"] for t in manifest["tables"]} == {
        "shop.customers": 2000,
        "shop.order_items": 19804,
        "shop.orders": 8000,
        "shop.page_views": 5000,
        "shop.products": 500,
    }
    assert_server_gone(proc.stderr)


def test_demo_stops_the_server_on_a_bad_configuration(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[tables]\ninclude = ['shop.*']\nrows_per_partitions = 5\n")

    proc = subprocess.run(
        [CDC_MIGRATE, "demo", "--config", str(config), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )

    assert proc.returncode == 2
    assert "unknown key 'rows_per_partitions' in [tables]" in proc.stderr
    assert_server_gone(proc.stderr)


def test_demo_stops_the_server_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [CDC_MIGRATE, "demo", "--output", str(tmp_path / "out")],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    assert proc.stderr is not None
    seen = ""
    deadline = time.monotonic() + 120
    while "seeded shop" not in seen and time.monotonic() < deadline:
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    seen += proc.stderr.read()

    assert proc.wait(timeout=120) == 130
    assert "interrupted" in seen
    assert_server_gone(seen)
