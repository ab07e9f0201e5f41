"""A live load on a Spark cluster as Glue runs one: a standalone master and two 1-core workers (separate JVMs,
started with the pyspark package's own spark-class), the load's executors in them while a writer changes the
source, then validate on the same cluster. Nothing may assume the executors share the driver's process: no
scratch path, file or Python interpreter only the driver has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.testing.server import free_port

from .conftest import CDC_MIGRATE, clean_env, run_argv
from .test_validate_live import Writer, live  # noqa: F401 (the live-validate tables as a fixture: ints, codes)


def _spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _state(ui: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as response:
        return dict(json.load(response))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """spark://127.0.0.1:PORT with two alive workers of one core each, and the workers' directory (an executor
    of each application gets a directory there)."""
    logs = tmp_path_factory.mktemp("spark-cluster")
    port, ui = free_port(), free_port()
    env = {**os.environ, "SPARK_LOG_DIR": str(logs), "SPARK_WORKER_DIR": str(logs / "work"), "SPARK_NO_DAEMONIZE": "1"}
    master = f"spark://127.0.0.1:{port}"
    run_master = [_spark_class(), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
    run_master += ["--port", str(port), "--webui-port", str(ui)]
    started = [subprocess.Popen(run_master, env=env, stdout=(logs / "master.log").open("w"), stderr=subprocess.STDOUT)]
    try:
        for n in range(2):
            worker = [_spark_class(), "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1"]
            worker += ["--memory", "1g", "--webui-port", str(free_port()), master]
            started.append(
                subprocess.Popen(worker, env=env, stdout=(logs / f"worker{n}.log").open("w"), stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if len([w for w in _state(ui)["workers"] if w["state"] == "ALIVE"]) == 2:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark cluster did not start: {(logs / 'master.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield master, logs / "work"
    finally:
        for proc in reversed(started):
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_live_load_with_merges_on_a_standalone_cluster_then_validate(
    server: Any,
    live: str,  # noqa: F811
    tmp_path: Path,
    cluster: tuple[str, Path],
) -> None:
    master, work = cluster
    manifest = tmp_path / "manifest.json"
    on_cluster = ["--master", master, "--conf", "spark.executor.memory=768m", "--conf", "spark.cores.max=2"]
    argv = run_argv(server, live, tmp_path / "wh", "--manifest", str(manifest), "--rows-per-partition", "200")
    # The executors' Python (as a cluster's users set it): one with cdc_migrate, pyarrow and ConnectorX.
    env = clean_env(server.password) | {"PYSPARK_PYTHON": sys.executable}
    writer = Writer(server, live, seed=11)
    writer.start()
    try:
        loaded = subprocess.run([*argv, *on_cluster], env=env, capture_output=True, text=True, timeout=900)
    finally:
        writer.stop.set()
        writer.join()

    record = json.loads(manifest.read_text()) if manifest.exists() else {}
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert record["snapshot"]["exact"] is True and "CDC starts at" in loaded.stdout
    merged = sum(t.get("changes") or 0 for t in record["tables"])
    assert merged > 0, "no changes were merged: the writer did not overlap the load"
    assert {t["source"]: t["reader"] for t in record["tables"]} == {f"{live}.codes": "arrow", f"{live}.ints": "arrow"}
    [app] = list(work.iterdir())
    assert len(list(app.iterdir())) == 2  # an executor on each worker, in JVMs of their own

    validated = subprocess.run(
        [CDC_MIGRATE, "validate", "--manifest", str(manifest), *on_cluster],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]
    assert "2/2 tables match the source" in validated.stdout, validated.stdout
    assert len(list(work.iterdir())) == 2  # validate's executors on the cluster too
    print(f"\ncluster: {writer.done} writes during the load, {merged} keys merged, validate matched")
