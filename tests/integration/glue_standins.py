"""Stand-ins for the two parts of AWS's awsglue library that need Glue's own JVM classes (GlueContext wraps
com.amazonaws.services.glue.GlueContext; Job calls com.amazonaws.services.glue.util.Job), following
aws-glue-libs' awsglue/context.py and awsglue/job.py: GlueContext(sc) offers `spark_session`; Job(context)
has init(name, args) and commit(). Everything else of awsglue (getResolvedOptions above all) is the real
library from PyPI awsglue-dev."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CALLS: list[tuple[str, Any]] = []


class GlueContext:
    def __init__(self, sc: Any) -> None:
        from pyspark.sql import SparkSession

        self.spark_session = SparkSession.builder.getOrCreate()
        self.sc = sc


class Job:
    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context

    def init(self, name: str, args: dict[str, Any]) -> None:
        CALLS.append(("init", (name, dict(args))))

    def commit(self) -> None:
        CALLS.append(("commit", None))


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
