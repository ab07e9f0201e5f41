"""Progress reporting: a small interface, a no-op default and one that logs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cdc_migrate.handoff.manifest import Manifest, TableResult
    from cdc_migrate.planning.partitions import TablePlan

logger = logging.getLogger("cdc_migrate.progress")


class Progress(Protocol):
    """What a run reports as it goes; implement any subset by subclassing NullProgress."""

    def run_started(self, tables: int) -> None: ...
    def table_started(self, index: int, total: int, plan: TablePlan) -> None: ...
    def partitions_done(self, plan: TablePlan, done: int, total: int) -> None: ...
    def table_finished(self, index: int, total: int, result: TableResult) -> None: ...
    def run_finished(self, manifest: Manifest) -> None: ...


class NullProgress:
    """Reports nothing."""

    def run_started(self, tables: int) -> None:
        pass

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        pass

    def partitions_done(self, plan: TablePlan, done: int, total: int) -> None:
        pass

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass

    def run_finished(self, manifest: Manifest) -> None:
        pass


class LogProgress(NullProgress):
    """Reports through the `cdc_migrate.progress` logger at INFO (the CLI shows it on stderr)."""

    def run_started(self, tables: int) -> None:
        logger.info("loading %d table%s", tables, "" if tables == 1 else "s")

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        logger.info(
            "[%d/%d] %s -> %s: ~%s rows, %s, %d partition%s%s",
            index,
            total,
            plan.source.name,
            plan.target,
            f"{plan.source.estimated_rows:,}",
            plan.strategy,
            plan.partitions,
            "" if plan.partitions == 1 else "s",
            f" of ~{plan.estimated_rows_per_partition:,} rows on {plan.split_column}" if plan.partitions > 1 else "",
        )

    def partitions_done(self, plan: TablePlan, done: int, total: int) -> None:
        logger.info("      %s: %d/%d tasks done", plan.source.name, done, total)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        if result.status == "loaded":
            logger.info(
                "[%d/%d] %s: loaded %s rows in %.1fs",
                index,
                total,
                result.source,
                f"{result.rows:,}",
                result.seconds,
            )
        else:
            logger.info("[%d/%d] %s: %s: %s", index, total, result.source, result.status.upper(), result.error)
