"""The run's tables loaded `run.parallel_tables` at a time, after their namespaces (and, for the Arrow path, the
Python workers) are ready; an interruption marks the unfinished ones skipped."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from cdc_migrate.aws.s3tables import ensure_table_bucket_namespaces
from cdc_migrate.config.kinds import catalog_kind
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.recorder import INTERRUPTED
from cdc_migrate.load.table import TableRun, load_one, run_tag
from cdc_migrate.planning.planner import PlanOutcome
from cdc_migrate.planning.reader import ARROW
from cdc_migrate.spark.arrow import warm_workers
from cdc_migrate.spark.write import ensure_namespaces
from cdc_migrate.threads import stop_all

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)


def create_namespaces(spark: SparkSession | None, catalog: CatalogOptions, namespaces: set[str]) -> None:
    """Creates the missing target namespaces before tables load in parallel: in a table bucket with the
    s3tables API (which applies its own naming rules), elsewhere through the Spark catalog."""
    if catalog_kind(catalog.kind).table_bucket:
        ensure_table_bucket_namespaces(catalog, namespaces)
    elif spark is not None:
        ensure_namespaces(spark, catalog.catalog_name, namespaces)


def load_all(shared: TableRun, outcomes: list[PlanOutcome]) -> None:
    """Loads the tables `run.parallel_tables` at a time; an interruption marks the unfinished ones skipped."""
    options = shared.options
    shared.progress.run_started(len(outcomes), sum(o.plan.source.estimated_rows for o in outcomes if o.plan))
    namespaces = {o.target.namespace for o in outcomes if o.plan and o.target}
    arrow = any(o.plan.reader == ARROW for o in outcomes if o.plan)
    with warm_workers(shared.spark, run_tag(shared)) if arrow else contextlib.nullcontext():
        create_namespaces(shared.spark, options.catalog, namespaces)
        _load_tables(shared, outcomes)


def _load_tables(shared: TableRun, outcomes: list[PlanOutcome]) -> None:
    """The tables in a pool of threads. An interruption (Ctrl-C, a notebook's stop, any error of the run) stops
    them all before it goes on: no table not yet started starts, the run's Spark jobs are cancelled (only its own,
    by their tag), a table whose tasks had run commits nothing, and every thread is joined, however often the
    interruption comes again, so that nothing of the run goes on after it and the manifest records what was
    committed."""
    options, recorder = shared.options, shared.recorder
    pool = ThreadPoolExecutor(max_workers=options.run.parallel_tables, thread_name_prefix="cdc-migrate")
    futures = [pool.submit(load_one, shared, o) for o in outcomes]
    try:
        completed, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in completed:
            future.result()  # a bug in a worker, not a table failure: surface it
    except BaseException:
        recorder.interrupt()
        shared.halt.set(INTERRUPTED)
        stop_all(pool, futures, lambda: shared.spark.sparkContext.cancelJobsWithTag(run_tag(shared)))
        finished = recorder.done()
        skipped = [
            TableResult(str(o.source), str(o.target) if o.target else None, "skipped", error=INTERRUPTED)
            for o in outcomes
            if str(o.source) not in finished
        ]
        recorder.finish(skipped)
        raise
    pool.shutdown(wait=True)
