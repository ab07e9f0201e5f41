"""The tables of a validation checked in parallel threads, each reported as it starts and ends (a notebook's
display shows both), and stopped as a run stops (threads.stop_all): an interruption starts no other table, cancels
the validation's own Spark jobs (by their tag, not the caller's others) and joins every thread before it goes on."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from cdc_migrate.threads import stop_all

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cdc_migrate.handoff.manifest import TableResult
    from cdc_migrate.planning.partitions import TablePlan


class Watch(Protocol):
    """What a validation reports as it goes (a run's Progress has these two)."""

    def table_started(self, index: int, total: int, plan: TablePlan) -> None: ...
    def table_finished(self, index: int, total: int, result: TableResult) -> None: ...


class Unwatched:
    """Reports nothing."""

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        pass

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass


def watched(
    spark: SparkSession,
    results: tuple[TableResult, ...],
    plans: dict[str, TablePlan],
    check: Callable[[TableResult, TablePlan], TableResult],
    workers: int,
    watch: Watch,
) -> list[TableResult]:
    """Each result that has a plan checked (`check`), `workers` tables at a time; the others as they were."""
    order = {name: index for index, name in enumerate(sorted(plans), start=1)}
    tag = f"cdc-migrate-validate-{id(results)}"

    def one(result: TableResult) -> TableResult:
        spark.sparkContext.addJobTag(tag)  # (a pool thread's tags stay with it: these threads are the validation's)
        plan = plans.get(result.source)
        if plan is None:
            return result
        watch.table_started(order[result.source], len(order), plan)
        done = check(result, plan)
        watch.table_finished(order[result.source], len(order), done)
        return done

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cdc-migrate-validate")
    futures = [pool.submit(one, result) for result in results]
    try:
        checked = [future.result() for future in futures]
    except BaseException:  # an interruption: as a run stops (threads.stop_all), then it goes on
        stop_all(pool, futures, lambda: spark.sparkContext.cancelJobsWithTag(tag))
        raise
    pool.shutdown(wait=True)
    return checked
