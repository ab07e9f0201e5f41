"""The AWS edges on the real server and the real catalog, AWS itself served by moto in this process:
the source login from Secrets Manager, the manifest on s3://, the Glue job run end to end (the awsglue
stand-in), namespaces in a table bucket, PyIceberg's signed requests, and no password anywhere."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest

from cdc_migrate.aws.glue import deploy
from cdc_migrate.aws.s3tables import ensure_table_bucket_namespaces
from cdc_migrate.aws.secrets import with_secret
from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.errors import AwsError, ConfigError
from cdc_migrate.handoff.manifest import read_manifest
from cdc_migrate.load.parallel import create_namespaces
from cdc_migrate.target.pyiceberg import open_catalog
from tests.conftest import AWS_REGION

PASSWORD = "etlpw-Secrets-Q7vz"
SECRET = "prod/aurora/cdc-migrate"


@pytest.fixture
def secret_user(server: Any, database: str, aws: None) -> str:
    """A MySQL user whose login is only in (moto's) Secrets Manager, in the JSON RDS writes."""
    server.execute(
        f"CREATE USER IF NOT EXISTS 'etl_secret'@'%' IDENTIFIED BY '{PASSWORD}'",
        f"GRANT SELECT ON `{database}`.* TO 'etl_secret'@'%'",
        "GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'etl_secret'@'%'",
    )
    login = {
        "engine": "mysql",
        "username": "etl_secret",
        "password": PASSWORD,
        "host": server.host,
        "port": server.port,
        "dbClusterIdentifier": "test",
    }
    boto3.client("secretsmanager", region_name=AWS_REGION).create_secret(Name=SECRET, SecretString=json.dumps(login))
    return "etl_secret"


def test_the_secret_fills_in_the_login_and_the_password_env_var_wins(secret_user: str, server: Any) -> None:
    options = Options.from_mapping({"source": {"secret": SECRET}})

    filled = with_secret(options).source

    assert (filled.host, filled.port, filled.user) == (server.host, server.port, "etl_secret")
    assert filled.password is not None and filled.password.reveal() == PASSWORD
    given = Options.from_mapping({"source": {"secret": SECRET, "host": "other", "password": "etlpw-env"}})
    assert with_secret(given).source.password.reveal() == "etlpw-env"  # type: ignore[union-attr]
    assert with_secret(given).source.host == "other"


def test_a_missing_or_malformed_secret_is_a_clear_error(aws: None) -> None:
    with pytest.raises(AwsError, match="reading source.secret 'nope': it does not exist .*check its name or ARN"):
        with_secret(Options.from_mapping({"source": {"secret": "nope"}}))
    boto3.client("secretsmanager", region_name=AWS_REGION).create_secret(Name="plain", SecretString="etlpw-raw")
    with pytest.raises(ConfigError, match="not a JSON secret with a password; store it as RDS does") as err:
        with_secret(Options.from_mapping({"source": {"secret": "plain"}}))
    assert "etlpw" not in str(err.value)


def _spark_ui_text(spark: Any) -> str:
    """What the Spark UI shows: every SQL execution's description and plan, and the environment."""
    store = spark._jsparkSession.sharedState().statusStore()
    executions = store.executionsList()
    parts = []
    for i in range(executions.size()):
        e = executions.apply(i)
        parts += [e.description(), e.details(), e.physicalPlanDescription()]
    jobs = spark.sparkContext._jsc.sc().statusStore().jobsList(spark._jvm.java.util.ArrayList())  # the jobs tab
    for i in range(jobs.size()):
        job = jobs.apply(i)
        parts += [job.name(), job.description().getOrElse(None)]
    parts += [f"{k}={v}" for k, v in spark.sparkContext.getConf().getAll()]
    return "\n".join(str(p) for p in parts)


def _everything_in_s3() -> str:
    s3 = boto3.client("s3", region_name=AWS_REGION)
    out = []
    for bucket in s3.list_buckets()["Buckets"]:
        for o in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            out.append(s3.get_object(Bucket=bucket["Name"], Key=o["Key"])["Body"].read().decode("utf-8", "replace"))
    return "\n".join(out)


def test_a_glue_run_with_the_secret_writes_its_manifest_to_s3_and_the_password_appears_nowhere(
    glue_entry: Any,
    secret_user: str,
    spark: Any,
    server: Any,
    database: str,
    warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.orders (id INT PRIMARY KEY, note VARCHAR(20))",
        f"INSERT INTO `{database}`.orders VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        f"CREATE TABLE `{database}`.wide (id INT PRIMARY KEY, v DECIMAL(65,30))",  # fails: an error to scan
    )
    manifest_uri = "s3://artifacts-bucket/loads/manifest.json"
    # The file deploy uploads and Glue copies beside the script (--extra-files); no host, user or password
    config = tmp_path / "job.toml"
    config.write_text(
        f'[source]\nsecret = "{SECRET}"\n[tables]\ninclude = ["{database}.*"]\n'
        f'[catalog]\nkind = "local"\nwarehouse = "{warehouse}"\n'
    )
    monkeypatch.chdir(tmp_path)
    caplog.set_level("DEBUG")
    argv = [
        "full_load.py",
        "--JOB_NAME",
        "shop-full-load",
        "--JOB_RUN_ID",
        "jr_1",
        "--config",
        "job.toml",
        "--manifest",
        manifest_uri,
        "--force",
        "true",
        "--validate",
        "false",
        "--verbose",
    ]

    with pytest.raises(RuntimeError, match=f"1 table\\(s\\) failed: {database}.wide") as failed:
        glue_entry.main(argv)

    manifest = read_manifest(manifest_uri)
    assert {t.source: (t.status, t.rows) for t in manifest.tables} == {
        f"{database}.orders": ("loaded", 3),
        f"{database}.wide": ("failed", None),
    }
    assert manifest.source.user == "etl_secret"
    # and a second run resumes from the manifest on S3: nothing loaded again
    argv_again = [a for a in argv if a not in ("--force", "true")]
    with pytest.raises(RuntimeError):
        glue_entry.main(argv_again)
    assert read_manifest(manifest_uri).tables[0].snapshot_id == manifest.tables[0].snapshot_id

    # The Glue job definition of the same load (the REST route, as it would be deployed)
    deployable = tmp_path / "deploy.toml"
    deployable.write_text(
        config.read_text()
        .replace('kind = "local"', 'kind = "glue-rest"')
        .replace(f'warehouse = "{warehouse}"', 'warehouse = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake"')
        + f'[run]\nmanifest = "{manifest_uri}"\n'
        + '[glue]\nrole = "r"\nartifacts = "s3://artifacts-bucket/jobs"\n'
    )
    wheel = tmp_path / "cdc_migrate-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    deploy(resolve_options(str(deployable), {}, {}), str(deployable), wheels=[str(wheel)], reader=[])
    job = boto3.client("glue", region_name=AWS_REGION).get_job(JobName="cdc-migrate-full-load")["Job"]

    printed = capsys.readouterr()
    written = [
        _everything_in_s3(),
        json.dumps(job, default=str),
        str(failed.value),
        printed.out,
        printed.err,  # the log too: the entrypoint logs to stderr
        caplog.text,
        _spark_ui_text(spark),
        *(p.read_bytes().decode("utf-8", "replace") for p in warehouse.rglob("*") if p.is_file()),
        *(p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()),
    ]
    assert "binlog position (low watermark)" in printed.err and "etl_secret" in written[0]  # the scan sees them
    assert f"cdc-migrate {database}.orders" in written[6]  # the jobs of the reads
    assert [i for i, text in enumerate(written) if PASSWORD in text] == []


def test_namespaces_are_created_in_the_table_bucket_once(aws: None) -> None:
    client = boto3.client("s3tables", region_name=AWS_REGION)
    arn = client.create_table_bucket(name="lake")["arn"]
    catalog = CatalogOptions(kind="s3tables-rest", warehouse=arn)

    first = ensure_table_bucket_namespaces(catalog, {"shop", "billing"})
    again = ensure_table_bucket_namespaces(catalog, {"shop", "billing", "crm"})

    assert (first, again) == (["billing", "shop"], ["crm"])
    assert sorted(n["namespace"][0] for n in client.list_namespaces(tableBucketARN=arn)["namespaces"]) == [
        "billing",
        "crm",
        "shop",
    ]
    glue_form = CatalogOptions(
        kind="glue-rest", warehouse=f"{arn.split(':')[4]}:s3tablescatalog/lake", region=AWS_REGION
    )
    assert ensure_table_bucket_namespaces(glue_form, {"shop", "hr"}) == ["hr"]
    missing = CatalogOptions(kind="s3tables", warehouse=arn.replace("bucket/lake", "bucket/gone"))
    with pytest.raises(AwsError, match="namespace 'x' in .*bucket/gone: it does not exist .*catalog.warehouse"):
        ensure_table_bucket_namespaces(missing, {"x"})


def test_the_load_creates_its_namespaces_in_the_table_bucket_and_elsewhere_in_the_spark_catalog(
    aws: None, spark: Any, warehouse: Path
) -> None:
    arn = boto3.client("s3tables", region_name=AWS_REGION).create_table_bucket(name="runs")["arn"]

    create_namespaces(None, CatalogOptions(kind="glue-rest", warehouse=arn), {"shop"})
    create_namespaces(spark, CatalogOptions(kind="local", warehouse=str(warehouse)), {"ns_from_spark"})

    namespaces = boto3.client("s3tables", region_name=AWS_REGION).list_namespaces(tableBucketARN=arn)["namespaces"]
    assert [n["namespace"] for n in namespaces] == [["shop"]]
    assert ("ns_from_spark",) in {tuple(r) for r in spark.sql("SHOW NAMESPACES IN local").collect()}
    with pytest.raises(ConfigError, match="namespace 'aws_shop' begins with 'aws', which S3 Tables reserves"):
        create_namespaces(None, CatalogOptions(kind="s3tables", warehouse=arn), {"aws_shop"})


class _RecordingCatalog(http.server.BaseHTTPRequestHandler):
    """An Iceberg REST endpoint that answers /v1/config and records each request's headers."""

    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        body = json.dumps({"defaults": {}, "overrides": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def rest_endpoint() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _RecordingCatalog)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _RecordingCatalog.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("kind", "signing_name", "warehouse"),
    [
        ("s3tables", "s3tables", "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake"),
        ("s3tables-rest", "s3tables", "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake"),
        ("glue-rest", "glue", "111122223333:s3tablescatalog/lake"),
    ],
)
def test_pyiceberg_opens_each_route_with_sigv4_for_its_service_and_region(
    rest_endpoint: str, monkeypatch: pytest.MonkeyPatch, kind: str, signing_name: str, warehouse: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    arn = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/lake"
    # The same catalog options a load uses; only the endpoint is pointed at the recorder
    options = CatalogOptions(kind=kind, warehouse=arn)
    monkeypatch.setattr("cdc_migrate.config.kinds.aws_rest_properties", _pointing_at(rest_endpoint))

    open_catalog(options)

    path, headers = _RecordingCatalog.seen[0]
    assert path.startswith("/v1/config?warehouse=")
    assert warehouse.replace(":", "%3A").replace("/", "%2F") in path
    authorization = headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTESTING/")
    assert f"/ap-northeast-2/{signing_name}/aws4_request" in authorization


def _pointing_at(endpoint: str) -> Any:
    from cdc_migrate.config.kinds import aws_rest_properties

    def props(catalog: CatalogOptions, route: str | None = None) -> dict[str, str]:
        return aws_rest_properties(catalog, route) | {"uri": endpoint}

    return props
