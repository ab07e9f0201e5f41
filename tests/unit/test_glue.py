"""`cdc-migrate glue deploy | start | status` against moto (S3, Glue) and botocore's Stubber (update_job)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from cdc_migrate.aws.glue import deploy, glue_argv, job_run_summary, run_arguments, start, status
from cdc_migrate.aws.wheels import build_wheels
from cdc_migrate.cli.app import main
from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.errors import ConfigError

ARN = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/analytics"
REGION = "ap-northeast-2"
CONFIG = f"""
[source]
host = "replica.cluster-ro-x.ap-northeast-2.rds.amazonaws.com"
user = "migration"
secret = "prod/aurora/migration"

[tables]
include = ["shop.*"]

[catalog]
kind = "glue-rest"
warehouse = "{ARN}"

[run]
manifest = "s3://artifacts-bucket/loads/manifest.json"

[glue]
job_name = "shop-full-load"
role = "arn:aws:iam::111122223333:role/cdc-migrate-glue"
artifacts = "s3://artifacts-bucket/cdc-migrate/"
worker_type = "G.2X"
number_of_workers = 5
connections = ["aurora-vpc"]
arguments = {{ "--enable-spark-ui" = "true" }}
"""


@pytest.fixture(autouse=True)
def reader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Arrow reader's wheels as deploy would download them (no PyPI in these tests): the pins' names."""
    made: list[str] = []

    def download(out_dir: str, pins: tuple[str, ...]) -> list[str]:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        for pin in pins:
            name, version = pin.split("==")
            path = Path(out_dir) / f"{name}-{version}-cp311-cp311-manylinux_2_28_x86_64.whl"
            path.write_bytes(b"PK")
            made.append(path.name)
        return sorted(str(p) for p in Path(out_dir).glob("*.whl"))

    monkeypatch.setattr("cdc_migrate.aws.glue.reader_wheels", download)
    return made


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "shop.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def wheel(tmp_path: Path) -> str:
    path = tmp_path / "cdc_migrate-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cdc_migrate/__init__.py", "")
    return str(path)


def options(config: Path) -> Options:
    return resolve_options(str(config), {}, {})


def test_deploy_uploads_the_files_and_creates_the_job_as_written_in_the_config(
    aws: None, config: Path, wheel: str
) -> None:
    done = deploy(options(config), str(config), wheels=[wheel])

    s3 = boto3.client("s3", region_name=REGION)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="artifacts-bucket")["Contents"])
    assert keys == [
        "cdc-migrate/shop-full-load/full_load.py",
        "cdc-migrate/shop-full-load/shop.toml",
        "cdc-migrate/shop-full-load/wheels/cdc_migrate-0.1.0-py3-none-any.whl",
        "cdc-migrate/shop-full-load/wheels/connectorx-0.4.6-cp311-cp311-manylinux_2_28_x86_64.whl",
        "cdc-migrate/shop-full-load/wheels/pyarrow-26.0.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    script = s3.get_object(Bucket="artifacts-bucket", Key="cdc-migrate/shop-full-load/full_load.py")["Body"].read()
    from cdc_migrate.aws.glue import GLUE_SCRIPT

    assert script.decode() == GLUE_SCRIPT  # the entrypoint is in the wheel; the script only calls it
    assert done["action"] == "created"

    job = boto3.client("glue", region_name=REGION).get_job(JobName="shop-full-load")["Job"]
    assert job["Role"] == "arn:aws:iam::111122223333:role/cdc-migrate-glue"
    assert job["Command"] == {
        "Name": "glueetl",
        "ScriptLocation": "s3://artifacts-bucket/cdc-migrate/shop-full-load/full_load.py",
        "PythonVersion": "3",
    }
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.1", "G.2X", 5)
    assert job["Connections"] == {"Connections": ["aurora-vpc"]}
    args = job["DefaultArguments"]
    assert args["--datalake-formats"] == "iceberg"
    wheels = "s3://artifacts-bucket/cdc-migrate/shop-full-load/wheels"
    assert args["--additional-python-modules"].split(",") == [  # ours, then the Arrow reader's: no PyPI needed
        f"{wheels}/cdc_migrate-0.1.0-py3-none-any.whl",
        f"{wheels}/connectorx-0.4.6-cp311-cp311-manylinux_2_28_x86_64.whl",
        f"{wheels}/pyarrow-26.0.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    assert args["--extra-files"] == "s3://artifacts-bucket/cdc-migrate/shop-full-load/shop.toml"
    assert args["--config"] == "shop.toml"
    assert args["--manifest"] == "s3://artifacts-bucket/loads/manifest.json"
    assert args["--enable-spark-ui"] == "true"
    assert "--extra-jars" not in args  # the REST route needs no jar
    # ONE --conf value carrying every Spark setting, the glue-rest catalog among them
    conf = args["--conf"].split(" --conf ")
    assert "spark.sql.catalog.s3tablescatalog.uri=https://glue.ap-northeast-2.amazonaws.com/iceberg" in conf
    assert "spark.sql.catalog.s3tablescatalog.warehouse=111122223333:s3tablescatalog/analytics" in conf
    assert "spark.sql.catalog.s3tablescatalog.rest.signing-name=glue" in conf
    assert "spark.sql.readSideCharPadding=false" in conf
    assert "spark.sql.session.timeZone=UTC" in conf
    assert "spark.executor.pyspark.memory=8192m" in conf  # a quarter of a G.2X worker's 32 GiB, for the Arrow tasks


def test_deploy_of_the_client_catalog_route_uploads_the_jar_as_extra_jars(
    aws: None, config: Path, wheel: str, tmp_path: Path
) -> None:
    jar = tmp_path / "s3-tables-catalog-for-iceberg-runtime-0.1.8.jar"
    jar.write_bytes(b"PK")
    config.write_text(
        CONFIG.replace('kind = "glue-rest"', 'kind = "s3tables"').replace("[glue]", f'[glue]\ncatalog_jar = "{jar}"')
    )

    deploy(options(config), str(config), wheels=[wheel])

    args = boto3.client("glue", region_name=REGION).get_job(JobName="shop-full-load")["Job"]["DefaultArguments"]
    assert args["--extra-jars"] == (
        "s3://artifacts-bucket/cdc-migrate/shop-full-load/jars/s3-tables-catalog-for-iceberg-runtime-0.1.8.jar"
    )
    assert "spark.sql.catalog.s3tablesbucket.catalog-impl=software.amazon.s3tables.iceberg.S3TablesCatalog" in (
        args["--conf"].split(" --conf ")
    )


def test_deploy_updates_an_existing_job_with_the_same_definition(config: Path, wheel: str) -> None:
    # moto has no update_job: the Glue side is a Stubber expecting exactly this request
    glue = boto3.client("glue", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    uploaded: list[tuple[str, str]] = []
    s3.upload_file = lambda local, bucket, key: uploaded.append((bucket, key))  # type: ignore[method-assign]
    prefix = "s3://artifacts-bucket/cdc-migrate/shop-full-load"
    with Stubber(glue) as stub:
        stub.add_response("get_job", {"Job": {"Name": "shop-full-load"}}, {"JobName": "shop-full-load"})
        stub.add_response(
            "update_job",
            {"JobName": "shop-full-load"},
            {
                "JobName": "shop-full-load",
                "JobUpdate": {
                    "Description": "cdc_migrate full load: MySQL -> Iceberg, recording the binlog position for CDC",
                    "Role": "arn:aws:iam::111122223333:role/cdc-migrate-glue",
                    "Command": {"Name": "glueetl", "ScriptLocation": f"{prefix}/full_load.py", "PythonVersion": "3"},
                    "GlueVersion": "5.1",
                    "WorkerType": "G.2X",
                    "NumberOfWorkers": 5,
                    "Timeout": 2880,
                    "MaxRetries": 0,
                    "ExecutionProperty": {"MaxConcurrentRuns": 1},
                    "DefaultArguments": ANY,  # as created: tested above
                    "Connections": {"Connections": ["aurora-vpc"]},
                },
            },
        )
        done = deploy(options(config), str(config), glue=glue, s3=s3, wheels=[wheel])
        stub.assert_no_pending_responses()

    assert done["action"] == "updated"
    assert ("artifacts-bucket", "cdc-migrate/shop-full-load/shop.toml") in uploaded


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("role = ", "# role = "), "glue.role is missing"),
        (("artifacts = ", "# artifacts = "), "glue.artifacts is missing"),
        (('secret = "prod/aurora/migration"', ""), "source.secret is missing"),
        (('manifest = "s3://artifacts-bucket/loads/manifest.json"', 'manifest = "m.json"'), "give an s3:// URI"),
        (('kind = "glue-rest"', 'kind = "local"'), "lost when the job ends"),
        (('kind = "glue-rest"', 'kind = "s3tables"'), "set glue.catalog_jar"),
        (('worker_type = "G.2X"', 'worker_type = "G.3X"'), "glue.worker_type = 'G.3X' is unknown"),
        (("[glue]", '[glue]\nglue_version = "4.0"'), "glue.glue_version = '4.0'"),
    ],
)
def test_deploy_refuses_what_cannot_run_on_glue_naming_the_setting(
    config: Path, wheel: str, change: tuple[str, str], message: str
) -> None:
    config.write_text(CONFIG.replace(*change))

    with pytest.raises(ConfigError, match=message):
        deploy(options(config), str(config), glue=object(), s3=object(), wheels=[wheel])


def test_start_passes_the_run_flags_as_job_arguments_and_status_reports_the_run(aws: None, config: Path) -> None:
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(
        Name="shop-full-load",
        Role="r",
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/s.py"},
        WorkerType="G.2X",
        NumberOfWorkers=5,
        GlueVersion="5.1",
    )

    run_id = start(options(config), {"tables": ["shop.orders", "shop.items"], "force": True, "validate": False})
    summary = status(options(config), run_id)

    assert summary["run_id"] == run_id
    assert summary["arguments"] == {"--tables": "shop.orders,shop.items", "--force": "true"}
    assert summary["state"] in ("STARTING", "RUNNING", "SUCCEEDED")
    # moto reports 123 s of execution; 5 workers of 2 DPU each
    assert summary["seconds"] == 123
    assert summary["dpu_seconds"] == 123 * 5 * 2
    assert summary["estimated_usd"] == round(123 * 10 / 3600 * 0.44, 2)
    assert status(options(config))["run_id"] == run_id  # the newest run by default


def test_status_of_a_failed_run_shows_its_error_and_where_its_logs_are() -> None:
    run = {
        "Id": "jr_abc",
        "JobName": "shop-full-load",
        "JobRunState": "FAILED",
        "ExecutionTime": 30,
        "ErrorMessage": "RuntimeError: 1 table(s) failed: shop.wide; see the manifest",
        "DPUSeconds": 450.0,
        "LogGroupName": "/aws-glue/jobs",
        "StartedOn": dt.datetime(2026, 11, 25, 1, 2, 3, tzinfo=dt.UTC),
    }

    summary = job_run_summary(run, {"WorkerType": "G.1X", "NumberOfWorkers": 10})

    assert summary["error"] == "RuntimeError: 1 table(s) failed: shop.wide; see the manifest"
    assert summary["dpu_seconds"] == 450.0  # reported by Glue itself (auto scaling), not computed
    assert summary["logs"] == (
        "aws logs tail /aws-glue/jobs/output --log-stream-names jr_abc; errors in /aws-glue/jobs/error"
    )
    assert summary["started"] == "2026-11-25T01:02:03+00:00"
    assert summary["estimated_usd"] == round(450 / 30 * 60 / 3600 * 0.44, 2)  # billed one minute at least


def test_start_refuses_per_table_flags_and_a_job_that_was_never_deployed(aws: None, config: Path) -> None:
    with pytest.raises(ConfigError, match="--split-column cannot be passed to a Glue run; put it in the config"):
        run_arguments({"split_column": ["shop.orders=id"]})
    with pytest.raises(ConfigError, match="'shop-full-load' does not exist; run `cdc-migrate glue deploy` first"):
        start(options(config), {})


def test_glue_arguments_turn_back_into_the_entrypoints_flags() -> None:
    argv = ["--force", "true", "--validate", "false", "--tables", "a.b", "--no-binlog-position", "TRUE"]

    assert glue_argv(argv) == ["--force", "--tables", "a.b", "--no-binlog-position"]


def test_the_cli_deploys_starts_and_reports(aws: None, config: Path, wheel: str, capsys: Any) -> None:
    assert main(["glue", "deploy", "--config", str(config), "--wheel", wheel]) == 0
    assert "Glue job shop-full-load created" in capsys.readouterr().out

    assert main(["glue", "start", "--config", str(config), "--tables", "shop.orders", "--force"]) == 0
    started = capsys.readouterr().out
    assert "started shop-full-load run " in started

    assert main(["glue", "status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "dpu_seconds" in out and "1230.0" in out and "test/log/output" in out  # moto's log group
    assert main(["glue", "start", "--config", str(config), "--split-column", "shop.orders=id"]) == 2


def test_build_wheels_builds_cdc_migrate_and_its_dependencies(tmp_path: Path) -> None:
    wheels = build_wheels(str(tmp_path))

    names = sorted(Path(w).name.split("-")[0].lower() for w in wheels)
    assert names == ["cdc_migrate", "mysql_replication", "packaging", "pymysql"]
    with zipfile.ZipFile(next(w for w in wheels if "cdc_migrate" in w)) as z:
        assert {"cdc_migrate/aws/glue.py", "cdc_migrate/spark/log4j2.properties"} <= set(z.namelist())


@pytest.mark.parametrize("name", ["glue-s3tables.toml", "glue-rest.toml"])
def test_the_example_configurations_are_deployable(name: str) -> None:
    from cdc_migrate.aws.glue import check_deployable

    path = Path(__file__).resolve().parents[2] / "conf" / name
    check_deployable(resolve_options(str(path), {}, {}))


@pytest.mark.parametrize(
    ("setting", "modules", "memory"),
    [
        ('arrow_reader = "pypi"', ["connectorx==0.4.6", "pyarrow==26.0.1"], True),
        ('arrow_reader = "none"', [], False),
    ],
)
def test_the_arrow_reader_installed_from_pypi_or_not_at_all(
    aws: None, config: Path, wheel: str, setting: str, modules: list[str], memory: bool
) -> None:
    config.write_text(CONFIG.replace("[glue]", f"[glue]\n{setting}"))

    deploy(options(config), str(config), wheels=[wheel])

    args = boto3.client("glue", region_name=REGION).get_job(JobName="shop-full-load")["Job"]["DefaultArguments"]
    assert args["--additional-python-modules"].split(",")[1:] == modules
    assert ("spark.executor.pyspark.memory=8192m" in args["--conf"]) is memory


def test_a_user_setting_for_the_python_workers_memory_wins_and_a_bad_install_mode_is_named(
    aws: None, config: Path, wheel: str
) -> None:
    config.write_text(CONFIG + '\n[spark.conf]\n"spark.executor.pyspark.memory" = "2g"\n')
    deploy(options(config), str(config), wheels=[wheel])
    args = boto3.client("glue", region_name=REGION).get_job(JobName="shop-full-load")["Job"]["DefaultArguments"]
    assert "spark.executor.pyspark.memory=2g" in args["--conf"].split(" --conf ")

    config.write_text(CONFIG.replace("[glue]", '[glue]\narrow_reader = "pip"'))
    with pytest.raises(ConfigError, match=r"glue.arrow_reader = 'pip'; use one of upload, pypi, none"):
        options(config)


def test_the_readers_wheels_are_downloaded_for_glues_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import subprocess

    from cdc_migrate.aws import wheels as module
    from cdc_migrate.errors import CdcMigrateError

    ran: list[list[str]] = []

    def pip(cmd: list[str], **_: Any) -> Any:
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found for pyarrow==26.0.1")

    monkeypatch.setattr(module.subprocess, "run", pip)
    with pytest.raises(CdcMigrateError, match="arrow_reader = 'pypi'.*'none'"):
        module.reader_wheels(str(tmp_path), ("connectorx==0.4.6", "pyarrow==26.0.1"))
    [cmd] = ran
    assert cmd[cmd.index("--platform") + 1] == "manylinux_2_28_x86_64" and "--only-binary=:all:" in cmd
    assert cmd[cmd.index("--python-version") + 1] == "3.11" and cmd[-2:] == ["connectorx==0.4.6", "pyarrow==26.0.1"]
