"""Projecting a load onto N task slots from the partition times a run measured."""

from __future__ import annotations

import pytest

from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.projection import (
    TableCost,
    dpu_hours,
    makespan,
    our_partitions,
    ours,
    projection_lines,
    seeds,
    table_cost,
)


def test_list_scheduling_puts_the_longest_first_on_the_slot_that_frees_first() -> None:
    assert makespan([5, 3, 3, 2, 2, 1], 2) == 8
    assert makespan([10, 1, 1], 64) == 10  # more slots than tasks: the longest task
    assert makespan([], 8) == 0


def test_a_tables_cost_per_row_comes_from_its_measured_partitions() -> None:
    result = TableResult("db.t", "db.t", "loaded", rows=1_000, partition_seconds=(1.0, 1.5, 0.5))

    assert table_cost(result) == TableCost("db.t", 1_000, 0.003)
    assert table_cost(TableResult("db.u", "db.u", "loaded", rows=10)) is None


def test_our_plan_grows_with_the_slots_and_never_below_a_quarter_million_rows() -> None:
    cost = TableCost("db.big", 20_000_000, 1e-5)

    assert len(our_partitions(cost, 8)) == 80  # 20M / 250k, under the 200 cap
    assert len(our_partitions(TableCost("db.huge", 2_000_000_000, 1e-5), 320)) == 1_280
    assert len(our_partitions(TableCost("db.small", 1_000, 1e-5), 320)) == 1


def test_the_skewed_table_is_over_ten_times_faster_than_the_seed_plan_on_320_slots() -> None:
    # ids 1..20M plus 1,000 up to 10^12: the seed's 200 stride ranges put the 20M dense rows in the first
    cost = TableCost("db.skewed", 20_001_000, 2e-6)
    seed_rows = {"db.skewed": [20_000_000 + 5] + [5] * 199}

    assert seeds([cost], seed_rows, 320) / ours([cost], 320) >= 10


def test_dpu_hours_count_whole_dpus_of_four_vcpus() -> None:
    assert dpu_hours(3600, 320) == 80
    assert dpu_hours(1800, 6) == pytest.approx(1.0)  # 6 vCPUs bill as 2 DPUs


def test_the_report_lines_say_the_wall_time_and_the_cost_on_each_cluster_size() -> None:
    results = [TableResult("db.t", "db.t", "loaded", rows=8_000_000, partition_seconds=(20.0,) * 32)]

    lines = projection_lines(results, (8, 320))

    assert lines[0].startswith("projected on a cluster")
    assert lines[1] == "     8 task slots: 80 s, 0.04 DPU-hours ($0.02)"
    assert lines[2].startswith("   320 task slots: 20 s")
    assert projection_lines([TableResult("db.t", None, "failed")]) == []
