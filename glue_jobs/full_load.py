"""AWS Glue job entrypoint for the full load; the same file runs with a plain `spark-submit` off Glue.

On Glue (awsglue importable): the required arguments JOB_NAME and config come from getResolvedOptions,
the optional ones (the `cdc-migrate run` flags) from our own parser; Spark settings come from the job's
`--conf`, Iceberg from `--datalake-formats iceberg`. Off Glue: the script builds its own session, and
under a plain `spark-submit` without the Iceberg and JDBC jars it relaunches itself once with them.

    spark-submit glue_jobs/full_load.py --config conf/local.toml
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

try:
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions

    ON_GLUE = True
except ImportError:  # not on Glue: plain spark-submit or python
    ON_GLUE = False

from cdc_migrate.cli import add_options, configure_logging, options_from_args
from cdc_migrate.config import RELAUNCHED_ENV, Options
from cdc_migrate.errors import CdcMigrateError
from cdc_migrate.glue import glue_argv
from cdc_migrate.jdbc import DRIVER_CLASSES
from cdc_migrate.progress import LogProgress
from cdc_migrate.report import run_summary
from cdc_migrate.runner import run
from cdc_migrate.session import build_session, settings_for
from cdc_migrate.sparkconf import SPARK_CATALOG, spark_submit_args

logger = logging.getLogger("cdc_migrate.glue")

GLUE_REQUIRED = ["JOB_NAME", "config"]


def parse_arguments(argv: Sequence[str], on_glue: bool) -> tuple[argparse.Namespace, dict[str, Any]]:
    """The run flags, and on Glue the resolved required arguments (Glue adds arguments of its own)."""
    parser = argparse.ArgumentParser(prog="full_load.py", allow_abbrev=False)
    add_options(parser)
    parser.add_argument("--verbose", action="store_true")
    if not on_glue:
        return parser.parse_args(list(argv[1:])), {}
    resolved: dict[str, Any] = getResolvedOptions(list(argv), GLUE_REQUIRED)
    args, _glue_own = parser.parse_known_args(glue_argv(list(argv[1:])))
    args.config = resolved["config"]
    args.conf = None  # on Glue the job's --conf is Spark's, applied by Glue before the script starts
    return args, resolved


def with_glue_scratch(options: Options, argv: Sequence[str]) -> Options:
    """The job's --TempDir (an S3 prefix every executor reads) as run.scratch_dir, unless one is configured."""
    if options.run.scratch_dir or "--TempDir" not in argv:
        return options
    temp = getResolvedOptions(list(argv), ["TempDir"])["TempDir"]
    return dataclasses.replace(
        options, run=dataclasses.replace(options.run, scratch_dir=f"{temp.rstrip('/')}/cdc-migrate")
    )


def _under_spark_submit_without_jars() -> bool:
    """True under spark-submit (the JVM is already running) when it lacks Iceberg or a MySQL driver."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ or os.environ.get(RELAUNCHED_ENV):
        return False
    from pyspark import SparkContext

    SparkContext._ensure_initialized()
    jvm = SparkContext._jvm
    assert jvm is not None
    loadable = jvm.org.apache.spark.util.Utils.classIsLoadable
    return not (loadable(SPARK_CATALOG) and any(loadable(c) for c in DRIVER_CLASSES.values()))


def _relaunch(options: Options, argv: Sequence[str]) -> None:
    """Replaces this process by spark-submit with the jars and settings the load needs."""
    from pyspark import SparkContext

    jvm = SparkContext._jvm
    assert jvm is not None
    master = jvm.java.lang.System.getProperty("spark.master") or options.spark.master
    submit = os.path.join(os.environ["SPARK_HOME"], "bin", "spark-submit")
    args = [submit, "--master", master, *spark_submit_args(settings_for(options, launching=True)), *argv]
    logger.info("relaunching spark-submit with the Iceberg and JDBC jars")
    os.environ[RELAUNCHED_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(submit, args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    args, resolved = parse_arguments(argv, ON_GLUE)
    configure_logging(args.verbose)
    try:
        options = options_from_args(args, os.environ)
        job = None
        if ON_GLUE:
            from pyspark.context import SparkContext

            options = with_glue_scratch(options, argv)
            glue_context = GlueContext(SparkContext.getOrCreate())
            spark = glue_context.spark_session
            job = Job(glue_context)
            job.init(resolved["JOB_NAME"], resolved)
        else:
            if _under_spark_submit_without_jars():
                _relaunch(options, argv)
            spark = build_session(options)
        manifest = run(options, spark=spark, progress=LogProgress())
    except CdcMigrateError as e:
        if args.verbose:
            logger.exception("failed")
        print(f"full_load: error: {e}", file=sys.stderr)
        if ON_GLUE:
            raise  # the Glue job run ends FAILED with this message
        return 1
    print(run_summary(manifest))
    if manifest.failed or manifest.mismatched:
        names = ", ".join(t.source for t in manifest.failed)
        different = ", ".join(t.source for t in manifest.mismatched)
        message = "; ".join(
            part
            for part in (
                f"{len(manifest.failed)} table(s) failed: {names}" if names else "",
                f"{len(manifest.mismatched)} table(s) differ from the source: {different}" if different else "",
            )
            if part
        )
        if ON_GLUE:
            raise RuntimeError(f"{message}; see the manifest")
        print(f"full_load: {message}", file=sys.stderr)
        return 1
    if job is not None:
        job.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
