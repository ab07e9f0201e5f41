"""cdc_migrate as a user gets it: the wheel installed in a fresh virtualenv, away from the source tree, deploys
its Glue job (AWS served by moto's server on loopback), and the wheels it uploads install on their own, as Glue
installs them (--additional-python-modules, no PyPI)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cdc_migrate.aws.glue import GLUE_SCRIPT
from cdc_migrate.testing.server import free_port

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-2"


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]} {done.stderr[-3000:]}"
    return done


def _venv(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin"


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_an_installed_wheel_deploys_its_glue_job_and_the_uploaded_wheels_install_alone(
    tmp_path: Path, moto_endpoint: str
) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(dist)])
    [wheel] = dist.glob("cdc_migrate-*.whl")
    user = _venv(tmp_path / "user")
    _run([str(user / "pip"), "install", "--quiet", f"{wheel}[aws]"])
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    s3.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    config = tmp_path / "job.toml"
    config.write_text(
        '[source]\nhost = "db.internal"\nuser = "etl"\nsecret = "prod/etl"\n'
        '[tables]\ninclude = ["shop.*"]\n'
        f'[catalog]\nkind = "glue-rest"\nwarehouse = "arn:aws:s3tables:{REGION}:111122223333:bucket/lake"\n'
        '[run]\nmanifest = "s3://artifacts/cdc/manifest.json"\n'
        f'[glue]\nrole = "arn:aws:iam::111122223333:role/glue"\nartifacts = "s3://artifacts/cdc"\nregion = "{REGION}"\n'
        'arrow_reader = "pypi"\n'  # (the default downloads the reader's wheels; tests/unit/test_glue.py)
    )
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "PYTHONPATH": ""}

    deployed = _run([str(user / "cdc-migrate"), "glue", "deploy", "--config", str(config)], env=env, cwd=tmp_path)

    assert "Glue job cdc-migrate-full-load created" in deployed.stdout
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="artifacts", Prefix="cdc/")["Contents"]]
    script = s3.get_object(Bucket="artifacts", Key="cdc/cdc-migrate-full-load/full_load.py")["Body"].read().decode()
    assert script == GLUE_SCRIPT
    wheels = sorted(k.rsplit("/", 1)[1] for k in keys if k.endswith(".whl"))
    assert sorted(w.split("-")[0].lower() for w in wheels) == [
        "cdc_migrate",
        "mysql_replication",
        "packaging",
        "pymysql",
    ]
    job = boto3.client("glue", endpoint_url=moto_endpoint, region_name=REGION).get_job(JobName="cdc-migrate-full-load")[
        "Job"
    ]
    assert job["Command"]["ScriptLocation"] == "s3://artifacts/cdc/cdc-migrate-full-load/full_load.py"
    modules = job["DefaultArguments"]["--additional-python-modules"]
    assert modules.count(".whl") == 4 and modules.endswith(",connectorx==0.4.6,pyarrow==26.0.1")

    # What Glue does with them: pip install, no index; then the script's import works.
    glue = tmp_path / "glue-wheels"
    glue.mkdir()
    for name in wheels:
        s3.download_file("artifacts", f"cdc/cdc-migrate-full-load/wheels/{name}", str(glue / name))
    worker = _venv(tmp_path / "worker")
    _run([str(worker / "pip"), "install", "--quiet", "--no-index", *map(str, sorted(glue.glob("*.whl")))])
    _run([str(worker / "python"), "-c", "import cdc_migrate.cli.glue_job, pymysqlreplication, pymysql"], cwd=tmp_path)
