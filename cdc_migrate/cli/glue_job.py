"""The AWS Glue job's entrypoint, inside the package so that an installed cdc_migrate deploys and runs it; the
script Glue starts (GLUE_SCRIPT in aws/glue.py, also glue_jobs/full_load.py) only calls main(). The same script
runs with a plain `spark-submit` off Glue.

On Glue (a run's argv carries --JOB_NAME, and AWS's awsglue library is importable): JOB_NAME and --TempDir
come from awsglue.utils.getResolvedOptions; the configuration and the run flags from our own parser, which
matches names exactly (getResolvedOptions lets `--conf`, a Glue job argument, abbreviate `--config`, so the
configuration is never asked of it). Spark settings come from the job's `--conf`, Iceberg from
`--datalake-formats iceberg`. Off Glue the script builds its own session, and under a plain `spark-submit`
without the Iceberg and JDBC jars it relaunches itself once with them.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from cdc_migrate.aws.glue import glue_argv
from cdc_migrate.cli.app import configure_logging, ended
from cdc_migrate.cli.flags import add_options, options_from_args
from cdc_migrate.config.layers import RELAUNCHED_ENV
from cdc_migrate.config.model import Options
from cdc_migrate.errors import ConfigError, LoadFailed
from cdc_migrate.load.progress import LogProgress
from cdc_migrate.load.report import run_summary
from cdc_migrate.load.runner import run
from cdc_migrate.spark.jdbc import DRIVER_CLASSES
from cdc_migrate.spark.jvm import jvm
from cdc_migrate.spark.session import build_session, settings_for
from cdc_migrate.spark.settings import SPARK_CATALOG, spark_submit_args

logger = logging.getLogger("cdc_migrate.glue")


def on_glue(argv: Sequence[str]) -> bool:
    """A Glue job run: Glue passes --JOB_NAME (and its own arguments) and has AWS's awsglue library."""
    return "--JOB_NAME" in argv and importlib.util.find_spec("awsglue") is not None


def parse_arguments(argv: Sequence[str], glue: bool) -> tuple[argparse.Namespace, dict[str, Any]]:
    """The run flags, and on Glue what getResolvedOptions resolves (JOB_NAME, TempDir and Glue's own)."""
    parser = argparse.ArgumentParser(prog="full_load.py", allow_abbrev=False)
    add_options(parser)
    parser.add_argument("--verbose", action="store_true")
    if not glue:
        return parser.parse_args(list(argv[1:])), {}
    from awsglue.utils import getResolvedOptions

    resolved: dict[str, Any] = getResolvedOptions(list(argv), ["JOB_NAME"])
    args, _glue_own = parser.parse_known_args(glue_argv(list(argv[1:])))
    if not args.config:
        raise ConfigError("the Glue job has no --config argument (the configuration file); run glue deploy again")
    args.conf = None  # on Glue the job's --conf is Spark's, applied by Glue before the script starts
    return args, resolved


def with_glue_scratch(options: Options, resolved: dict[str, Any]) -> Options:
    """The job's --TempDir (an S3 prefix every executor reads) as run.scratch_dir, unless one is configured."""
    temp = resolved.get("TempDir")
    if options.run.scratch_dir or not temp:
        return options
    return dataclasses.replace(
        options, run=dataclasses.replace(options.run, scratch_dir=f"{str(temp).rstrip('/')}/cdc-migrate")
    )


def _under_spark_submit_without_jars() -> bool:
    """True under spark-submit (the JVM is already running) when it lacks Iceberg or a MySQL driver."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ or os.environ.get(RELAUNCHED_ENV):
        return False
    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    loadable = jvm().org.apache.spark.util.Utils.classIsLoadable
    return not (loadable(SPARK_CATALOG) and any(loadable(c) for c in DRIVER_CLASSES.values()))


def _relaunch(options: Options, argv: Sequence[str]) -> None:
    """Replaces this process by spark-submit with the jars and settings the load needs."""
    master = jvm().java.lang.System.getProperty("spark.master") or options.spark.master
    submit = os.path.join(os.environ["SPARK_HOME"], "bin", "spark-submit")
    args = [submit, "--master", master, *spark_submit_args(settings_for(options, launching=True)), *argv]
    logger.info("relaunching spark-submit with the Iceberg and JDBC jars")
    os.environ[RELAUNCHED_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(submit, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the load as a Glue job or a spark-submit script. Off Glue it returns the exit code (as the CLI);
    on Glue a failure goes on after its line, so that the job run ends FAILED with it."""
    argv = list(sys.argv if argv is None else argv)
    glue = on_glue(argv)
    args, resolved = parse_arguments(argv, glue)
    configure_logging(args.verbose)
    return ended("full_load", args.verbose, lambda: _load(args, resolved, argv, glue), reraise=glue)


def _load(args: argparse.Namespace, resolved: dict[str, Any], argv: Sequence[str], glue: bool) -> int:
    options = options_from_args(args, os.environ)
    job = None
    if glue:
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from pyspark.context import SparkContext

        options = with_glue_scratch(options, resolved)
        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        job = Job(glue_context)
        job.init(resolved["JOB_NAME"], resolved)
    else:
        if _under_spark_submit_without_jars():
            _relaunch(options, argv)
        spark = build_session(options)
    manifest = run(options, spark=spark, progress=LogProgress())
    print(run_summary(manifest))
    parts = []
    if manifest.failed:
        parts.append(f"{len(manifest.failed)} table(s) failed: {', '.join(t.source for t in manifest.failed)}")
    if manifest.mismatched:
        names = ", ".join(t.source for t in manifest.mismatched)
        parts.append(f"{len(manifest.mismatched)} table(s) differ from the source: {names}")
    if manifest.exact is False and not manifest.failed and manifest.snapshot:
        parts.append(f"the load is not ready for CDC: {manifest.snapshot.note}")
    if parts:
        message = "; ".join(parts)
        raise LoadFailed(f"{message}; see the manifest")
    if job is not None:
        job.commit()
    return 0
