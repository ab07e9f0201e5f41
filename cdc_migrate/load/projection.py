"""What a load would take on N task slots, from the per-partition times a run measured (pure).

Each table's cost per row is its measured task time over its rows. Our plan on N slots reads a table in
row-balanced partitions (keyset or stride: equal rows each) as the capacity rule sizes them, all tables together
(list scheduling: each partition, longest first, goes to the slot that frees first). The seed recipe's plan reads
each table in the stride ranges its formula gives (the rows in each range, measured on the source), one table
after another. Fixed costs (JVM start, planning, commits) are left out: both pay them, and they do not shrink
with slots.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdc_migrate.aws.glue import DPU_HOUR_USD
from cdc_migrate.config.sections import TablesOptions
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.planning.capacity import rule_max_partitions
from cdc_migrate.planning.partitions import Partitioning

DEFAULT_ROWS_PER_PARTITION = TablesOptions.rows_per_partition
VCPUS_PER_DPU = 4  # a Glue DPU is 4 vCPUs (G.1X: 1 DPU, G.4X: 4 DPUs of 16 vCPUs)


@dataclass(frozen=True)
class TableCost:
    """A loaded table: its rows and what a row cost a task (seconds)."""

    name: str
    rows: int
    seconds_per_row: float


def table_cost(result: TableResult) -> TableCost | None:
    """A table's cost from its measured partitions (None where the run measured none)."""
    if not result.partition_seconds or not result.rows:
        return None
    return TableCost(result.source, result.rows, sum(result.partition_seconds) / result.rows)


def makespan(durations: Iterable[float], slots: int) -> float:
    """The wall time of tasks of these durations on `slots` slots, longest first to the slot that frees first."""
    ends = [0.0] * max(1, slots)
    for d in sorted(durations, reverse=True):
        heapq.heappush(ends, heapq.heappop(ends) + d)
    return max(ends)


def our_partitions(cost: TableCost, slots: int, rows_per_partition: int = DEFAULT_ROWS_PER_PARTITION) -> list[float]:
    """The task times of a table read as we would on `slots` slots: the seed rule with the capacity rule's cap."""
    n = Partitioning(rows_per_partition, 1, rule_max_partitions(slots)).count(cost.rows)
    return [cost.rows / n * cost.seconds_per_row] * n


def ours(costs: Sequence[TableCost], slots: int) -> float:
    """Our plan's wall time on `slots` slots: every table's partitions scheduled together."""
    return makespan((d for c in costs for d in our_partitions(c, slots)), slots)


def seeds(costs: Sequence[TableCost], seed_rows: dict[str, Sequence[int]], slots: int) -> float:
    """The seed recipe's wall time on `slots` slots: each table's stride ranges (rows in each), tables in turn."""
    return sum(makespan((r * c.seconds_per_row for r in seed_rows[c.name]), slots) for c in costs)


def dpu_hours(seconds: float, slots: int) -> float:
    """What `seconds` on `slots` vCPUs cost in Glue DPU-hours."""
    return seconds / 3600 * math.ceil(slots / VCPUS_PER_DPU)


def projection_lines(results: Sequence[TableResult], slots: Sequence[int] = (8, 64, 320)) -> list[str]:
    """`cdc-migrate report`'s projection: the load's wall time on N slots (task time only) and its DPU-hours."""
    costs = [c for r in results if r.status == "loaded" and (c := table_cost(r)) is not None]
    if not costs:
        return []
    lines = ["projected on a cluster (task time only; from the partitions this run measured):"]
    for n in slots:
        wall = ours(costs, n)
        hours = dpu_hours(wall, n)
        lines.append(f"  {n:>4} task slots: {wall:,.0f} s, {hours:,.2f} DPU-hours (${hours * DPU_HOUR_USD:,.2f})")
    return lines
