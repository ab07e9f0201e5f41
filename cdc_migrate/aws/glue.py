"""`cdc-migrate glue deploy | start | status`: the full load as an AWS Glue job.

The job definition and run arguments are pure functions of the options; the edges (building the wheel,
uploading to S3, the Glue API) take optional boto3 clients so tests hand in moto or a botocore Stubber.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cdc_migrate.aws.calls import aws_call
from cdc_migrate.aws.calls import client as aws_client
from cdc_migrate.aws.wheels import build_wheels, reader_wheels
from cdc_migrate.config.glue import (
    ARROW_READER_PINS,
    GLUE_WORKER_DPUS,
    GLUE_WORKER_MEMORY_GB,
    PYTHON_MEMORY_SHARE,
)
from cdc_migrate.config.kinds import catalog_kind
from cdc_migrate.config.model import Options
from cdc_migrate.errors import AwsNotFound, ConfigError
from cdc_migrate.spark.jars import S3TABLES_CATALOG_JAR_URL
from cdc_migrate.spark.settings import glue_conf_value, spark_settings

logger = logging.getLogger("cdc_migrate.glue")

DPU_HOUR_USD = 0.44
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED", "EXPIRED")
# `cdc-migrate glue start` flags passed on to the run, as Glue job arguments (booleans as "true").
RUN_FLAGS = (
    "tables",
    "exclude",
    "rows_per_partition",
    "min_partitions",
    "max_partitions",
    "parallel_tables",
    "max_connections",
    "namespace",
    "manifest",
    "snapshot",
    "start_position",
    "start_gtid_set",
    "rds_source",
    "force",
    "validate",
    "no_binlog_position",
)
BOOLEAN_FLAGS = ("force", "validate", "no_binlog_position")

# What Glue starts: the entrypoint is in the package, so this is all the script holds.
GLUE_SCRIPT = '''"""The AWS Glue job of cdc_migrate (also runs with a plain spark-submit): cdc_migrate.cli.glue_job."""

import sys

from cdc_migrate.cli.glue_job import main

if __name__ == "__main__":
    sys.exit(main())
'''


@dataclass(frozen=True)
class Artifacts:
    """Where the job's files are on S3."""

    script: str
    wheels: tuple[str, ...]
    config: str
    catalog_jar: str | None = None
    reader: tuple[str, ...] = ()  # the Arrow reader: its uploaded wheels, or its PyPI pins (glue.arrow_reader)


# ---- pure ---------------------------------------------------------------------------------------------


def check_deployable(options: Options) -> None:
    """What a Glue job needs that a local run does not; each a ConfigError naming the setting."""
    glue = options.glue
    if not glue.role:
        raise ConfigError("glue.role is missing: the IAM role the job runs as (name or ARN); see README 'IAM'")
    if not glue.artifacts:
        raise ConfigError("glue.artifacts is missing: an s3:// prefix for the job's script, wheels and config")
    kind = catalog_kind(options.catalog.kind)
    if kind.glue_refusal:
        raise ConfigError(kind.glue_refusal)
    if not options.run.manifest.startswith("s3://"):
        raise ConfigError(
            f"run.manifest = {options.run.manifest!r} is a path on the Glue driver, lost when the job ends; "
            "give an s3:// URI (e.g. s3://my-bucket/cdc-migrate/manifest.json)"
        )
    if not options.source.secret:
        raise ConfigError(
            "source.secret is missing: a Glue job has no CDC_MIGRATE_SOURCE_PASSWORD; store the login in AWS "
            "Secrets Manager (as RDS does) and name it in [source] secret"
        )
    if kind.glue_catalog_jar and not glue.catalog_jar:
        raise ConfigError(
            "catalog.kind = 's3tables' needs the S3 Tables client catalog jar: set glue.catalog_jar to a local "
            f"copy of {S3TABLES_CATALOG_JAR_URL} (uploaded by deploy) or to its s3:// URI; or use catalog.kind = "
            "'glue-rest', which needs no jar"
        )


def _prefix(options: Options) -> str:
    return f"{(options.glue.artifacts or '').rstrip('/')}/{options.glue.job_name}"


def default_arguments(options: Options, artifacts: Artifacts) -> dict[str, str]:
    """The job's DefaultArguments: Iceberg from Glue, the Spark settings as ONE `--conf`, our wheels, the
    config file beside the script, the manifest on S3. No password: the job reads source.secret."""
    settings = spark_settings(options.catalog, glue_spark_conf(options))
    args = {
        "--job-language": "python",
        "--datalake-formats": "iceberg",
        "--conf": glue_conf_value(settings),
        "--additional-python-modules": ",".join((*artifacts.wheels, *artifacts.reader)),
        "--extra-files": artifacts.config,
        "--config": os.path.basename(artifacts.config),
        "--manifest": options.run.manifest,
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
    }
    if artifacts.catalog_jar:
        args["--extra-jars"] = artifacts.catalog_jar
    return args | dict(options.glue.arguments)


def glue_spark_conf(options: Options) -> dict[str, str]:
    """The user's Spark settings, and where the Arrow path reads, the Python workers' memory: a quarter of the
    worker's (they hold a chunk's rows as Arrow while converting and writing it, outside the JVM's heap); a
    spark.executor.pyspark.memory of the user's own wins."""
    conf = dict(options.spark.conf)
    if options.glue.arrow_reader != "none" and options.source.reader != "jdbc":
        memory = GLUE_WORKER_MEMORY_GB[options.glue.worker_type] / PYTHON_MEMORY_SHARE
        conf.setdefault("spark.executor.pyspark.memory", f"{max(1, int(memory * 1024))}m")
    return conf


def job_definition(options: Options, artifacts: Artifacts) -> dict[str, Any]:
    """The `create_job` request (pure)."""
    glue = options.glue
    definition: dict[str, Any] = {
        "Name": glue.job_name,
        "Description": "cdc_migrate full load: MySQL -> Iceberg, recording the binlog position for CDC",
        "Role": glue.role,
        "Command": {"Name": "glueetl", "ScriptLocation": artifacts.script, "PythonVersion": "3"},
        "GlueVersion": glue.glue_version,
        "WorkerType": glue.worker_type,
        "NumberOfWorkers": glue.number_of_workers,
        "Timeout": glue.timeout_minutes,
        "MaxRetries": glue.max_retries,
        # one load per manifest at a time: two runs would race on it
        "ExecutionProperty": {"MaxConcurrentRuns": 1},
        "DefaultArguments": default_arguments(options, artifacts),
    }
    if glue.connections:
        definition["Connections"] = {"Connections": list(glue.connections)}
    return definition


def run_arguments(flags: Mapping[str, Any]) -> dict[str, str]:
    """`glue start` flags as job-run arguments (`--key: value`; lists comma-joined; booleans "true")."""
    out: dict[str, str] = {}
    for name, value in flags.items():
        if value in (None, False, [], ()):
            continue
        if name not in RUN_FLAGS:
            raise ConfigError(
                f"--{name.replace('_', '-')} cannot be passed to a Glue run; put it in the config file and "
                "run `cdc-migrate glue deploy` again"
            )
        key = f"--{name.replace('_', '-')}"
        if name in BOOLEAN_FLAGS:
            out[key] = "true"
        elif isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def glue_argv(argv: list[str]) -> list[str]:
    """A Glue run's argv for argparse: job arguments always carry a value, so `--force true` becomes
    `--force` and `--force false` disappears."""
    flags = {f"--{name.replace('_', '-')}" for name in BOOLEAN_FLAGS}
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in flags and i + 1 < len(argv) and argv[i + 1].lower() in ("true", "false", ""):
            if argv[i + 1].lower() == "true":
                out.append(arg)
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def job_run_summary(job_run: Mapping[str, Any], job: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What `glue status` shows of a job run: state, duration, DPU-seconds and their price, error, logs."""
    seconds = int(job_run.get("ExecutionTime") or 0)
    worker = job_run.get("WorkerType") or (job or {}).get("WorkerType")
    workers = job_run.get("NumberOfWorkers") or (job or {}).get("NumberOfWorkers")
    if job_run.get("DPUSeconds") is not None:  # auto-scaled and Flex runs report it themselves
        dpu_seconds = float(job_run["DPUSeconds"])
    elif worker in GLUE_WORKER_DPUS and workers:
        dpu_seconds = float(GLUE_WORKER_DPUS[worker] * int(workers) * seconds)
    else:
        dpu_seconds = float(job_run.get("MaxCapacity") or 0) * seconds
    group = job_run.get("LogGroupName") or "/aws-glue/jobs"
    run_id = job_run.get("Id", "")
    billed = max(seconds, 60) if seconds else 0
    return {
        "job": job_run.get("JobName"),
        "run_id": run_id,
        "state": job_run.get("JobRunState"),
        "started": _iso(job_run.get("StartedOn")),
        "completed": _iso(job_run.get("CompletedOn")),
        "seconds": seconds,
        "workers": f"{workers} x {worker}" if workers and worker else None,
        "dpu_seconds": dpu_seconds,
        "estimated_usd": round(dpu_seconds / seconds * billed / 3600 * DPU_HOUR_USD, 2) if seconds else 0.0,
        "error": job_run.get("ErrorMessage"),
        "log_group": group,
        "logs": f"aws logs tail {group}/output --log-stream-names {run_id}; errors in {group}/error",
        "arguments": dict(job_run.get("Arguments") or {}),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)


# ---- edges --------------------------------------------------------------------------------------------


def _client(service: str, options: Options) -> Any:
    return aws_client(service, options.glue.region or options.catalog.region_name)


def _reader(options: Options, wheels: list[str] | None, tmp: str, upload: Any) -> tuple[str, ...]:
    """The Arrow reader for the job's --additional-python-modules, as glue.arrow_reader says: its wheels uploaded
    (`wheels`, else downloaded for Glue's platform), its PyPI pins, or nothing."""
    install = options.glue.arrow_reader
    if install == "none" or options.source.reader == "jdbc":
        return ()
    if install == "pypi":
        return ARROW_READER_PINS
    local = wheels if wheels is not None else reader_wheels(os.path.join(tmp, "reader"), ARROW_READER_PINS)
    return tuple(upload(w, f"wheels/{os.path.basename(w)}") for w in local)


def deploy(
    options: Options,
    config_file: str,
    glue: Any = None,
    s3: Any = None,
    wheels: list[str] | None = None,
    reader: list[str] | None = None,
) -> dict[str, Any]:
    """Uploads the entrypoint, the wheels, the config file (and the catalog jar) and creates or updates
    the Glue job. Returns what was done: the job name, `created` or `updated`, and the S3 URIs."""
    from cdc_migrate.aws.s3 import split_s3

    check_deployable(options)
    glue = glue or _client("glue", options)
    s3 = s3 or _client("s3", options)
    prefix = _prefix(options)
    bucket, key_prefix = split_s3(prefix)  # <artifacts>/<job name>

    def upload(local: str, name: str) -> str:
        key = f"{key_prefix}/{name}"
        with aws_call("s3", f"uploading {os.path.basename(local)} to s3://{bucket}/{key}", "check glue.artifacts"):
            s3.upload_file(local, bucket, key)
        logger.info("uploaded %s to s3://%s/%s", local, bucket, key)
        return f"s3://{bucket}/{key}"

    with tempfile.TemporaryDirectory(prefix="cdc-migrate-wheels-") as tmp:
        local_wheels = wheels or build_wheels(tmp)
        script = Path(tmp) / "full_load.py"
        script.write_text(GLUE_SCRIPT, encoding="utf-8")
        artifacts = Artifacts(
            script=upload(str(script), "full_load.py"),
            wheels=tuple(upload(w, f"wheels/{os.path.basename(w)}") for w in local_wheels),
            config=upload(config_file, os.path.basename(config_file)),
            catalog_jar=_catalog_jar(options, upload),
            reader=_reader(options, reader, tmp, upload),
        )
    definition = job_definition(options, artifacts)
    name = definition["Name"]
    try:
        with aws_call("glue", f"looking up Glue job {name!r}"):
            glue.get_job(JobName=name)
        exists = True
    except AwsNotFound:
        exists = False
    doing = f"{'updating' if exists else 'creating'} Glue job {name!r}"
    with aws_call("glue", doing, "check glue.role (the job's role, which this user must be allowed to iam:PassRole)"):
        if exists:
            glue.update_job(JobName=name, JobUpdate={k: v for k, v in definition.items() if k != "Name"})
        else:
            glue.create_job(**definition)
    return {"job": name, "action": "updated" if exists else "created", **dataclasses.asdict(artifacts)}


def _catalog_jar(options: Options, upload: Any) -> str | None:
    jar = options.glue.catalog_jar
    if not catalog_kind(options.catalog.kind).glue_catalog_jar or not jar:
        return None
    if jar.startswith("s3://"):
        return jar
    if not os.path.isfile(jar):
        raise ConfigError(f"glue.catalog_jar = {jar!r} does not exist; download {S3TABLES_CATALOG_JAR_URL}")
    return str(upload(jar, f"jars/{os.path.basename(jar)}"))


def start(options: Options, flags: Mapping[str, Any], glue: Any = None) -> str:
    """Starts a run of the deployed job; returns its run id."""
    glue = glue or _client("glue", options)
    name = options.glue.job_name
    try:
        with aws_call("glue", f"starting Glue job {name!r}"):
            answer = glue.start_job_run(JobName=name, Arguments=run_arguments(flags))
    except AwsNotFound:
        raise ConfigError(f"Glue job {name!r} does not exist; run `cdc-migrate glue deploy` first") from None
    return str(answer["JobRunId"])


def status(options: Options, run_id: str | None = None, glue: Any = None) -> dict[str, Any]:
    """The state of a run (by default the newest) of the job."""
    glue = glue or _client("glue", options)
    name = options.glue.job_name
    try:
        with aws_call("glue", f"reading the runs of Glue job {name!r}"):
            if run_id:
                job_run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
            else:
                runs = glue.get_job_runs(JobName=name, MaxResults=1)["JobRuns"]
                if not runs:
                    raise ConfigError(f"Glue job {name!r} has no runs yet; start one with `cdc-migrate glue start`")
                job_run = runs[0]
            job = glue.get_job(JobName=name)["Job"]
    except AwsNotFound:
        raise ConfigError(f"Glue job {name!r} or run {run_id!r} does not exist; check glue.job_name") from None
    return job_run_summary(job_run, job)
