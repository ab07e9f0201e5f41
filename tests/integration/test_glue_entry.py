"""glue_jobs/full_load.py on (a stand-in for) Glue, and with a plain spark-submit where awsglue is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import clean_env
from .glue_standins import glue_argv, write_config

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "glue_jobs" / "full_load.py"
VENV_BIN = Path(sys.executable).parent


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
    from .glue_standins import CALLS

    assert glue_entry.on_glue(glue_argv(config))
    assert glue_entry.main(glue_argv(config)) == 0

    assert CALLS[0][0] == "init" and CALLS[0][1][0] == "cdc-full-load"
    assert CALLS[0][1][1]["JOB_RUN_ID"] == "jr_1" and CALLS[0][1][1]["TempDir"] == "s3://bucket/tmp"
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
    from .glue_standins import CALLS

    with pytest.raises(RuntimeError, match=f"1 table\\(s\\) failed: {database}.wide"):
        glue_entry.main(glue_argv(write_config(tmp_path, server, warehouse, f"{database}.*")))
    assert ("commit", None) not in CALLS


def test_on_glue_the_config_argument_is_required(glue_entry: ModuleType) -> None:
    with pytest.raises(Exception, match="--config"):
        glue_entry.main(["full_load.py", "--JOB_NAME", "x"])


def test_the_script_glue_starts_is_the_thin_one_in_the_package() -> None:
    from cdc_migrate.aws.glue import GLUE_SCRIPT

    assert ENTRY.read_text() == GLUE_SCRIPT


def test_plain_spark_submit_runs_the_same_file_without_awsglue(server: Any, database: str, tmp_path: Path) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (5)")
    env = clean_env()
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
    from cdc_migrate.config.model import Options

    options = Options.from_mapping({})
    argv = ["full_load.py", "--JOB_NAME", "j", "--TempDir", "s3://aws-glue-temp/x/", "--config", "c.toml"]
    _, resolved = glue_entry.parse_arguments(argv, True)

    assert glue_entry.with_glue_scratch(options, resolved).run.scratch_dir == "s3://aws-glue-temp/x/cdc-migrate"
    assert glue_entry.with_glue_scratch(options, {}).run.scratch_dir is None
    given = Options.from_mapping({"run": {"scratch_dir": "s3://mine/scratch"}})
    assert glue_entry.with_glue_scratch(given, resolved).run.scratch_dir == "s3://mine/scratch"


def _deployed_argv(seed: int) -> list[str]:
    """A Glue run's sys.argv for a job `glue deploy` made and `glue start` started: Glue's own arguments, every
    DefaultArgument (its one --conf included) and the run's arguments, as pairs in an order nobody guarantees."""
    import random

    from cdc_migrate.aws.glue import Artifacts, default_arguments, run_arguments
    from cdc_migrate.config.model import Options

    options = Options.from_mapping(
        {
            "catalog": {"kind": "s3tables", "warehouse": "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake"},
            "run": {"manifest": "s3://bucket/cdc/manifest.json"},
            "glue": {"artifacts": "s3://bucket/cdc", "role": "r"},
        }
    )
    artifacts = Artifacts(
        script="s3://bucket/cdc/full_load.py",
        wheels=("s3://bucket/cdc/w/a.whl",),
        config="s3://bucket/cdc/job.toml",
        catalog_jar="s3://bucket/cdc/jars/c.jar",
    )
    glue_own = {
        "--JOB_ID": "j_0123",
        "--JOB_RUN_ID": "jr_4567",
        "--job-bookmark-option": "job-bookmark-disable",
        "--TempDir": "s3://aws-glue-assets/temporary/",
        "--JOB_NAME": "cdc-migrate-full-load",
        "--enable-glue-datacatalog": "true",
        "--spark-event-logs-path": "s3://aws-glue-assets/logs/",
    }
    run_args = run_arguments({"tables": ["shop.*", "crm.accounts"], "force": True, "parallel_tables": "8"})
    pairs = [*glue_own.items(), *default_arguments(options, artifacts).items(), *run_args.items()]
    random.Random(seed).shuffle(pairs)
    return ["full_load.py", *(x for pair in pairs for x in pair)]


def test_every_order_of_a_glue_runs_arguments_resolves_the_same_configuration_and_flags(
    glue_entry: ModuleType,
) -> None:
    from cdc_migrate.cli.flags import flags_layer

    seen = []
    for seed in range(12):
        argv = _deployed_argv(seed)
        args, resolved = glue_entry.parse_arguments(argv, True)
        seen.append((args.config, flags_layer(args), resolved["JOB_NAME"], resolved["TempDir"]))

    config, flags, job, temp = seen[0]
    assert all(s == seen[0] for s in seen)
    assert (config, job, temp) == (
        "job.toml",
        "cdc-migrate-full-load",
        "s3://aws-glue-temp/temporary/".replace("aws-glue-temp", "aws-glue-assets"),
    )
    assert flags["tables"]["include"] == ["shop.*", "crm.accounts"] and flags["run"]["force"] is True
    assert flags["run"]["parallel_tables"] == "8" and flags["run"]["manifest"] == "s3://bucket/cdc/manifest.json"
    assert "spark" not in flags  # the job's --conf is Spark's, applied by Glue before the script starts
