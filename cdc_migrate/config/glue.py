"""The options of the AWS Glue job `cdc-migrate glue` deploys and starts (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cdc_migrate.config.coerce import refuse_wrong_types
from cdc_migrate.config.sections import AWS_REGION
from cdc_migrate.errors import ConfigError

GLUE_WORKER_DPUS = {
    "G.025X": 0.25,
    "G.1X": 1,
    "G.2X": 2,
    "G.4X": 4,
    "G.8X": 8,
    "G.12X": 12,
    "G.16X": 16,
    "R.1X": 1,
    "R.2X": 2,
    "R.4X": 4,
    "R.8X": 8,
}
# A worker's memory in GiB (AWS Glue's worker types: G.* 16 GiB per DPU, R.* 32).
GLUE_WORKER_MEMORY_GB = {name: dpus * (32 if name.startswith("R.") else 16) for name, dpus in GLUE_WORKER_DPUS.items()}
GLUE_VERSIONS = ("5.1", "5.0")  # S3 Tables needs Glue 5.0 or later
# The Arrow path's reader on the workers (pinned: the contract's tests ran against exactly these), how it gets there.
ARROW_READER_PINS = ("connectorx==0.4.6", "pyarrow==26.0.1")
ARROW_READER_INSTALLS = ("upload", "pypi", "none")
# The Python workers' share of a worker's memory when the Arrow path reads (its chunks are converted and written in
# Python, outside the JVM's heap): spark.executor.pyspark.memory.
PYTHON_MEMORY_SHARE = 4


@dataclass(frozen=True)
class GlueOptions:
    """The AWS Glue job `cdc-migrate glue deploy` creates or updates (and `glue start`/`status` use).

    artifacts: an s3:// prefix where the entrypoint, the wheels, this configuration file and the catalog
    jar are uploaded. catalog_jar: the S3 Tables client catalog jar for `catalog.kind = 's3tables'` (a
    local file to upload, or an s3:// URI). connections: the Glue connections that reach the database.
    arguments: more job arguments (`--key = value`), added to the ones cdc-migrate sets.
    arrow_reader: how the Arrow path's reader (ConnectorX and pyarrow, ARROW_READER_PINS) reaches the workers:
    `upload` (deploy downloads their manylinux wheels and uploads them with cdc_migrate's: no PyPI at run time,
    for a VPC without a route to it), `pypi` (the job installs the pins from PyPI) or `none` (every table takes
    the JDBC path).
    """

    job_name: str = "cdc-migrate-full-load"
    role: str | None = None
    artifacts: str | None = None
    glue_version: str = "5.1"
    worker_type: str = "G.1X"
    number_of_workers: int = 10
    connections: tuple[str, ...] = ()
    timeout_minutes: int = 2880
    max_retries: int = 0
    catalog_jar: str | None = None
    region: str | None = None
    arguments: dict[str, str] = field(default_factory=dict)
    arrow_reader: str = "upload"

    def __post_init__(self) -> None:
        refuse_wrong_types(self)

    def check(self) -> None:
        if not re.fullmatch(r"[\w .:/@-]{1,255}", self.job_name):
            raise ConfigError(f"glue.job_name = {self.job_name!r} is not a Glue job name (1-255 letters, digits, _-.)")
        if self.glue_version not in GLUE_VERSIONS:
            raise ConfigError(
                f"glue.glue_version = {self.glue_version!r}; S3 Tables and Spark 3.5 need {' or '.join(GLUE_VERSIONS)}"
            )
        if self.worker_type not in GLUE_WORKER_DPUS:
            raise ConfigError(
                f"glue.worker_type = {self.worker_type!r} is unknown; use one of {', '.join(GLUE_WORKER_DPUS)}"
            )
        if self.number_of_workers < 2:
            raise ConfigError(f"glue.number_of_workers = {self.number_of_workers}; a Spark job needs at least 2")
        if self.timeout_minutes < 1 or self.max_retries < 0:
            raise ConfigError("glue.timeout_minutes must be at least 1 and glue.max_retries at least 0")
        if self.artifacts is not None and not self.artifacts.startswith("s3://"):
            raise ConfigError(
                f"glue.artifacts = {self.artifacts!r} must be an s3:// prefix, e.g. s3://my-bucket/cdc-migrate"
            )
        if self.region is not None and not AWS_REGION.match(self.region):
            raise ConfigError(f"glue.region = {self.region!r} is not an AWS region name such as us-east-1")
        if self.arrow_reader not in ARROW_READER_INSTALLS:
            raise ConfigError(
                f"glue.arrow_reader = {self.arrow_reader!r}; use one of {', '.join(ARROW_READER_INSTALLS)} (upload: "
                "no PyPI needed by the job; pypi: the job installs it; none: the JDBC path only)"
            )
        for key in self.arguments:
            if not key.startswith("--"):
                raise ConfigError(f"glue.arguments key {key!r} must start with -- (as Glue job arguments do)")
