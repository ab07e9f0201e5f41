"""glue_jobs/full_load.py on (a stand-in for) Glue, and with a plain spark-submit where awsglue is absent."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "glue_jobs" / "full_load.py"
FAKE_GLUE = Path(__file__).parent / "fake_glue"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def glue_entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The entrypoint imported where `awsglue` can be imported (the stand-in)."""
    monkeypatch.syspath_prepend(str(FAKE_GLUE))
    spec = importlib.util.spec_from_file_location("full_load_on_glue", ENTRY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from awsglue import job  # the stand-in's record of Job calls

    job.CALLS.clear()
    yield module
    for name in [m for m in sys.modules if m == "awsglue" or m.startswith("awsglue.")]:
        del sys.modules[name]


def write_config(tmp_path: Path, server: Any, warehouse: Path, include: str) -> Path:
    config = tmp_path / "job.toml"
    config.write_text(
        f'[source]\nhost = "{server.host}"\nport = {server.port}\nuser = "{server.user}"\n'
        f'[tables]\ninclude = ["{include}"]\n'
        f'[catalog]\nkind = "local"\nwarehouse = "{warehouse}"\n'
        f'[run]\nmanifest = "{tmp_path / "manifest.json"}"\n'
    )
    return config


def glue_argv(config: Path) -> list[str]:
    # What Glue passes: its own arguments mixed with the job's.
    return [
        "full_load.py",
        "--JOB_ID",
        "j_1",
        "--JOB_RUN_ID",
        "jr_1",
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--TempDir",
        "s3://bucket/tmp",
        "--JOB_NAME",
        "cdc-full-load",
        "--config",
        str(config),
        "--conf",
        "spark.sql.catalog.x=y --conf spark.z=1",
        "--enable-glue-datacatalog",
        "true",
    ]


def test_on_glue_it_resolves_arguments_uses_the_glue_session_and_commits(
    glue_entry: ModuleType,
    spark: Any,
    server: Any,
    database: str,
    warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1), (2)")
    config = write_config(tmp_path, server, warehouse, f"{database}.*")
    from awsglue.job import CALLS

    assert glue_entry.ON_GLUE
    assert glue_entry.main(glue_argv(config)) == 0

    assert CALLS[0][0] == "init" and CALLS[0][1][0] == "cdc-full-load"
    assert CALLS[0][1][1]["config"] == str(config)
    assert CALLS[-1] == ("commit", None)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [(t["status"], t["rows"]) for t in manifest["tables"]] == [("loaded", 2)]


def test_on_glue_a_failed_table_fails_the_job_run_without_commit(
    glue_entry: ModuleType,
    spark: Any,
    server: Any,
    database: str,
    warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    server.execute(f"CREATE TABLE `{database}`.wide (id INT PRIMARY KEY, v DECIMAL(65,30))")
    from awsglue.job import CALLS

    with pytest.raises(RuntimeError, match=f"1 table\\(s\\) failed: {database}.wide"):
        glue_entry.main(glue_argv(write_config(tmp_path, server, warehouse, f"{database}.*")))
    assert ("commit", None) not in CALLS


def test_on_glue_the_config_argument_is_required(glue_entry: ModuleType) -> None:
    with pytest.raises(Exception, match="--config"):
        glue_entry.main(["full_load.py", "--JOB_NAME", "x"])


def test_plain_spark_submit_runs_the_same_file_without_awsglue(server: Any, database: str, tmp_path: Path) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (5)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
    env |= {
        "PATH": f"{VENV_BIN}:{env['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "CDC_MIGRATE_SOURCE_PASSWORD": server.password,
    }

    proc = subprocess.run(
        [
            "spark-submit",
            str(ENTRY),
            "--config",
            str(ROOT / "conf" / "local.toml"),
            "--source",
            f"mysql://{server.user}@{server.host}:{server.port}",
            "--tables",
            f"{database}.*",
            "--warehouse",
            str(tmp_path / "wh"),
            "--manifest",
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # spark-submit passes the Python process's stderr on to its own stdout.
    assert "relaunching spark-submit with the Iceberg and JDBC jars" in proc.stdout + proc.stderr
    manifest = json.loads((tmp_path / "m.json").read_text())
    assert [(t["source"], t["status"], t["rows"]) for t in manifest["tables"]] == [(f"{database}.t", "loaded", 1)]


def test_glues_temp_dir_is_where_many_binlog_changes_go(glue_entry: ModuleType) -> None:
    from cdc_migrate.config import Options

    options = Options.from_mapping({})
    argv = ["full_load.py", "--JOB_NAME", "j", "--TempDir", "s3://aws-glue-temp/x/", "--config", "c.toml"]

    assert glue_entry.with_glue_scratch(options, argv).run.scratch_dir == "s3://aws-glue-temp/x/cdc-migrate"
    assert glue_entry.with_glue_scratch(options, argv[:3]).run.scratch_dir is None
    given = Options.from_mapping({"run": {"scratch_dir": "s3://mine/scratch"}})
    assert glue_entry.with_glue_scratch(given, argv).run.scratch_dir == "s3://mine/scratch"
