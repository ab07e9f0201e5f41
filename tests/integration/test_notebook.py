"""The library in a notebook, in a real Jupyter kernel (ipykernel, driven by nbclient and jupyter_client) against
the test run's MariaDB, each kernel with a Spark of its own: the README's notebook section run as written from a
directory of its own (short outputs that render, the progress in the cell); a run interrupted mid-table as the
notebook's stop button does it (SIGINT to the kernel): no thread of the library left, no table committed after the
interrupt, the manifest saying what was, and an immediate re-run exact; a run refused on a plain session leaving
its settings as they were."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

README = Path(__file__).resolve().parents[2] / "README.md"
ORDERS = 400_000  # rows of shop.orders: a table that takes a few seconds, to be interrupted in the middle of
TABLES = {"customers": 2_000, "items": 500, "payments": 3_000, "shipments": 1_000}


def readme_cells() -> list[str]:
    """The README's notebook: the Python blocks of its 'In a notebook' section, in order."""
    text = README.read_text()
    section = text[text.index("## In a notebook") :]
    section = section[: section.index("\n## ", 3)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def shop(server: Any) -> Iterator[str]:
    """The README's `shop`: five tables, orders big enough to interrupt."""
    statements = ["DROP DATABASE IF EXISTS shop", "CREATE DATABASE shop DEFAULT CHARSET utf8mb4"]
    statements.append(
        "CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer INT, total DECIMAL(10,2), at DATETIME)"
    )
    for lo in range(0, ORDERS, 50_000):
        statements.append(
            "INSERT INTO shop.orders SELECT seq, seq % 1000, seq / 7, '2026-01-01' + INTERVAL seq SECOND "
            f"FROM shop.seq_{lo + 1}_to_{lo + 50_000}"
        )
    for name, rows in TABLES.items():
        statements.append(f"CREATE TABLE shop.{name} (id INT PRIMARY KEY, v VARCHAR(20))")
        statements.append(f"INSERT INTO shop.{name} SELECT seq, CONCAT('v', seq) FROM shop.seq_1_to_{rows}")
    server.execute(*statements, "ANALYZE TABLE shop.orders")
    yield "shop"
    server.execute("DROP DATABASE IF EXISTS shop")


@pytest.fixture
def kernel_env(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the kernel inherits: the source in the environment (as the README says), this interpreter's Python
    for Spark's workers, UTC."""
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_URL", f"mysql://{server.user}@{server.host}:{server.port}")
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password or "")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)


def _outputs(cell: Any) -> tuple[str, str, str]:
    """A cell's text result, its HTML (result or displays) and its streams."""
    text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs if o.output_type == "execute_result")
    html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs if "data" in o)
    streams = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return text, html, streams


def test_the_readme_notebook_runs_as_written_and_shows_short_results(
    shop: str, kernel_env: None, tmp_path: Path
) -> None:
    cells = readme_cells()
    assert len(cells) >= 6 and "cdc_migrate.options(" in cells[0]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )

    client.execute()

    shown = [_outputs(c) for c in notebook.cells]
    for i, (text, html, _) in enumerate(shown):
        if text.startswith(("Options(", "Plan(", "Manifest(")):  # ours (a pyarrow Table shows its data)
            assert len(text) < 400, f"cell {i + 1}'s result is {len(text)} characters: {text[:200]}"
        assert "body{" not in html and "<style>body" not in html  # nothing restyles the notebook's page
    options, plan, run, validated = (s[0] for s in shown[:4])
    assert options.startswith("Options(source=root@") and "tables=shop.*" in options and "password=***" in options
    assert plan.startswith("Plan(5 tables") and "cdc-migrate" in shown[1][1]  # the plan's table renders
    assert run.startswith("Manifest(5 tables: 5 loaded; CDC starts at ")
    assert "cdc_migrate run" in shown[2][1] and "5/5 tables" in shown[2][1]  # the progress display, at its end
    assert validated.startswith("Manifest(5 tables: 5 loaded") and "match" in shown[3][1]
    assert "cdc_migrate validate" in shown[3][1] and "5/5 tables validated" in shown[3][1]  # its display, at its end
    assert f"({ORDERS}, {ORDERS})" in shown[5][0]
    assert "force=True" in shown[6][0] and "tables=shop.orders" in shown[6][0]
    assert "Closing down clientserver" not in "".join(s[2] for s in shown)
    assert (tmp_path / "warehouse" / "manifest.json").is_file()  # relative to the notebook's own directory


class Kernel:
    """A kernel driven cell by cell (jupyter_client), to interrupt one mid-run as the stop button does."""

    def __init__(self, cwd: Path) -> None:
        self.manager, self.client = start_new_kernel(kernel_name="python3", cwd=str(cwd))

    def execute(self, code: str, timeout: float = 600) -> dict[str, Any]:
        """Runs a cell; its reply's content with the text it printed and showed (`out`)."""
        msg_id = self.client.execute(code)
        return self._until_idle(msg_id, timeout)

    def _until_idle(self, msg_id: str, timeout: float, seen: list[str] | None = None) -> dict[str, Any]:
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            out.append(content.get("text", "") + json.dumps(content.get("data", {})))
            if seen is not None:
                seen.append(out[-1])
            if msg["msg_type"] == "status" and content["execution_state"] == "idle":
                break
        reply = self.client.get_shell_msg(timeout=60)["content"]
        return {**reply, "out": "".join(out)}

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


SETUP = """
import threading, time, cdc_migrate
options = cdc_migrate.options(tables="shop.*", warehouse="warehouse", manifest="warehouse/manifest.json",
                              parallel_tables=1, rows_per_partition=40_000)
spark = cdc_migrate.build_session(options)
"""


def test_an_interrupted_run_stops_everything_it_started_and_a_new_run_follows_at_once(  # and a validation
    shop: str, kernel_env: None, tmp_path: Path
) -> None:
    kernel = Kernel(tmp_path)
    try:
        assert kernel.execute(SETUP)["status"] == "ok"
        msg_id = kernel.client.execute("manifest = cdc_migrate.run(options, spark=spark)")
        _until_shown(kernel, msg_id, "loading")
        time.sleep(1.0)  # in the middle of its tasks
        interrupted_at = time.time()
        kernel.manager.interrupt_kernel()
        reply = kernel._until_idle(msg_id, 300)
        returned_at = time.time()

        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        check = kernel.execute(
            "import json\n"
            "left = [t.name for t in threading.enumerate() if t.name.startswith(('cdc-migrate', 'progress-'))]\n"
            "m = cdc_migrate.read_manifest('warehouse/manifest.json')\n"
            "print('RESULT', json.dumps({'left': left, 'tables': {t.source: t.status for t in m.tables}}))"
        )
        state = _printed(check)
        assert state["left"] == []  # no loader, progress or warm-up thread of the library left running
        assert state["tables"]["shop.orders"] == "skipped"  # interrupted mid-table: not loaded, and says so
        time.sleep(3)  # anything still going would commit now
        commits = _commit_times(tmp_path / "warehouse")
        assert all(at <= returned_at for at in commits.values()), (commits, interrupted_at, returned_at)
        loaded = {t for t, status in state["tables"].items() if status == "loaded"}
        assert loaded == set(commits), (loaded, commits)  # the manifest says what was committed, no more

        again = kernel.execute(
            "manifest = cdc_migrate.run(options, spark=spark)\n"
            "tables = {t.source: t.status for t in manifest.tables}\n"
            "print('RESULT', json.dumps({'exact': manifest.exact, 'tables': tables}))"
        )
        result = _printed(again)
        assert result["exact"] is True and set(result["tables"].values()) == {"loaded"}, result

        written = (tmp_path / "warehouse" / "manifest.json").read_bytes()
        msg_id = kernel.client.execute("checked = cdc_migrate.validate(options, spark=spark)")
        _until_shown(kernel, msg_id, "validating")
        kernel.manager.interrupt_kernel()
        reply = kernel._until_idle(msg_id, 300)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        check = kernel.execute(
            "left = [t.name for t in threading.enumerate() if t.name.startswith('cdc-migrate')]\n"
            "print('RESULT', json.dumps({'left': left}))"
        )
        assert _printed(check)["left"] == []  # the validation's threads joined
        assert (tmp_path / "warehouse" / "manifest.json").read_bytes() == written  # left as it was
    finally:
        kernel.close()


def _until_shown(kernel: Kernel, msg_id: str, doing: str) -> None:
    """Reads the cell's messages until its progress display shows shop.orders as `doing` (loading, validating)."""
    seen: list[str] = []
    deadline = time.monotonic() + 300
    while not any("shop.orders" in s and doing in s for s in seen) and time.monotonic() < deadline:
        msg = kernel.client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id:
            seen.append(json.dumps(msg["content"].get("data", {})))
            assert msg["content"].get("execution_state") != "idle", f"the cell ended before shop.orders was {doing}"


def _printed(reply: dict[str, Any]) -> Any:
    """The JSON a cell printed after RESULT."""
    match = re.search(r"RESULT (\{.*?\})\n", reply["out"])
    assert match, reply["out"][-1000:]
    return json.loads(match.group(1))


def _commit_times(warehouse: Path) -> dict[str, float]:
    """Each shop table's last commit (its snapshot's time, seconds), read with PyIceberg from the local catalog."""
    from cdc_migrate.config.sections import CatalogOptions
    from cdc_migrate.target.pyiceberg import open_catalog

    catalog = open_catalog(CatalogOptions(kind="local", warehouse=str(warehouse)))
    times = {}
    for _, name in catalog.list_tables("shop") if ("shop",) in catalog.list_namespaces() else []:
        snapshot = catalog.load_table(f"shop.{name}").current_snapshot()
        if snapshot is not None:
            times[f"shop.{name}"] = snapshot.timestamp_ms / 1000
    return times


def test_a_run_refused_on_a_plain_session_leaves_it_as_it_was(shop: str, kernel_env: None, tmp_path: Path) -> None:
    kernel = Kernel(tmp_path)
    try:
        reply = kernel.execute(
            "import json, cdc_migrate\n"
            "from pyspark.sql import SparkSession\n"
            "spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()\n"
            "keys = ['spark.sql.session.timeZone', 'spark.sql.defaultCatalog', 'spark.sql.catalog.local']\n"
            "before = {k: spark.conf.get(k, None) for k in keys}\n"
            "try:\n"
            "    cdc_migrate.run(cdc_migrate.options(tables='shop.*', warehouse='warehouse'), spark=spark)\n"
            "    refused = None\n"
            "except cdc_migrate.SessionError as e:\n"
            "    refused = str(e)\n"
            "after = {k: spark.conf.get(k, None) for k in keys}\n"
            "one = spark.sql('SELECT 1').collect()[0][0]\n"
            "print('RESULT', json.dumps({'refused': refused, 'same': before == after, 'one': one}))"
        )
        result = _printed(reply)
        assert result["same"] is True and result["one"] == 1  # the session works as before
        assert "cdc_migrate.build_session(options)" in result["refused"] and "settings_for" in result["refused"]
    finally:
        kernel.close()
